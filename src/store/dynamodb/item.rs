//! DynamoDB items of the cache: `{key: S, value: B, ttl: N}` (attribute names configurable).
//!
//! The partition key is `namespace '|' version ':' key`, or `... '#' sha256(key)` for a key too
//! long or not valid UTF-8 (`S` must be UTF-8). The namespace version moves on `clear()`; it is
//! kept in the item `namespace '!ns'`. Namespaces cannot contain `|`, `!`, `:` or `#`, so no two
//! of these ids collide.

use super::config::DynamoConfig;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::key;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// DynamoDB's item size limit, attribute names and values included.
pub const ITEM_LIMIT: usize = 400 * 1024;
/// The attribute holding a namespace version.
pub const VERSION_ATTRIBUTE: &str = "v";

pub type Item = HashMap<String, AttributeValue>;

/// The id of the item holding `namespace`'s version.
pub fn version_id(namespace: &str) -> String {
    format!("{namespace}!ns")
}

/// The partition key of `key` under `namespace` at `version`.
pub fn id(namespace: &str, version: u64, key: &[u8]) -> String {
    let prefix = format!("{namespace}|{version}");
    let mut out = Vec::with_capacity(prefix.len() + 1 + key.len().min(key::MAX_PLAIN_KEY));
    if std::str::from_utf8(key).is_ok() {
        key::storage_key_into(&prefix, key, &mut out);
    } else {
        key::hashed_key_into(&prefix, key, &mut out);
    }
    String::from_utf8(out).expect("an ASCII prefix and a UTF-8 key or a hex hash")
}

/// The key attribute map of an id.
pub fn key_of(config: &DynamoConfig, id: String) -> Item {
    HashMap::from([(config.key_attribute.clone(), AttributeValue::S(id))])
}

/// The item storing an encoded entry under `id`.
pub fn item(config: &DynamoConfig, id: String, entry: &[u8], expires_at_ms: u64) -> Item {
    let mut item = key_of(config, id);
    item.insert(
        config.value_attribute.clone(),
        AttributeValue::B(Blob::new(entry)),
    );
    if expires_at_ms != 0 {
        item.insert(
            config.ttl_attribute.clone(),
            AttributeValue::N(expires_at_ms.div_ceil(1000).to_string()),
        );
    }
    item
}

/// The size DynamoDB counts for an item.
pub fn size(config: &DynamoConfig, id: &str, entry_len: usize) -> usize {
    config.key_attribute.len()
        + id.len()
        + config.value_attribute.len()
        + entry_len
        + config.ttl_attribute.len()
        + 21
}

/// The id and entry of an item read back, unless it is unreadable or expired: by its entry's
/// own expiry, or by the ttl attribute DynamoDB goes by (it deletes expired items days late,
/// and emulators never do).
pub fn live<'a>(
    config: &DynamoConfig,
    item: &'a Item,
    now_ms: u64,
) -> Option<(&'a str, Entry<'a>)> {
    let (id, entry) = parse(config, item).ok()?;
    (!entry.is_expired(now_ms) && !ttl_passed(config, item, now_ms)).then_some((id, entry))
}

/// Whether the item's ttl attribute (epoch seconds) has passed at `now_ms`.
pub fn ttl_passed(config: &DynamoConfig, item: &Item, now_ms: u64) -> bool {
    match item.get(&config.ttl_attribute) {
        Some(AttributeValue::N(n)) => n.parse::<f64>().is_ok_and(|t| t * 1000.0 <= now_ms as f64),
        _ => false,
    }
}

/// The id and the entry bytes of an item read back; anything else is corrupt.
pub fn parse<'a>(config: &DynamoConfig, item: &'a Item) -> Result<(&'a str, Entry<'a>)> {
    let id = match item.get(&config.key_attribute) {
        Some(AttributeValue::S(s)) => s.as_str(),
        _ => return Err(Error::Corrupt("item without its key".into())),
    };
    match item.get(&config.value_attribute) {
        Some(AttributeValue::B(b)) => Ok((id, Entry::decode(b.as_ref())?)),
        _ => Err(Error::Corrupt(format!(
            "item {id} has no binary {} attribute",
            config.value_attribute
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{self, Encoding};

    const NOW: u64 = 1_700_000_000_500;

    #[test]
    fn expiry_by_entry_or_ttl_attribute() {
        let c = DynamoConfig::default();
        let e = entry::encode(Encoding::Raw, NOW + 1000, b"v");
        let fresh = item(&c, "ns|0:k".into(), &e, NOW + 1000);
        assert_eq!(
            live(&c, &fresh, NOW).map(|(id, e)| (id, e.payload)),
            Some(("ns|0:k", &b"v"[..]))
        );
        assert!(
            live(&c, &fresh, NOW + 1000).is_none(),
            "expired by its entry"
        );
        // Someone else's item: no expiry in the entry, a ttl in the past.
        let mut stale = item(
            &c,
            "ns|0:k".into(),
            &entry::encode(Encoding::Raw, 0, b"v"),
            0,
        );
        assert!(live(&c, &stale, NOW).is_some());
        stale.insert(
            "ttl".into(),
            AttributeValue::N(((NOW / 1000) - 1).to_string()),
        );
        assert!(
            live(&c, &stale, NOW).is_none(),
            "expired by its ttl attribute"
        );
        // The ttl attribute is whole seconds, rounded up from the entry's expiry.
        assert_eq!(
            fresh.get("ttl"),
            Some(&AttributeValue::N(
                ((NOW + 1000).div_ceil(1000)).to_string()
            ))
        );
    }

    #[test]
    fn unreadable_items_are_misses() {
        let c = DynamoConfig::default();
        let mut no_value = key_of(&c, "x".into());
        assert!(live(&c, &no_value, NOW).is_none());
        no_value.insert("value".into(), AttributeValue::S("text".into()));
        assert!(live(&c, &no_value, NOW).is_none());
        no_value.insert(
            "value".into(),
            AttributeValue::B(Blob::new(b"garbage".to_vec())),
        );
        assert!(live(&c, &no_value, NOW).is_none());
    }

    #[test]
    fn ids_are_utf8_distinct_and_bounded() {
        let long_a = id("ns", 3, &b"a".repeat(5000));
        let long_b = id("ns", 3, &[b"a".repeat(4999), b"b".to_vec()].concat());
        assert_ne!(long_a, long_b);
        assert!(long_a.len() < 100 && long_a.starts_with("ns|3#"));
        assert_eq!(id("ns", 0, b"k"), "ns|0:k");
        assert_ne!(
            id("ns", 0, b"k"),
            id("ns", 1, b"k"),
            "a new namespace version is a new key space"
        );
        let binary = id("ns", 0, &[0xff, 0xfe]);
        assert!(binary.starts_with("ns|0#"), "{binary}");
        assert_eq!(version_id("ns"), "ns!ns");
    }

    #[test]
    fn custom_attribute_names() {
        let c = DynamoConfig {
            key_attribute: "pk".into(),
            value_attribute: "v".into(),
            ttl_attribute: "exp".into(),
            ..Default::default()
        };
        let it = item(
            &c,
            "id".into(),
            &entry::encode(Encoding::Raw, NOW, b"x"),
            NOW,
        );
        assert!(it.contains_key("pk") && it.contains_key("v") && it.contains_key("exp"));
        assert!(live(&c, &it, NOW - 1).is_some());
        assert_eq!(size(&c, "id", 13), 2 + 2 + 1 + 13 + 3 + 21);
    }
}
