//! The LMDB environments of this process: one per directory (by its canonical path), opened
//! lazily, shared by every pool on that directory, checked to be ours (no symlinks, our uid, not
//! writable by group or others), recreated when the files are not a readable LMDB environment,
//! and opened again in a forked child and after LMDB reported damaged pages at run time.
//!
//! Environments are never closed: one replaced (by a fork or a reset) is leaked, since closing it
//! in a forked child would touch its parent's state, and pools may still hold it. heed refuses a
//! second open of a path it has open, so a replacement is opened through a fresh directory of
//! hard links to the same two files (`.reopen-<pid>-<n>`, removed once open): LMDB works on the
//! files (their locks and maps are per inode), not on the path.

use crate::error::{Error, Result};
use heed::types::Bytes;
use heed::{Database, Env, EnvFlags, EnvOpenOptions, WithoutTls};
use once_cell::sync::Lazy;
use std::cell::Cell;
use std::collections::HashMap;
use std::fs;
use std::io::ErrorKind;
use std::ops::Deref;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::{Mutex, Once};

/// An open environment and its databases: `entries` (storage key -> record, see `tmp_lru`)
/// and `stamps` (storage key -> id of the write that last re-stamped it after a use).
pub struct Shared {
    pub env: Env<WithoutTls>,
    pub db: Database<Bytes, Bytes>,
    pub stamps: Database<Bytes, Bytes>,
    /// The map size: the size budget (the largest any process gave, see [`open`]).
    pub map_bytes: u64,
    page: u64,
    /// `(dev, ino)` of `data.mdb` when it was opened, to tell whether another process reset it.
    data_file: (u64, u64),
    /// LMDB reported damaged pages: the next operation resets the files and opens them again.
    corrupt: AtomicBool,
    dir: PathBuf,
}

impl Shared {
    /// Whether another process grew the environment past this process's map.
    fn outgrown(&self) -> bool {
        let info = self.env.info();
        (info.last_page_number as u64 + 1) * self.page > info.map_size as u64
    }
}

struct Slot {
    pid: u32,
    shared: &'static Shared,
}

static ENVS: Lazy<Mutex<HashMap<PathBuf, Slot>>> = Lazy::new(Default::default);
/// Moves on each fork (in the child) and each replacement of an environment: an [`EnvRef`]
/// that saw another value looks its environment up again.
static EPOCH: AtomicU64 = AtomicU64::new(0);
static REOPENS: AtomicU64 = AtomicU64::new(0);
static FORK_HOOK: Once = Once::new();

thread_local! {
    /// The environment of the operation running on this thread, for [`classify`].
    static CURRENT: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

extern "C" fn forked_child() {
    EPOCH.fetch_add(1, Ordering::Relaxed);
}

const PAGE: u64 = 4096;
/// The smallest size budget: LMDB needs room for its meta and free-list pages.
pub const MIN_BYTES: u64 = 256 * 1024;

/// A store's handle on its directory's environment. Dereferences to the environment last looked
/// up; [`EnvRef::sync`] (before each operation) replaces it when it is stale.
pub struct EnvRef {
    dir: PathBuf,
    max_bytes: u64,
    epoch: AtomicU64,
    current: AtomicPtr<Shared>,
}

impl Deref for EnvRef {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        // SAFETY: environments are leaked (`&'static`), never freed.
        unsafe { &*self.current.load(Ordering::Relaxed) }
    }
}

impl EnvRef {
    /// Brings the handle up to date; to be called at the start of each operation, outside any
    /// transaction: in a forked child the environment is opened again (LMDB's locks and reader
    /// slots belong to the process that opened it), after damaged pages it is reset, and when
    /// another process grew the map this process adopts the larger size. A failure leaves the
    /// old environment, whose errors the operation then reports.
    pub fn sync(&self) {
        let epoch = EPOCH.load(Ordering::Acquire);
        let cur: &Shared = self;
        if epoch != self.epoch.load(Ordering::Relaxed)
            || cur.corrupt.load(Ordering::Relaxed)
            || cur.outgrown()
        {
            if let Ok(s) = lookup(&self.dir, self.max_bytes) {
                self.current.store(ptr(s), Ordering::Relaxed);
                self.epoch.store(epoch, Ordering::Relaxed);
            }
        }
        CURRENT.with(|c| c.set(self.current.load(Ordering::Relaxed)));
    }
}

fn ptr(s: &'static Shared) -> *mut Shared {
    s as *const Shared as *mut Shared
}

