//! DynamoDB items of the cache, in the JSON protocol's form: `{key: {S}, value: {B}, ttl: {N}}`
//! (attribute names configurable).
//!
//! The partition key is `namespace '|' version ':' key`, or `... '#' sha256(key)` for a key too
//! long or not valid UTF-8 (`S` must be UTF-8). The namespace version moves on `clear()`; it is
//! kept in the item `namespace '!ns'`. Namespaces cannot contain `|`, `!`, `:` or `#`, so no two
//! of these ids collide.

use super::config::DynamoConfig;
use crate::key;

/// DynamoDB's item size limit, attribute names and values included.
pub const ITEM_LIMIT: usize = 400 * 1024;
/// The longest id of an entry. A plain id is at most [`key::MAX_PLAIN_KEY`] bytes, prefix
/// included (longer ones are hashed); a hashed one is the prefix (a namespace of at most
/// [`key::MAX_NAMESPACE`], `|`, a u64 version of at most 20 digits), `#` and 64 hex digits.
pub const MAX_ID: usize = {
    let hashed = key::MAX_NAMESPACE + 1 + 20 + 1 + 64;
    if hashed > key::MAX_PLAIN_KEY {
        hashed
    } else {
        key::MAX_PLAIN_KEY
    }
};
/// The attribute holding a namespace version.
pub const VERSION_ATTRIBUTE: &str = "v";

/// The id of the item holding `namespace`'s version.
pub fn version_id(namespace: &str) -> String {
    format!("{namespace}!ns")
}

/// What the ids of `namespace` at `version` start with, for [`id`].
pub fn prefix(namespace: &str, version: u64) -> String {
    format!("{namespace}|{version}")
}

/// The partition key of `key` under a [`prefix`]: `prefix ':' key`, or `prefix '#' sha256(key)`.
pub fn id(prefix: &str, key: &[u8]) -> String {
    let mut out = Vec::with_capacity(prefix.len() + 1 + key.len().min(key::MAX_PLAIN_KEY));
    if std::str::from_utf8(key).is_ok() {
        key::storage_key_into(prefix, key, &mut out);
    } else {
        key::hashed_key_into(prefix, key, &mut out);
    }
    String::from_utf8(out).expect("an ASCII prefix and a UTF-8 key or a hex hash")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn id(namespace: &str, version: u64, key: &[u8]) -> String {
        super::id(&prefix(namespace, version), key)
    }

    #[test]
    fn ids_are_utf8_distinct_and_bounded() {
        let long_a = id("ns", 3, &b"a".repeat(5000));
        let long_b = id("ns", 3, &[b"a".repeat(4999), b"b".to_vec()].concat());
        assert_ne!(long_a, long_b);
        let ns = "n".repeat(key::MAX_NAMESPACE);
        let longest_hashed = id(&ns, u64::MAX, &b"a".repeat(5000));
        let longest_plain = id("n", 0, &b"a".repeat(key::MAX_PLAIN_KEY - 4));
        assert_eq!(longest_plain.len(), key::MAX_PLAIN_KEY);
        assert!(longest_hashed.len() <= MAX_ID && longest_plain.len() <= MAX_ID);
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
    fn sizes_count_names_and_values() {
        let c = DynamoConfig {
            key_attribute: "pk".into(),
            value_attribute: "v".into(),
            ttl_attribute: "exp".into(),
            ..Default::default()
        };
        assert_eq!(size(&c, "id", 13), 2 + 2 + 1 + 13 + 3 + 21);
    }
}
