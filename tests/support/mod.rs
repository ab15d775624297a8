//! A scripted DynamoDB on loopback for the tests of the AWS client and the DynamoDB store:
//! answers each operation as scripted, including what a real endpoint or network does only
//! now and then (throttling, 5xx, resets, stalls, bodies cut short, kept-alive connections
//! closed while idle). Each case runs in milliseconds.

// Each test crate uses part of it.
#![allow(dead_code)]

use lambda_cache::clock;
use lambda_cache::store::dynamodb::config::DynamoConfig;
use lambda_cache::store::dynamodb::DynamoStore;
use lambda_cache::store::Store;
use lambda_cache::Error;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A status and a JSON body, then the connection is closed (`Connection: close`).
    Json(u16, String),
    /// A status and a JSON body on a kept-alive connection: the next request may come on it.
    KeepAlive(u16, String),
    /// A status and a JSON body that says the connection stays open; the server closes it
    /// right after, as servers do with idle connections (a stale pooled connection).
    ThenClose(u16, String),
    /// A 200 whose body streams `total` bytes: with a Content-Length of `total` when
    /// `declared`, else until the connection closes.
    Stream { total: usize, declared: bool },
    /// No answer at all; the connection stays open until the client hangs up.
    Stall,
    /// The status line, headers and 10 of the 1000 bytes of body they declare, then nothing
    /// until the client hangs up.
    StallBody,
    /// The status line, headers and 10 of the 1000 bytes of body they declare, then the
    /// connection is closed.
    Partial,
    /// The connection is reset (closed with the request unread: the kernel sends RST).
    Reset,
}

impl Answer {
    pub fn json(status: u16, body: &str) -> Answer {
        Answer::Json(status, body.to_string())
    }
}

/// A scripted DynamoDB: answers each operation (`GetItem`...) with its scripted answers in
/// order, the last one again for every later request; an operation without a script gets a
/// 500. Records the operations asked, their bodies, the connections accepted and the most
/// bytes of body it wrote on one connection.
pub struct Server {
    pub endpoint: String,
    seen: Arc<Seen>,
    connections: Arc<Mutex<usize>>,
    written: Arc<Mutex<usize>>,
}

type Script = Mutex<HashMap<String, Vec<Answer>>>;
/// The requests received: operation, body and head.
type Seen = Mutex<Vec<(String, Vec<u8>, String)>>;

impl Server {
    pub fn start(script: &[(&str, Answer)]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let mut by_op: HashMap<String, Vec<Answer>> = HashMap::new();
        for (op, answer) in script {
            by_op
                .entry(op.to_string())
                .or_default()
                .push(answer.clone());
        }
        let script: Arc<Script> = Arc::new(Mutex::new(by_op));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let written = Arc::new(Mutex::new(0));
        let (s, c, w) = (seen.clone(), connections.clone(), written.clone());
        // Ends with the test process; it blocks in accept() between tests.
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                *c.lock().unwrap() += 1;
                let (script, seen, written) = (script.clone(), s.clone(), w.clone());
                thread::spawn(move || serve(conn, &script, &seen, &written));
            }
        });
        Server {
            endpoint,
            seen,
            connections,
            written,
        }
    }

    /// The operations asked, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(op, _, _)| op.clone())
            .collect()
    }

    /// The value of header `name` (lower case) of every request, in order ("" when absent).
    pub fn header(&self, name: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .map(|(_, _, head)| {
                head.lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// The bodies of the requests for `op`, in order, as text.
    pub fn bodies(&self, op: &str) -> Vec<String> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|(o, _, _)| o == op)
            .map(|(_, b, _)| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    pub fn written(&self) -> usize {
        *self.written.lock().unwrap()
    }
}

/// The next request's operation and the lengths of its head and body, peeked at (nothing
/// read yet, so a [`Answer::Reset`] leaves it unread); None when the client hung up.
fn peek_request(conn: &TcpStream) -> Option<(String, usize, usize)> {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = conn.peek(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = buf[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]);
            let (mut op, mut length) = (String::new(), 0);
            for line in head.lines() {
                if let Some((name, value)) = line.split_once(':') {
                    match name.to_ascii_lowercase().as_str() {
                        "x-amz-target" => {
                            op = value.trim().rsplit('.').next().unwrap_or("").to_string()
                        }
                        "content-length" => length = value.trim().parse().unwrap(),
                        _ => {}
                    }
                }
            }
            return Some((op, end + 4, length));
        }
        assert!(n < buf.len(), "a request head larger than 64 KiB");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Waits until the client hangs up (at most 10 s: a test that forgets one does not hang).
fn hold(mut conn: TcpStream) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut sink = [0; 1024];
    while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
}

fn head(status: u16, length: usize, close: bool) -> String {
    let connection = if close { "close" } else { "keep-alive" };
    format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {length}\r\nConnection: {connection}\r\n\r\n"
    )
}

