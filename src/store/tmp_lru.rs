//! Least-recently-used bookkeeping of the /tmp store, without turning reads into writes.
//!
//! The clock is the count of entries written, kept in `stamps` under [`CLOCK_KEY`]: data
//! writes advance it, re-stamps and deletions do not. Every record starts with the clock value
//! of the write that wrote it; a key's last use is that or its re-stamp in `stamps`, whichever
//! is newer. A hit re-stamps a key only when its last use is older than a quarter of the store
//! in writes ([`span`]): then the key is queued and re-stamped by this process's next write. A
//! read-only workload never advances the clock, so once its keys are re-stamped it writes
//! nothing at all, however many keys it reads.

use super::tmp_env::{classify, is_map_full, Shared};
use crate::entry::Entry;
use crate::error::Result;
use heed::RwTxn;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Queued uses after which a reader writes them out itself.
pub const TOUCH_BATCH: usize = 256;
/// Last uses remembered per process, at most (16 bytes each).
const KNOWN_MAX: usize = 1 << 17;
/// A key in `stamps` no cache key can have (storage keys never start with NUL): the clock.
const CLOCK_KEY: &[u8] = b"\0clock";

/// FNV-1a: keys are short, and std's SipHash costs more than the lookup it guards.
#[derive(Default)]
pub struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
    fn write_u64(&mut self, n: u64) {
        // Keys of `known` are FNV hashes already.
        self.0 = n;
    }
}

fn hash(key: &[u8]) -> u64 {
    let mut h = Fnv::default();
    h.write(key);
    h.finish()
}

/// The clock as a read transaction sees it, and how old a use may be and still count as recent.
#[derive(Clone, Copy, Default)]
pub struct View {
    pub clock: u64,
    pub span: u64,
}

impl View {
    /// Whether a use at `stamp` is recent: within the last quarter of the store in writes.
    pub fn fresh(&self, stamp: u64) -> bool {
        stamp.saturating_add(self.span) > self.clock
    }
}

/// How many writes count as recent: a quarter of the entries (so a key read since the last
/// quarter of the store was written outlives an eviction of half of it), at least 8.
fn span(entries: u64) -> u64 {
    (entries / 4).max(8)
}

/// The clock in `txn`; a directory without one (new, emptied, or older) starts it at the last
/// transaction id, which is at least any stamp its records carry.
pub fn clock(shared: &Shared, txn: &heed::RoTxn) -> Result<u64> {
    let c = shared.stamps.get(txn, CLOCK_KEY).map_err(classify)?;
    Ok(c.map(read_u64).unwrap_or(txn.id() as u64))
}

pub fn view(shared: &Shared, txn: &heed::RoTxn) -> Result<View> {
    Ok(View {
        clock: clock(shared, txn)?,
        span: span(shared.db.len(txn).map_err(classify)?),
    })
}

/// Advances the clock by `written` entries.
pub fn advance(shared: &Shared, txn: &mut RwTxn, clock: u64, written: u64) -> heed::Result<()> {
    shared
        .stamps
        .put(txn, CLOCK_KEY, &(clock + written).to_le_bytes())
}

/// The view of the last read transaction, by its id, without a lock on the hit path. Threads
/// racing on it can only mix two views, which costs eviction a little precision.
#[derive(Default)]
pub struct ViewCache {
    txid: AtomicU64,
    clock: AtomicU64,
    span: AtomicU64,
}

impl ViewCache {
    /// The view computed for read transaction `txid`, if any.
    pub fn get(&self, txid: u64) -> Option<View> {
        if self.txid.load(Ordering::Acquire) != txid {
            return None;
        }
        let v = View {
            clock: self.clock.load(Ordering::Relaxed),
            span: self.span.load(Ordering::Relaxed),
        };
        (self.txid.load(Ordering::Acquire) == txid).then_some(v)
    }

    pub fn set(&self, txid: u64, v: View) {
        // Transaction ids start at 1: 0 marks the cache as being written.
        self.txid.store(0, Ordering::Release);
        self.clock.store(v.clock, Ordering::Relaxed);
        self.span.store(v.span, Ordering::Relaxed);
        self.txid.store(txid, Ordering::Release);
    }
}

