//! The LMDB environments of this process: one per directory, opened lazily, shared by every
//! pool on that directory (LMDB forbids opening one environment twice in a process), and
//! recreated when the files on disk are not a readable LMDB environment.

use crate::error::{Error, Result};
use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions, WithoutTls};
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// An open environment and its databases: `entries` (storage key -> record, see `tmp_lru`)
/// and `stamps` (storage key -> id of the write that last re-stamped it after a use).
pub struct Shared {
    pub env: Env<WithoutTls>,
    pub db: Database<Bytes, Bytes>,
    pub stamps: Database<Bytes, Bytes>,
    pub map_bytes: u64,
}

static ENVS: Lazy<Mutex<HashMap<PathBuf, Arc<Shared>>>> = Lazy::new(Default::default);

const PAGE: u64 = 4096;
/// The smallest size budget: LMDB needs room for its meta and free-list pages.
pub const MIN_BYTES: u64 = 256 * 1024;

/// The environment for `dir`, opened on first use in this process.
pub fn open(dir: &Path, max_bytes: u64) -> Result<Arc<Shared>> {
    if max_bytes < MIN_BYTES {
        return Err(Error::InvalidConfig(format!(
            "maxBytes must be at least {MIN_BYTES}, got {max_bytes}"
        )));
    }
    let mut envs = ENVS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = envs.get(dir) {
        // Also after a fork: a child keeps the environment its parent opened (the map is
        // MAP_SHARED, the locks live in the shared lock file). Read transactions do not cache
        // a reader slot per thread (NO_TLS), so parent and child never share one.
        return Ok(s.clone());
    }
    make_dir(dir)?;
    let shared = Arc::new(match open_env(dir, max_bytes) {
        Err(Error::Corrupt(why)) => {
            // Not an LMDB environment we can read: start over rather than fail every call.
            for f in ["data.mdb", "lock.mdb"] {
                let _ = fs::remove_file(dir.join(f));
            }
            open_env(dir, max_bytes)
                .map_err(|e| Error::Storage(format!("{e} (after resetting: {why})")))?
        }
        other => other?,
    });
    envs.insert(dir.to_path_buf(), shared.clone());
    Ok(shared)
}

fn make_dir(dir: &Path) -> Result<()> {
    match fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => {}
        Err(e) => {
            return Err(Error::Storage(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        }
    }
    let meta = fs::metadata(dir)?;
    if !meta.is_dir() {
        return Err(Error::InvalidConfig(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        // Only tighten what we own; someone else's directory is left as it is.
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

fn open_env(dir: &Path, max_bytes: u64) -> Result<Shared> {
    let map_bytes = max_bytes / PAGE * PAGE;
    // Without thread-local reader slots: a read transaction takes a free slot of the lock file
    // each time (no measurable cost here), which keeps a forked child off its parent's slot.
    let mut opts = EnvOpenOptions::new().read_txn_without_tls();
    opts.map_size(map_bytes as usize)
        .max_readers(510)
        .max_dbs(2);
    // SAFETY: the files are only used through LMDB; NO_SYNC trades durability across an OS
    // crash (a cache loses nothing it cannot rebuild) for writes without fsync. Process crashes
    // stay safe: LMDB commits are atomic without syncing. WRITE_MAP writes pages in the map
    // instead of with one pwrite each (the file is sparse: only used pages take room).
    let env = unsafe {
        opts.flags(EnvFlags::NO_SYNC | EnvFlags::WRITE_MAP | EnvFlags::NO_READ_AHEAD);
        opts.open(dir)
    }
    .map_err(classify)?;
    env.clear_stale_readers().map_err(classify)?;
    let mut wtxn = env.write_txn().map_err(classify)?;
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("entries"))
        .map_err(classify)?;
    let stamps = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("stamps"))
        .map_err(classify)?;
    wtxn.commit().map_err(classify)?;
    Ok(Shared {
        env,
        db,
        stamps,
        map_bytes,
    })
}

/// LMDB errors that mean "these files are not a usable environment" become [`Error::Corrupt`].
pub fn classify(e: heed::Error) -> Error {
    use heed::MdbError::*;
    match e {
        heed::Error::Mdb(Invalid | Corrupted | VersionMismatch | PageNotFound | BadTxn) => {
            Error::Corrupt(e.to_string())
        }
        other => other.into(),
    }
}

/// Whether an LMDB error means the map is full.
pub fn is_map_full(e: &heed::Error) -> bool {
    matches!(e, heed::Error::Mdb(heed::MdbError::MapFull))
}
