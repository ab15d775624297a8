//! Storage-engine benchmark for the /tmp store (`cargo bench --bench engines`, `harness = false`).
//!
//! Measures, in one run and on this machine's disk, the two candidate layouts:
//! 1. one file per key (symfony/cache's FilesystemAdapter layout: `dir/X/Y/<hash>`; a hit is
//!    open + read + close, a put writes a temp file and renames it over the final path);
//! 2. LMDB through heed (one env, the unnamed database, one read txn per get, one write txn per
//!    put, with `EnvFlags::NO_SYNC` and with LMDB's default fsync on commit).
//!
//! Every figure is the median over several runs (`ENGINES_RUNS`, default 5) of `ENGINES_KEYS`
//! (default 10,000) operations on 200-byte values; fsync'ed LMDB puts use `ENGINES_SYNC_OPS`
//! (default 1,000) operations per run because each costs a disk flush. Everything lives in a fresh
//! directory under `std::env::temp_dir()` that is removed at the end.

#[path = "engines/stores.rs"]
mod stores;
#[path = "engines/support.rs"]
mod support;

use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use stores::{close_env, create_db, lmdb_fill, open_env, put_each, Db, FileStore};
use support::{fmt_num, key, time_ops, value, Config, Res, Row, TempRoot, VALUE_LEN};

struct Bench<'a> {
    cfg: &'a Config,
    root: &'a TempRoot,
    keys: Vec<Vec<u8>>,
    rows: Vec<Row>,
}