#[derive(Default)]
pub struct Lru {
    /// Keys to re-stamp with the next write.
    touches: HashSet<Vec<u8>, BuildHasherDefault<Fnv>>,
    /// Hash of a key -> its last use as last seen by this process (queued ones: when queued).
    known: HashMap<u64, u64, BuildHasherDefault<Fnv>>,
    /// Hits answered from `known` since the last write.
    known_hits: usize,
    /// The eviction this process is spreading over its writes, if any.
    pub sweep: Option<Sweep>,
}

impl Lru {
    /// Called for a hit whose record stamp is not recent. Returns whether the key's re-stamp
    /// must be looked up (this process does not know a recent use of it).
    pub fn needs_check(&mut self, key: &[u8], view: View) -> bool {
        let known = matches!(self.known.get(&hash(key)), Some(&used) if view.fresh(used));
        self.known_hits += usize::from(known);
        !known
    }

    /// Whether the queue is worth a write of its own: a batch is full, or queued keys (fewer
    /// than a batch) keep being read, and re-stamping them (in place, see `TmpStore::try_write`)
    /// makes their hits fresh at first sight. A read-only workload so writes once per batch of
    /// keys it uses, then no more.
    pub fn flush_due(&self) -> bool {
        self.touches.len() >= TOUCH_BATCH
            || !self.touches.is_empty() && self.known_hits >= TOUCH_BATCH
    }

    /// Records the looked-up last use of `key`; queues it for a re-stamp when that is old.
    pub fn checked(&mut self, key: &[u8], used: u64, view: View) {
        if self.known.len() >= KNOWN_MAX {
            self.known.clear();
        }
        if view.fresh(used) {
            self.known.insert(hash(key), used);
        } else {
            self.known.insert(hash(key), view.clock);
            self.touches.insert(key.to_vec());
        }
    }

    pub fn pending(&self) -> usize {
        self.touches.len()
    }

    pub fn take(&mut self) -> Vec<Vec<u8>> {
        self.known_hits = 0;
        self.touches.drain().collect()
    }
}

