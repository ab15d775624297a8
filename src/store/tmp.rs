//! The /tmp store: an LMDB environment in a directory (default `/tmp/lambda-cache`), safe for
//! many processes at once, crash-safe (LMDB commits are atomic), bounded by a size budget with
//! expired-first, then least-recently-used eviction (see `tmp_lru`).
//!
//! A record is `[id of the write transaction that wrote it: u64 LE][entry]`.

use super::tmp_env::{self, classify, is_map_full, EnvRef};
use super::tmp_lru::{self, Lru, ViewCache};
use super::Store;
use crate::clock::Clock;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::key;
use heed::RwTxn;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The largest value is this share of the budget.
const EVICT_SHARE: u64 = 4;
/// Writes evict first once the pages in use pass 80% of the budget (LMDB copies pages on
/// write: a map filled to its last page cannot even delete), down to 60%.
const HIGH_WATER: f64 = 0.8;
const LOW_WATER: f64 = 0.6;
/// Entries over this size need a run of contiguous free pages that evicting small entries
/// does not make: a write of one that finds the map full is refused at once, evicting nothing.
const LARGE: usize = 256 * 1024;
/// Records up to this size (with their key) are re-stamped by rewriting them: they live in a
/// B-tree page (LMDB moves values over about 2 KB of a 4 KB page to overflow pages).
const RESTAMP_IN_PLACE: usize = 1536;
/// Tries of a write that finds the map full: evicting before the first three and, from the
/// third, waiting 1, 2, 4, ... ms for other processes' read snapshots to release the pages
/// freed (63 ms in all).
const ATTEMPTS: u32 = 8;

/// Configuration of a [`TmpStore`].
#[derive(Debug, Clone)]
pub struct TmpConfig {
    pub directory: PathBuf,
    pub namespace: String,
    /// Size budget of the directory in bytes (the LMDB map size).
    pub max_bytes: u64,
}

/// Counters and sizes, for `stats()`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TmpStats {
    pub entries: u64,
    pub bytes_used: u64,
    pub max_bytes: u64,
    pub evictions: u64,
}

pub struct TmpStore {
    shared: EnvRef,
    namespace: String,
    clock: Arc<dyn Clock>,
    lru: Mutex<Lru>,
    view: ViewCache,
    evictions: AtomicU64,
}

impl TmpStore {
    pub fn open(config: TmpConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        key::validate_namespace(&config.namespace)?;
        let shared = tmp_env::open(&config.directory, config.max_bytes)?;
        Ok(TmpStore {
            shared,
            namespace: config.namespace,
            clock,
            lru: Mutex::new(Lru::default()),
            view: ViewCache::default(),
            evictions: AtomicU64::new(0),
        })
    }

    fn lru(&self) -> MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn storage_keys(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        keys.iter()
            .map(|k| key::validate_key(k).map(|()| key::storage_key(&self.namespace, k)))
            .collect()
    }

    /// Runs `work` in a write transaction (given the clock, the stamp of what it writes; it
    /// returns how many entries it wrote, by which the clock advances) that also re-stamps
    /// queued uses; when the map is full, evicts and tries again.
    fn write<F>(&self, work: F) -> Result<()>
    where
        F: FnMut(&mut RwTxn, u64) -> heed::Result<u64>,
    {
        self.write_sized(0, work)
    }

