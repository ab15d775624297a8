//! The AWS client against a scripted server (`support`): what it retries (throttling, 5xx,
//! resets, stalls, bodies cut short, stale pooled connections), what it does not (client
//! errors), and its per-attempt deadline. Each case runs in milliseconds: attempts of 100 ms,
//! backoff of 10-200 ms. Each test drives its client on a runtime of its own, one `block_on`
//! per call as the store does, so nothing runs between calls (as in a frozen Lambda).

mod support;

use lambda_cache::aws::credentials::{Credentials, Source};
use lambda_cache::aws::http::{CallError, DynamoHttp};
use lambda_cache::aws::sigv4::Signer;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Answer, Server, THROTTLED};
use tokio::runtime::Runtime;

const ATTEMPT: Duration = Duration::from_millis(100);
/// The default of `maxAttempts`.
const MAX_ATTEMPTS: u32 = 3;
const ITEM: &str = r#"{"Item":{"id":{"S":"k"}}}"#;

struct Client {
    rt: Runtime,
    http: DynamoHttp,
}

impl Client {
    fn new(server: &Server, max_attempts: u32) -> Client {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let signer = Signer::new("us-east-1".into(), "dynamodb");
        let credentials = Source::Fixed(Arc::new(Credentials::new(
            "AKIDEXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            None,
        )));
        let http = {
            let _guard = rt.enter();
            DynamoHttp::new(
                &server.endpoint,
                signer,
                credentials,
                ATTEMPT,
                ATTEMPT,
                max_attempts,
            )
            .unwrap()
        };
        Client { rt, http }
    }

    /// One GetItem: the answer's body, and how long the call took.
    fn get(&self) -> (Result<String, CallError>, Duration) {
        let started = Instant::now();
        let r = self
            .rt
            .block_on(self.http.call_raw("GetItem", b"{}".to_vec()));
        let r = r.map(|b| String::from_utf8(b.to_vec()).unwrap());
        (r, started.elapsed())
    }
}

/// Well under a second: no case waits for anything but its short attempt timeouts.
fn quick(d: Duration) {
    assert!(d < Duration::from_millis(900), "took {d:?}");
}

fn ok() -> Answer {
    Answer::json(200, ITEM)
}

#[test]
fn throttling_is_retried_until_it_succeeds() {
    let server = Server::start(&[
        ("GetItem", Answer::json(400, THROTTLED)),
        ("GetItem", Answer::json(400, THROTTLED)),
        ("GetItem", ok()),
    ]);
    let (r, took) = Client::new(&server, 3).get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert_eq!(server.seen().len(), 3);
    quick(took);
}

