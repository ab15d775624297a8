//! [`Metered`]: a store that counts what goes through it (`crate::metrics`).

use super::Store;
use crate::entry::{Entry, IntegrityKey};
use crate::error::{Error, Result};
use crate::metrics::{add, bump, inc, Metrics, Timer};
use std::sync::Arc;

/// `store`, counting hits, misses, writes, deletes, errors by kind and entry bytes (as stored:
/// header, payload as stored, tag) into
/// `metrics`. A hit is an entry handed to the reader that it took; every other key asked is a
/// miss (absent, expired, refused, unreadable, or not read because the call failed).
pub struct Metered<S> {
    store: S,
    metrics: Arc<Metrics>,
}

impl<S: Store> Metered<S> {
    pub fn new(store: S, metrics: Arc<Metrics>) -> Self {
        Metered { store, metrics }
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn counted<T>(&self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.metrics.error(e);
        }
        r
    }

    fn write_op<T>(&self, op: impl FnOnce() -> Result<T>) -> Result<T> {
        let t = Timer::start(true);
        let r = op();
        t.stop(&self.metrics.write_latency);
        self.counted(r)
    }
}

impl<S> std::ops::Deref for Metered<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.store
    }
}

impl<S: Store> Store for Metered<S> {
    fn get_many(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        self.read(keys, &mut |i, e| found(i, e?))
    }

    fn read(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Result<Entry<'_>>) -> Result<()>,
    ) -> Result<()> {
        let m = &*self.metrics;
        let t = Timer::start(m.time_reads);
        let (mut hits, mut bytes) = (0u64, 0u64);
        let r = self.store.read(keys, &mut |i, e| {
            let size = e.as_ref().map_or(0, |e| e.stored().len());
            let r = found(i, e);
            match &r {
                Ok(()) => {
                    hits += 1;
                    bytes += size as u64;
                }
                // What the reader could not take (its class, a corrupt payload).
                Err(err) => m.error(err),
            }
            r
        });
        t.stop(&m.read_latency);
        bump(&m.hits, hits);
        bump(&m.misses, (keys.len() as u64).saturating_sub(hits));
        bump(&m.bytes_read, bytes);
        self.counted(r)
    }

    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
        let r = self.write_op(|| self.store.set_many(items));
        if r.is_ok() {
            add(&self.metrics.writes, items.len() as u64);
            add(
                &self.metrics.bytes_written,
                items.iter().map(|(_, e)| e.len() as u64).sum(),
            );
        }
        r
    }

    fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
        let r = self.write_op(|| self.store.delete_many(keys));
        if r.is_ok() {
            add(&self.metrics.deletes, keys.len() as u64);
        }
        r
    }

    fn clear(&self) -> Result<()> {
        let r = self.write_op(|| self.store.clear());
        if r.is_ok() {
            inc(&self.metrics.clears);
        }
        r
    }

    fn prune(&self) -> Result<u64> {
        let r = self.store.prune();
        self.counted(r)
    }

    fn max_entry_size(&self) -> usize {
        self.store.max_entry_size()
    }

    fn compress_threshold(&self) -> usize {
        self.store.compress_threshold()
    }

    fn integrity(&self) -> Option<&IntegrityKey> {
        self.store.integrity()
    }

    fn refused(&self, e: &Error) {
        self.metrics.error(e);
    }
}
