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
