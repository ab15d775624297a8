//! Storage engines for the /tmp store (docs/decisions.md 1), on divan:
//! `cargo bench --no-default-features --bench engines`.
//!
//! The two candidate layouts, on this machine's disk, side by side in one run:
//! - `file`: one file per key (symfony/cache's FilesystemAdapter layout `dir/X/Y/<hash>`; a hit is
//!   open + read + close, a put writes a temp file and renames it over the final path);
//! - `lmdb`: LMDB through heed (one env, the unnamed database, one write txn per put, with
//!   `EnvFlags::NO_SYNC` and with LMDB's default fsync on commit).
//!
//! Each sample is a pass over `KEYS` keys of 200-byte values (fsync'ed puts: `SYNC_OPS`), so
//! divan's items/s is ops/s; the median of 5 samples is the figure. Everything lives under
//! `std::env::temp_dir()` and is removed at the end.

use std::fs::{self, File, OpenOptions};
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::Bencher;
use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions};

type Db = Database<Bytes, Bytes>;

const KEYS: usize = 10_000;
const SYNC_OPS: usize = 1_000;
const VALUE_LEN: usize = 200;
const MAP_SIZE: usize = 256 << 20;

fn main() {
    divan::main();
    let _ = fs::remove_dir_all(root());
}

fn root() -> PathBuf {
    std::env::temp_dir().join(format!("lc-engines-{}", std::process::id()))
}

static SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh directory, removed when dropped (outside the timed part: divan drops outputs later).
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = root().join(format!("{name}-{}", SEQ.fetch_add(1, Ordering::Relaxed)));
        fs::create_dir_all(&path).unwrap();
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

static KEYLIST: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    (0..KEYS)
        .map(|i| format!("bench:key-{i:08}").into_bytes())
        .collect()
});

fn value(i: usize) -> Vec<u8> {
    (0..VALUE_LEN)
        .map(|j| b'a' + ((i * 31 + j * 7) % 26) as u8)
        .collect()
}

/// One file per key, two levels of one-character subdirectories like symfony's layout.
struct FileStore {
    dir: Dir,
}

impl FileStore {
    fn create(name: &str) -> FileStore {
        let dir = Dir::new(name);
        for a in 0..16 {
            for b in 0..16 {
                fs::create_dir_all(dir.0.join(format!("{a:X}/{b:X}"))).unwrap();
            }
        }
        FileStore { dir }
    }

    fn path(&self, key: &[u8]) -> PathBuf {
        let h = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self.dir
            .0
            .join(format!("{:X}/{:X}/{h:016x}", h >> 60, (h >> 56) & 0xf))
    }

    fn get(&self, key: &[u8], buf: &mut Vec<u8>) -> bool {
        buf.clear();
        File::open(self.path(key))
            .and_then(|mut f| f.read_to_end(buf))
            .is_ok()
    }

    fn put(&self, key: &[u8], value: &[u8]) {
        let tmp = self
            .dir
            .0
            .join(format!(".tmp-{}", SEQ.fetch_add(1, Ordering::Relaxed)));
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .unwrap();
        f.write_all(value).unwrap();
        drop(f);
        fs::rename(&tmp, self.path(key)).unwrap();
    }

    fn filled(name: &str) -> FileStore {
        let store = FileStore::create(name);
        for (i, k) in KEYLIST.iter().enumerate() {
            store.put(k, &value(i));
        }
        store
    }
}

fn open_env(path: &Path, no_sync: bool) -> Env {
    let mut options = EnvOpenOptions::new();
    options.map_size(MAP_SIZE).max_dbs(4);
    if no_sync {
        // SAFETY: NO_SYNC only weakens durability (a crash may lose the last commits).
        unsafe { options.flags(EnvFlags::NO_SYNC) };
    }
    // SAFETY: the env lives in a private directory that nothing else modifies while mapped.
    unsafe { options.open(path) }.unwrap()
}

fn create_db(env: &Env) -> Db {
    let mut wtxn = env.write_txn().unwrap();
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, None)
        .unwrap();
    wtxn.commit().unwrap();
    db
}

/// A filled NO_SYNC env for the reads, and its directory.
static LMDB: LazyLock<(Dir, Env, Db)> = LazyLock::new(|| {
    let dir = Dir::new("lmdb-main");
    let env = open_env(&dir.0, true);
    let db = create_db(&env);
    let mut wtxn = env.write_txn().unwrap();
    for (i, k) in KEYLIST.iter().enumerate() {
        db.put(&mut wtxn, k, &value(i)).unwrap();
    }
    wtxn.commit().unwrap();
    (dir, env, db)
});

fn put_each(env: &Env, db: Db, ops: usize, value: &[u8]) {
    for k in &KEYLIST[..ops] {
        let mut wtxn = env.write_txn().unwrap();
        db.put(&mut wtxn, k, value).unwrap();
        wtxn.commit().unwrap();
    }
}