#[test]
fn throttling_on_every_attempt_is_the_throttling_error() {
    let server = Server::start(&[("GetItem", Answer::json(400, THROTTLED))]);
    let (r, took) = Client::new(&server, 3).get();
    match r {
        Err(CallError::Api { code, status, .. }) => {
            assert_eq!((code.as_str(), status), ("ThrottlingException", 400))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.seen().len(), 3, "maxAttempts requests, no more");
    quick(took);
}

#[test]
fn server_errors_are_retried() {
    let server = Server::start(&[
        ("GetItem", Answer::json(500, "")),
        (
            "GetItem",
            Answer::json(
                503,
                r#"{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable"}"#,
            ),
        ),
        ("GetItem", ok()),
    ]);
    let (r, took) = Client::new(&server, 3).get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert_eq!(server.seen().len(), 3);
    quick(took);
}

#[test]
fn client_errors_are_not_retried() {
    let server = Server::start(&[
        ("GetItem", Answer::json(400, support::ERROR_BODY)),
        ("GetItem", ok()),
    ]);
    let (r, _) = Client::new(&server, 3).get();
    assert!(
        matches!(&r, Err(CallError::Api { code, .. }) if code == "ValidationException"),
        "{r:?}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn a_reset_connection_is_retried_on_a_new_one() {
    let server = Server::start(&[("GetItem", Answer::Reset), ("GetItem", ok())]);
    let (r, took) = Client::new(&server, 3).get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert_eq!((server.seen().len(), server.connections()), (2, 2));
    quick(took);
}

#[test]
fn resets_on_every_attempt_are_a_transport_error() {
    let server = Server::start(&[("GetItem", Answer::Reset)]);
    let (r, took) = Client::new(&server, 2).get();
    assert!(matches!(r, Err(CallError::Transport(_))), "{r:?}");
    assert_eq!(server.seen().len(), 2);
    quick(took);
}

#[test]
fn an_answer_that_never_comes_ends_at_the_attempt_deadline_and_is_retried() {
    let server = Server::start(&[("GetItem", Answer::Stall), ("GetItem", ok())]);
    let (r, took) = Client::new(&server, 3).get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert_eq!(server.seen().len(), 2);
    assert!(took >= ATTEMPT, "{took:?}");
    quick(took);
}

#[test]
fn a_stalled_body_ends_at_the_attempt_deadline_and_is_retried() {
    let server = Server::start(&[("GetItem", Answer::StallBody), ("GetItem", ok())]);
    let (r, took) = Client::new(&server, 3).get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert!(took >= ATTEMPT, "{took:?}");
    quick(took);
}

#[test]
fn bodies_stalled_on_every_attempt_are_a_timeout() {
    let server = Server::start(&[("GetItem", Answer::StallBody)]);
    let (r, took) = Client::new(&server, 2).get();
    assert_eq!(r, Err(CallError::Timeout(ATTEMPT)));
    assert_eq!(server.seen().len(), 2);
    assert!(took >= 2 * ATTEMPT, "{took:?}");
    quick(took);
}

#[test]
fn a_body_cut_short_is_retried() {
    let server = Server::start(&[("GetItem", Answer::Partial), ("GetItem", ok())]);
    let (r, took) = Client::new(&server, 3).get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert_eq!(server.seen().len(), 2);
    quick(took);
}

#[test]
fn bodies_cut_short_on_every_attempt_are_a_transport_error_not_an_answer() {
    let server = Server::start(&[("GetItem", Answer::Partial)]);
    let (r, took) = Client::new(&server, 2).get();
    assert!(matches!(r, Err(CallError::Transport(_))), "{r:?}");
    assert_eq!(server.seen().len(), 2);
    quick(took);
}

#[test]
fn kept_alive_connections_are_reused() {
    let server = Server::start(&[("GetItem", Answer::KeepAlive(200, ITEM.into()))]);
    let client = Client::new(&server, 1);
    for _ in 0..3 {
        assert_eq!(client.get().0.as_deref(), Ok(ITEM));
    }
    assert_eq!((server.seen().len(), server.connections()), (3, 1));
}

/// A server closes a kept-alive connection while it is idle in the pool (servers do after
/// about a minute; Lambda freezes the process meanwhile, so nothing notices): the next call
/// still succeeds, on a new connection, without spending an attempt (hyper's pool sees the
/// connection closed when it is taken out).
#[test]
fn a_pooled_connection_the_server_closed_is_replaced() {
    let server = Server::start(&[
        ("GetItem", Answer::ThenClose(200, ITEM.into())),
        ("GetItem", ok()),
    ]);
    let client = Client::new(&server, 1);
    assert_eq!(client.get().0.as_deref(), Ok(ITEM));
    // The server's FIN arrives while the runtime is not running, as in a frozen Lambda.
    std::thread::sleep(Duration::from_millis(20));
    let (r, took) = client.get();
    assert_eq!(r.as_deref(), Ok(ITEM));
    assert_eq!((server.seen().len(), server.connections()), (2, 2));
    quick(took);
}

/// The race the pool cannot see: the server drops a kept-alive connection just as the next
/// request arrives on it. The request was sent, so only the client's retry saves the call.
#[test]
fn a_kept_alive_connection_dropped_as_a_request_arrives_is_retried_on_a_new_one() {
    for (attempts, succeeds) in [(MAX_ATTEMPTS, true), (1, false)] {
        let server = Server::start(&[
            ("GetItem", Answer::KeepAlive(200, ITEM.into())),
            ("GetItem", Answer::Reset),
            ("GetItem", ok()),
        ]);
        let client = Client::new(&server, attempts);
        assert_eq!(client.get().0.as_deref(), Ok(ITEM));
        let (r, took) = client.get();
        assert_eq!(r.is_ok(), succeeds, "{attempts} attempts: {r:?}");
        quick(took);
        if succeeds {
            assert_eq!((server.seen().len(), server.connections()), (3, 2));
        }
    }
}
