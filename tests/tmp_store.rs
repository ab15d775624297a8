//! The /tmp store through the core API, with a mock clock.

use lambda_cache::clock::{Clock, MockClock};
use lambda_cache::entry::{self, Encoding, Entry};
use lambda_cache::store::tmp::{TmpConfig, TmpStore};
use lambda_cache::store::{self, Store};
use lambda_cache::Error;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const T0: u64 = 1_700_000_000_000;

/// A test's directory under the temp dir, removed when the test ends (also when it panics).
/// Declared before the stores that use it, it is dropped after them.
struct TestDir(PathBuf);

impl std::ops::Deref for TestDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TestDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn dir(name: &str) -> TestDir {
    let d = std::env::temp_dir().join(format!("lc-core-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    TestDir(d)
}

fn open(d: &Path, ns: &str, max: u64, clock: Arc<MockClock>) -> TmpStore {
    let config = TmpConfig {
        directory: d.to_path_buf(),
        namespace: ns.into(),
        max_bytes: max,
    };
    TmpStore::open(config, clock as Arc<dyn Clock>).unwrap()
}

fn get(s: &TmpStore, k: &[u8]) -> Option<Vec<u8>> {
    let mut out = None;
    s.get_many(&[k], &mut |_, e: Entry<'_>| {
        out = Some(e.payload.to_vec());
        Ok(())
    })
    .unwrap();
    out
}

fn set(s: &TmpStore, k: &[u8], v: &[u8], exp: u64) {
    s.set_many(&[(k, &entry::encode(Encoding::Raw, exp, v))])
        .unwrap();
}

#[test]
fn expiry_is_checked_on_every_read() {
    let (d, clock) = (dir("expiry"), MockClock::new(T0));
    let s = open(&d, "ns", 1 << 20, clock.clone());
    set(&s, b"a", b"1", T0 + 1000);
    set(&s, b"b", b"2", 0);
    assert_eq!(get(&s, b"a").as_deref(), Some(&b"1"[..]));
    clock.advance_ms(1000);
    assert_eq!(get(&s, b"a"), None);
    assert_eq!(get(&s, b"b").as_deref(), Some(&b"2"[..]));
    assert_eq!(s.stats().unwrap().entries, 2);
    assert_eq!(s.prune().unwrap(), 1);
    assert_eq!(s.stats().unwrap().entries, 1);
}

#[test]
fn namespaces_are_independent_and_clear_only_their_own() {
    let (d, clock) = (dir("ns"), MockClock::new(T0));
    let a = open(&d, "a", 1 << 20, clock.clone());
    let b = open(&d, "b", 1 << 20, clock.clone());
    let long = b"k".repeat(2000);
    for s in [&a, &b] {
        set(s, b"k", b"v", 0);
        set(s, &long, b"long", 0);
    }
    a.clear().unwrap();
    assert_eq!(get(&a, b"k"), None);
    assert_eq!(get(&a, &long), None);
    assert_eq!(get(&b, b"k").as_deref(), Some(&b"v"[..]));
    assert_eq!(get(&b, &long).as_deref(), Some(&b"long"[..]));
}

#[test]
fn corrupt_entries_are_misses_and_are_deleted() {
    let (d, clock) = (dir("corrupt"), MockClock::new(T0));
    let s = open(&d, "ns", 1 << 20, clock);
    s.set_many(&[(b"bad", b"\xc4\x01\x07")]).unwrap(); // a header cut short
    set(&s, b"good", b"x", 0);
    let before = s.stats().unwrap().entries;
    assert_eq!(get(&s, b"bad"), None);
    assert_eq!(s.stats().unwrap().entries, before - 1);
    // A value the caller cannot decode is deleted too.
    s.get_many(&[b"good"], &mut |_, _| Err(Error::Corrupt("test".into())))
        .unwrap();
    assert_eq!(get(&s, b"good"), None);
}

#[test]
fn eviction_drops_expired_first_then_least_recently_used() {
    let (d, clock) = (dir("evict"), MockClock::new(T0));
    let s = open(&d, "ns", 1 << 20, clock.clone());
    let v = vec![7u8; 8 * 1024];
    for i in 0..20u32 {
        set(&s, format!("exp{i}").as_bytes(), &v, T0 + 10);
    }
    for i in 0..20u32 {
        set(&s, format!("hot{i}").as_bytes(), &v, 0);
    }
    clock.advance_ms(100);
    for i in 0..200u32 {
        // Keep reading the hot keys while writing new ones: they get re-stamped.
        for h in 0..20u32 {
            assert!(
                get(&s, format!("hot{h}").as_bytes()).is_some(),
                "hot{h} evicted at {i}"
            );
        }
        set(&s, format!("cold{i}").as_bytes(), &v, 0);
    }
    let st = s.stats().unwrap();
    assert!(st.evictions > 0, "{st:?}");
    assert!(st.bytes_used <= st.max_bytes, "{st:?}");
    assert_eq!(
        get(&s, b"cold0"),
        None,
        "the oldest untouched key should be gone"
    );
    assert!(get(&s, b"cold199").is_some());
}

#[test]
fn values_are_framed_into_entries_the_store_accepts() {
    let (d, clock) = (dir("large"), MockClock::new(T0));
    let s = open(&d, "ns", 1 << 20, clock);
    let raw = |n: usize| move || Ok((Encoding::Raw, vec![7u8; n]));
    let r = store::frame(&s, b"big", 0, raw(600 * 1024));
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    // The key is checked before the value is even encoded.
    let r = store::frame(&s, b"a/b", 0, || panic!("encoded a value of a bad key"));
    assert!(matches!(r, Err(Error::InvalidKey(_))), "{r:?}");
    let e = store::frame(&s, b"small", T0 + 5, raw(3)).unwrap();
    assert_eq!(Entry::decode(&e).unwrap().expires_at_ms, T0 + 5);
    s.set_many(&[(b"small", &e)]).unwrap();
    assert_eq!(get(&s, b"small").as_deref(), Some(&[7u8; 3][..]));
}

#[test]
fn files_are_private_and_bad_input_is_refused() {
    let (d, clock) = (dir("perms"), MockClock::new(T0));
    let s = open(&d.join("sub"), "ns", 1 << 20, clock.clone());
    set(&s, b"k", b"v", 0);
    let mode = |p: PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(d.join("sub")), 0o700);
    assert_eq!(mode(d.join("sub/data.mdb")), 0o600);
    assert_eq!(mode(d.join("sub/lock.mdb")), 0o600);
    assert!(s.set_many(&[(b"a/b", b"x")]).is_err());
    assert!(s.set_many(&[(b"", b"x")]).is_err());
    let bad_ns = TmpConfig {
        directory: d.to_path_buf(),
        namespace: "a:b".into(),
        max_bytes: 1 << 20,
    };
    assert!(matches!(
        TmpStore::open(bad_ns, clock.clone()),
        Err(Error::InvalidConfig(_))
    ));
    let tiny = TmpConfig {
        directory: d.join("tiny"),
        namespace: "".into(),
        max_bytes: 1000,
    };
    assert!(matches!(
        TmpStore::open(tiny, clock),
        Err(Error::InvalidConfig(_))
    ));
}

