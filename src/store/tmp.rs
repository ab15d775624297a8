//! The /tmp store: an LMDB environment in a directory (default `/tmp/lambda-cache`), safe for
//! many processes at once, crash-safe (LMDB commits are atomic), bounded by a size budget.
//!
//! Entries live in the `entries` database; beside each, `stamps` holds a logical clock value
//! (bumped by every write transaction) of its last write or use. A hit on an entry with an
//! older stamp is remembered and re-stamped in this process's next write (or after
//! [`TOUCH_BATCH`] such hits), so eviction can drop the least recently used entries first
//! without turning reads into writes or rewriting values.

use super::tmp_env::{self, classify, is_map_full, Shared, CLOCK_KEY};
use super::Store;
use crate::clock::Clock;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::key;
use heed::RwTxn;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Hits remembered before they are re-stamped in a write of their own.
pub const TOUCH_BATCH: usize = 256;
/// Eviction frees at least this share of the budget, so it does not run on every write.
const EVICT_SHARE: u64 = 4;

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
    shared: Arc<Shared>,
    namespace: String,
    clock: Arc<dyn Clock>,
    touches: Mutex<HashSet<Vec<u8>>>,
    evictions: Mutex<u64>,
}

fn read_u64(b: &[u8]) -> u64 {
    b.try_into().map(u64::from_le_bytes).unwrap_or(0)
}

impl TmpStore {
    pub fn open(config: TmpConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        key::validate_namespace(&config.namespace)?;
        let shared = tmp_env::open(&config.directory, config.max_bytes)?;
        Ok(TmpStore {
            shared,
            namespace: config.namespace,
            clock,
            touches: Mutex::new(HashSet::new()),
            evictions: Mutex::new(0),
        })
    }

    fn storage_keys(&self, keys: &[&[u8]]) -> Result<Vec<Vec<u8>>> {
        keys.iter()
            .map(|k| key::validate_key(k).map(|()| key::storage_key(&self.namespace, k)))
            .collect()
    }

    fn stamp_of(&self, txn: &heed::RoTxn, k: &[u8]) -> Result<u64> {
        let stamp = self.shared.stamps.get(txn, k).map_err(classify)?;
        Ok(stamp.map(read_u64).unwrap_or(0))
    }

    /// Runs `work` in a write transaction that also bumps the clock and applies pending
    /// touches; when the map is full, evicts and tries again.
    fn write<F>(&self, mut work: F) -> Result<()>
    where
        F: FnMut(&mut RwTxn, u64) -> heed::Result<()>,
    {
        let touches: Vec<Vec<u8>> =
            std::mem::take(&mut *self.touches.lock().unwrap_or_else(|e| e.into_inner()))
                .into_iter()
                .collect();
        let mut last = None;
        for attempt in 0..3 {
            if attempt > 0 {
                self.evict()?;
            }
            match self.try_write(&touches, &mut work) {
                Ok(()) => return Ok(()),
                Err(e) if is_map_full(&e) => last = Some(e),
                Err(e) => return Err(classify(e)),
            }
        }
        Err(Error::Storage(format!(
            "{} after evicting: the size budget ({} bytes) is too small for this write",
            last.map(|e| e.to_string()).unwrap_or_default(),
            self.shared.map_bytes
        )))
    }

    fn try_write<F>(&self, touches: &[Vec<u8>], work: &mut F) -> heed::Result<()>
    where
        F: FnMut(&mut RwTxn, u64) -> heed::Result<()>,
    {
        let (db, stamps) = (self.shared.db, self.shared.stamps);
        let mut txn = self.shared.env.write_txn()?;
        let stamp = stamps.get(&txn, CLOCK_KEY)?.map(read_u64).unwrap_or(0) + 1;
        let bytes = stamp.to_le_bytes();
        stamps.put(&mut txn, CLOCK_KEY, &bytes)?;
        for k in touches {
            if db.get(&txn, k)?.is_some() {
                stamps.put(&mut txn, k, &bytes)?;
            }
        }
        work(&mut txn, stamp)?;
        txn.commit()
    }

    fn flush_touches_if_many(&self) {
        let many = self
            .touches
            .lock()
            .map(|t| t.len() >= TOUCH_BATCH)
            .unwrap_or(false);
        if many {
            // Best effort: a failed re-stamp only makes eviction a little less precise.
            let _ = self.write(|_, _| Ok(()));
        }
    }