impl Bench<'_> {
    /// Runs `sample` once per run (it returns ns/op) and records the row.
    fn measure(
        &mut self,
        op: &'static str,
        engine: &'static str,
        ops: usize,
        mut sample: impl FnMut(&Self, usize) -> Res<f64>,
    ) -> Res<()> {
        let mut ns = Vec::with_capacity(self.cfg.runs);
        for run in 0..self.cfg.runs {
            ns.push(sample(self, run)?);
        }
        let row = Row {
            op,
            engine,
            ops_per_run: ops,
            ns,
        };
        eprintln!(
            "  {op:<44} {engine:<14} {:>12} ns/op",
            fmt_num(row.median())
        );
        self.rows.push(row);
        Ok(())
    }

    fn files(&mut self) -> Res<()> {
        let n = self.cfg.keys;
        let mut store = FileStore::create(self.root.sub("files")?)?;
        for (i, k) in self.keys.iter().enumerate() {
            store.put(k, &value(i))?;
        }
        let mut buf = Vec::with_capacity(VALUE_LEN);
        self.measure("get hit (open+read+close)", "file", n, |b, _| {
            time_ops(n, || {
                for k in &b.keys {
                    assert!(
                        store.get(k, &mut buf)? && buf.len() == VALUE_LEN,
                        "file get missed"
                    );
                }
                Ok(())
            })
        })?;
        self.measure("put new key (tmp file + rename)", "file", n, |b, run| {
            let mut fresh = FileStore::create(b.root.sub(&format!("files-new-{run}"))?)?;
            let v = value(run);
            let ns = time_ops(n, || {
                b.keys
                    .iter()
                    .try_for_each(|k| fresh.put(k, &v).map_err(Into::into))
            })?;
            fs::remove_dir_all(&fresh.root)?;
            Ok(ns)
        })?;
        let mut overwrite = FileStore {
            root: store.root.clone(),
            seq: 1 << 32,
        };
        self.measure(
            "overwrite (tmp file + rename over existing)",
            "file",
            n,
            |b, run| {
                let v = value(run + 1);
                time_ops(n, || {
                    b.keys
                        .iter()
                        .try_for_each(|k| overwrite.put(k, &v).map_err(Into::into))
                })
            },
        )?;
        Ok(())
    }

    fn lmdb_reads(&mut self) -> Res<()> {
        let n = self.cfg.keys;
        let path = self.root.sub("lmdb-main")?;
        let env = open_env(&path, true)?;
        let db = create_db(&env)?;
        lmdb_fill(&env, db, &self.keys)?;
        let mut buf = Vec::with_capacity(VALUE_LEN);
        self.measure("get hit (one read txn per get)", "lmdb", n, |b, _| {
            time_ops(n, || {
                for k in &b.keys {
                    let rtxn = env.read_txn()?;
                    let v = db.get(&rtxn, k)?.ok_or("lmdb get missed")?;
                    buf.clear();
                    buf.extend_from_slice(v);
                }
                Ok(())
            })
        })?;
        self.measure(
            "get hit (100 gets per read txn, per get)",
            "lmdb",
            n,
            |b, _| {
                time_ops(n, || {
                    for chunk in b.keys.chunks(100) {
                        let rtxn = env.read_txn()?;
                        for k in chunk {
                            black_box(db.get(&rtxn, k)?.ok_or("lmdb get missed")?.len());
                        }
                    }
                    Ok(())
                })
            },
        )?;
        // Overwrites: first with the NO_SYNC env, then re-opened with LMDB's default fsync on commit.
        let mut env = env;
        for (sync, label) in [(false, "lmdb NO_SYNC"), (true, "lmdb fsync")] {
            let ops = if sync { self.cfg.sync_ops } else { n };
            if sync {
                close_env(env);
                env = open_env(&path, false)?;
            }
            let rtxn = env.read_txn()?;
            let db: Db = env.open_database(&rtxn, None)?.ok_or("database missing")?;
            drop(rtxn);
            self.measure("overwrite (one write txn per put)", label, ops, |b, run| {
                let v = value(run + 1);
                time_ops(ops, || put_each(&env, db, &b.keys[..ops], &v))
            })?;
        }
        close_env(env);
        self.reopen(&path)
    }

    fn lmdb_puts(&mut self) -> Res<()> {
        for (sync, label) in [(false, "lmdb NO_SYNC"), (true, "lmdb fsync")] {
            let ops = if sync {
                self.cfg.sync_ops
            } else {
                self.cfg.keys
            };
            self.measure(
                "put new key (one write txn per put)",
                label,
                ops,
                |b, run| {
                    let path = b
                        .root
                        .sub(&format!("lmdb-new-{label}-{run}").replace(' ', "_"))?;
                    let env = open_env(&path, !sync)?;
                    let db = create_db(&env)?;
                    let v = value(run);
                    let ns = time_ops(ops, || put_each(&env, db, &b.keys[..ops], &v))?;
                    close_env(env);
                    fs::remove_dir_all(&path)?;
                    Ok(ns)
                },
            )?;
        }
        Ok(())
    }

    /// Re-opening an existing env (what every new PHP process pays) and creating a new one.
    fn reopen(&mut self, path: &Path) -> Res<()> {
        let iters = self.cfg.reopen_iters;
        self.measure(
            "re-open existing env + open db + first get",
            "lmdb",
            iters,
            |b, _| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let start = Instant::now();
                    let env = open_env(path, true)?;
                    let rtxn = env.read_txn()?;
                    let db: Db = env.open_database(&rtxn, None)?.ok_or("database missing")?;
                    black_box(
                        db.get(&rtxn, &b.keys[i % b.keys.len()])?
                            .ok_or("lmdb get missed")?
                            .len(),
                    );
                    drop(rtxn);
                    total += start.elapsed();
                    close_env(env);
                }
                Ok(total.as_nanos() as f64 / iters as f64)
            },
        )?;
        let iters = self.cfg.create_iters;
        self.measure(
            "create new env + db (mkdir, open, commit)",
            "lmdb",
            iters,
            |b, run| {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let dir = b.root.0.join(format!("lmdb-create-{run}-{i}"));
                    let start = Instant::now();
                    fs::create_dir(&dir)?;
                    let env = open_env(&dir, true)?;
                    create_db(&env)?;
                    total += start.elapsed();
                    close_env(env);
                    fs::remove_dir_all(&dir)?;
                }
                Ok(total.as_nanos() as f64 / iters as f64)
            },
        )
    }

    fn find(&self, op: &str, engine: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.op.starts_with(op) && r.engine == engine)
            .map(Row::median)
    }

    fn print(&self) {
        let c = self.cfg;
        println!("\nStorage engines for the /tmp store: {} keys, {VALUE_LEN}-byte values, median of {} runs", c.keys, c.runs);
        println!("directory: {} (removed at exit)\n", self.root.0.display());
        println!(
            "{:<46} {:<13} {:>7} {:>12} {:>10} {:>10} {:>12}",
            "operation", "engine", "ops/run", "ns/op", "min", "max", "ops/s"
        );
        let group = |op: &str| {
            ["get", "put", "overwrite"]
                .iter()
                .position(|p| op.starts_with(p))
                .unwrap_or(3)
        };
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        rows.sort_by_key(|r| group(r.op));
        for r in rows {
            let (min, max) =
                r.ns.iter()
                    .fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
            let med = r.median();
            println!(
                "{:<46} {:<13} {:>7} {:>12} {:>10} {:>10} {:>12}",
                r.op,
                r.engine,
                r.ops_per_run,
                fmt_num(med),
                fmt_num(min),
                fmt_num(max),
                fmt_num(1e9 / med)
            );
        }
        println!("\nLMDB vs one file per key (ratio = LMDB ops/s / file ops/s; > 1 means LMDB is faster)");
        let pairs = [
            ("get hit", "get hit (open", "get hit (one read txn", "lmdb"),
            (
                "get hit, batched read txn",
                "get hit (open",
                "get hit (100",
                "lmdb",
            ),
            (
                "put new key, NO_SYNC",
                "put new key",
                "put new key",
                "lmdb NO_SYNC",
            ),
            (
                "put new key, fsync",
                "put new key",
                "put new key",
                "lmdb fsync",
            ),
            (
                "overwrite, NO_SYNC",
                "overwrite",
                "overwrite",
                "lmdb NO_SYNC",
            ),
            ("overwrite, fsync", "overwrite", "overwrite", "lmdb fsync"),
        ];
        for (label, file_op, lmdb_op, engine) in pairs {
            if let (Some(f), Some(l)) = (self.find(file_op, "file"), self.find(lmdb_op, engine)) {
                println!(
                    "  {label:<28} file {:>10} ns   {engine:<13} {:>10} ns   {:>8.2}x",
                    fmt_num(f),
                    fmt_num(l),
                    f / l
                );
            }
        }
        if let Some(reopen) = self.find("re-open", "lmdb") {
            println!(
                "  {:<28} {} ns per process start (one file per key needs no open)",
                "LMDB env re-open",
                fmt_num(reopen)
            );
        }
    }
}

fn main() -> Res<()> {
    // `cargo bench` passes `--bench` (and maybe a filter); this harness takes no arguments.
    let cfg = Config::from_env();
    let root = TempRoot::new()?;
    eprintln!(
        "engines: {} keys x {VALUE_LEN} B, {} runs, in {}",
        cfg.keys,
        cfg.runs,
        root.0.display()
    );
    let mut bench = Bench {
        cfg: &cfg,
        root: &root,
        keys: (0..cfg.keys).map(key).collect(),
        rows: Vec::new(),
    };
    eprintln!("one file per key:");
    bench.files()?;
    eprintln!("LMDB (heed):");
    bench.lmdb_reads()?;
    bench.lmdb_puts()?;
    bench.print();
    Ok(())
}
