//! The namespace version: moved by `clear()` (an UpdateItem, [`next_version_body`]), kept in
//! the item `namespace '!ns'`, and trusted by this process for [`VERSION_TTL`] after it read or
//! set it. `DynamoStore` reads and moves it.

use super::config::DynamoConfig;
use super::{item, read};
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long this process trusts the namespace version it read (see `clear()`).
pub const VERSION_TTL: Duration = Duration::from_secs(1);

/// Namespace versions read or set in this process, by endpoint, table and namespace, so every
/// pool of a namespace sees this process's `clear()` at once.
static VERSIONS: Lazy<Mutex<HashMap<String, (u64, Instant)>>> = Lazy::new(Default::default);

/// The version of the namespace under `key` this process knows: `(version, still fresh)`.
pub(super) fn known(key: &str) -> Option<(u64, bool)> {
    let versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
    versions
        .get(key)
        .map(|&(v, at)| (v, at.elapsed() < VERSION_TTL))
}

/// Remembers `v` as the version of the namespace under `key`, fresh from now.
pub(super) fn remember(key: &str, v: u64) {
    let mut versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
    versions.insert(key.to_string(), (v, Instant::now()));
}

/// An UpdateItem adding 1 to the version of the store's namespace, answering the new version.
pub(super) fn next_version_body(config: &DynamoConfig, table: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 + table.len());
    out.extend_from_slice(b"{\"TableName\":");
    read::json_str(&mut out, table);
    out.extend_from_slice(b",\"Key\":");
    read::key_json(&mut out, config, &item::version_id(&config.namespace));
    out.extend_from_slice(
        b",\"UpdateExpression\":\"ADD #v :one\",\"ExpressionAttributeNames\":{\"#v\":",
    );
    read::json_str(&mut out, item::VERSION_ATTRIBUTE);
    out.extend_from_slice(
        b"},\"ExpressionAttributeValues\":{\":one\":{\"N\":\"1\"}},\"ReturnValues\":\"UPDATED_NEW\"}",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn next_version_body_is_an_update_item() {
        let c = DynamoConfig {
            namespace: "app".into(),
            key_attribute: "pk".into(),
            ..Default::default()
        };
        let body: Value = serde_json::from_slice(&next_version_body(&c, "t")).unwrap();
        assert_eq!(
            body,
            json!({
                "TableName": "t",
                "Key": { "pk": { "S": "app!ns" } },
                "UpdateExpression": "ADD #v :one",
                "ExpressionAttributeNames": { "#v": "v" },
                "ExpressionAttributeValues": { ":one": { "N": "1" } },
                "ReturnValues": "UPDATED_NEW",
            })
        );
    }
}
