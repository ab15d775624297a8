//! The DynamoDB store: the shared cache for every Lambda instance. Batched (BatchGetItem in
//! chunks of 100, BatchWriteItem in chunks of 25, run at once, unprocessed work retried with
//! jittered backoff), TTL-aware (expiry checked on every read; the `ttl` attribute lets
//! DynamoDB delete items, days late), binary-safe (values in a `B` attribute, compressed above
//! a threshold), and bounded in time (every call within `operationTimeoutMs`).

//!
//! The AWS client it sends through (HTTP, SigV4, retries, the runtime) is `crate::aws`; this
//! module is the cache's side: the item layout (`item`), the request bodies and answers of each
//! operation (`read`, `write`), the namespace version (`version`), batching (`batch`), table
//! creation (`admin`), and [`DynamoStore`].

mod admin;
pub mod batch;
pub mod config;
pub mod item;
pub mod read;
mod version;
pub mod write;

pub use self::admin::TableInfo;
pub use self::version::VERSION_TTL;

use self::batch::{GET_CHUNK, WRITE_CHUNK};
use self::config::{DynamoConfig, Resolved};
use self::read::Fetched;
use self::write::Write;
use super::Store;
use crate::aws::config as aws_config;
use crate::aws::http::{CallError, DynamoHttp};
use crate::aws::retry::Backoff;
use crate::aws::runtime;
use crate::clock::Clock;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::key;
use crate::metrics::{consumed_capacity, Metrics, Sent};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::runtime::Runtime;

pub struct DynamoStore {
    config: DynamoConfig,
    resolved: Resolved,
    clock: Arc<dyn Clock>,
    version_key: String,
    /// This configuration's key in the process's client cache (`aws::config::client`).
    client_key: String,
    /// The process that last used this store, with its runtime and client: a call looks them
    /// up here, and in the process-wide caches only on first use and after a fork.
    local: Mutex<Option<(u32, &'static Runtime, Arc<DynamoHttp>)>>,
    /// This store's counters: requests, retries, throttles, consumed capacity, HTTP bytes and
    /// call latency here; the rest where it is wrapped (`store::metered`).
    pub metrics: Arc<Metrics>,
}

impl DynamoStore {
    /// Checks the configuration; nothing is sent until the first call.
    pub fn open(config: DynamoConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        key::validate_namespace(&config.namespace)?;
        let resolved = config.resolve()?;
        // Without a region (the default chain's), the endpoint's place is unknown until the
        // first call: such pools share their version among themselves only.
        let place = resolved
            .endpoint
            .as_deref()
            .or(resolved.region.as_deref())
            .unwrap_or("");
        let version_key = format!("{place}\n{}\n{}", resolved.table, config.namespace);
        let client_key = config::client_key(&config, &resolved);
        Ok(DynamoStore {
            config,
            resolved,
            clock,
            version_key,
            client_key,
            local: Mutex::new(None),
            metrics: Arc::new(Metrics::new(true)),
        })
    }

    fn table(&self) -> &str {
        &self.resolved.table
    }

    /// Runs `f` with this process's client on its runtime, within `limit`.
    fn run<'a, T, F, Fut>(&'a self, what: &str, limit: Duration, f: F) -> Result<T>
    where
        F: FnOnce(Arc<DynamoHttp>) -> Fut,
        Fut: Future<Output = Result<T>> + 'a,
    {
        let (rt, client) = self.process()?;
        rt.block_on(async {
            match tokio::time::timeout(limit, f(client)).await {
                Ok(r) => r,
                Err(_) => Err(CallError::Timeout(limit).into_error(what, self.table())),
            }
        })
    }

    /// This process's runtime and client.
    fn process(&self) -> Result<(&'static Runtime, Arc<DynamoHttp>)> {
        let pid = std::process::id();
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((owner, rt, client)) = &*local {
            if *owner == pid {
                return Ok((*rt, client.clone()));
            }
        }
        let rt = runtime::get()?;
        let client = aws_config::client(&self.client_key, pid, || {
            config::client_config(&self.config, &self.resolved)
        })?;
        if let Some(inherited) = local.replace((pid, rt, client.clone())) {
            // Never dropped: it belongs to the parent's runtime (see `aws::config::client`).
            std::mem::forget(inherited);
        }
        Ok((rt, client))
    }

    fn limit(&self) -> Duration {
        Duration::from_millis(self.config.operation_timeout_ms)
    }

