//! The namespace version: moved by `clear()`, kept in the item `namespace '!ns'`, and trusted
//! by this process for [`VERSION_TTL`] after it read or set it.

use super::item;
use super::read::Fetched;
use super::DynamoStore;
use super::http::DynamoHttp;
use crate::error::Result;
use once_cell::sync::Lazy;
use serde_json::{json, Value};
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
        let key = item::key_of(&self.config, &item::version_id(&self.config.namespace));
        let out = self
            .call(
                client,
                "GetItem",
                json!({ "TableName": self.table(), "Key": key, "ConsistentRead": true }),
            )
            .await?;
        let v = out
            .get("Item")
            .and_then(Value::as_object)
            .and_then(|i| item::number(i, item::VERSION_ATTRIBUTE))
            .unwrap_or(0);
        self.set_version(v);
        Ok(v)
    }

    /// Reads `keys` at the current namespace version. When the version must be read again,
    /// it is read at the same time as the items under the version last known (or 0): one round
    /// trip unless the namespace was cleared meanwhile.
    pub(super) async fn read_current(
        &self,
        client: &DynamoHttp,
        keys: &[&[u8]],
    ) -> Result<(Vec<Fetched>, u64)> {
        let ns = &self.config.namespace;
        let ids = |v: u64| keys.iter().map(|k| item::id(ns, v, k)).collect::<Vec<_>>();
        let guess = match self.known_version() {
            Some((v, true)) => return Ok((self.fetch(client, ids(v)).await?, v)),
            Some((v, false)) => v,
            None => 0,
        };
        let (v, items) = futures_util::future::join(
            self.namespace_version(client),
            self.fetch(client, ids(guess)),
        )
        .await;
        let v = v?;
        if v == guess {
            return Ok((items?, v));
        }
        Ok((self.fetch(client, ids(v)).await?, v))
    }

    pub(super) fn set_version(&self, v: u64) {
        let mut versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
        versions.insert(self.version_key.clone(), (v, Instant::now()));
    }
}