pub fn read_u64(b: &[u8]) -> u64 {
    b.get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

/// Splits a record into its stamp and entry.
pub fn split(rec: &[u8]) -> Result<(u64, Entry<'_>)> {
    if rec.len() < 8 {
        return Err(crate::Error::Corrupt(
            "record shorter than its stamp".into(),
        ));
    }
    Ok((read_u64(rec), Entry::decode(&rec[8..])?))
}

/// A key's last use: its write stamp or its re-stamp, whichever is newer.
pub fn last_use(shared: &Shared, txn: &heed::RoTxn, key: &[u8], stamp: u64) -> Result<u64> {
    let touched = shared.stamps.get(txn, key).map_err(classify)?;
    Ok(stamp.max(touched.map(read_u64).unwrap_or(0)))
}

/// Pages the two databases take, in bytes (their B-trees and overflow pages, not free pages).
pub fn pages_in_use(shared: &Shared, txn: &heed::RoTxn) -> Result<u64> {
    let mut bytes = 0;
    for s in [shared.db.stat(txn), shared.stamps.stat(txn)] {
        let s = s.map_err(classify)?;
        bytes += (s.branch_pages + s.leaf_pages + s.overflow_pages) as u64 * u64::from(s.page_size);
    }
    Ok(bytes)
}

/// Entries one write looks at while evicting: bounds the work of the request that writes.
pub const SLICE: usize = 2048;

/// An eviction spread over this process's writes, in two sweeps over the entries in key order
/// ([`SLICE`] entries per write): the first samples the last uses to find the cutoff below which
/// the share to evict lies (as a full scan and sort would, without stalling one request), the
/// second deletes the dead entries and those last used before the cutoff.
#[derive(Default)]
pub struct Sweep {
    cursor: Option<Vec<u8>>,
    cutoff: Option<u64>,
    share: f64,
    sample: Vec<u64>,
    every: u64,
    seen: u64,
}

/// Last uses sampled per sweep, at most (about).
const SAMPLE: u64 = 1 << 16;

fn corrupt(_: crate::Error) -> heed::Error {
    heed::Error::Mdb(heed::MdbError::Corrupted)
}

/// One step of a [`Sweep`], in a write transaction: a slice of the sampling sweep (the
/// transaction is dropped) or of the deleting one (committed). `keep`: the bytes in use to evict down to, and at
/// least `min_share` of the entries. Returns the entries deleted and whether the eviction is
/// over: the deleting sweep reached the end of the entries, or the pages in use fell to `keep`
/// bytes. (Pages free up less than entries: deleting a quarter of a page's entries leaves the
/// page, whose holes new entries fill.)
pub fn evict_slice(
    shared: &Shared,
    now_ms: u64,
    sweep: &mut Sweep,
    keep: u64,
    min_share: f64,
) -> heed::Result<(u64, bool)> {
    use std::ops::Bound::{Excluded, Unbounded};
    let mut txn = shared.env.write_txn()?;
    if sweep.every == 0 {
        let used = pages_in_use(shared, &txn).map_err(corrupt)?.max(1);
        sweep.share = (1.0 - keep as f64 / used as f64).max(min_share);
        sweep.every = (shared.db.len(&txn)? / SAMPLE).max(1);
    }
    let mut seen: Vec<(Vec<u8>, u64)> = Vec::new();
    {
        let from = match &sweep.cursor {
            Some(c) => Excluded(c.as_slice()),
            None => Unbounded,
        };
        for item in shared.db.range(&txn, &(from, Unbounded))?.take(SLICE) {
            let (k, rec) = item?;
            sweep.seen += 1;
            // Sampling: every `every`-th entry's last use. Deleting: the last use of entries
            // whose write stamp is below the cutoff (a re-stamp may keep them).
            let look = sweep.cutoff.is_some() || sweep.seen.is_multiple_of(sweep.every);
            let used = match split(rec) {
                Ok((_, e)) if e.is_expired(now_ms) => 0,
                Err(_) => 0,
                Ok((stamp, _)) if !look || sweep.cutoff.is_some_and(|c| stamp >= c) => stamp.max(1),
                Ok((stamp, _)) => stamp.max(restamp(shared, &txn, k)?).max(1),
            };
            if look && sweep.cutoff.is_none() {
                sweep.sample.push(used);
            }
            seen.push((k.to_vec(), used));
        }
    }
    let end = seen.len() < SLICE;
    sweep.cursor = seen.last().map(|(k, _)| k.clone()).filter(|_| !end);
    let Some(cutoff) = sweep.cutoff else {
        drop(txn);
        if end {
            let i = ((sweep.sample.len() as f64 * sweep.share) as usize).min(sweep.sample.len());
            let cutoff = match i {
                0 => 1,
                _ => *sweep.sample.select_nth_unstable(i - 1).1 + 1,
            };
            sweep.cutoff = Some(cutoff);
            sweep.sample = Vec::new();
        }
        return Ok((0, false));
    };
    let mut n = 0;
    for (k, _) in seen.iter().filter(|(_, u)| *u < cutoff) {
        delete(shared, &mut txn, k)?;
        n += 1;
    }
    let after = pages_in_use(shared, &txn).map_err(corrupt)?;
    txn.commit()?;
    Ok((n, end || after <= keep))
}

/// The re-stamp of `k`, 0 without one.
fn restamp(shared: &Shared, txn: &heed::RoTxn, k: &[u8]) -> heed::Result<u64> {
    Ok(shared.stamps.get(txn, k)?.map(read_u64).unwrap_or(0))
}

/// Deletions per write transaction while evicting. Every deletion copies the pages on its
/// path, and a nearly full map has few free pages: small transactions fit, and each frees pages
/// the next ones reuse.
const EVICT_BATCH: usize = 16;

/// Frees room: expired and unreadable entries first, then the least recently used, over every
/// namespace in the directory (they share the budget), until the pages in use fall to `keep`
/// bytes (estimated from the share of entry bytes removed), and at least `min_share` of them.
/// If even a single deletion finds no free page, the databases are emptied: a cache that
/// cannot be written to helps no one.
pub fn evict(shared: &Shared, now_ms: u64, keep: u64, min_share: f64) -> Result<u64> {
    let victims = choose_victims(shared, now_ms, keep, min_share)?;
    let mut evicted = 0u64;
    for batch in victims.chunks(EVICT_BATCH) {
        match delete_all(shared, batch) {
            Ok(()) => evicted += batch.len() as u64,
            Err(e) if is_map_full(&e) => {
                for k in batch {
                    match delete_all(shared, std::slice::from_ref(k)) {
                        Ok(()) => evicted += 1,
                        Err(e) if is_map_full(&e) => return empty(shared),
                        Err(e) => return Err(classify(e)),
                    }
                }
            }
            Err(e) => return Err(classify(e)),
        }
    }
    // LMDB reuses pages freed by transaction N from N+2 on (N-1's snapshot stays valid until
    // N+1 commits): one small commit more makes the last freed pages usable by the next write.
    bump(shared).map_err(classify)?;
    Ok(evicted)
}

/// Deletes only the dead entries (expired or unreadable) of every namespace, in the same small
/// transactions as [`evict`]; returns how many.
pub fn prune(shared: &Shared, now_ms: u64) -> Result<u64> {
    // Keeping everything: the share of live entries to remove is 0.
    evict(shared, now_ms, u64::MAX, 0.0)
}

fn choose_victims(shared: &Shared, now_ms: u64, keep: u64, min_share: f64) -> Result<Vec<Vec<u8>>> {
    let txn = shared.env.read_txn().map_err(classify)?;
    let used = pages_in_use(shared, &txn)?.max(1);
    let share = (1.0 - keep as f64 / used as f64).max(min_share);
    let (mut total, mut freed) = (0u64, 0u64);
    let mut victims = Vec::new();
    let mut live = Vec::new();
    for item in shared.db.iter(&txn).map_err(classify)? {
        let (k, rec) = item.map_err(classify)?;
        let size = (k.len() + rec.len()) as u64;
        total += size;
        match split(rec) {
            Ok((stamp, e)) if !e.is_expired(now_ms) => live.push((stamp, k.to_vec(), size)),
            _ => {
                freed += size;
                victims.push(k.to_vec());
            }
        }
    }
    let target = (total as f64 * share) as u64;
    if freed >= target {
        return Ok(victims);
    }
    for (stamp, k, _) in live.iter_mut() {
        *stamp = last_use(shared, &txn, k, *stamp)?;
    }
    live.sort_unstable_by_key(|(stamp, _, _)| *stamp);
    for (_, k, size) in live {
        if freed >= target {
            break;
        }
        freed += size;
        victims.push(k);
    }
    Ok(victims)
}

fn delete_all(shared: &Shared, keys: &[Vec<u8>]) -> heed::Result<()> {
    let mut txn = shared.env.write_txn()?;
    for k in keys {
        delete(shared, &mut txn, k)?;
    }
    txn.commit()
}

fn bump(shared: &Shared) -> heed::Result<()> {
    let mut txn = shared.env.write_txn()?;
    let id = (txn.id() as u64).to_le_bytes();
    shared.stamps.put(&mut txn, BUMP_KEY, &id)?;
    txn.commit()
}

/// Empties both databases (dropping a database frees its pages without copying them).
fn empty(shared: &Shared) -> Result<u64> {
    let mut txn = shared.env.write_txn().map_err(classify)?;
    let n = shared.db.len(&txn).map_err(classify)?;
    let now = clock(shared, &txn)?;
    shared.db.clear(&mut txn).map_err(classify)?;
    shared.stamps.clear(&mut txn).map_err(classify)?;
    // The clock goes on: stamps other processes remember stay in the past.
    advance(shared, &mut txn, now, 0).map_err(classify)?;
    txn.commit().map_err(classify)?;
    bump(shared).map_err(classify)?;
    Ok(n)
}

/// A key in `stamps` no cache key can have (storage keys never start with NUL).
const BUMP_KEY: &[u8] = b"\0bump";

pub fn delete(shared: &Shared, txn: &mut RwTxn, k: &[u8]) -> heed::Result<()> {
    shared.db.delete(txn, k)?;
    shared.stamps.delete(txn, k)?;
    Ok(())
}
