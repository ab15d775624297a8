//! The DynamoDB store: the shared cache for every Lambda instance. Batched (BatchGetItem in
//! chunks of 100, BatchWriteItem in chunks of 25, run at once, unprocessed work retried with
//! jittered backoff), TTL-aware (expiry checked on every read; the `ttl` attribute lets
//! DynamoDB delete items, days late), binary-safe (values in a `B` attribute, compressed above
//! a threshold), and bounded in time (every call within `operationTimeoutMs`).

pub mod batch;
pub mod config;
mod errors;
pub mod item;

use self::batch::{Backoff, GET_CHUNK, WRITE_CHUNK};
use self::config::{DynamoConfig, Resolved};
use self::errors::sdk_error;
use self::item::Item;
use super::Store;
use crate::clock::Clock;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::{key, runtime};
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, KeysAndAttributes, PutRequest, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long this process trusts the namespace version it read (see `clear()`).
pub const VERSION_TTL: Duration = Duration::from_secs(1);
/// How long `create_table` waits for a new table to become active.
const CREATE_WAIT: Duration = Duration::from_secs(60);

/// Namespace versions read or set in this process, by endpoint, table and namespace, so every
/// pool of a namespace sees this process's `clear()` at once.
static VERSIONS: Lazy<Mutex<HashMap<String, (u64, Instant)>>> = Lazy::new(Default::default);

pub struct DynamoStore {
    config: DynamoConfig,
    resolved: Resolved,
    clock: Arc<dyn Clock>,
    version_key: String,
}

impl DynamoStore {
    /// Checks the configuration; nothing is sent until the first call.
    pub fn open(config: DynamoConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        key::validate_namespace(&config.namespace)?;
        let resolved = config.resolve()?;
        let place = resolved.endpoint.as_deref().unwrap_or(&resolved.region);
        let version_key = format!("{place}\n{}\n{}", resolved.table, config.namespace);
        Ok(DynamoStore {
            config,
            resolved,
            clock,
            version_key,
        })
    }

    fn table(&self) -> &str {
        &self.resolved.table
    }

    /// Runs `f` on the process's runtime within the operation timeout.
    fn run<T, F: Future<Output = Result<T>>>(&self, what: &str, f: F) -> Result<T> {
        let limit = Duration::from_millis(self.config.operation_timeout_ms);
        runtime::block_on(async {
            match tokio::time::timeout(limit, f).await {
                Ok(r) => r,
                Err(_) => Err(Error::Storage(format!(
                    "{what} on table {} timed out after {limit:?}",
                    self.table()
                ))),
            }
        })?
    }