const SAMPLES: u32 = 5;

#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn file_get_hit(bencher: Bencher) {
    let store = FileStore::filled("files");
    let mut buf = Vec::with_capacity(VALUE_LEN);
    bencher.counter(ItemsCount::new(KEYS)).bench_local(|| {
        for k in KEYLIST.iter() {
            assert!(
                store.get(k, &mut buf) && buf.len() == VALUE_LEN,
                "file get missed"
            );
        }
    });
}

#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn file_put_new_key(bencher: Bencher) {
    let v = value(1);
    bencher
        .counter(ItemsCount::new(KEYS))
        .with_inputs(|| FileStore::create("files-new"))
        .bench_local_values(|store| {
            KEYLIST.iter().for_each(|k| store.put(k, &v));
            store
        });
}

#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn file_overwrite(bencher: Bencher) {
    let store = FileStore::filled("files-over");
    let v = value(2);
    bencher
        .counter(ItemsCount::new(KEYS))
        .bench_local(|| KEYLIST.iter().for_each(|k| store.put(k, &v)));
}

#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn lmdb_get_hit_one_txn_per_get(bencher: Bencher) {
    let (_, env, db) = &*LMDB;
    let mut buf = Vec::with_capacity(VALUE_LEN);
    bencher.counter(ItemsCount::new(KEYS)).bench_local(|| {
        for k in KEYLIST.iter() {
            let rtxn = env.read_txn().unwrap();
            buf.clear();
            buf.extend_from_slice(db.get(&rtxn, k).unwrap().expect("lmdb get missed"));
        }
    });
}

#[divan::bench(sample_count = SAMPLES, sample_size = 1)]
fn lmdb_get_hit_100_per_txn(bencher: Bencher) {
    let (_, env, db) = &*LMDB;
    bencher.counter(ItemsCount::new(KEYS)).bench_local(|| {
        for chunk in KEYLIST.chunks(100) {
            let rtxn = env.read_txn().unwrap();
            for k in chunk {
                black_box(db.get(&rtxn, k).unwrap().expect("lmdb get missed").len());
            }
        }
    });
}

/// `true`: LMDB's default fsync on commit (SYNC_OPS puts per sample); `false`: NO_SYNC.
#[divan::bench(args = [false, true], sample_count = SAMPLES, sample_size = 1)]
fn lmdb_put_new_key(bencher: Bencher, fsync: bool) {
    let ops = if fsync { SYNC_OPS } else { KEYS };
    let v = value(1);
    bencher
        .counter(ItemsCount::new(ops))
        .with_inputs(|| {
            let dir = Dir::new("lmdb-new");
            let env = open_env(&dir.0, !fsync);
            let db = create_db(&env);
            (dir, env, db)
        })
        .bench_local_values(|(dir, env, db)| {
            put_each(&env, db, ops, &v);
            (env, dir) // the env closes before its directory goes
        });
}

#[divan::bench(args = [false, true], sample_count = SAMPLES, sample_size = 1)]
fn lmdb_overwrite(bencher: Bencher, fsync: bool) {
    let ops = if fsync { SYNC_OPS } else { KEYS };
    let dir = Dir::new("lmdb-over");
    let env = open_env(&dir.0, !fsync);
    let db = create_db(&env);
    put_each(&env, db, ops, &value(0));
    let v = value(2);
    bencher
        .counter(ItemsCount::new(ops))
        .bench_local(|| put_each(&env, db, ops, &v));
}

/// What every new PHP process pays: open an existing env, open the database, one get.
#[divan::bench(sample_count = 100, sample_size = 1)]
fn lmdb_reopen_and_first_get(bencher: Bencher) {
    let dir = Dir::new("lmdb-reopen");
    {
        let env = open_env(&dir.0, true);
        let db = create_db(&env);
        put_each(&env, db, 100, &value(0));
        env.prepare_for_closing().wait();
    }
    bencher.bench_local(|| {
        let env = open_env(&dir.0, true);
        let rtxn = env.read_txn().unwrap();
        let db: Db = env
            .open_database(&rtxn, None)
            .unwrap()
            .expect("database missing");
        black_box(
            db.get(&rtxn, &KEYLIST[7])
                .unwrap()
                .expect("lmdb get missed")
                .len(),
        );
        drop(rtxn);
        env // closed after the timed part, before the next sample opens it again
    });
}

/// A new store: mkdir, open the env, create the database (commit).
#[divan::bench(sample_count = 100, sample_size = 1)]
fn lmdb_create_env_and_db(bencher: Bencher) {
    bencher
        .with_inputs(|| {
            root().join(format!(
                "lmdb-create-{}",
                SEQ.fetch_add(1, Ordering::Relaxed)
            ))
        })
        .bench_local_values(|path| {
            fs::create_dir(&path).unwrap();
            let env = open_env(&path, true);
            create_db(&env);
            (env, Dir(path))
        });
}
