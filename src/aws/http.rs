//! A lean DynamoDB client: HTTP/1.1 with kept-alive connections (hyper, rustls with the webpki
//! roots built in, so start-up reads no certificate files), SigV4, and the JSON protocol. It
//! replaced aws-sdk-dynamodb, whose request pipeline cost 2.2x the CPU of a plain ext-curl PHP
//! client per GetItem (docs/decisions.md).

use super::credentials::{Credentials, Source};
use super::retry::Backoff;
use super::sigv4::{amz_date, now_secs, Signer};
use crate::error::Error;
use crate::metrics::Sent;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use serde_json::Value;
use std::time::Duration;

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// DynamoDB answered with an error: its type (`ResourceNotFoundException`...), message and
    /// HTTP status.
    Api {
        code: String,
        message: String,
        status: u16,
    },
    /// No answer: connection refused or reset, a broken response.
    Transport(String),
    /// No answer within the attempt timeout.
    Timeout(Duration),
    /// An answer larger than [`MAX_ANSWER`] bytes, left unread: no DynamoDB answer is that big.
    TooLarge(usize),
    /// No credentials to sign with (the default chain found none, or failed): not sent.
    Credentials(String),
}

/// The largest answer body read. DynamoDB answers hold at most 16 MB of items (BatchGetItem,
/// Query); as JSON, with binary values in base64, that is about 21.5 MB. An endpoint that
/// sends more is not DynamoDB, and reading on would hold the process's memory.
pub const MAX_ANSWER: usize = 32 << 20;

impl CallError {
    /// Whether sending again may help (throttling, 5xx, dropped connections, slow answers).
    pub fn retryable(&self) -> bool {
        match self {
            CallError::Api { code, status, .. } => {
                *status >= 500
                    || matches!(
                        code.as_str(),
                        "ProvisionedThroughputExceededException"
                            | "ThrottlingException"
                            | "RequestLimitExceeded"
                            | "InternalServerError"
                            | "ServiceUnavailable"
                    )
            }
            CallError::Transport(_) | CallError::Timeout(_) => true,
            CallError::TooLarge(_) | CallError::Credentials(_) => false,
        }
    }

    /// Whether DynamoDB asked to slow down.
    pub fn throttled(&self) -> bool {
        matches!(self, CallError::Api { code, .. } if matches!(code.as_str(),
            "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded"))
    }

    /// The core's one error type, with what a person needs to act on it.
    pub fn into_error(self, op: &str, table: &str) -> Error {
        Error::Storage(self.message(op, table))
    }

    /// What [`into_error`](Self::into_error) says: the call, the table and what went wrong.
    pub fn message(self, op: &str, table: &str) -> String {
        let why = match self {
            CallError::Api { code, .. } if code == "ResourceNotFoundException" => {
                format!("table {table} does not exist")
            }
            CallError::Api {
                code,
                message,
                status,
            } => format!("{code} (HTTP {status}): {message}"),
            CallError::Transport(m) => format!("no answer: {m}"),
            CallError::Timeout(d) => format!("no answer within {} ms", d.as_millis()),
            CallError::TooLarge(limit) => format!(
                "the answer is larger than {} MiB, more than DynamoDB ever sends: not read",
                limit >> 20
            ),
            CallError::Credentials(m) => m,
        };
        format!("DynamoDB {op} on {table}: {why}")
    }
}

pub struct DynamoHttp {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    uri: hyper::Uri,
    host: String,
    signer: Signer,
    credentials: Source,
    attempt_timeout: Duration,
    max_attempts: u32,
}

/// How long an idle connection is kept: well under the ~60 s after which servers drop them
/// (and a frozen Lambda environment cannot notice).
const IDLE: Duration = Duration::from_secs(20);

impl DynamoHttp {
    pub fn new(
        endpoint: &str,
        signer: Signer,
        credentials: Source,
        connect_timeout: Duration,
        attempt_timeout: Duration,
        max_attempts: u32,
    ) -> Result<Self, String> {
        let uri: hyper::Uri = endpoint
            .parse()
            .map_err(|e| format!("endpoint \"{endpoint}\": {e}"))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or_else(|| format!("endpoint \"{endpoint}\" has no host"))?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(IDLE)
            .pool_timer(TokioTimer::new())
            .pool_max_idle_per_host(16)
            .build(https);
        Ok(DynamoHttp {
            client,
            uri,
            host,
            signer,
            credentials,
            attempt_timeout,
            max_attempts: max_attempts.max(1),
        })
    }

    /// Calls operation `op` (`GetItem`...) with a JSON body; retries what is worth retrying,
    /// with the jittered backoff of batch rounds ([`Backoff`]).
    pub async fn call(&self, op: &str, body: &Value) -> Result<Value, CallError> {
        let body = serde_json::to_vec(body).map_err(|e| CallError::Transport(e.to_string()))?;
        let answer = self.call_raw(op, body).await?;
        serde_json::from_slice(&answer)
            .map_err(|e| CallError::Transport(format!("unreadable answer: {e}")))
    }

