//! `LambdaCache\Native\DynamoDbStore`: the DynamoDB store for the PSR layer.

use super::errors::{IntoPhp, NResult};
use super::ini;
use super::memo::Memo;
use super::metrics::{self, Reporter};
use super::ops;
use super::store_class::native_store;
use crate::aws::runtime;
use crate::classes::ClassPolicy;
use crate::clock;
use crate::entry::IntegrityKey;
use crate::error::{Error, Result};
use crate::settings;
use crate::store::dynamodb::config::DynamoConfig;
use crate::store::dynamodb::DynamoStore as Core;
use crate::store::metered::Metered;
use crate::store::{Sealed, Store};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use std::cell::RefCell;
use std::rc::Rc;

#[php_class]
#[php(name = "LambdaCache\\Native\\DynamoDbStore")]
pub struct DynamoDbStore {
    store: Metered<Sealed<Core>>,
    policy: ClassPolicy,
    memo: RefCell<Memo>,
    /// EMF lines, when on (written when the request ends, the store is freed or asked).
    reporter: Option<Rc<Reporter>>,
}

native_store!(DynamoDbStore {
    /// `$options`: the keys of `DynamoConfig` in camelCase (README, "Configuration").
    pub fn __construct(
        options: &ZendHashTable,
        allowed_classes: &Zval,
        integrity_key: Option<&Zval>,
        metrics: Option<&Zval>,
    ) -> NResult<Self> {
        let config = config(options).php()?;
        let mac = IntegrityKey::resolve(ops::secret_of(integrity_key), config.namespace.as_bytes())
            .php()?;
        let namespace = config.namespace.clone();
        let policy = ops::class_policy(allowed_classes).php()?;
        let core = Core::open(config, clock::system()).php()?;
        let counters = core.metrics.clone();
        let reporter = metrics::reporter(metrics, "dynamodb", &namespace, &counters).php()?;
        Ok(DynamoDbStore {
            policy,
            store: Metered::new(Sealed::new(core, mac), counters),
            memo: RefCell::default(),
            reporter,
        })
    }

    #[php(defaults(wait = true))]
    pub fn create_table(&self, wait: bool) -> NResult<String> {
        self.store.create_table(wait).php()
    }

    pub fn describe_table(&self) -> NResult<ZBox<ZendHashTable>> {
        let info = self.store.describe_table().php()?;
        let mut out = ZendHashTable::new();
        let _ = out.insert("status", info.status);
        let _ = out.insert("item_count", info.item_count);
        let _ = out.insert("size_bytes", info.size_bytes);
        let _ = out.insert("billing_mode", info.billing_mode);
        Ok(out)
    }

    pub fn stats(&self) -> NResult<ZBox<ZendHashTable>> {
        let (runtimes, clients) = runtime::created();
        let mut out = ZendHashTable::new();
        for (k, v) in [("runtimes_created", runtimes), ("clients_created", clients)] {
            let _ = out.insert(k, v as i64);
        }
        ops::insert_metrics(&mut out, &self.store.metrics().snapshot(), true);
        Ok(out)
    }
});

/// The options over the php.ini settings over the built-in defaults (`crate::settings`).
fn config(options: &ZendHashTable) -> Result<DynamoConfig> {
    let mut c = settings::dynamodb_config(&ini::settings())?;
    let mut it = ext_php_rs::types::array::Iter::new(options);
    while let Some((k, v)) = it.next_zval() {
        let name = k.str().unwrap_or_default().to_string();
        if v.is_null() {
            continue;
        }
        let text = || {
            v.str()
                .map(str::to_string)
                .ok_or_else(|| Error::InvalidConfig(format!("{name} must be a string")))
        };
        let int = || {
            v.long()
                .filter(|n| *n >= 0)
                .map(|n| n as u64)
                .ok_or_else(|| {
                    Error::InvalidConfig(format!("{name} must be a non-negative integer"))
                })
        };
        match name.as_str() {
            "table" => c.table = Some(text()?),
            "namespace" => c.namespace = text()?,
            "region" => c.region = Some(text()?),
            "endpoint" => c.endpoint = Some(text()?),
            "accessKeyId" => c.access_key_id = Some(text()?),
            "secretAccessKey" => c.secret_access_key = Some(text()?),
            "sessionToken" => c.session_token = Some(text()?),
            "keyAttribute" => c.key_attribute = text()?,
            "ttlAttribute" => c.ttl_attribute = text()?,
            "valueAttribute" => c.value_attribute = text()?,
            "consistentRead" => {
                c.consistent_read = v
                    .bool()
                    .ok_or_else(|| Error::InvalidConfig("consistentRead must be a bool".into()))?
            }
            "connectTimeoutMs" => c.connect_timeout_ms = int()?,
            "attemptTimeoutMs" => c.attempt_timeout_ms = int()?,
            "operationTimeoutMs" => c.operation_timeout_ms = int()?,
            "maxAttempts" => c.max_attempts = int()?.min(u64::from(u32::MAX)) as u32,
            "compressThreshold" => c.compress_threshold = int()? as usize,
            other => return Err(Error::InvalidConfig(format!("unknown option \"{other}\""))),
        }
    }
    Ok(c)
}