#[test]
fn a_garbage_data_file_is_replaced_by_an_empty_store() {
    let (d, clock) = (dir("garbage"), MockClock::new(T0));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("data.mdb"), vec![0x5a; 64 * 1024]).unwrap();
    let s = open(&d, "ns", 1 << 20, clock);
    assert_eq!(get(&s, b"k"), None);
    set(&s, b"k", b"v", 0);
    assert_eq!(get(&s, b"k").as_deref(), Some(&b"v"[..]));
}

#[test]
fn damaged_pages_found_at_run_time_reset_the_store() {
    use std::io::{Seek, SeekFrom, Write};
    let (d, clock) = (dir("damaged"), MockClock::new(T0));
    let s = open(&d, "ns", 4 << 20, clock.clone());
    for i in 0..200u32 {
        set(&s, format!("k{i}").as_bytes(), &[1u8; 300], 0);
    }
    // Zero every page but the two meta pages, keeping the file's length: the meta pages still
    // point at the roots, which now read as pages of no type (MDB_CORRUPTED).
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(d.join("data.mdb"))
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.seek(SeekFrom::Start(8192)).unwrap();
    f.write_all(&vec![0u8; (len - 8192) as usize]).unwrap();
    drop(f);
    let mut found = |_: usize, _: Entry<'_>| Ok(());

    let first = s.get_many(&[b"k1"], &mut found);
    assert!(matches!(first, Err(Error::Corrupt(_))), "{first:?}");
    // The next operations, of this store and of another one on the directory, work on a fresh
    // environment.
    set(&s, b"after", b"works", 0);
    assert_eq!(get(&s, b"after").as_deref(), Some(&b"works"[..]));
    assert_eq!(get(&s, b"k1"), None);
    let other = open(&d, "ns", 4 << 20, clock);
    assert_eq!(get(&other, b"after").as_deref(), Some(&b"works"[..]));
    set(&other, b"k1", b"again", 0);
    assert_eq!(get(&s, b"k1").as_deref(), Some(&b"again"[..]));
}