    /// Sends operation `op` (a read or a write) with `body` as it is, and parses the answer with
    /// `parse` (the typed paths of `read` and `write`).
    async fn call<T>(
        &self,
        client: &DynamoHttp,
        op: &str,
        body: Vec<u8>,
        parse: impl FnOnce(&[u8]) -> std::result::Result<T, String>,
    ) -> Result<T> {
        // Every cache call asks for its cost (the body is an object: `{` first).
        const ASK: &[u8] = b"\"ReturnConsumedCapacity\":\"TOTAL\",";
        let mut asked = Vec::with_capacity(body.len() + ASK.len());
        asked.push(b'{');
        asked.extend_from_slice(ASK);
        asked.extend_from_slice(body.get(1..).unwrap_or_default());
        let mut sent = Sent::default();
        let answer = client.call_counted(op, asked, &mut sent).await;
        self.metrics.call(&sent);
        let answer = answer.map_err(|e| e.into_error(op, self.table()))?;
        self.metrics.capacity(consumed_capacity(&answer));
        parse(&answer).map_err(|e| {
            CallError::Transport(format!("unreadable answer: {e}")).into_error(op, self.table())
        })
    }

    /// Reads the items of `ids`: one GetItem for one, BatchGetItem chunks for more, the
    /// unprocessed keys of each chunk asked again.
    async fn fetch(&self, client: &DynamoHttp, ids: &[String]) -> Result<Vec<Fetched>> {
        let (config, table) = (&self.config, self.table());
        let consistent = config.consistent_read;
        if let [id] = ids {
            let body = read::get_body(config, table, id, consistent);
            let found = self
                .call(client, "GetItem", body, |a| read::parse_get(config, a))
                .await?;
            return Ok(found.into_iter().collect());
        }
        batch::run(
            ids.iter().map(String::as_str).collect(),
            GET_CHUNK,
            Backoff::default(),
            |chunk: Vec<&str>| async move {
                let body = read::batch_get_body(config, table, &chunk, consistent);
                let (found, left) = self
                    .call(client, "BatchGetItem", body, |a| {
                        read::parse_batch_get(config, a)
                    })
                    .await?;
                let left = chunk.into_iter().filter(|id| left.iter().any(|l| l == id));
                Ok((found, left.collect()))
            },
        )
        .await
    }