    /// [`Self::write`] of entries of at most `largest` bytes.
    fn write_sized<F>(&self, largest: usize, mut work: F) -> Result<()>
    where
        F: FnMut(&mut RwTxn, u64) -> heed::Result<u64>,
    {
        let touches = self.lru().take();
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            // Eviction is best effort: it can itself find the map full, when other processes'
            // read snapshots still pin the pages just freed; the write may fit anyway, and
            // those snapshots end within moments (so later tries only wait, rather than evict
            // a tenth more each). Only unreadable files end the attempts.
            let evicted = match attempt {
                0 => self.evict_step(),
                1 | 2 => self.evict().map(|_| ()),
                _ => Ok(()),
            };
            if let Err(e @ Error::Corrupt(_)) = evicted {
                return Err(e);
            }
            if attempt >= 2 {
                std::thread::sleep(std::time::Duration::from_millis(1 << (attempt - 2)));
            }
            match self.try_write(&touches, &mut work) {
                Ok(()) => return Ok(()),
                Err(e) if is_map_full(&e) && largest > LARGE => {
                    return Err(Error::Storage(format!(
                        "{e}: no {largest} contiguous free bytes in the store (LMDB keeps a value \
                         in consecutive pages); nothing was evicted, as evicting would not make them"
                    )))
                }
                Err(e) if is_map_full(&e) => last = Some(e.to_string()),
                Err(e) => return Err(classify(e)),
            }
        }
        Err(Error::Storage(format!(
            "{} after evicting: the size budget ({} bytes) is too small for this write",
            last.unwrap_or_default(),
            self.shared.map_bytes
        )))
    }

    fn try_write<F>(&self, touches: &[Vec<u8>], work: &mut F) -> heed::Result<()>
    where
        F: FnMut(&mut RwTxn, u64) -> heed::Result<u64>,
    {
        let shared = &self.shared;
        let mut txn = shared.env.write_txn()?;
        let stamp = match tmp_lru::clock(shared, &txn) {
            Ok(c) => c,
            Err(_) => return Err(heed::Error::Mdb(heed::MdbError::Corrupted)),
        };
        for k in touches {
            // A record that fits in a B-tree page gets the new stamp itself, so later hits on it
            // are fresh at first sight; a larger one (overflow pages, which a rewrite would
            // churn) is re-stamped in `stamps`.
            match shared.db.get(&txn, k)?.map(<[u8]>::to_vec) {
                Some(mut rec) if k.len() + rec.len() <= RESTAMP_IN_PLACE && rec.len() >= 8 => {
                    rec[..8].copy_from_slice(&stamp.to_le_bytes());
                    shared.db.put(&mut txn, k, &rec)?;
                }
                Some(_) => shared.stamps.put(&mut txn, k, &stamp.to_le_bytes())?,
                None => {}
            }
        }
        let written = work(&mut txn, stamp)?;
        if written > 0 {
            tmp_lru::advance(shared, &mut txn, stamp, written)?;
        }
        txn.commit()
    }

    /// Once the pages in use pass the high-water mark, each write first takes one slice of an
    /// eviction down to the low-water mark (`tmp_lru::evict_slice`), so no single request pays
    /// for evicting a quarter of the store. Where even a slice finds no free page, evicts at once
    /// in the smallest transactions.
    fn evict_step(&self) -> Result<()> {
        let sweep = self.lru().sweep.take();
        let mut sweep = match sweep {
            Some(s) => s,
            None if self.near_full()? => Default::default(),
            None => return Ok(()),
        };
        let keep = (self.shared.map_bytes as f64 * LOW_WATER) as u64;
        match tmp_lru::evict_slice(&self.shared, self.clock.now_ms(), &mut sweep, keep, 0.1) {
            Ok((n, done)) => {
                self.evictions.fetch_add(n, Ordering::Relaxed);
                if !done {
                    self.lru().sweep = Some(sweep);
                }
            }
            Err(e) if is_map_full(&e) => {
                self.evict()?;
            }
            Err(e) => return Err(classify(e)),
        }
        Ok(())
    }

    /// Frees room down to 60% of the budget, and at least a tenth of the entries' bytes
    /// (expired entries first, then the least recently used).
    fn evict(&self) -> Result<u64> {
        self.evict_share(0.1)
    }

    /// Frees room down to 60% of the budget, and at least `share` of the entries' bytes;
    /// returns how many entries went.
    pub fn evict_share(&self, share: f64) -> Result<u64> {
        let keep = (self.shared.map_bytes as f64 * LOW_WATER) as u64;
        let n = tmp_lru::evict(&self.shared, self.clock.now_ms(), keep, share)?;
        self.evictions.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    /// Whether the pages in use passed the high-water mark. Costs a look at the meta page, and
    /// two database stats once the file has grown to 90% of the budget.
    fn near_full(&self) -> Result<bool> {
        let map = self.shared.map_bytes as f64;
        let page = f64::from(self.shared.env.stat().page_size);
        let file = (self.shared.env.info().last_page_number as f64 + 1.0) * page;
        if file < map * 0.9 {
            return Ok(false);
        }
        let txn = self.shared.env.read_txn().map_err(classify)?;
        let used = tmp_lru::pages_in_use(&self.shared, &txn)? as f64;
        Ok(used >= map * HIGH_WATER)
    }

    /// The id of the last committed write transaction in the directory (any process): how
    /// many writes were committed, for tests and diagnostics.
    pub fn last_write_id(&self) -> u64 {
        self.shared.env.info().last_txn_id as u64
    }

    pub fn stats(&self) -> Result<TmpStats> {
        self.shared.sync();
        let txn = self.shared.env.read_txn().map_err(classify)?;
        let entries = self.shared.db.len(&txn).map_err(classify)?;
        drop(txn);
        Ok(TmpStats {
            entries,
            bytes_used: self.shared.env.non_free_pages_size().map_err(classify)?,
            max_bytes: self.shared.map_bytes,
            evictions: self.evictions.load(Ordering::Relaxed),
        })
    }
}

