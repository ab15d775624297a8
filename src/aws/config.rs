//! What the client is built from (region, endpoint, credentials, timeouts), taken from the
//! options or the environment, else (region and credentials) from AWS's default chain at the
//! first call (`credentials`); and the clients of this process: one per configuration, created
//! lazily and rebuilt after a fork (its connections belong to the runtime they were opened on).

use super::credentials::{self, Credentials, Source};
use super::http::DynamoHttp;
use super::runtime;
use super::sigv4::Signer;
use super::source::{self, Source as Origin};
use crate::error::{Error, Result};
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything a client is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// `None`: the default chain's (the profile's, instance metadata's).
    pub region: Option<String>,
    /// `None`: DynamoDB's endpoint for the region.
    pub endpoint: Option<String>,
    /// Access key id, secret access key, session token; `None`: the default chain's.
    pub credentials: Option<(String, String, Option<String>)>,
    pub connect_timeout: Duration,
    pub attempt_timeout: Duration,
    pub max_attempts: u32,
}

pub(crate) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The region given, else `AWS_REGION`, else `AWS_DEFAULT_REGION`; `None`: the default
/// chain's, looked up at the first call.
pub fn region(given: Option<&str>) -> Option<String> {
    given
        .map(str::to_string)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
}

/// The endpoint given, else `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`, checked
/// ([`check_endpoint`]); `None` for DynamoDB's own.
pub fn endpoint(given: Option<&str>) -> Result<Option<String>> {
    let endpoint = given
        .map(str::to_string)
        .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
        .or_else(|| env("AWS_ENDPOINT_URL"));
    if let Some(e) = &endpoint {
        check_endpoint(e)?;
    }
    Ok(endpoint)
}

/// Access key id, secret access key and session token.
pub type KeyPair = (String, String, Option<String>);

/// The key pair given (both or neither), else the environment's (Lambda sets it); `None`: the
/// default chain's, fetched at the first call.
pub fn credentials(
    access_key_id: Option<&str>,
    secret_access_key: Option<&str>,
    session_token: Option<&str>,
) -> Result<Option<KeyPair>> {
    match (access_key_id, secret_access_key) {
        (Some(k), Some(s)) => {
            source::record(Origin::Options);
            Ok(Some((
                k.into(),
                s.into(),
                session_token.map(str::to_string),
            )))
        }
        (None, None) => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            (Some(k), Some(s)) => {
                source::record(Origin::Environment);
                Ok(Some((k, s, env("AWS_SESSION_TOKEN"))))
            }
            _ => {
                source::record(Origin::Chain);
                Ok(None)
            }
        },
        _ => Err(Error::InvalidConfig(
            "accessKeyId and secretAccessKey go together".into(),
        )),
    }
}

/// An endpoint is a scheme, a host and an optional port, with at most a "/" after them. The
/// client posts every request to `/` and signs it so: a path or a query would be sent but
/// not signed (SignatureDoesNotMatch), and user information would be sent in the Host header.
pub fn check_endpoint(e: &str) -> Result<()> {
    let Some(rest) = e
        .strip_prefix("http://")
        .or_else(|| e.strip_prefix("https://"))
    else {
        return Err(Error::InvalidConfig(format!(
            "endpoint \"{e}\" must start with http:// or https://"
        )));
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if authority.contains('@') {
        // Not repeated in the message: it would carry the password into logs.
        return Err(Error::InvalidConfig(
            "the endpoint holds user information (user:password@): give only the scheme, host and port, and the credentials as accessKeyId and secretAccessKey".into(),
        ));
    }
    if authority.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "endpoint \"{e}\" has no host"
        )));
    }
    let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
    let mut extra = Vec::new();
    if !matches!(&tail[..path_end], "" | "/") {
        extra.push("a path");
    }
    if tail.contains('?') {
        extra.push("a query");
    }
    if tail.contains('#') {
        extra.push("a fragment");
    }
    if !extra.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "endpoint \"{e}\" has {}: give only the scheme, host and port (requests go to /), e.g. https://dynamodb.eu-west-1.amazonaws.com",
            extra.join(" and ")
        )));
    }
    e.parse::<hyper::Uri>().map(drop).map_err(|err| {
        Error::InvalidConfig(format!(
            "endpoint \"{e}\" is not a valid host and port: {err}"
        ))
    })
}

/// The client of a configuration, and the process that built it, by the caller's key.
type Clients = HashMap<String, (u32, Arc<DynamoHttp>)>;

static CLIENTS: Lazy<Mutex<Clients>> = Lazy::new(Default::default);

/// The client kept under `key` in process `pid`, built from `config()` on first use. `key`
/// names everything the client is built from (the caller decides what shares a client).
pub fn client(
    key: &str,
    pid: u32,
    config: impl FnOnce() -> ClientConfig,
) -> Result<Arc<DynamoHttp>> {
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, c)) = clients.get(key) {
        if *owner == pid {
            return Ok(c.clone());
        }
    }
    let c = Arc::new(build(config())?);
    runtime::count_client();
    if let Some((_, old)) = clients.insert(key.to_string(), (pid, c.clone())) {
        // A client inherited through fork() holds connections of the parent's runtime.
        std::mem::forget(old);
    }
    Ok(c)
}

