//! The namespace version: moved by `clear()`, kept in the item `namespace '!ns'`, and trusted
//! by this process for [`VERSION_TTL`] after it read or set it.

use super::config::DynamoConfig;
use super::http::DynamoHttp;
use super::read::{self, Fetched};
use super::{item, DynamoStore};
use crate::error::{Error, Result};
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long this process trusts the namespace version it read (see `clear()`).
pub const VERSION_TTL: Duration = Duration::from_secs(1);

/// Namespace versions read or set in this process, by endpoint, table and namespace, so every
/// pool of a namespace sees this process's `clear()` at once.
static VERSIONS: Lazy<Mutex<HashMap<String, (u64, Instant)>>> = Lazy::new(Default::default);

impl DynamoStore {
    /// The namespace version this process knows: `(version, still fresh)`.
    fn known_version(&self) -> Option<(u64, bool)> {
        let versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
        versions
            .get(&self.version_key)
            .map(|&(v, at)| (v, at.elapsed() < VERSION_TTL))
    }

    pub(super) async fn namespace_version(&self, client: &DynamoHttp) -> Result<u64> {
        if let Some((v, true)) = self.known_version() {
            return Ok(v);
        }
        let id = item::version_id(&self.config.namespace);
        let body = read::get_body(&self.config, self.table(), &id, true);
        let v = self
            .read(client, "GetItem", body, |a| {
                read::parse_number(a, item::VERSION_ATTRIBUTE)
            })
            .await?
            .unwrap_or(0);
        self.set_version(v);
        Ok(v)
    }

    /// Moves the namespace to its next version (`clear()`): one UpdateItem.
    pub(super) async fn next_version(&self, client: &DynamoHttp) -> Result<u64> {
        let body = next_version_body(&self.config, self.table());
        let v = self
            .read(client, "UpdateItem", body, |a| {
                read::parse_number(a, item::VERSION_ATTRIBUTE)
            })
            .await?
            .ok_or_else(|| {
                Error::Storage("DynamoDB UpdateItem answered no namespace version".into())
            })?;
        self.set_version(v);
        Ok(v)
    }

    /// Reads `keys` at the current namespace version; answers the items and the ids read.
    /// When the version must be read again, it is read at the same time as the items under the
    /// version last known (or 0): one round trip unless the namespace was cleared meanwhile.
    pub(super) async fn read_current(
        &self,
        client: &DynamoHttp,
        keys: &[&[u8]],
    ) -> Result<(Vec<Fetched>, Vec<String>)> {
        let ns = &self.config.namespace;
        let ids = |v: u64| {
            let prefix = item::prefix(ns, v);
            keys.iter()
                .map(|k| item::id(&prefix, k))
                .collect::<Vec<_>>()
        };
        let guess = match self.known_version() {
            Some((v, true)) => {
                let ids = ids(v);
                return Ok((self.fetch(client, &ids).await?, ids));
            }
            Some((v, false)) => v,
            None => 0,
        };
        let guessed = ids(guess);
        let (v, items) = futures_util::future::join(
            self.namespace_version(client),
            self.fetch(client, &guessed),
        )
        .await;
        let v = v?;
        if v == guess {
            return Ok((items?, guessed));
        }
        let ids = ids(v);
        Ok((self.fetch(client, &ids).await?, ids))
    }

    pub(super) fn set_version(&self, v: u64) {
        let mut versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
        versions.insert(self.version_key.clone(), (v, Instant::now()));
    }
}

/// An UpdateItem adding 1 to the version of the store's namespace, answering the new version.
fn next_version_body(config: &DynamoConfig, table: &str) -> Vec<u8> {
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