impl Store for TmpStore {
    fn get_many(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        for k in keys {
            key::validate_key(k)?;
        }
        self.shared.sync();
        let mut now = None;
        let mut corrupt: Vec<Vec<u8>> = Vec::new();
        let mut flush = false;
        let mut k = Vec::with_capacity(self.namespace.len() + 64);
        {
            let shared = &self.shared;
            let txn = shared.env.read_txn().map_err(classify)?;
            let txid = txn.id() as u64;
            // The clock moves only with writes: computed once per committed write.
            let view = match self.view.get(txid) {
                Some(v) => v,
                None => {
                    let v = tmp_lru::view(shared, &txn)?;
                    self.view.set(txid, v);
                    v
                }
            };
            for (i, key) in keys.iter().enumerate() {
                key::storage_key_into(&self.namespace, key, &mut k);
                let Some(rec) = shared.db.get(&txn, &k).map_err(classify)? else {
                    continue;
                };
                let Ok((stamp, entry)) = tmp_lru::split(rec) else {
                    corrupt.push(k.clone());
                    continue;
                };
                // The clock is read only for entries that can expire.
                if entry.expires_at_ms != 0
                    && entry.is_expired(*now.get_or_insert_with(|| self.clock.now_ms()))
                {
                    continue;
                }
                let mut buf = Vec::new();
                let result = entry.plain(&mut buf).and_then(|e| found(i, e));
                match result {
                    Err(Error::Corrupt(_)) => corrupt.push(k.clone()),
                    Err(_) => {}
                    Ok(()) if view.fresh(stamp) => {}
                    Ok(()) => {
                        let mut lru = self.lru();
                        if lru.needs_check(&k, view) {
                            let used = tmp_lru::last_use(shared, &txn, &k, stamp)?;
                            lru.checked(&k, used, view);
                        }
                        flush = lru.flush_due();
                    }
                }
            }
        }
        if !corrupt.is_empty() {
            let shared = &self.shared;
            self.write(|txn, _| {
                corrupt
                    .iter()
                    .try_for_each(|k| tmp_lru::delete(shared, txn, k))?;
                Ok(0)
            })?;
        }
        // Only a read that queued a use can bring the queue to a batch: hits of fresh entries
        // never take the lock here.
        if flush {
            // Best effort: a failed re-stamp only makes eviction a little less precise.
            let _ = self.write(|_, _| Ok(0));
        }
        Ok(())
    }

    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
        let keys: Vec<&[u8]> = items.iter().map(|(k, _)| *k).collect();
        let skeys = self.storage_keys(&keys)?;
        self.shared.sync();
        let db = self.shared.db;
        let mut rec = Vec::new();
        let largest = items
            .iter()
            .map(|(k, e)| k.len() + e.len())
            .max()
            .unwrap_or(0);
        self.write_sized(largest, |txn, stamp| {
            for (k, (_, entry)) in skeys.iter().zip(items) {
                rec.clear();
                rec.extend_from_slice(&stamp.to_le_bytes());
                rec.extend_from_slice(entry);
                db.put(txn, k, &rec)?;
            }
            Ok(items.len() as u64)
        })
    }

    fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
        let skeys = self.storage_keys(keys)?;
        self.shared.sync();
        let shared = &self.shared;
        self.write(|txn, _| {
            skeys
                .iter()
                .try_for_each(|k| tmp_lru::delete(shared, txn, k))?;
            Ok(0)
        })
    }

    fn clear(&self) -> Result<()> {
        self.shared.sync();
        let shared = &self.shared;
        let prefixes = key::namespace_prefixes(&self.namespace);
        self.write(|txn, _| {
            use std::ops::Bound::{Excluded, Included};
            for p in &prefixes {
                let mut end = p.clone();
                *end.last_mut().expect("prefix ends with a separator") += 1;
                let range = (Included(p.as_slice()), Excluded(end.as_slice()));
                shared.db.delete_range(txn, &range)?;
                shared.stamps.delete_range(txn, &range)?;
            }
            Ok(0)
        })
    }

    fn prune(&self) -> Result<u64> {
        self.shared.sync();
        tmp_lru::prune(&self.shared, self.clock.now_ms())
    }

    fn max_entry_size(&self) -> usize {
        (self.shared.map_bytes / EVICT_SHARE) as usize
    }
}

impl Drop for TmpStore {
    fn drop(&mut self) {
        // Re-stamps of hits are worth keeping but never worth an error.
        if self.lru().pending() > 0 {
            self.shared.sync();
            let _ = self.write(|_, _| Ok(0));
        }
    }
}