/// A new client on this process's runtime. Without a region, the default chain's is looked up
/// (in the shared config file, then instance metadata) within the connect and attempt timeouts.
pub fn build(config: ClientConfig) -> Result<DynamoHttp> {
    let rt = runtime::get()?;
    let source = match config.credentials {
        Some((k, s, t)) => Source::Fixed(Arc::new(Credentials::new(k, s, t))),
        None => Source::Chain(credentials::chain()),
    };
    let region = match config.region {
        Some(r) => r,
        None => {
            let chain = credentials::chain();
            let limit = config.connect_timeout + config.attempt_timeout;
            rt.block_on(async { tokio::time::timeout(limit, chain.region()).await })
                .ok()
                .flatten()
                .ok_or_else(|| {
                    Error::InvalidConfig(
                        "no region: pass one, set AWS_REGION, or give the AWS profile a region"
                            .into(),
                    )
                })?
        }
    };
    let signer = Signer::new(region.clone(), "dynamodb");
    let endpoint = config
        .endpoint
        .unwrap_or_else(|| format!("https://dynamodb.{region}.amazonaws.com"));
    // The connector's timers and pooled connections belong to this process's runtime.
    let _guard = rt.enter();
    DynamoHttp::new(
        &endpoint,
        signer,
        source,
        config.connect_timeout,
        config.attempt_timeout,
        config.max_attempts,
    )
    .map_err(Error::InvalidConfig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_a_scheme_a_host_and_a_port() {
        for ok in [
            "http://127.0.0.1:8000",
            "http://127.0.0.1:8000/",
            "https://dynamodb.eu-west-1.amazonaws.com",
            "http://[::1]:8000/",
            "http://localhost",
        ] {
            assert_eq!(endpoint(Some(ok)), Ok(Some(ok.to_string())), "{ok}");
        }
    }

    #[test]
    fn endpoints_with_a_path_a_query_or_user_info_are_refused() {
        // Each of these was accepted, then sent to the path (signed as /) or with the
        // credentials in the Host header.
        for (bad, why) in [
            ("http://host/prefix/path?x=1", "path"),
            ("http://host/prefix", "path"),
            ("http://host//", "path"),
            ("http://host/?x=1", "query"),
            ("http://host?x=1", "query"),
            ("http://host/?", "query"),
            ("http://user:p4ssw0rd@host", "user"),
            ("http://user@host:8000/", "user"),
            ("https://:p4ssw0rd@host", "user"),
            ("http://host/#frag", "fragment"),
            ("http://", "host"),
            ("http://ho st", "host"),
            ("ftp://host", "must start with http"),
            ("host:8000", "must start with http"),
        ] {
            match endpoint(Some(bad)) {
                Err(Error::InvalidConfig(m)) => {
                    assert!(m.contains(why), "{bad}: {m}");
                    assert!(
                        !m.contains("p4ssw0rd"),
                        "{bad}: the message repeats the password: {m}"
                    );
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn given_values_win_over_the_environment() {
        assert_eq!(region(Some("eu-west-3")), Some("eu-west-3".into()));
        assert_eq!(
            credentials(Some("AKID"), Some("secret"), Some("token")),
            Ok(Some(("AKID".into(), "secret".into(), Some("token".into()))))
        );
        assert_eq!(
            credentials(Some("AKID"), Some("secret"), None),
            Ok(Some(("AKID".into(), "secret".into(), None))),
            "a given key pair never takes the environment's session token"
        );
    }

    #[test]
    fn half_a_key_pair_is_refused() {
        for (k, s) in [(Some("AKID"), None), (None, Some("secret"))] {
            match credentials(k, s, None) {
                Err(Error::InvalidConfig(m)) => assert!(m.contains("go together"), "{m}"),
                other => panic!("{k:?} {s:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn one_client_per_key_and_process() {
        let config = || ClientConfig {
            region: Some("us-east-1".into()),
            endpoint: Some("http://127.0.0.1:9".into()),
            credentials: Some(("AKID".into(), "secret".into(), None)),
            connect_timeout: Duration::from_millis(100),
            attempt_timeout: Duration::from_millis(100),
            max_attempts: 1,
        };
        let pid = std::process::id();
        let a = client("aws::config::tests a", pid, config).unwrap();
        let again = client("aws::config::tests a", pid, || unreachable!()).unwrap();
        assert!(Arc::ptr_eq(&a, &again));
        let b = client("aws::config::tests b", pid, config).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        // Another process (a fork) builds its own under the same key.
        let child = client("aws::config::tests a", pid.wrapping_add(1), config).unwrap();
        assert!(!Arc::ptr_eq(&a, &child));
    }
}
