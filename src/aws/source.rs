//! Where this process's DynamoDB credentials came from, for `php --ri lambda_cache`: the
//! source of the last configuration resolved (a pool's construction), or none yet.

use std::sync::atomic::{AtomicU8, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Source {
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`).
    Environment = 1,
    /// The pool's `accessKeyId` and `secretAccessKey` options.
    Options = 2,
    /// AWS's default chain (aws-config: profiles, SSO, web identity, containers, IMDS).
    Chain = 3,
}

static LAST: AtomicU8 = AtomicU8::new(0);

/// Records the source of credentials just resolved.
pub fn record(source: Source) {
    LAST.store(source as u8, Ordering::Relaxed);
}

/// The source of the last credentials resolved in this process: "environment", "options", the
/// default chain, or "none yet".
pub fn current() -> &'static str {
    match LAST.load(Ordering::Relaxed) {
        1 => "environment",
        2 => "options",
        3 => "default chain (aws-config)",
        _ => "none yet",
    }
}