    /// Frees at least a quarter of the budget: expired entries first, then the least recently
    /// used, over every namespace in the directory (they share the budget).
    pub fn evict(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let shared = &self.shared;
        let mut txn = shared.env.write_txn().map_err(classify)?;
        let mut expired = Vec::new();
        let mut live: Vec<(u64, Vec<u8>, usize)> = Vec::new();
        for item in shared.db.iter(&txn).map_err(classify)? {
            let (k, rec) = item.map_err(classify)?;
            let size = k.len() + rec.len();
            match Entry::decode(rec) {
                Ok(e) if !e.is_expired(now) => live.push((0, k.to_vec(), size)),
                _ => expired.push((k.to_vec(), size)),
            }
        }
        for (stamp, k, _) in live.iter_mut() {
            *stamp = shared
                .stamps
                .get(&txn, k)
                .map_err(classify)?
                .map(read_u64)
                .unwrap_or(0);
        }
        let target = shared.map_bytes / EVICT_SHARE;
        let mut freed: u64 = expired.iter().map(|(_, s)| *s as u64).sum();
        let mut victims: Vec<Vec<u8>> = expired.into_iter().map(|(k, _)| k).collect();
        live.sort_unstable_by_key(|(stamp, _, _)| *stamp);
        for (_, k, size) in live {
            if freed >= target {
                break;
            }
            freed += size as u64;
            victims.push(k);
        }
        for k in &victims {
            delete(shared, &mut txn, k).map_err(classify)?;
        }
        txn.commit().map_err(classify)?;
        // LMDB reuses pages freed by transaction N from transaction N+2 on (N-1's snapshot
        // stays valid until N+1 commits): one small commit makes the freed space usable now.
        let mut txn = shared.env.write_txn().map_err(classify)?;
        let stamp = shared
            .stamps
            .get(&txn, CLOCK_KEY)
            .map_err(classify)?
            .map(read_u64)
            .unwrap_or(0);
        shared
            .stamps
            .put(&mut txn, CLOCK_KEY, &(stamp + 1).to_le_bytes())
            .map_err(classify)?;
        txn.commit().map_err(classify)?;
        *self.evictions.lock().unwrap_or_else(|e| e.into_inner()) += victims.len() as u64;
        Ok(victims.len() as u64)
    }

    pub fn stats(&self) -> Result<TmpStats> {
        let txn = self.shared.env.read_txn().map_err(classify)?;
        let entries = self.shared.db.len(&txn).map_err(classify)?;
        drop(txn);
        Ok(TmpStats {
            entries,
            bytes_used: self.shared.env.non_free_pages_size().map_err(classify)?,
            max_bytes: self.shared.map_bytes,
            evictions: *self.evictions.lock().unwrap_or_else(|e| e.into_inner()),
        })
    }
}

impl Store for TmpStore {
    fn get_many(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        let skeys = self.storage_keys(keys)?;
        let now = self.clock.now_ms();
        let mut corrupt = Vec::new();
        {
            let txn = self.shared.env.read_txn().map_err(classify)?;
            let mut clock = None;
            for (i, k) in skeys.iter().enumerate() {
                let Some(rec) = self.shared.db.get(&txn, k).map_err(classify)? else {
                    continue;
                };
                let entry = match Entry::decode(rec) {
                    Ok(e) => e,
                    Err(_) => {
                        corrupt.push(k.as_slice());
                        continue;
                    }
                };
                if entry.is_expired(now) {
                    continue;
                }
                match found(i, entry) {
                    Err(Error::Corrupt(_)) => corrupt.push(k.as_slice()),
                    _ => {
                        let current = match clock {
                            Some(c) => c,
                            None => *clock.insert(self.stamp_of(&txn, CLOCK_KEY)?),
                        };
                        if self.stamp_of(&txn, k)? < current {
                            self.touches
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .insert(k.clone());
                        }
                    }
                }
            }
        }
        if !corrupt.is_empty() {
            let shared = &self.shared;
            self.write(|txn, _| corrupt.iter().try_for_each(|k| delete(shared, txn, k)))?;
        }
        self.flush_touches_if_many();
        Ok(())
    }

    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
        let limit = self.max_entry_size();
        for (_, e) in items {
            if e.len() > limit {
                return Err(Error::TooLarge {
                    size: e.len(),
                    limit,
                });
            }
        }
        let keys: Vec<&[u8]> = items.iter().map(|(k, _)| *k).collect();
        let skeys = self.storage_keys(&keys)?;
        let shared = &self.shared;
        self.write(|txn, stamp| {
            for (k, (_, entry)) in skeys.iter().zip(items) {
                shared.db.put(txn, k, entry)?;
                shared.stamps.put(txn, k, &stamp.to_le_bytes())?;
            }
            Ok(())
        })
    }

    fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
        let skeys = self.storage_keys(keys)?;
        let shared = &self.shared;
        self.write(|txn, _| skeys.iter().try_for_each(|k| delete(shared, txn, k)))
    }

    fn clear(&self) -> Result<()> {
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
            Ok(())
        })
    }

    fn prune(&self) -> Result<u64> {
        let now = self.clock.now_ms();
        let shared = &self.shared;
        let mut pruned = 0;
        self.write(|txn, _| {
            let mut dead = Vec::new();
            for item in shared.db.iter(txn)? {
                let (k, rec) = item?;
                if !matches!(Entry::decode(rec), Ok(e) if !e.is_expired(now)) {
                    dead.push(k.to_vec());
                }
            }
            for k in &dead {
                delete(shared, txn, k)?;
            }
            pruned = dead.len() as u64;
            Ok(())
        })?;
        Ok(pruned)
    }

    fn max_entry_size(&self) -> usize {
        (self.shared.map_bytes / EVICT_SHARE) as usize
    }
}

fn delete(shared: &Shared, txn: &mut RwTxn, k: &[u8]) -> heed::Result<()> {
    shared.db.delete(txn, k)?;
    shared.stamps.delete(txn, k)?;
    Ok(())
}

impl Drop for TmpStore {
    fn drop(&mut self) {
        // Re-stamps of hits are worth keeping but never worth an error.
        if self.touches.lock().map(|t| !t.is_empty()).unwrap_or(false) {
            let _ = self.write(|_, _| Ok(()));
        }
    }
}