#[test]
fn link_directories_left_by_dead_processes_are_removed() {
    let (d, clock) = (dir("stale-links"), MockClock::new(T0));
    std::fs::create_dir_all(&d).unwrap();
    // A process that died while opening the files again (after a fork or a reset) leaves its
    // directory of hard links, which would keep an old data.mdb's space.
    let stale = d.join(format!(".reopen-{}-0", i32::MAX));
    std::fs::create_dir(&stale).unwrap();
    std::fs::write(stale.join("data.mdb"), vec![1u8; 4096]).unwrap();
    let live = d.join(format!(".reopen-{}-7", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    let s = open(&d, "ns", 1 << 20, clock);
    set(&s, b"k", b"v", 0);
    assert!(!stale.exists());
    assert!(live.exists());
}

#[test]
fn a_full_store_of_small_live_values_keeps_taking_writes() {
    // Many small entries, none expiring: the map fills with B-tree pages, and every write must
    // still succeed (eviction runs before the map is too full to even delete).
    let (d, clock) = (dir("small"), MockClock::new(T0));
    let s = open(&d, "ns", 1 << 20, clock);
    let v = vec![b'v'; 200];
    for i in 0..20_000u32 {
        let k = format!("key-{i}");
        s.set_many(&[(k.as_bytes(), &entry::encode(Encoding::Raw, 0, &v))])
            .unwrap_or_else(|e| panic!("write {i}: {e}"));
    }
    let st = s.stats().unwrap();
    assert!(st.evictions > 0 && st.bytes_used <= st.max_bytes, "{st:?}");
    // Evicted down to 60% of the budget at most, never emptied: over half the entries that fit
    // stay (about 2,100 fit in 1 MiB).
    assert!(st.entries > 900, "{st:?}");
    assert!(get(&s, b"key-19999").is_some());
    assert!(get(&s, b"key-0").is_none(), "the oldest entries went first");
}

/// A deterministic shuffle of `0..n` (a linear congruential generator; no rand crate).
fn shuffled(n: u32, seed: u64) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n).collect();
    let mut x = seed;
    for i in (1..v.len()).rev() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.swap(i, (x >> 33) as usize % (i + 1));
    }
    v
}

#[test]
fn reads_alone_commit_no_writes() {
    // Issue #13: hits re-stamped keys in write transactions, whose commits advanced the clock
    // and aged every other key, so a read-only loop over 4,000+ keys kept committing.
    let (d, clock) = (dir("readonly"), MockClock::new(T0));
    let s = open(&d, "ns", 64 << 20, clock);
    let v = entry::encode(Encoding::Raw, 0, &[b'v'; 200]);
    let keys: Vec<String> = (0..10_000).map(|i| format!("key-{i}")).collect();
    for chunk in keys.chunks(100) {
        let items: Vec<(&[u8], &[u8])> = chunk.iter().map(|k| (k.as_bytes(), &v[..])).collect();
        s.set_many(&items).unwrap();
    }
    // The first pass re-stamps keys written long ago, a batch per write; the last batch, not
    // full, is written once its keys have been read a few times more. Then reads write nothing.
    let mut writes = vec![];
    for pass in 0..5u64 {
        let before = s.last_write_id();
        for i in shuffled(10_000, pass) {
            assert!(get(&s, keys[i as usize].as_bytes()).is_some());
        }
        writes.push(s.last_write_id() - before);
    }
    assert!(
        writes[1..].iter().sum::<u64>() <= 1,
        "writes per pass: {writes:?}"
    );
    assert_eq!(writes[4], 0, "writes per pass: {writes:?}");
}

