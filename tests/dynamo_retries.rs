//! The DynamoDB store over the scripted server (`support`): unprocessed keys and items sent
//! again until done, and the deadlines a call keeps (every attempt within
//! `attemptTimeoutMs`, the whole call within `operationTimeoutMs`, retries included). Each
//! case runs in milliseconds.

mod support;

use lambda_cache::entry::{self, Encoding};
use lambda_cache::store::Store;
use std::time::{Duration, Instant};
use support::{no_version, reads, storage_error, store_with, Answer, Server, THROTTLED};

fn b64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

/// An item of the store's namespace at version 0, as an answer lists it.
fn item(key: &str) -> String {
    let value = entry::encode(Encoding::Raw, 0, key.as_bytes());
    format!(
        r#"{{"id":{{"S":"ns|0:{key}"}},"value":{{"B":"{}"}}}}"#,
        b64(&value)
    )
}

fn key(key: &str) -> String {
    format!(r#"{{"id":{{"S":"ns|0:{key}"}}}}"#)
}

fn put(key: &str) -> String {
    format!(r#"{{"PutRequest":{{"Item":{}}}}}"#, item(key))
}

/// Which of `keys` a request body names.
fn named(body: &str, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter(|k| body.contains(&format!("\"ns|0:{k}\"")))
        .map(|k| k.to_string())
        .collect()
}

#[test]
fn unprocessed_keys_are_asked_again_until_all_are_read() {
    let server = Server::start(&[
        no_version(),
        (
            "BatchGetItem",
            Answer::Json(
                200,
                format!(
                    r#"{{"Responses":{{"scripted":[{}]}},"UnprocessedKeys":{{"scripted":{{"Keys":[{},{}]}}}}}}"#,
                    item("a"),
                    key("b"),
                    key("c")
                ),
            ),
        ),
        (
            "BatchGetItem",
            Answer::Json(
                200,
                format!(
                    r#"{{"Responses":{{"scripted":[{}]}},"UnprocessedKeys":{{"scripted":{{"Keys":[{}]}}}}}}"#,
                    item("b"),
                    key("c")
                ),
            ),
        ),
        (
            "BatchGetItem",
            Answer::Json(
                200,
                format!(r#"{{"Responses":{{"scripted":[{}]}}}}"#, item("c")),
            ),
        ),
    ]);
    let store = store_with(&server, |_| {});
    let (r, hits) = reads(&store, &[b"a", b"b", b"c"]);
    assert_eq!((r, hits), (Ok(()), 3));
    let asked: Vec<_> = server
        .bodies("BatchGetItem")
        .iter()
        .map(|b| named(b, &["a", "b", "c"]))
        .collect();
    assert_eq!(asked, [vec!["a", "b", "c"], vec!["b", "c"], vec!["c"]]);
}

#[test]
fn unprocessed_items_are_sent_again_until_all_are_written() {
    let server = Server::start(&[
        no_version(),
        (
            "BatchWriteItem",
            Answer::Json(
                200,
                format!(
                    r#"{{"UnprocessedItems":{{"scripted":[{},{}]}}}}"#,
                    put("b"),
                    put("c")
                ),
            ),
        ),
        (
            "BatchWriteItem",
            Answer::Json(
                200,
                format!(r#"{{"UnprocessedItems":{{"scripted":[{}]}}}}"#, put("c")),
            ),
        ),
        ("BatchWriteItem", Answer::json(200, "{}")),
    ]);
    let store = store_with(&server, |_| {});
    let values: Vec<Vec<u8>> = ["a", "b", "c"]
        .iter()
        .map(|k| entry::encode(Encoding::Raw, 0, k.as_bytes()))
        .collect();
    let items: Vec<(&[u8], &[u8])> =
        vec![(b"a", &values[0]), (b"b", &values[1]), (b"c", &values[2])];
    assert_eq!(store.set_many(&items), Ok(()));
    let sent: Vec<_> = server
        .bodies("BatchWriteItem")
        .iter()
        .map(|b| named(b, &["a", "b", "c"]))
        .collect();
    assert_eq!(sent, [vec!["a", "b", "c"], vec!["b", "c"], vec!["c"]]);
}

#[test]
fn an_attempt_that_stalls_is_retried_within_the_operation() {
    let server = Server::start(&[
        ("GetItem", Answer::Stall),
        ("GetItem", Answer::json(200, "{}")),
    ]);
    let store = store_with(&server, |c| {
        c.attempt_timeout_ms = 50;
        c.max_attempts = 3;
    });
    let started = Instant::now();
    assert_eq!(reads(&store, &[b"k"]), (Ok(()), 0));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(50) && took < Duration::from_millis(900),
        "{took:?}"
    );
}

/// A call of the store, named as its errors name it.
type Call<'a> = Box<dyn Fn() -> lambda_cache::Result<()> + 'a>;

/// However many attempts `maxAttempts` allows, a call ends at `operationTimeoutMs`.
fn calls_end_at_the_operation_timeout(answer: Answer) {
    const OPERATION: Duration = Duration::from_millis(100);
    let server = Server::start(&[
        ("GetItem", answer.clone()),
        ("PutItem", answer.clone()),
        ("UpdateItem", answer.clone()),
    ]);
    let store = store_with(&server, |c| {
        c.attempt_timeout_ms = 30;
        c.max_attempts = 1000;
        c.operation_timeout_ms = OPERATION.as_millis() as u64;
    });
    let value = entry::encode(Encoding::Raw, 0, b"v");
    let calls: [(&str, Call<'_>); 3] = [
        ("read", Box::new(|| reads(&store, &[b"k"]).0)),
        ("write", Box::new(|| store.set_many(&[(b"k", &value)]))),
        ("clear", Box::new(|| store.clear())),
    ];
    for (what, call) in calls {
        let started = Instant::now();
        let m = storage_error(call());
        let took = started.elapsed();
        assert!(
            m.contains(&format!(
                "DynamoDB {what} on scripted: no answer within 100 ms"
            )),
            "{answer:?} {what}: {m}"
        );
        assert!(
            took >= OPERATION && took < OPERATION + Duration::from_millis(300),
            "{answer:?} {what}: took {took:?}"
        );
    }
}

#[test]
fn answers_that_never_come_end_at_the_operation_timeout() {
    calls_end_at_the_operation_timeout(Answer::Stall);
}

#[test]
fn stalled_bodies_end_at_the_operation_timeout() {
    calls_end_at_the_operation_timeout(Answer::StallBody);
}

#[test]
fn endless_throttling_ends_at_the_operation_timeout() {
    calls_end_at_the_operation_timeout(Answer::json(400, THROTTLED));
}
