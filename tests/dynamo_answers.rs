//! The DynamoDB client against a scripted HTTP server on loopback: answers that DynamoDB's
//! emulators never give (an error in a 200 answer, a body without end), each case in
//! milliseconds. The store is pointed at the server (`support`) by its `endpoint` option.

mod support;

use lambda_cache::entry::{self, Encoding};
use lambda_cache::store::Store;
use std::thread;
use support::{no_version, reads, storage_error, store, Answer, Server, ERROR_BODY};

#[test]
fn an_error_in_a_200_answer_to_a_read_is_an_error_not_a_miss() {
    let server = Server::start(&[("GetItem", Answer::json(200, ERROR_BODY))]);
    let (r, hits) = reads(&store(&server), &[b"k"]);
    assert_eq!(hits, 0);
    let m = storage_error(r);
    assert!(
        m.contains("ValidationException") && m.contains("scripted failure"),
        "{m}"
    );

    let server = Server::start(&[
        no_version(),
        ("BatchGetItem", Answer::json(200, ERROR_BODY)),
    ]);
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
        let server = Server::start(&[no_version(), (op, Answer::json(200, ERROR_BODY))]);
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
        let server = Server::start(&[no_version(), (op, Answer::json(200, ERROR_BODY))]);
        let m = storage_error(store(&server).delete_many(&keys));
        assert!(m.contains(op) && m.contains("ValidationException"), "{m}");
    }
}

#[test]
fn a_200_answer_that_merely_mentions_type_is_read() {
    // An item whose id or value holds the text "__type" is no error.
    let item = r#"{"Item":{"id":{"S":"ns|0:\"__type\""},"value":{"B":"AA=="},"__type":{"S":"x"}}}"#;
    let server = Server::start(&[("GetItem", Answer::json(200, item))]);
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
