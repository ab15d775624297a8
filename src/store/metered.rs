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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Encoding;
    use crate::store::frame;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::sync::atomic::Ordering::Relaxed;

    /// A store in a map that fails every call while `broken`.
    #[derive(Default)]
    struct MapStore {
        map: RefCell<HashMap<Vec<u8>, Vec<u8>>>,
        broken: std::cell::Cell<bool>,
    }

    impl MapStore {
        fn check(&self) -> Result<()> {
            match self.broken.get() {
                true => Err(Error::Storage("down".into())),
                false => Ok(()),
            }
        }
    }

    impl Store for MapStore {
        fn get_many(
            &self,
            keys: &[&[u8]],
            found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
        ) -> Result<()> {
            self.check()?;
            let map = self.map.borrow();
            for (i, k) in keys.iter().enumerate() {
                if let Some(bytes) = map.get(*k) {
                    let _ = found(i, Entry::decode(bytes)?);
                }
            }
            Ok(())
        }
        fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
            self.check()?;
            for (k, v) in items {
                self.map.borrow_mut().insert(k.to_vec(), v.to_vec());
            }
            Ok(())
        }
        fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
            self.check()?;
            for k in keys {
                self.map.borrow_mut().remove(*k);
            }
            Ok(())
        }
        fn clear(&self) -> Result<()> {
            self.check()
        }
        fn prune(&self) -> Result<u64> {
            Ok(0)
        }
        fn max_entry_size(&self) -> usize {
            64
        }
    }

    fn put(s: &dyn Store, key: &[u8], payload: &[u8]) -> Result<()> {
        let e = frame(s, key, 0, || Ok((Encoding::Raw, payload.to_vec())))?;
        s.set_many(&[(key, &e)])
    }

    #[test]
    fn it_counts_hits_misses_writes_deletes_and_errors_by_kind() {
        let s = Metered::new(MapStore::default(), Arc::new(Metrics::new(false)));
        put(&s, b"a", b"one").unwrap();
        put(&s, b"b", b"two").unwrap();
        assert!(matches!(
            put(&s, b"big", &[0; 100]),
            Err(Error::TooLarge { .. })
        ));
        // b is refused by the reader (as a class not allowed would be): a miss and an error.
        s.get_many(&[b"a", b"b", b"c"], &mut |i, _| match i {
            1 => Err(Error::ClassNotAllowed("X".into())),
            _ => Ok(()),
        })
        .unwrap();
        s.delete_many(&[b"a", b"z"]).unwrap();
        s.store.broken.set(true);
        assert!(s.get_many(&[b"b"], &mut |_, _| Ok(())).is_err());
        assert!(s.clear().is_err());

        let m = s.metrics().snapshot();
        assert_eq!(
            (m.hits, m.misses, m.writes, m.deletes, m.clears),
            (1, 3, 2, 2, 0)
        );
        assert_eq!(m.errors, [0, 0, 0, 1, 1, 0, 2, 0]);
        let entry = frame(&s, b"a", 0, || Ok((Encoding::Raw, b"one".to_vec()))).unwrap();
        assert_eq!(m.bytes_read, entry.len() as u64);
        assert_eq!(m.bytes_written, 2 * entry.len() as u64);
        // Writes are timed (2 writes, 1 delete, 1 failed clear); reads are not here.
        assert_eq!(m.write_latency.iter().sum::<u64>(), 4);
        assert_eq!(m.read_latency.iter().sum::<u64>(), 0);
        assert_eq!(s.metrics().hits.load(Relaxed), 1);
    }
}