    /// [`call`](Self::call) with the body already serialized; answers the success body's bytes.
    pub async fn call_raw(&self, op: &str, body: Vec<u8>) -> Result<Bytes, CallError> {
        self.call_counted(op, body, &mut Sent::default()).await
    }

    /// [`call_raw`](Self::call_raw), telling `sent` the attempts, throttling answers and body
    /// bytes (for `crate::metrics`).
    pub async fn call_counted(
        &self,
        op: &str,
        body: Vec<u8>,
        sent: &mut Sent,
    ) -> Result<Bytes, CallError> {
        let body = Bytes::from(body);
        let (backoff, seed) = (Backoff::default(), Backoff::seed());
        let mut attempt = 0;
        loop {
            attempt += 1;
            // Per attempt (a retry after a refresh signs with the new credentials), outside the
            // attempt's deadline: a fetch from the default chain (STS, SSO, a container
            // endpoint) is bounded by the operation's.
            let credentials = self
                .credentials
                .current()
                .await
                .map_err(CallError::Credentials)?;
            sent.attempts += 1;
            sent.bytes_out += body.len() as u64;
            let once = self.once(op, body.clone(), &credentials);
            let result = match tokio::time::timeout(self.attempt_timeout, once).await {
                Ok(r) => r,
                Err(_) => Err(CallError::Timeout(self.attempt_timeout)),
            };
            match &result {
                Ok(answer) => sent.bytes_in += answer.len() as u64,
                Err(e) if e.throttled() => sent.throttles += 1,
                Err(_) => {}
            }
            match result {
                Err(e) if e.retryable() && attempt < self.max_attempts => {
                    tokio::time::sleep(backoff.delay(attempt, seed)).await;
                }
                other => return other,
            }
        }
    }

    async fn once(
        &self,
        op: &str,
        body: Bytes,
        credentials: &Credentials,
    ) -> Result<Bytes, CallError> {
        let date = amz_date(now_secs());
        let target = format!("DynamoDB_20120810.{op}");
        let mut headers: Vec<(&str, &str)> = vec![
            ("content-type", "application/x-amz-json-1.0"),
            ("host", &self.host),
            ("x-amz-date", &date),
        ];
        if let Some(t) = &credentials.session_token {
            headers.push(("x-amz-security-token", t));
        }
        headers.push(("x-amz-target", &target));
        let auth = self
            .signer
            .authorization(credentials, "POST", &headers, &body, &date);
        let mut req = hyper::Request::post(self.uri.clone());
        for (name, value) in &headers {
            req = req.header(*name, *value);
        }
        let req = req
            .header("authorization", auth)
            .body(Full::new(body))
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| CallError::Transport(describe(&e)))?;
        let status = resp.status().as_u16();
        let declared = resp
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_ANSWER as u64) {
            return Err(CallError::TooLarge(MAX_ANSWER));
        }
        let bytes = Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| match e.downcast::<LengthLimitError>() {
                Ok(_) => CallError::TooLarge(MAX_ANSWER),
                Err(e) => CallError::Transport(e.to_string()),
            })?
            .to_bytes();
        match api_error(&bytes, status) {
            Some(e) => Err(e),
            None => Ok(bytes),
        }
    }
}

/// The error an answer carries: every answer that is not 2xx, and a 2xx answer whose body has
/// DynamoDB's error shape (`__type` and `message` at the top level), which proxies and mocks
/// can send with a 200 and which would otherwise read as an empty answer (a miss, a write
/// done). Success bodies are only parsed here when they hold the text `"__type"`.
fn api_error(body: &[u8], status: u16) -> Option<CallError> {
    let success = (200..300).contains(&status);
    if success && memchr::memmem::find(body, b"\"__type\"").is_none() {
        return None;
    }
    let shape: ErrorShape = serde_json::from_slice(body).unwrap_or_default();
    if success && shape.kind.is_none() {
        return None;
    }
    let code = shape
        .kind
        .map(|t| t.rsplit('#').next().unwrap_or(&t).to_string());
    Some(CallError::Api {
        code: code.unwrap_or_else(|| format!("HTTP {status}")),
        message: shape
            .message
            .or(shape.message_capitalized)
            .unwrap_or_default(),
        status,
    })
}

/// A DynamoDB error answer: `{"__type": "com.amazonaws...#ValidationException", "message": ...}`.
#[derive(Default, serde::Deserialize)]
struct ErrorShape {
    #[serde(rename = "__type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(rename = "Message", default)]
    message_capitalized: Option<String>,
}

fn describe(e: &hyper_util::client::legacy::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}
