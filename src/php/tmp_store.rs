//! `LambdaCache\Native\TmpStore`: the /tmp store for the PSR layer.

use super::convert::Bytes;
use super::errors::{IntoPhp, NResult};
use super::ini;
use super::memo::Memo;
use super::metrics::{self, Reporter};
use super::ops;
use super::store_class::native_store;
use crate::classes::ClassPolicy;
use crate::clock;
use crate::entry::IntegrityKey;
use crate::key;
use crate::metrics::Metrics;
use crate::settings;
use crate::store::metered::Metered;
use crate::store::tmp::TmpStore as Core;
use crate::store::{Sealed, Store};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use std::cell::RefCell;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::rc::Rc;
use std::sync::Arc;

#[php_class]
#[php(name = "LambdaCache\\Native\\TmpStore")]
pub struct TmpStore {
    store: Metered<Sealed<Core>>,
    policy: ClassPolicy,
    memo: RefCell<Memo>,
    /// EMF lines, when on (written when the request ends, the store is freed or asked).
    reporter: Option<Rc<Reporter>>,
}

native_store!(TmpStore {
    /// `null` directory or budget: the php.ini setting, else the built-in default.
    pub fn __construct(
        directory: Option<Bytes<'_>>,
        namespace: Bytes<'_>,
        max_bytes: Option<i64>,
        allowed_classes: &Zval,
        integrity_key: Option<&Zval>,
        metrics: Option<&Zval>,
    ) -> NResult<Self> {
        let namespace = key::namespace_from_bytes(namespace.0).php()?;
        let counters = Arc::new(Metrics::new(false));
        let reporter = metrics::reporter(metrics, "tmp", &namespace, &counters).php()?;
        let mac = IntegrityKey::resolve(ops::secret_of(integrity_key), namespace.as_bytes()).php()?;
        let config = settings::tmp_config(
            &ini::settings(),
            // Linux paths are bytes, not necessarily UTF-8.
            directory.map(|d| OsStr::from_bytes(d.0).into()),
            namespace,
            max_bytes.map(|n| n.max(0) as u64),
            ini::temp_dir,
        )
        .php()?;
        Ok(TmpStore {
            policy: ops::class_policy(allowed_classes).php()?,
            store: Metered::new(
                Sealed::new(Core::open(config, clock::system()).php()?, mac),
                counters,
            ),
            memo: RefCell::default(),
            reporter,
        })
    }

    pub fn stats(&self) -> NResult<ZBox<ZendHashTable>> {
        let s = self.store.stats().php()?;
        let mut out = ZendHashTable::new();
        for (k, v) in [
            ("entries", s.entries),
            ("bytes_used", s.bytes_used),
            ("max_bytes", s.max_bytes),
            ("evictions", s.evictions),
        ] {
            let _ = out.insert(k, v as i64);
        }
        ops::insert_metrics(&mut out, &self.store.metrics().snapshot(), false);
        Ok(out)
    }
});