/// The environment for `dir`, opened on first use in this process.
pub fn open(dir: &Path, max_bytes: u64) -> Result<EnvRef> {
    if max_bytes < MIN_BYTES {
        return Err(Error::InvalidConfig(format!(
            "maxBytes must be at least {MIN_BYTES}, got {max_bytes}"
        )));
    }
    // "a/./b/" and "a/b" are one directory; a trailing slash would make lstat() follow a symlink.
    let dir: PathBuf = dir.components().collect();
    let dir = dir.as_path();
    FORK_HOOK.call_once(|| {
        // SAFETY: the handler only bumps an atomic counter.
        unsafe { libc::pthread_atfork(None, None, Some(forked_child)) };
    });
    make_dir(dir)?;
    let dir = fs::canonicalize(dir)
        .map_err(|e| Error::Storage(format!("cannot resolve {}: {e}", dir.display())))?;
    let epoch = EPOCH.load(Ordering::Acquire);
    let shared = lookup(&dir, max_bytes)?;
    Ok(EnvRef {
        dir,
        max_bytes,
        epoch: AtomicU64::new(epoch),
        current: AtomicPtr::new(ptr(shared)),
    })
}

/// This process's environment for the canonical directory `dir`.
fn lookup(dir: &Path, max_bytes: u64) -> Result<&'static Shared> {
    let mut envs = ENVS.lock().unwrap_or_else(|e| e.into_inner());
    let pid = std::process::id();
    let fresh = match envs.get(dir) {
        Some(slot) if slot.pid == pid && !slot.shared.corrupt.load(Ordering::Relaxed) => {
            if !slot.shared.outgrown() {
                return Ok(slot.shared);
            }
            adopt_map(slot.shared)?
        }
        // Inherited through fork(): open again, leaving the parent's environment alone.
        Some(slot) if slot.pid != pid => reopen(dir, max_bytes, None)?,
        Some(slot) => reopen(dir, max_bytes, Some(slot.shared))?,
        None => {
            check_files(dir)?;
            remove_dead_links(dir);
            match open_env(dir, max_bytes) {
                Err(Error::Corrupt(why)) => {
                    // Not an LMDB environment we can read: start over rather than fail every call.
                    remove_files(dir);
                    open_env(dir, max_bytes)
                        .map_err(|e| Error::Storage(format!("{e} (after resetting: {why})")))?
                }
                other => other?,
            }
        }
    };
    let shared: &'static Shared = Box::leak(Box::new(fresh));
    envs.insert(dir.to_path_buf(), Slot { pid, shared });
    EPOCH.fetch_add(1, Ordering::Release);
    Ok(shared)
}

/// Opens `dir`'s files again while this process (or its parent) has them open; resets them
/// first when `damaged` is the environment that found them damaged and nobody reset them since.
fn reopen(dir: &Path, max_bytes: u64, damaged: Option<&Shared>) -> Result<Shared> {
    if let Some(old) = damaged {
        if file_id(&dir.join("data.mdb")) == Some(old.data_file) {
            remove_files(dir);
        }
    }
    match open_linked(dir, max_bytes) {
        Err(Error::Corrupt(why)) => {
            remove_files(dir);
            open_linked(dir, max_bytes)
                .map_err(|e| Error::Storage(format!("{e} (after resetting: {why})")))
        }
        other => other,
    }
}

/// Opens the environment of `dir` through a fresh directory of hard links to its files.
fn open_linked(dir: &Path, max_bytes: u64) -> Result<Shared> {
    check_files(dir)?;
    for f in ["lock.mdb", "data.mdb"] {
        // LMDB takes an empty data.mdb for a new environment and an empty lock.mdb for unused.
        let made = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(dir.join(f));
        match made {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_error(&dir.join(f), e)),
        }
    }
    check_files(dir)?;
    let n = REOPENS.fetch_add(1, Ordering::Relaxed);
    let alias = dir.join(format!(".reopen-{}-{n}", std::process::id()));
    fs::DirBuilder::new()
        .mode(0o700)
        .create(&alias)
        .map_err(|e| io_error(&alias, e))?;
    let opened = ["data.mdb", "lock.mdb"]
        .iter()
        .try_for_each(|f| {
            fs::hard_link(dir.join(f), alias.join(f)).map_err(|e| io_error(&alias, e))
        })
        .and_then(|()| open_env(&alias, max_bytes))
        .map(|s| Shared {
            dir: dir.to_path_buf(),
            ..s
        });
    for f in ["data.mdb", "lock.mdb"] {
        let _ = fs::remove_file(alias.join(f));
    }
    let _ = fs::remove_dir(&alias);
    opened
}

