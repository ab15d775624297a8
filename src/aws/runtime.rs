//! One Tokio runtime per process: created on first use (never at module start-up: php-fpm's
//! master forks its workers after MINIT, and a runtime inherited through fork() hangs), current
//! thread, driven by `block_on` on the PHP thread. After a fork the inherited runtime is leaked,
//! never dropped (dropping it would touch the parent's reactor), and a new one is built.

use crate::error::{Error, Result};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);
static RUNTIMES_CREATED: AtomicU64 = AtomicU64::new(0);
static CLIENTS_CREATED: AtomicU64 = AtomicU64::new(0);

/// This process's runtime.
pub fn get() -> Result<&'static Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = *slot {
        if owner == pid {
            return Ok(rt);
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Error::Storage(format!("cannot start the async runtime: {e}")))?;
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    RUNTIMES_CREATED.fetch_add(1, Ordering::Relaxed);
    Ok(rt)
}

/// Runs `f` to completion on this process's runtime.
pub fn block_on<F: Future>(f: F) -> Result<F::Output> {
    Ok(get()?.block_on(f))
}

/// Counts a client built (see `aws::config::client`).
pub fn count_client() {
    CLIENTS_CREATED.fetch_add(1, Ordering::Relaxed);
}

/// `(runtimes, clients)` created in this process (since it started, forks included).
pub fn created() -> (u64, u64) {
    (
        RUNTIMES_CREATED.load(Ordering::Relaxed),
        CLIENTS_CREATED.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_runtime_per_process() {
        let a = super::get().unwrap() as *const _;
        let b = super::get().unwrap() as *const _;
        assert_eq!(a, b);
        assert_eq!(super::block_on(async { 7 }).unwrap(), 7);
    }
}
