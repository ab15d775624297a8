//! Plumbing for the engines bench: settings, the temporary directory, keys and values, timing,
//! result rows and number formatting.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::time::Instant;

pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

pub const VALUE_LEN: usize = 200;

pub struct Config {
    pub runs: usize,
    pub keys: usize,
    pub sync_ops: usize,
    pub reopen_iters: usize,
    pub create_iters: usize,
}

impl Config {
    pub fn from_env() -> Self {
        let num = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .unwrap_or(default)
        };
        let keys = num("ENGINES_KEYS", 10_000);
        Config {
            runs: num("ENGINES_RUNS", 5),
            keys,
            sync_ops: num("ENGINES_SYNC_OPS", 1_000).min(keys),
            reopen_iters: 200,
            create_iters: 50,
        }
    }
}

/// Removes the benchmark directory when dropped, also on an early error or a panic.
pub struct TempRoot(pub PathBuf);

impl TempRoot {
    pub fn new() -> io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "lc-engines-{}-{}",
            std::process::id(),
            nanos % 1_000_000_000
        ));
        fs::create_dir_all(&path)?;
        Ok(TempRoot(path))
    }

    pub fn sub(&self, name: &str) -> io::Result<PathBuf> {
        let path = self.0.join(name);
        if path.exists() {
            fs::remove_dir_all(&path)?;
        }
        fs::create_dir_all(&path)?;
        Ok(path)
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

pub fn key(i: usize) -> Vec<u8> {
    format!("bench:key-{i:08}").into_bytes()
}

pub fn value(i: usize) -> Vec<u8> {
    (0..VALUE_LEN)
        .map(|j| b'a' + ((i * 31 + j * 7) % 26) as u8)
        .collect()
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Times `ops` operations; returns ns per operation.
pub fn time_ops(ops: usize, mut f: impl FnMut() -> Res<()>) -> Res<f64> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed().as_nanos() as f64 / ops.max(1) as f64)
}

pub struct Row {
    pub op: &'static str,
    pub engine: &'static str,
    pub ops_per_run: usize,
    pub ns: Vec<f64>,
}

impl Row {
    pub fn median(&self) -> f64 {
        let mut v = self.ns.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n == 0 {
            0.0
        } else if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        }
    }
}

pub fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x < 100.0 {
        return format!("{x:.1}");
    }
    let digits = format!("{:.0}", x);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