/// Removes the link directories of processes that died while opening (see [`open_linked`]):
/// their hard links would keep the space of replaced files.
fn remove_dead_links(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(".reopen-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: signal 0 only checks that the process exists.
        let dead = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if dead {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn remove_files(dir: &Path) {
    for f in ["data.mdb", "lock.mdb"] {
        let _ = fs::remove_file(dir.join(f));
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Storage(format!("{}: {e}", path.display()))
}

/// Creates `dir` (0700) when missing, and refuses one that another user could have prepared: a
/// symlink, not owned by this process's user, or writable by group or others.
fn make_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::Storage(format!("cannot create {}: {e}", dir.display())))?;
    let meta = fs::symlink_metadata(dir).map_err(|e| io_error(dir, e))?;
    if meta.file_type().is_symlink() {
        return Err(refused(dir, "is a symlink"));
    }
    if !meta.is_dir() {
        return Err(Error::InvalidConfig(format!(
            "{} is not a directory",
            dir.display()
        )));
    }
    check_owner(dir, &meta)?;
    if meta.permissions().mode() & 0o077 != 0 {
        // Ours and not writable by others: only tighten it.
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Refuses `data.mdb`/`lock.mdb` that are symlinks, someone else's or writable by others.
fn check_files(dir: &Path) -> Result<()> {
    for f in ["data.mdb", "lock.mdb"] {
        let path = dir.join(f);
        match fs::symlink_metadata(&path) {
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path, e)),
            Ok(m) if m.file_type().is_symlink() => return Err(refused(&path, "is a symlink")),
            Ok(m) if !m.is_file() => return Err(refused(&path, "is not a regular file")),
            Ok(m) => check_owner(&path, &m)?,
        }
    }
    Ok(())
}

fn check_owner(path: &Path, meta: &fs::Metadata) -> Result<()> {
    // SAFETY: geteuid() cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return Err(refused(
            path,
            &format!(
                "is not owned by this process's user (owner uid {}, ours {uid})",
                meta.uid()
            ),
        ));
    }
    if meta.permissions().mode() & 0o022 != 0 {
        return Err(refused(path, "is writable by group or others"));
    }
    Ok(())
}

fn refused(path: &Path, why: &str) -> Error {
    Error::Storage(format!(
        "refusing {}: it {why} (the store must be a directory of this user's only)",
        path.display()
    ))
}

/// lock.mdb's pages are written through a map (the reader table): they are allocated before
/// LMDB maps the file, so that a full filesystem fails the open instead of raising SIGBUS.
/// LMDB needs about 33 KB for 510 readers.
const LOCK_BYTES: i64 = 64 * 1024;

fn reserve_lock_file(dir: &Path) -> Result<()> {
    use std::os::unix::io::AsRawFd;
    let path = dir.join("lock.mdb");
    // Opened and closed before LMDB takes its fcntl() locks: closing any descriptor of the file
    // would drop this process's locks on it. Every caller opens a lock.mdb this process holds no
    // environment on (a first open, a forked child, or files that were replaced).
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .map_err(|e| io_error(&path, e))?;
    // SAFETY: a valid descriptor; KEEP_SIZE leaves the size to LMDB.
    let rc = unsafe { libc::fallocate(f.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, LOCK_BYTES) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        // A filesystem without fallocate() is left to LMDB as before.
        if e.raw_os_error() != Some(libc::EOPNOTSUPP) {
            return Err(io_error(&path, e));
        }
    }
    Ok(())
}