    async fn namespace_version(&self, client: &Client) -> Result<u64> {
        if let Some(&(v, at)) = VERSIONS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&self.version_key)
        {
            if at.elapsed() < VERSION_TTL {
                return Ok(v);
            }
        }
        let out = client
            .get_item()
            .table_name(self.table())
            .set_key(Some(item::key_of(
                &self.config,
                item::version_id(&self.config.namespace),
            )))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", self.table(), e))?;
        let v = match out
            .item
            .as_ref()
            .and_then(|i| i.get(item::VERSION_ATTRIBUTE))
        {
            Some(AttributeValue::N(n)) => n
                .parse()
                .map_err(|_| Error::Corrupt(format!("namespace version {n}")))?,
            _ => 0,
        };
        self.set_version(v);
        Ok(v)
    }

    fn set_version(&self, v: u64) {
        let mut versions = VERSIONS.lock().unwrap_or_else(|e| e.into_inner());
        versions.insert(self.version_key.clone(), (v, Instant::now()));
    }

    async fn fetch(&self, client: &Client, ids: Vec<String>) -> Result<Vec<Item>> {
        if ids.len() == 1 {
            let out = client
                .get_item()
                .table_name(self.table())
                .set_key(Some(item::key_of(
                    &self.config,
                    ids.into_iter().next().unwrap_or_default(),
                )))
                .consistent_read(self.config.consistent_read)
                .send()
                .await
                .map_err(|e| sdk_error("GetItem", self.table(), e))?;
            return Ok(out.item.into_iter().collect());
        }
        batch::run(
            ids,
            GET_CHUNK,
            Backoff::default(),
            |chunk: Vec<String>| async move {
                let keys = chunk
                    .into_iter()
                    .map(|id| item::key_of(&self.config, id))
                    .collect();
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(self.config.consistent_read)
                    .build()
                    .map_err(|e| Error::Storage(e.to_string()))?;
                let out = client
                    .batch_get_item()
                    .request_items(self.table(), request)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchGetItem", self.table(), e))?;
                let items = out
                    .responses
                    .and_then(|mut r| r.remove(self.table()))
                    .unwrap_or_default();
                let left = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(self.table()))
                    .map(|k| k.keys)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|mut k| match k.remove(&self.config.key_attribute) {
                        Some(AttributeValue::S(id)) => Some(id),
                        _ => None,
                    })
                    .collect();
                Ok((items, left))
            },
        )
        .await
    }

    async fn write(&self, client: &Client, requests: Vec<WriteRequest>) -> Result<()> {
        batch::run(
            requests,
            WRITE_CHUNK,
            Backoff::default(),
            |chunk: Vec<WriteRequest>| async move {
                let out = client
                    .batch_write_item()
                    .request_items(self.table(), chunk)
                    .send()
                    .await
                    .map_err(|e| sdk_error("BatchWriteItem", self.table(), e))?;
                let left = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(self.table()))
                    .unwrap_or_default();
                Ok((Vec::<()>::new(), left))
            },
        )
        .await
        .map(drop)
    }

    /// Creates the table (string partition key, on-demand capacity) unless it exists, and
    /// enables TTL on the ttl attribute. Answers what it did; a TTL the endpoint does not
    /// support (local emulators) is said, not an error.
    pub fn create_table(&self) -> Result<String> {
        use aws_sdk_dynamodb::types::*;
        let client = config::client(&self.config, &self.resolved);
        let k = &self.config.key_attribute;
        let limit = CREATE_WAIT + Duration::from_millis(self.config.operation_timeout_ms);
        let work = async {
            let created = client
                .create_table()
                .table_name(self.table())
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(k)
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(|e| Error::Storage(e.to_string()))?,
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(k)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(|e| Error::Storage(e.to_string()))?,
                )
                .billing_mode(BillingMode::PayPerRequest)
                .send()
                .await;
            let mut note = match created {
                Ok(_) => format!("created table {}", self.table()),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_resource_in_use_exception()) =>
                {
                    format!("table {} exists", self.table())
                }
                Err(e) => return Err(sdk_error("CreateTable", self.table(), e)),
            };
            // A new table takes seconds to become usable on DynamoDB.
            loop {
                let d = client
                    .describe_table()
                    .table_name(self.table())
                    .send()
                    .await
                    .map_err(|e| sdk_error("DescribeTable", self.table(), e))?;
                if d.table.and_then(|t| t.table_status) == Some(TableStatus::Active) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let spec = TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(&self.config.ttl_attribute)
                .build()
                .map_err(|e| Error::Storage(e.to_string()))?;
            match client
                .update_time_to_live()
                .table_name(self.table())
                .time_to_live_specification(spec)
                .send()
                .await
            {
                Ok(_) => note.push_str(&format!("; TTL on {}", self.config.ttl_attribute)),
                Err(e) => {
                    let why = match sdk_error("UpdateTimeToLive", self.table(), e) {
                        Error::Storage(m) => m,
                        other => other.to_string(),
                    };
                    note.push_str(&format!("; TTL not enabled ({why})"));
                }
            }
            Ok(note)
        };
        runtime::block_on(async { tokio::time::timeout(limit, work).await })?.unwrap_or_else(|_| {
            Err(Error::Storage(format!(
                "table {} did not become active within {limit:?}",
                self.table()
            )))
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
        let client = config::client(&self.config, &self.resolved);
        let (items, version) = self.run("read", async {
            let v = self.namespace_version(&client).await?;
            let ids = unique
                .iter()
                .map(|k| item::id(&self.config.namespace, v, k))
                .collect();
            Ok((self.fetch(&client, ids).await?, v))
        })?;
        let index: HashMap<String, usize> = unique
            .iter()
            .enumerate()
            .map(|(u, k)| (item::id(&self.config.namespace, version, k), u))
            .collect();
        let now = self.clock.now_ms();
        let mut buf = Vec::new();
        for it in &items {
            let Some((id, entry)) = item::live(&self.config, it, now) else {
                continue;
            };
            let Some(&u) = index.get(id) else { continue };
            let plain = match entry.plain(&mut buf) {
                Ok(p) => p,
                Err(_) => continue,
            };
            for &i in &at[u] {
                // A value that cannot be read back is a miss; the next write replaces it.
                let _ = found(i, plain);
            }
        }
        Ok(())
    }

    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
        keys_ok(items.iter().map(|(k, _)| *k))?;
        let client = config::client(&self.config, &self.resolved);
        self.run("write", async {
            let v = self.namespace_version(&client).await?;
            let mut last: HashMap<&[u8], &[u8]> = HashMap::new();
            for (k, e) in items {
                last.insert(k, e);
            }
            let mut puts = Vec::with_capacity(last.len());
            for (k, e) in last {
                let id = item::id(&self.config.namespace, v, k);
                let size = item::size(&self.config, &id, e.len());
                if size > item::ITEM_LIMIT {
                    return Err(Error::TooLarge {
                        size,
                        limit: item::ITEM_LIMIT,
                    });
                }
                let expires = Entry::decode(e)?.expires_at_ms;
                puts.push(item::item(&self.config, id, e, expires));
            }
            if puts.len() == 1 {
                let it = puts.pop().unwrap_or_default();
                client
                    .put_item()
                    .table_name(self.table())
                    .set_item(Some(it))
                    .send()
                    .await
                    .map_err(|e| sdk_error("PutItem", self.table(), e))?;
                return Ok(());
            }
            let requests = puts
                .into_iter()
                .map(|it| {
                    PutRequest::builder()
                        .set_item(Some(it))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Storage(e.to_string()))?;
            self.write(&client, requests).await
        })
    }

    fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
        keys_ok(keys.iter().copied())?;
        let (unique, _) = distinct(keys);
        let client = config::client(&self.config, &self.resolved);
        self.run("delete", async {
            let v = self.namespace_version(&client).await?;
            let mut ids: Vec<String> = unique
                .iter()
                .map(|k| item::id(&self.config.namespace, v, k))
                .collect();
            if ids.len() == 1 {
                let key = item::key_of(&self.config, ids.pop().unwrap_or_default());
                client
                    .delete_item()
                    .table_name(self.table())
                    .set_key(Some(key))
                    .send()
                    .await
                    .map_err(|e| sdk_error("DeleteItem", self.table(), e))?;
                return Ok(());
            }
            let requests = ids
                .into_iter()
                .map(|id| {
                    DeleteRequest::builder()
                        .set_key(Some(item::key_of(&self.config, id)))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                })
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| Error::Storage(e.to_string()))?;
            self.write(&client, requests).await
        })
    }

    /// Moves the namespace to a new version: one UpdateItem, whatever the namespace holds. The
    /// old items stay in the table until their TTL (items without one stay for good: give the
    /// pool a default lifetime). Other processes see the new version within [`VERSION_TTL`].
    fn clear(&self) -> Result<()> {
        let client = config::client(&self.config, &self.resolved);
        let v = self.run("clear", async {
            let out = client
                .update_item()
                .table_name(self.table())
                .set_key(Some(item::key_of(
                    &self.config,
                    item::version_id(&self.config.namespace),
                )))
                .update_expression("ADD #v :one")
                .expression_attribute_names("#v", item::VERSION_ATTRIBUTE)
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateItem", self.table(), e))?;
            match out
                .attributes
                .as_ref()
                .and_then(|a| a.get(item::VERSION_ATTRIBUTE))
            {
                Some(AttributeValue::N(n)) => n
                    .parse::<u64>()
                    .map_err(|_| Error::Corrupt(format!("namespace version {n}"))),
                _ => Err(Error::Storage(
                    "UpdateItem answered no namespace version".into(),
                )),
            }
        })?;
        self.set_version(v);
        Ok(())
    }

    /// DynamoDB deletes expired items itself (TTL); nothing to do here.
    fn prune(&self) -> Result<u64> {
        Ok(0)
    }

    fn max_entry_size(&self) -> usize {
        let c = &self.config;
        item::ITEM_LIMIT
            - (c.key_attribute.len()
                + key::MAX_PLAIN_KEY
                + 100
                + c.value_attribute.len()
                + c.ttl_attribute.len()
                + 21)
    }

    fn compress_threshold(&self) -> usize {
        self.config.compress_threshold
    }
}

fn keys_ok<'a>(mut keys: impl Iterator<Item = &'a [u8]>) -> Result<()> {
    keys.try_for_each(key::validate_key)
}
