//! The DynamoDB client against a scripted HTTP server on loopback: answers that DynamoDB's
//! emulators never give (an error in a 200 answer, a body without end), each case in
//! milliseconds. The store is pointed at the server by its `endpoint` option.

use lambda_cache::clock;
use lambda_cache::entry::{self, Encoding};
use lambda_cache::store::dynamodb::config::DynamoConfig;
use lambda_cache::store::dynamodb::DynamoStore;
use lambda_cache::store::Store;
use lambda_cache::Error;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// What the server answers to one request.
#[derive(Clone)]
enum Answer {
    /// A status and a JSON body.
    Json(u16, &'static str),
    /// A 200 whose body streams `total` bytes: with a Content-Length of `total` when
    /// `declared`, else until the connection closes.
    Stream { total: usize, declared: bool },
}

/// A scripted DynamoDB: answers each operation (`GetItem`...) as scripted, one request per
/// connection, and records the operations asked and the most bytes of body it wrote on one
/// connection.
struct Server {
    endpoint: String,
    seen: Arc<Mutex<Vec<String>>>,
    written: Arc<Mutex<usize>>,
}

impl Server {
    fn start(script: &[(&'static str, Answer)]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let script: Arc<HashMap<&'static str, Answer>> = Arc::new(script.iter().cloned().collect());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(Mutex::new(0));
        let (s, w) = (seen.clone(), written.clone());
        // Ends with the test process; it blocks in accept() between tests.
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let (script, seen, written) = (script.clone(), s.clone(), w.clone());
                thread::spawn(move || serve(conn, &script, &seen, &written));
            }
        });
        Server {
            endpoint,
            seen,
            written,
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    fn written(&self) -> usize {
        *self.written.lock().unwrap()
    }
}

fn serve(
    conn: TcpStream,
    script: &HashMap<&'static str, Answer>,
    seen: &Mutex<Vec<String>>,
    written: &Mutex<usize>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let (mut target, mut length) = (String::new(), 0usize);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "x-amz-target" => target = value.trim().to_string(),
                "content-length" => length = value.trim().parse().unwrap(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let op = target.rsplit('.').next().unwrap_or("").to_string();
    seen.lock().unwrap().push(op.clone());
    let mut out = conn;
    match script.get(op.as_str()).cloned() {
        None => {
            let _ = write!(out, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        Some(Answer::Json(status, body)) => {
            let _ = write!(
                out,
                "HTTP/1.1 {status} Scripted\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
        Some(Answer::Stream { total, declared }) => {
            let length = if declared {
                format!("Content-Length: {total}\r\n")
            } else {
                String::new()
            };
            if write!(
                out,
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
                if out.write_all(&chunk[..n]).is_err() {
                    break;
                }
                sent += n;
                let mut most = written.lock().unwrap();
                *most = (*most).max(sent);
            }
        }
    }
}

fn store(server: &Server) -> DynamoStore {
    let config = DynamoConfig {
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
    DynamoStore::open(config, clock::system()).unwrap()
}

const ERROR_BODY: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"scripted failure"}"#;
/// The namespace version's GetItem: no item yet (version 0).
const NO_VERSION: (&str, Answer) = ("GetItem", Answer::Json(200, "{}"));

fn storage_error(r: lambda_cache::Result<()>) -> String {
    match r {
        Err(Error::Storage(m)) => m,
        other => panic!("expected a storage error, got {other:?}"),
    }
}

fn reads(store: &DynamoStore, keys: &[&[u8]]) -> (lambda_cache::Result<()>, usize) {
    let mut hits = 0;
    let r = store.get_many(keys, &mut |_, _| {
        hits += 1;
        Ok(())
    });
    (r, hits)
}

#[test]
fn an_error_in_a_200_answer_to_a_read_is_an_error_not_a_miss() {
    let server = Server::start(&[("GetItem", Answer::Json(200, ERROR_BODY))]);
    let (r, hits) = reads(&store(&server), &[b"k"]);
    assert_eq!(hits, 0);
    let m = storage_error(r);
    assert!(
        m.contains("ValidationException") && m.contains("scripted failure"),
        "{m}"
    );

    let server = Server::start(&[NO_VERSION, ("BatchGetItem", Answer::Json(200, ERROR_BODY))]);
    let (r, hits) = reads(&store(&server), &[b"a", b"b"]);
    assert_eq!(hits, 0);
    let m = storage_error(r);
    assert!(
        m.contains("BatchGetItem") && m.contains("ValidationException"),
        "{m}"
    );
}

#[test]
fn an_error_in_a_200_answer_to_a_write_is_a_failure() {
    let value = entry::encode(Encoding::Raw, 0, b"value");
    for (op, batch) in [("PutItem", false), ("BatchWriteItem", true)] {
        let server = Server::start(&[NO_VERSION, (op, Answer::Json(200, ERROR_BODY))]);
        let items: Vec<(&[u8], &[u8])> = if batch {
            vec![(b"a", &value), (b"b", &value)]
        } else {
            vec![(b"a", &value)]
        };
        let m = storage_error(store(&server).set_many(&items));
        assert!(m.contains(op) && m.contains("ValidationException"), "{m}");
        assert!(
            server.seen().contains(&op.to_string()),
            "{:?}",
            server.seen()
        );
    }
    for (op, keys) in [
        ("DeleteItem", vec![&b"a"[..]]),
        ("BatchWriteItem", vec![b"a", b"b"]),
    ] {
        let server = Server::start(&[NO_VERSION, (op, Answer::Json(200, ERROR_BODY))]);
        let m = storage_error(store(&server).delete_many(&keys));
        assert!(m.contains(op) && m.contains("ValidationException"), "{m}");
    }
}

#[test]
fn a_200_answer_that_merely_mentions_type_is_read() {
    // An item whose id or value holds the text "__type" is no error.
    let item = r#"{"Item":{"id":{"S":"ns|0:\"__type\""},"value":{"B":"AA=="},"__type":{"S":"x"}}}"#;
    let server = Server::start(&[("GetItem", Answer::Json(200, item))]);
    let (r, _) = reads(&store(&server), &[b"k"]);
    assert_eq!(r, Ok(()));
}

/// DynamoDB answers hold at most 16 MB of items (about 21 MB as JSON, binary values in
/// base64): an answer of 64 MiB is refused, and read no further than the limit.
#[test]
fn answers_past_the_size_limit_are_refused_without_being_read() {
    const TOTAL: usize = 64 << 20;
    for declared in [false, true] {
        let server = Server::start(&[(
            "GetItem",
            Answer::Stream {
                total: TOTAL,
                declared,
            },
        )]);
        let started = std::time::Instant::now();
        let (r, _) = reads(&store(&server), &[b"k"]);
        let m = storage_error(r);
        assert!(m.contains("larger than"), "declared {declared}: {m}");
        // The client hung up: what the server wrote fits in the limit plus socket buffers.
        thread::sleep(std::time::Duration::from_millis(50));
        let written = server.written();
        assert!(
            written < TOTAL / 2 + (8 << 20),
            "declared {declared}: the server wrote {written} bytes of {TOTAL} ({:?})",
            started.elapsed()
        );
    }
}