#[test]
fn keys_read_recently_survive_evicting_half_the_store() {
    let (d, clock) = (dir("lru-half"), MockClock::new(T0));
    let s = open(&d, "ns", 8 << 20, clock);
    let v = entry::encode(Encoding::Raw, 0, &[b'v'; 1000]);
    let put = |k: &str| s.set_many(&[(k.as_bytes(), &v[..])]).unwrap();
    let mut n = 0u32;
    while s.stats().unwrap().bytes_used < (8 << 20) * 7 / 10 {
        put(&format!("old{n}"));
        n += 1;
    }
    assert_eq!(s.stats().unwrap().evictions, 0);
    // Read every tenth key, the oldest ones included.
    for i in (0..n).step_by(10) {
        assert!(get(&s, format!("old{i}").as_bytes()).is_some());
    }
    for m in 0..n / 10 {
        put(&format!("new{m}"));
    }
    let evicted = s.evict_share(0.5).unwrap();
    assert!(evicted >= u64::from(n / 2), "{evicted} of {n} evicted");
    let lost: Vec<u32> = (0..n)
        .step_by(10)
        .filter(|i| get(&s, format!("old{i}").as_bytes()).is_none())
        .collect();
    assert!(lost.is_empty(), "read keys evicted: {lost:?} of {n}");
    let gone = (0..n / 2)
        .filter(|i| i % 10 != 0 && get(&s, format!("old{i}").as_bytes()).is_none())
        .count();
    assert!(
        gone as u32 > n / 2 * 9 / 10 * 9 / 10,
        "only {gone} unread old keys evicted"
    );
}

#[test]
fn eviction_is_spread_over_writes() {
    // Issue #13: the write that passed the high-water mark evicted a quarter of the store by
    // itself (one save took 457 ms to evict 455,784 entries).
    let (d, clock) = (dir("slices"), MockClock::new(T0));
    let s = open(&d, "ns", 8 << 20, clock);
    let v = entry::encode(Encoding::Raw, 0, &[b'v'; 200]);
    let mut worst = 0;
    let mut before = 0;
    for i in 0..80_000u32 {
        let k = format!("key-{i}");
        s.set_many(&[(k.as_bytes(), &v[..])])
            .unwrap_or_else(|e| panic!("write {i}: {e}"));
        let st = s.stats().unwrap();
        assert!(st.bytes_used <= st.max_bytes, "{st:?}");
        worst = worst.max(st.evictions - before);
        before = st.evictions;
    }
    assert!(before > 40_000, "{before} evictions");
    assert!(worst <= 2048, "one write evicted {worst} entries");
    assert!(get(&s, b"key-79999").is_some());
    assert!(get(&s, b"key-0").is_none());
}

#[test]
fn a_large_value_that_finds_no_room_evicts_nothing() {
    // Issue #13: once the store had been used, values of 16 MiB could not be saved in 128 MiB,
    // and each failed save evicted tens of thousands of live entries for nothing (LMDB needs
    // that many contiguous free pages, which evicting small entries does not make).
    let (d, clock) = (dir("large-room"), MockClock::new(T0));
    let s = open(&d, "ns", 16 << 20, clock);
    let v = entry::encode(Encoding::Raw, 0, &[b'v'; 200]);
    for i in 0..120_000u32 {
        s.set_many(&[(format!("key-{i}").as_bytes(), &v[..])])
            .unwrap();
    }
    let big = entry::encode(Encoding::Raw, 0, &vec![7u8; s.max_entry_size() - 64]);
    for i in 0..3 {
        let before = s.stats().unwrap();
        match s.set_many(&[(format!("big-{i}").as_bytes(), &big[..])]) {
            Ok(()) => {}
            Err(e) => {
                let after = s.stats().unwrap();
                assert_eq!(after.entries, before.entries, "{e}");
                assert_eq!(after.evictions, before.evictions, "{e}");
            }
        }
    }
    // A value over 256 KiB that finds room is stored, and still readable.
    let mid = entry::encode(Encoding::Raw, 0, &vec![7u8; 300 * 1024]);
    s.set_many(&[(b"mid", &mid[..])]).unwrap();
    assert_eq!(get(&s, b"mid").map(|v| v.len()), Some(300 * 1024));
}