    /// Sends `writes`: one PutItem or DeleteItem for one, BatchWriteItem chunks for more, the
    /// unprocessed requests of each chunk sent again.
    async fn write(&self, client: &DynamoHttp, writes: Vec<Write<'_>>) -> Result<()> {
        let (config, table) = (&self.config, self.table());
        if let [w] = writes.as_slice() {
            let op = if w.put.is_some() {
                "PutItem"
            } else {
                "DeleteItem"
            };
            let body = write::single_body(config, table, w);
            return self.call(client, op, body, |_| Ok(())).await;
        }
        batch::run(
            writes,
            WRITE_CHUNK,
            Backoff::default(),
            |chunk: Vec<Write<'_>>| async move {
                let body = write::batch_body(config, table, &chunk);
                let left = self
                    .call(client, "BatchWriteItem", body, |a| {
                        write::parse_unprocessed(config, a)
                    })
                    .await?;
                let left = chunk.into_iter().filter(|w| left.contains(&w.id)).collect();
                Ok((Vec::<()>::new(), left))
            },
        )
        .await
        .map(drop)
    }

    /// The namespace version this process knows: `(version, still fresh)`.
    fn known_version(&self) -> Option<(u64, bool)> {
        version::known(&self.version_key)
    }

    async fn namespace_version(&self, client: &DynamoHttp) -> Result<u64> {
        if let Some((v, true)) = self.known_version() {
            return Ok(v);
        }
        let id = item::version_id(&self.config.namespace);
        let body = read::get_body(&self.config, self.table(), &id, true);
        let v = self
            .call(client, "GetItem", body, |a| {
                read::parse_number(a, item::VERSION_ATTRIBUTE)
            })
            .await?
            .unwrap_or(0);
        self.set_version(v);
        Ok(v)
    }

    /// Moves the namespace to its next version (`clear()`): one UpdateItem.
    async fn next_version(&self, client: &DynamoHttp) -> Result<u64> {
        let body = version::next_version_body(&self.config, self.table());
        let v = self
            .call(client, "UpdateItem", body, |a| {
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
    async fn read_current(
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

    fn set_version(&self, v: u64) {
        version::remember(&self.version_key, v);
    }

    /// Creates the table (string partition key, on-demand capacity) unless it exists, waits
    /// until it is active, and enables TTL on the ttl attribute. Answers what it did; a TTL the
    /// endpoint does not support (local emulators) is said, not an error. Without `wait` it
    /// answers once the table is accepted (or exists), before it is active and without TTL.
    pub fn create_table(&self, wait: bool) -> Result<String> {
        let wait_limit = if wait {
            admin::CREATE_WAIT
        } else {
            Duration::ZERO
        };
        let limit = wait_limit + self.limit();
        self.run("CreateTable", limit, |client| async move {
            let c = &self.config;
            let (key, ttl) = (&c.key_attribute, &c.ttl_attribute);
            admin::create_table(&client, self.table(), key, ttl, wait).await
        })
    }

    /// The table's status, estimated size and billing mode (one DescribeTable).
    pub fn describe_table(&self) -> Result<TableInfo> {
        self.run("DescribeTable", self.limit(), |client| async move {
            admin::describe_table(&client, self.table()).await
        })
    }
}

/// Each distinct key once, with the positions it was asked at.
fn distinct<'a>(keys: &[&'a [u8]]) -> (Vec<&'a [u8]>, Vec<Vec<usize>>) {
    let mut seen: HashMap<&[u8], usize> = HashMap::new();
    let (mut unique, mut at) = (Vec::new(), Vec::<Vec<usize>>::new());
    for (i, k) in keys.iter().enumerate() {
        match seen.get(k) {
            Some(&u) => at[u].push(i),
            None => {
                seen.insert(k, unique.len());
                unique.push(*k);
                at.push(vec![i]);
            }
        }
    }
    (unique, at)
}

impl Store for DynamoStore {
    fn get_many(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        keys.iter().try_for_each(|k| key::validate_key(k))?;
        let (unique, at) = distinct(keys);
        let wanted = &unique;
        let (items, ids) = self.run("read", self.limit(), |client| async move {
            self.read_current(&client, wanted).await
        })?;
        let index: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(u, id)| (id.as_str(), u))
            .collect();
        let now = self.clock.now_ms();
        let mut buf = Vec::new();
        for it in &items {
            let Some(entry) = it.live(now) else { continue };
            let Some(&u) = index.get(it.id.as_str()) else {
                continue;
            };
            let Ok(plain) = entry.plain(&mut buf) else {
                continue;
            };
            for &i in &at[u] {
                // A value that cannot be read back is a miss; the next write replaces it.
                let _ = found(i, plain);
            }
        }
        Ok(())
    }

    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
        items.iter().try_for_each(|(k, _)| key::validate_key(k))?;
        let limit = self.max_entry_size();
        if let Some((_, e)) = items.iter().find(|(_, e)| e.len() > limit) {
            return Err(Error::TooLarge {
                size: e.len(),
                limit,
            });
        }
        let mut last: HashMap<&[u8], &[u8]> = HashMap::new();
        for (k, e) in items {
            last.insert(k, e);
        }
        self.run("write", self.limit(), |client| async move {
            let v = self.namespace_version(&client).await?;
            let prefix = item::prefix(&self.config.namespace, v);
            let mut puts = Vec::with_capacity(last.len());
            for (k, e) in last {
                let id = item::id(&prefix, k);
                let expires = Entry::decode(e)?.expires_at_ms;
                puts.push(Write {
                    id,
                    put: Some((e, expires)),
                });
            }
            self.write(&client, puts).await
        })
    }

    fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
        keys.iter().try_for_each(|k| key::validate_key(k))?;
        let (unique, _) = distinct(keys);
        self.run("delete", self.limit(), |client| async move {
            let v = self.namespace_version(&client).await?;
            let prefix = item::prefix(&self.config.namespace, v);
            let deletes = unique
                .iter()
                .map(|k| Write {
                    id: item::id(&prefix, k),
                    put: None,
                })
                .collect();
            self.write(&client, deletes).await
        })
    }

    /// Moves the namespace to a new version: one UpdateItem, whatever the namespace holds. The
    /// old items stay in the table until their TTL (items without one stay for good: give the
    /// pool a default lifetime). Other processes see the new version within [`VERSION_TTL`].
    fn clear(&self) -> Result<()> {
        self.run("clear", self.limit(), |client| async move {
            self.next_version(&client).await.map(drop)
        })
    }

    /// DynamoDB deletes expired items itself (TTL); nothing to do here.
    fn prune(&self) -> Result<u64> {
        Ok(0)
    }

    /// What is left of DynamoDB's item limit once the attributes and the longest id are
    /// counted, so every entry within it fits whatever its key.
    fn max_entry_size(&self) -> usize {
        item::ITEM_LIMIT - item::size(&self.config, "", 0) - item::MAX_ID
    }

    fn compress_threshold(&self) -> usize {
        self.config.compress_threshold
    }
}
