//! Configuration of the DynamoDB store and the client it runs on: one client per process and
//! configuration, created lazily and rebuilt after a fork (its connections belong to the
//! runtime they were opened on).

use super::http::DynamoHttp;
use super::sigv4::Signer;
use crate::error::{Error, Result};
use crate::runtime;
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Everything the DynamoDB store is configured with. `None` means "from the environment".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DynamoConfig {
    pub table: Option<String>,
    pub namespace: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub key_attribute: String,
    pub ttl_attribute: String,
    pub value_attribute: String,
    pub consistent_read: bool,
    pub connect_timeout_ms: u64,
    pub attempt_timeout_ms: u64,
    pub operation_timeout_ms: u64,
    pub max_attempts: u32,
    /// Payloads of at least this many bytes are compressed (0 = never).
    pub compress_threshold: usize,
}

impl Default for DynamoConfig {
    fn default() -> Self {
        DynamoConfig {
            table: None,
            namespace: String::new(),
            region: None,
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            key_attribute: "id".into(),
            ttl_attribute: "ttl".into(),
            value_attribute: "value".into(),
            consistent_read: false,
            connect_timeout_ms: 1000,
            attempt_timeout_ms: 1000,
            operation_timeout_ms: 3000,
            max_attempts: 3,
            compress_threshold: 1024,
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The settings once the environment has filled the gaps, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resolved {
    pub table: String,
    pub region: String,
    pub endpoint: Option<String>,
    pub credentials: (String, String, Option<String>),
}

impl DynamoConfig {
    pub fn resolve(&self) -> Result<Resolved> {
        let table = self
            .table
            .clone()
            .or_else(|| env("DYNAMO_DB_TABLE"))
            .ok_or_else(|| {
                Error::InvalidConfig("no table: pass one or set DYNAMO_DB_TABLE".into())
            })?;
        if table.len() < 3
            || table.len() > 255
            || !table
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
        {
            return Err(Error::InvalidConfig(format!(
                "\"{table}\" is not a DynamoDB table name (3-255 of A-Za-z0-9_.-)"
            )));
        }
        for (what, name) in [
            ("key", &self.key_attribute),
            ("ttl", &self.ttl_attribute),
            ("value", &self.value_attribute),
        ] {
            if name.is_empty() || name.len() > 255 {
                return Err(Error::InvalidConfig(format!(
                    "the {what} attribute name must be 1-255 bytes"
                )));
            }
        }
        if self.key_attribute == self.ttl_attribute
            || self.key_attribute == self.value_attribute
            || self.ttl_attribute == self.value_attribute
        {
            return Err(Error::InvalidConfig(
                "the key, ttl and value attributes need three different names".into(),
            ));
        }
        if self.operation_timeout_ms == 0
            || self.attempt_timeout_ms == 0
            || self.connect_timeout_ms == 0
            || self.max_attempts == 0
        {
            return Err(Error::InvalidConfig(
                "timeouts and maxAttempts must be positive".into(),
            ));
        }
        let region = self
            .region
            .clone()
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .ok_or_else(|| Error::InvalidConfig("no region: pass one or set AWS_REGION".into()))?;
        let endpoint = self
            .endpoint
            .clone()
            .or_else(|| env("AWS_ENDPOINT_URL_DYNAMODB"))
            .or_else(|| env("AWS_ENDPOINT_URL"));
        if let Some(e) = &endpoint {
            check_endpoint(e)?;
        }
        let (key, secret, token) = match (&self.access_key_id, &self.secret_access_key) {
            (Some(k), Some(s)) => (k.clone(), s.clone(), self.session_token.clone()),
            (None, None) => match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                (Some(k), Some(s)) => (k, s, env("AWS_SESSION_TOKEN")),
                _ => {
                    return Err(Error::InvalidConfig(
                        "no credentials: pass accessKeyId and secretAccessKey or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them)".into(),
                    ))
                }
            },
            _ => return Err(Error::InvalidConfig("accessKeyId and secretAccessKey go together".into())),
        };
        Ok(Resolved {
            table,
            region,
            endpoint,
            credentials: (key, secret, token),
        })
    }

    fn timeouts(&self) -> (u64, u64, u64, u32) {
        (
            self.connect_timeout_ms,
            self.attempt_timeout_ms,
            self.operation_timeout_ms,
            self.max_attempts,
        )
    }
}

/// An endpoint is a scheme, a host and an optional port, with at most a "/" after them. The
/// client posts every request to `/` and signs it so: a path or a query would be sent but
/// not signed (SignatureDoesNotMatch), and user information would be sent in the Host header.
fn check_endpoint(e: &str) -> Result<()> {
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

/// The client of a configuration, and the process that built it, by [`client_key`].
type Clients = HashMap<String, (u32, Arc<DynamoHttp>)>;

static CLIENTS: Lazy<Mutex<Clients>> = Lazy::new(Default::default);

/// The key of a configuration's client in this process's cache: everything the client is built
/// from. Made once per store (`DynamoStore::open`), not per call.
pub fn client_key(config: &DynamoConfig, resolved: &Resolved) -> String {
    // Debug quotes and escapes every string: no two configurations share a key.
    format!("{:?}", (resolved, config.timeouts()))
}

/// The client for this configuration in process `pid`, built on first use. Region and
/// credentials come from the configuration or the environment, never from instance metadata.
pub fn client(
    key: &str,
    pid: u32,
    config: &DynamoConfig,
    resolved: &Resolved,
) -> Result<Arc<DynamoHttp>> {
    let mut clients = CLIENTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, c)) = clients.get(key) {
        if *owner == pid {
            return Ok(c.clone());
        }
    }
    let (k, s, t) = resolved.credentials.clone();
    let signer = Signer::new(k, s, t, resolved.region.clone(), "dynamodb");
    let endpoint = resolved
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://dynamodb.{}.amazonaws.com", resolved.region));
    // The connector's timers and pooled connections belong to this process's runtime.
    let _guard = runtime::get()?.enter();
    let c = Arc::new(
        DynamoHttp::new(
            &endpoint,
            signer,
            Duration::from_millis(config.connect_timeout_ms),
            Duration::from_millis(config.attempt_timeout_ms),
            config.max_attempts,
        )
        .map_err(Error::InvalidConfig)?,
    );
    runtime::count_client();
    if let Some((_, old)) = clients.insert(key.to_string(), (pid, c.clone())) {
        // A client inherited through fork() holds connections of the parent's runtime.
        std::mem::forget(old);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_endpoint(endpoint: &str) -> DynamoConfig {
        DynamoConfig {
            table: Some("table".into()),
            region: Some("eu-west-1".into()),
            endpoint: Some(endpoint.into()),
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("secret".into()),
            ..Default::default()
        }
    }

    #[test]
    fn endpoints_are_a_scheme_a_host_and_a_port() {
        for ok in [
            "http://127.0.0.1:8000",
            "http://127.0.0.1:8000/",
            "https://dynamodb.eu-west-1.amazonaws.com",
            "http://[::1]:8000/",
            "http://localhost",
        ] {
            let r = with_endpoint(ok).resolve();
            assert_eq!(r.map(|r| r.endpoint), Ok(Some(ok.to_string())), "{ok}");
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
        ] {
            match with_endpoint(bad).resolve() {
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
}