fn open_env(dir: &Path, max_bytes: u64) -> Result<Shared> {
    reserve_lock_file(dir)?;
    let map_bytes = max_bytes / PAGE * PAGE;
    // Without thread-local reader slots: a read transaction takes a free slot of the lock file
    // each time (no measurable cost here).
    let mut opts = EnvOpenOptions::new().read_txn_without_tls();
    opts.map_size(map_bytes as usize)
        .max_readers(510)
        .max_dbs(2);
    // SAFETY: the files are only used through LMDB; NO_SYNC trades durability across an OS
    // crash (a cache loses nothing it cannot rebuild) for writes without fsync. Process crashes
    // stay safe: LMDB commits are atomic without syncing. No WRITE_MAP: pages are written with
    // pwrite(), which fails with ENOSPC on a full filesystem, where a write through the map
    // would kill the process with SIGBUS.
    let env = unsafe {
        opts.flags(EnvFlags::NO_SYNC | EnvFlags::NO_READ_AHEAD);
        opts.open(dir)
    }
    .map_err(classify_open)?;
    let page = u64::from(env.stat().page_size);
    // Pages past the end of the file cannot be read through the map (SIGBUS): a data.mdb cut
    // short is damaged, before any page is read.
    let len = fs::metadata(dir.join("data.mdb"))
        .map_err(|e| io_error(dir, e))?
        .len();
    let pages = env.info().last_page_number as u64 + 1;
    if len < pages * page {
        return Err(Error::Corrupt(format!(
            "data.mdb has {len} bytes, its meta page says {pages} pages of {page}"
        )));
    }
    // A larger map made by another process is adopted (LMDB would answer MDB_MAP_RESIZED).
    let ours = env.info().map_size;
    // SAFETY: no transaction of this environment is open.
    unsafe { env.resize(0) }.map_err(classify_open)?;
    if env.info().map_size < ours {
        unsafe { env.resize(ours) }.map_err(classify_open)?;
    }
    env.clear_stale_readers().map_err(classify_open)?;
    let mut wtxn = env.write_txn().map_err(classify_open)?;
    let db = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("entries"))
        .map_err(classify_open)?;
    let stamps = env
        .create_database::<Bytes, Bytes>(&mut wtxn, Some("stamps"))
        .map_err(classify_open)?;
    wtxn.commit().map_err(classify_open)?;
    Ok(Shared {
        map_bytes: env.info().map_size as u64,
        page,
        data_file: file_id(&dir.join("data.mdb")).unwrap_or_default(),
        corrupt: AtomicBool::new(false),
        dir: dir.to_path_buf(),
        env,
        db,
        stamps,
    })
}

/// The same environment with the map another process made larger.
fn adopt_map(old: &Shared) -> Result<Shared> {
    // SAFETY: called before an operation: no transaction of this environment is open (PHP runs
    // one operation at a time).
    unsafe { old.env.resize(0) }.map_err(classify)?;
    Ok(Shared {
        env: old.env.clone(),
        db: old.db,
        stamps: old.stamps,
        map_bytes: old.env.info().map_size as u64,
        page: old.page,
        data_file: old.data_file,
        corrupt: AtomicBool::new(false),
        dir: old.dir.clone(),
    })
}

/// LMDB errors that mean "these files are not a usable environment" become [`Error::Corrupt`].
fn classify_open(e: heed::Error) -> Error {
    use heed::MdbError::*;
    match e {
        heed::Error::Mdb(Invalid | Corrupted | VersionMismatch | PageNotFound | BadTxn) => {
            Error::Corrupt(e.to_string())
        }
        other => other.into(),
    }
}

/// [`classify_open`] for errors of operations: damaged pages (`MDB_CORRUPTED`,
/// `MDB_PAGE_NOTFOUND`) also mark the environment of the running operation, which the next
/// operation then resets; a short page write on a full
/// filesystem (LMDB says EIO) says that the filesystem is full.
pub fn classify(e: heed::Error) -> Error {
    use heed::MdbError::*;
    // SAFETY: environments are leaked, never freed.
    let current = CURRENT.with(|c| unsafe { c.get().as_ref() });
    match (&e, current) {
        // A damaged page met inside LMDB (looking up a named database) fails the transaction,
        // and the call then says MDB_BAD_TXN: ours never reuse a failed transaction otherwise.
        (heed::Error::Mdb(Corrupted | PageNotFound | BadTxn), Some(s)) => {
            s.corrupt.store(true, Ordering::Relaxed);
        }
        (heed::Error::Io(io), Some(s)) if io.raw_os_error() == Some(libc::EIO) && full(&s.dir) => {
            return Error::Storage(format!(
                "{e}: a short write, No space left on device (os error {})",
                libc::ENOSPC
            ));
        }
        _ => {}
    }
    classify_open(e)
}

/// Whether the filesystem of `dir` has less than 64 KiB left.
fn full(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid C string and a zeroed out-parameter.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::statvfs(path.as_ptr(), &mut st) } == 0;
    ok && (st.f_bavail as u64) * (st.f_frsize as u64) < 64 * 1024
}

/// Whether an LMDB error means the map is full.
pub fn is_map_full(e: &heed::Error) -> bool {
    matches!(e, heed::Error::Mdb(heed::MdbError::MapFull))
}
