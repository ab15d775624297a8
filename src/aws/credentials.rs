//! Where the signer's credentials come from. Keys given as options or found in the environment
//! (Lambda sets them) are [`Source::Fixed`]: taken as they are for the life of the client, with
//! no provider machinery on the request path. Otherwise [`Source::Chain`]: AWS's default
//! credential chain (aws-config: shared config and credentials files with profiles, SSO and
//! `credential_process`; web identity; container credentials; IMDSv2), created on first use,
//! one per process and shared by all its clients (rebuilt after a fork, as the runtime is), its
//! credentials cached and fetched again shortly before they expire.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;

/// A key pair and its session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Credentials {
    pub fn new(
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    ) -> Self {
        Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        }
    }
}

impl std::fmt::Debug for Credentials {
    // Never the secret or the token: this ends up in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where a client takes its credentials from, per request.
#[derive(Clone)]
pub enum Source {
    /// Given or from the environment: the same for every request.
    Fixed(Arc<Credentials>),
    /// This process's default chain ([`chain`]).
    Chain(Arc<Chain>),
}

impl Source {
    /// The credentials to sign the next request with.
    pub async fn current(&self) -> Result<Arc<Credentials>, String> {
        match self {
            Source::Fixed(c) => Ok(c.clone()),
            Source::Chain(chain) => chain.current().await,
        }
    }
}

/// How long before credentials expire they are fetched again: aws-config's default buffer
/// (10 s), or half their lifetime when that is shorter (so credentials that live seconds are
/// not fetched again for every request).
const REFRESH_BUFFER: Duration = Duration::from_secs(10);

struct Cached {
    credentials: Arc<Credentials>,
    /// Use them until then, fetch new ones from then on.
    refresh_at: Option<SystemTime>,
    expires: Option<SystemTime>,
}

/// The default credential and region chain of a process.
pub struct Chain {
    /// What aws-config loads: the region and the credentials provider, uncached.
    sdk: OnceCell<SdkConfig>,
    cached: Mutex<Option<Cached>>,
    /// One fetch at a time: the concurrent requests of a batch wait for it.
    fetching: tokio::sync::Mutex<()>,
    fetches: std::sync::atomic::AtomicU64,
}

impl Chain {
    fn new() -> Self {
        Chain {
            sdk: OnceCell::new(),
            cached: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            fetches: Default::default(),
        }
    }

    /// The shared config and credentials files, the environment and the chains aws-config
    /// builds from them, loaded on first use.
    async fn sdk(&self) -> &SdkConfig {
        self.sdk
            .get_or_init(|| async {
                // The DynamoDB client's HTTP stack, not aws-lc (its start-up entropy costs
                // ~50 ms per process, and it is the largest part of the SDK's size).
                aws_config::defaults(BehaviorVersion::latest())
                    .http_client(super::chain_http::ChainHttp)
                    .load()
                    .await
            })
            .await
    }

    /// The region of the default chain: `AWS_REGION`, the profile's, instance metadata's.
    pub async fn region(&self) -> Option<String> {
        self.sdk().await.region().map(|r| r.to_string())
    }

    /// How many times credentials were fetched from the chain in this process.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn fresh(&self, now: SystemTime) -> Option<Arc<Credentials>> {
        let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        let c = cached.as_ref()?;
        match c.refresh_at {
            Some(at) if now >= at => None,
            _ => Some(c.credentials.clone()),
        }
    }

    /// The cached credentials, or new ones when there are none or they expire soon.
    pub async fn current(&self) -> Result<Arc<Credentials>, String> {
        if let Some(c) = self.fresh(SystemTime::now()) {
            return Ok(c);
        }
        let _one = self.fetching.lock().await;
        if let Some(c) = self.fresh(SystemTime::now()) {
            return Ok(c);
        }
        let Some(provider) = self.sdk().await.credentials_provider() else {
            return Err("no credentials: the default chain is not available".into());
        };
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let fetched_at = SystemTime::now();
        match provider.provide_credentials().await {
            Ok(c) => {
                let credentials = Arc::new(Credentials::new(
                    c.access_key_id().to_string(),
                    c.secret_access_key().to_string(),
                    c.session_token().map(str::to_string),
                ));
                let refresh_at = c.expiry().map(|expires| {
                    let lifetime = expires.duration_since(fetched_at).unwrap_or_default();
                    expires - REFRESH_BUFFER.min(lifetime / 2)
                });
                *self.cached.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
                    credentials: credentials.clone(),
                    refresh_at,
                    expires: c.expiry(),
                });
                Ok(credentials)
            }
            Err(e) => {
                // Credentials that have not expired yet still sign; the next request asks again.
                let cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(c) = cached.as_ref() {
                    if c.expires.is_some_and(|at| SystemTime::now() < at) {
                        return Ok(c.credentials.clone());
                    }
                }
                Err(format!(
                    "no credentials: none were passed (accessKeyId, secretAccessKey) or set in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), and the default chain (profile, web identity, container, instance metadata) gave none: {}",
                    describe(&e)
                ))
            }
        }
    }
}

fn describe(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

static CHAIN: Mutex<Option<(u32, Arc<Chain>)>> = Mutex::new(None);

/// This process's default chain, created on first use and after a fork (what the parent
/// fetched stays the parent's: its connections belong to the parent's runtime).
pub fn chain() -> Arc<Chain> {
    let pid = std::process::id();
    let mut slot = CHAIN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, c)) = &*slot {
        if *owner == pid {
            return c.clone();
        }
    }
    let c = Arc::new(Chain::new());
    if let Some(inherited) = slot.replace((pid, c.clone())) {
        std::mem::forget(inherited);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_secret_or_the_token() {
        let c = Credentials::new("AKID".into(), "s3cr3t".into(), Some("t0k3n".into()));
        let shown = format!("{c:?}");
        assert!(shown.contains("AKID"), "{shown}");
        assert!(
            !shown.contains("s3cr3t") && !shown.contains("t0k3n"),
            "{shown}"
        );
    }

    #[test]
    fn one_chain_per_process() {
        assert!(Arc::ptr_eq(&chain(), &chain()));
    }
}