fn serve(mut conn: TcpStream, script: &Script, seen: &Seen, written: &Mutex<usize>) {
    loop {
        let Some((op, head_len, body_len)) = peek_request(&conn) else {
            return;
        };
        let answer = {
            let mut script = script.lock().unwrap();
            match script.get_mut(&op) {
                Some(answers) if answers.len() > 1 => Some(answers.remove(0)),
                Some(answers) => answers.first().cloned(),
                None => None,
            }
        };
        if let Some(Answer::Reset) = answer {
            seen.lock().unwrap().push((op, Vec::new(), String::new()));
            // Closed with unread data: the kernel answers with RST, not FIN.
            drop(conn);
            return;
        }
        let mut request = vec![0; head_len + body_len];
        if conn.read_exact(&mut request).is_err() {
            return;
        }
        let body = request.split_off(head_len);
        let request_head = String::from_utf8_lossy(&request).into_owned();
        seen.lock().unwrap().push((op, body, request_head));
        let answer = answer.unwrap_or_else(|| Answer::json(500, ""));
        match answer {
            Answer::Reset => unreachable!(),
            Answer::Json(status, body) => {
                let _ = write!(conn, "{}{body}", head(status, body.len(), true));
                return;
            }
            Answer::KeepAlive(status, body) => {
                if write!(conn, "{}{body}", head(status, body.len(), false)).is_err() {
                    return;
                }
            }
            Answer::ThenClose(status, body) => {
                let _ = write!(conn, "{}{body}", head(status, body.len(), false));
                let _ = conn.flush();
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Answer::Stall => return hold(conn),
            Answer::StallBody | Answer::Partial => {
                let stall = matches!(answer, Answer::StallBody);
                let _ = write!(conn, "{}{{\"Item\":{{", head(200, 1000, false));
                let _ = conn.flush();
                if stall {
                    return hold(conn);
                }
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            Answer::Stream { total, declared } => {
                let length = if declared {
                    format!("Content-Length: {total}\r\n")
                } else {
                    String::new()
                };
                if write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n{length}Connection: close\r\n\r\n{{\"Item\":{{\"id\":{{\"S\":\""
                )
                .is_err()
                {
                    return;
                }
                let chunk = [b'a'; 64 * 1024];
                let mut sent = 0;
                while sent < total {
                    let n = chunk.len().min(total - sent);
                    if conn.write_all(&chunk[..n]).is_err() {
                        break;
                    }
                    sent += n;
                    let mut most = written.lock().unwrap();
                    *most = (*most).max(sent);
                }
                return;
            }
        }
    }
}

/// A store on `server`'s endpoint: table `scripted`, namespace `ns`, one attempt and long
/// timeouts unless `tune` says otherwise.
pub fn store_with(server: &Server, tune: impl FnOnce(&mut DynamoConfig)) -> DynamoStore {
    let mut config = DynamoConfig {
        table: Some("scripted".into()),
        namespace: "ns".into(),
        region: Some("us-east-1".into()),
        endpoint: Some(server.endpoint.clone()),
        access_key_id: Some("AKIDEXAMPLE".into()),
        secret_access_key: Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
        attempt_timeout_ms: 10_000,
        operation_timeout_ms: 20_000,
        max_attempts: 1,
        ..Default::default()
    };
    tune(&mut config);
    DynamoStore::open(config, clock::system()).unwrap()
}

pub fn store(server: &Server) -> DynamoStore {
    store_with(server, |_| {})
}

pub const ERROR_BODY: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"scripted failure"}"#;
pub const THROTTLED: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;

/// The namespace version's GetItem: no item yet (version 0).
pub fn no_version() -> (&'static str, Answer) {
    ("GetItem", Answer::json(200, "{}"))
}

pub fn storage_error(r: lambda_cache::Result<()>) -> String {
    match r {
        Err(Error::Storage(m)) => m,
        other => panic!("expected a storage error, got {other:?}"),
    }
}

/// Reads `keys`; answers the result and the number of hits.
pub fn reads(store: &DynamoStore, keys: &[&[u8]]) -> (lambda_cache::Result<()>, usize) {
    let mut hits = 0;
    let r = store.get_many(keys, &mut |_, _| {
        hits += 1;
        Ok(())
    });
    (r, hits)
}
