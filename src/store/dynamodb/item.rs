//! DynamoDB items of the cache, in the JSON protocol's form: `{key: {S}, value: {B}, ttl: {N}}`
//! (attribute names configurable).
//!
//! The partition key is `namespace '|' version ':' key`, or `... '#' sha256(key)` for a key too
//! long or not valid UTF-8 (`S` must be UTF-8). The namespace version moves on `clear()`; it is
//! kept in the item `namespace '!ns'`. Namespaces cannot contain `|`, `!`, `:` or `#`, so no two
//! of these ids collide.

use super::config::DynamoConfig;
use crate::entry::Entry;
use crate::key;
use serde_json::{json, Map, Value};

/// DynamoDB's item size limit, attribute names and values included.
pub const ITEM_LIMIT: usize = 400 * 1024;
/// The attribute holding a namespace version.
pub const VERSION_ATTRIBUTE: &str = "v";

pub type Item = Map<String, Value>;

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
pub fn key_of(config: &DynamoConfig, id: &str) -> Item {
    let mut m = Map::new();
    m.insert(config.key_attribute.clone(), json!({ "S": id }));
    m
}

/// The item storing an encoded entry under `id`.
pub fn item(config: &DynamoConfig, id: &str, entry: &[u8], expires_at_ms: u64) -> Item {
    let mut item = key_of(config, id);
    item.insert(
        config.value_attribute.clone(),
        json!({ "B": base64_simd::STANDARD.encode_to_string(entry) }),
    );
    if expires_at_ms != 0 {
        item.insert(
            config.ttl_attribute.clone(),
            json!({ "N": expires_at_ms.div_ceil(1000).to_string() }),
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

/// The id of an item.
pub fn id_of<'a>(config: &DynamoConfig, item: &'a Item) -> Option<&'a str> {
    item.get(&config.key_attribute)?.get("S")?.as_str()
}

/// A Number attribute.
pub fn number(item: &Item, name: &str) -> Option<u64> {
    item.get(name)?.get("N")?.as_str()?.parse().ok()
}

/// Whether the item's ttl attribute (epoch seconds) has passed at `now_ms`.
pub fn ttl_passed(config: &DynamoConfig, item: &Item, now_ms: u64) -> bool {
    let ttl = item
        .get(&config.ttl_attribute)
        .and_then(|v| v.get("N"))
        .and_then(Value::as_str);
    ttl.and_then(|t| t.parse::<f64>().ok())
        .is_some_and(|t| t * 1000.0 <= now_ms as f64)
}

/// The id and the entry bytes of an item read back, unless it is unreadable or expired: by its
/// entry's own expiry, or by the ttl attribute DynamoDB goes by (it deletes expired items days
/// late, and emulators never do).
pub fn live<'a>(config: &DynamoConfig, item: &'a Item, now_ms: u64) -> Option<(&'a str, Vec<u8>)> {
    let id = id_of(config, item)?;
    let b64 = item.get(&config.value_attribute)?.get("B")?.as_str()?;
    let bytes = base64_simd::STANDARD.decode_to_vec(b64).ok()?;
    let e = Entry::decode(&bytes).ok()?;
    if e.is_expired(now_ms) || ttl_passed(config, item, now_ms) {
        return None;
    }
    Some((id, bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{self, Encoding};

    const NOW: u64 = 1_700_000_000_500;

    fn payload(c: &DynamoConfig, it: &Item, now: u64) -> Option<Vec<u8>> {
        live(c, it, now).map(|(_, b)| Entry::decode(&b).unwrap().payload.to_vec())
    }

    #[test]
    fn expiry_by_entry_or_ttl_attribute() {
        let c = DynamoConfig::default();
        let fresh = item(
            &c,
            "ns|0:k",
            &entry::encode(Encoding::Raw, NOW + 1000, b"v"),
            NOW + 1000,
        );
        assert_eq!(payload(&c, &fresh, NOW).as_deref(), Some(&b"v"[..]));
        assert_eq!(live(&c, &fresh, NOW).map(|(id, _)| id), Some("ns|0:k"));
        assert!(
            live(&c, &fresh, NOW + 1000).is_none(),
            "expired by its entry"
        );
        // Someone else's item: no expiry in the entry, a ttl in the past.
        let mut stale = item(&c, "ns|0:k", &entry::encode(Encoding::Raw, 0, b"v"), 0);
        assert!(live(&c, &stale, NOW).is_some());
        stale.insert("ttl".into(), json!({ "N": ((NOW / 1000) - 1).to_string() }));
        assert!(
            live(&c, &stale, NOW).is_none(),
            "expired by its ttl attribute"
        );
        // The ttl attribute is whole seconds, rounded up from the entry's expiry.
        assert_eq!(number(&fresh, "ttl"), Some((NOW + 1000).div_ceil(1000)));
    }

    #[test]
    fn unreadable_items_are_misses() {
        let c = DynamoConfig::default();
        let mut it = key_of(&c, "x");
        assert!(live(&c, &it, NOW).is_none());
        it.insert("value".into(), json!({ "S": "text" }));
        assert!(live(&c, &it, NOW).is_none());
        it.insert("value".into(), json!({ "B": "not base64!" }));
        assert!(live(&c, &it, NOW).is_none());
        it.insert(
            "value".into(),
            json!({ "B": base64_simd::STANDARD.encode_to_string(b"garbage") }),
        );
        assert!(live(&c, &it, NOW).is_none());
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
        assert!(id("ns", 0, &[0xff, 0xfe]).starts_with("ns|0#"));
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
        let it = item(&c, "id", &entry::encode(Encoding::Raw, NOW, b"x"), NOW);
        assert!(it.contains_key("pk") && it.contains_key("v") && it.contains_key("exp"));
        assert!(live(&c, &it, NOW - 1).is_some());
        assert_eq!(size(&c, "id", 13), 2 + 2 + 1 + 13 + 3 + 21);
    }
}
