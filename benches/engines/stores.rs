//! The two candidate layouts: one file per key, and LMDB through heed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions};

use crate::support::{fnv1a, value, Res};

pub type Db = Database<Bytes, Bytes>;

const MAP_SIZE: usize = 256 << 20;

/// One file per key, two levels of one-character subdirectories like symfony's layout.
pub struct FileStore {
    pub root: PathBuf,
    pub seq: u64,
}

impl FileStore {
    pub fn create(root: PathBuf) -> io::Result<Self> {
        for a in 0..16 {
            for b in 0..16 {
                fs::create_dir_all(root.join(format!("{a:X}/{b:X}")))?;
            }
        }
        Ok(FileStore { root, seq: 0 })
    }

    pub fn path(&self, key: &[u8]) -> PathBuf {
        let h = fnv1a(key);
        self.root
            .join(format!("{:X}/{:X}/{h:016x}", h >> 60, (h >> 56) & 0xf))
    }

    pub fn get(&self, key: &[u8], buf: &mut Vec<u8>) -> io::Result<bool> {
        buf.clear();
        match File::open(self.path(key)) {
            Ok(mut f) => f.read_to_end(buf).map(|_| true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.seq += 1;
        let tmp = self
            .root
            .join(format!(".tmp-{}-{}", std::process::id(), self.seq));
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(value)?;
        drop(f);
        fs::rename(&tmp, self.path(key))
    }
}

/// Opens an env; if this process still holds one at that path (LMDB forbids opening the same env
/// twice in a process, heed returns `EnvAlreadyOpened`), waits for it to close and retries once.
pub fn open_env(path: &Path, no_sync: bool) -> heed::Result<Env> {
    let mut options = EnvOpenOptions::new();
    options.map_size(MAP_SIZE).max_dbs(4);
    if no_sync {
        // SAFETY: NO_SYNC only weakens durability (a crash may lose the last commits), which a
        // cache accepts; it does not affect memory safety here.
        unsafe { options.flags(EnvFlags::NO_SYNC) };
    }
    // SAFETY: the env lives in a private directory that nothing else modifies while mapped.
    match unsafe { options.open(path) } {
        Err(heed::Error::EnvAlreadyOpened) => {
            let canonical = path.canonicalize()?;
            if let Some(event) = heed::env_closing_event(&canonical) {
                if !event.wait_timeout(Duration::from_secs(10)) {
                    eprintln!(
                        "engines: env {} is still open in this process",
                        canonical.display()
                    );
                    return Err(heed::Error::EnvAlreadyOpened);
                }
            }
            // SAFETY: as above.
            unsafe { options.open(path) }
        }
        other => other,
    }
}

/// Closes an env and blocks until LMDB has really closed it, so the path can be opened again.
pub fn close_env(env: Env) {
    env.prepare_for_closing().wait();
}

pub fn create_db(env: &Env) -> heed::Result<Db> {
    let mut wtxn = env.write_txn()?;
    let db = env.create_database::<Bytes, Bytes>(&mut wtxn, None)?;
    wtxn.commit()?;
    Ok(db)
}

pub fn lmdb_fill(env: &Env, db: Db, keys: &[Vec<u8>]) -> heed::Result<()> {
    let mut wtxn = env.write_txn()?;
    for (i, k) in keys.iter().enumerate() {
        db.put(&mut wtxn, k, &value(i))?;
    }
    wtxn.commit()
}

/// One write transaction (and commit) per put.
pub fn put_each(env: &Env, db: Db, keys: &[Vec<u8>], value: &[u8]) -> Res<()> {
    for k in keys {
        let mut wtxn = env.write_txn()?;
        db.put(&mut wtxn, k, value)?;
        wtxn.commit()?;
    }
    Ok(())
}
