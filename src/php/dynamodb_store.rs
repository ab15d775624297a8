//! `LambdaCache\Native\DynamoDbStore`: the DynamoDB store for the PSR layer.

use super::errors::{IntoPhp, NResult};
use super::ini;
use super::memo::Memo;
use super::ops;
use super::store_class::native_store;
use crate::aws::runtime;
use crate::classes::ClassPolicy;
use crate::clock;
use crate::error::{Error, Result};
use crate::settings;
use crate::store::dynamodb::config::DynamoConfig;
use crate::store::dynamodb::DynamoStore as Core;
use crate::store::Store;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::class::RegisteredClass;
use ext_php_rs::ffi::{zend_string, HashTable};
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};
use std::cell::RefCell;
use std::ffi::c_void;
use std::sync::Once;

#[php_class]
#[php(name = "LambdaCache\\Native\\DynamoDbStore")]
pub struct DynamoDbStore {
    store: Core,
    policy: ClassPolicy,
    memo: RefCell<Memo>,
}

native_store!(DynamoDbStore {
    /// `$options`: the keys of `DynamoConfig` in camelCase (README, "Configuration").
    pub fn __construct(options: &ZendHashTable, allowed_classes: &Zval) -> NResult<Self> {
        Ok(DynamoDbStore {
            policy: ops::class_policy(allowed_classes).php()?,
            store: Core::open(config(options).php()?, clock::system()).php()?,
            memo: RefCell::default(),
        })
    }

    pub fn create_table(&self) -> NResult<String> {
        self.store.create_table().php()
    }

    pub fn stats(&self) -> NResult<ZBox<ZendHashTable>> {
        let (runtimes, clients) = runtime::created();
        let mut out = ZendHashTable::new();
        for (k, v) in [("runtimes_created", runtimes), ("clients_created", clients)] {
            let _ = out.insert(k, v as i64);
        }
        Ok(out)
    }
});

extern "C" {
    /// Zend/zend_attributes.h, exported by PHP (the same from 8.0 to 8.5); ext-php-rs has no
    /// binding for it.
    fn zend_add_attribute(
        attributes: *mut *mut HashTable,
        name: *mut zend_string,
        argc: u32,
        flags: u32,
        offset: u32,
        lineno: u32,
    ) -> *mut c_void;
}

/// `ZEND_ATTRIBUTE_PERSISTENT`: the attribute of an internal function lives as long as it.
const ATTRIBUTE_PERSISTENT: u32 = 1;

/// Marks `$options` of the constructor `#[\SensitiveParameter]`, as PHP marks
/// `password_hash()`'s password: it holds secretAccessKey and sessionToken, and a constructor
/// that throws (a typo in `endpoint`) would otherwise show them in `getTrace()` (to error
/// trackers that record arguments) and in `getTraceAsString()`. ext-php-rs registers the
/// class inside its module start-up and has no parameter attributes, so this runs at the
/// first request start-up of each process (php-fpm workers included), once.
pub fn hide_options_from_traces() {
    static DONE: Once = Once::new();
    DONE.call_once(|| {
        let meta = DynamoDbStore::get_metadata();
        // Never a panic here (an extern "C" caller): a class that failed to register is left.
        if !meta.has_ce() {
            return;
        }
        let ctor = meta.ce().constructor;
        if ctor.is_null() {
            return;
        }
        let name = ZendStr::new("SensitiveParameter", true);
        // SAFETY: `ctor` is the class's registered constructor, alive until module shutdown,
        // which frees its attributes; the attribute table and the attribute are allocated
        // persistent, as for every internal function. Offset 1 is the first parameter.
        unsafe {
            zend_add_attribute(
                &raw mut (*ctor).common.attributes,
                name.as_ptr().cast_mut(),
                0,
                ATTRIBUTE_PERSISTENT,
                1,
                0,
            );
        }
    });
}

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
