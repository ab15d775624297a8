use super::*;
use crate::entry::{self, Encoding};
use crate::store::dynamodb::item;
use crate::store::dynamodb::write::{self, Write};
use serde_json::{json, Value};

const NOW: u64 = 1_700_000_000_500;

fn b64(bytes: &[u8]) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}

fn custom() -> DynamoConfig {
    DynamoConfig {
        key_attribute: "pk".into(),
        value_attribute: "v".into(),
        ttl_attribute: "exp".into(),
        ..Default::default()
    }
}

fn parse(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a body is JSON")
}

#[test]
fn bodies_are_the_json_protocol_with_strings_escaped() {
    let c = custom();
    let odd = "ns|0:quote\" back\\slash \u{e9} \u{1}";
    assert_eq!(
        parse(&get_body(&c, "t", odd, true)),
        json!({ "TableName": "t", "Key": { "pk": { "S": odd } }, "ConsistentRead": true })
    );
    let ids = vec!["ns|0:a".to_string(), odd.to_string()];
    assert_eq!(
        parse(&batch_get_body(&c, "my\"table", &ids, false)),
        json!({ "RequestItems": { "my\"table": {
            "Keys": [{ "pk": { "S": "ns|0:a" } }, { "pk": { "S": odd } }],
            "ConsistentRead": false,
        } } })
    );
}

#[test]
fn batch_answers_give_items_and_unprocessed_ids() {
    let c = DynamoConfig::default();
    let one = entry::encode(Encoding::Raw, 0, b"one");
    // A JSON writer may escape '/': the value is then read from an owned copy.
    let escaped = b64(&[0xff; 30]).replace('/', "\\/");
    assert!(escaped.contains("\\/"));
    let answer = format!(
        r#"{{"Responses":{{"arn:aws:dynamodb:us-east-1:1:table/t":[
            {{"id":{{"S":"ns|0:a"}},"value":{{"B":"{}"}},"ttl":{{"N":"1700000001"}},"extra":{{"M":{{"x":{{"L":[{{"BOOL":true}}]}}}}}}}},
            {{"value":{{"B":"{}"}}}},
            {{"id":{{"S":"ns|0:b\u00e9"}},"value":{{"B":"{}"}}}}
        ]}},"UnprocessedKeys":{{"t":{{"Keys":[{{"id":{{"S":"ns|0:c"}}}}],"ConsistentRead":false}}}},
        "ConsumedCapacity":[]}}"#,
        b64(&one),
        b64(&one),
        escaped
    );
    let (found, left) = parse_batch_get(&c, answer.as_bytes()).unwrap();
    assert_eq!(found.len(), 2, "the item without an id is skipped");
    assert_eq!(found[0].id, "ns|0:a");
    assert_eq!(found[0].value.as_deref(), Some(&one[..]));
    assert_eq!(found[0].ttl, Some(1_700_000_001.0));
    assert_eq!(found[1].id, "ns|0:b\u{e9}");
    assert_eq!(found[1].value.as_deref(), Some(&[0xff; 30][..]));
    assert_eq!(left, vec!["ns|0:c".to_string()]);

    let (found, left) =
        parse_batch_get(&c, br#"{"Responses":{"t":[]},"UnprocessedKeys":{}}"#).unwrap();
    assert!(found.is_empty() && left.is_empty());
    assert!(parse_batch_get(&c, b"{\"Responses\":").is_err());
}

#[test]
fn get_answers_with_and_without_an_item() {
    let c = custom();
    assert_eq!(parse_get(&c, b"{}").unwrap(), None);
    let e = entry::encode(Encoding::Raw, 0, b"x");
    let answer = format!(
        r#"{{"Item":{{"pk":{{"S":"k"}},"v":{{"B":"{}"}},"exp":{{"N":"12"}}}}}}"#,
        b64(&e)
    );
    let got = parse_get(&c, answer.as_bytes()).unwrap().unwrap();
    assert_eq!(
        (got.id.as_str(), got.value.as_deref(), got.ttl),
        ("k", Some(&e[..]), Some(12.0))
    );
}

/// An item as written by the write path (PutItem), read back through the read path.
fn round_trip(c: &DynamoConfig, entry: &[u8], expires_at_ms: u64) -> Fetched {
    let w = Write {
        id: "ns|0:k".into(),
        put: Some((entry, expires_at_ms)),
    };
    let written = parse(&write::single_body(c, "t", &w))["Item"].take();
    let answer = json!({ "Item": written }).to_string();
    parse_get(c, answer.as_bytes()).unwrap().unwrap()
}

#[test]
fn numbers_of_get_and_update_answers() {
    let v = item::VERSION_ATTRIBUTE;
    let get = br#"{"Item":{"id":{"S":"ns!ns"},"v":{"N":"7"}}}"#;
    assert_eq!(parse_number(get, v).unwrap(), Some(7));
    let update = br#"{"Attributes":{"v":{"N":"8"}}}"#;
    assert_eq!(parse_number(update, v).unwrap(), Some(8));
    assert_eq!(parse_number(b"{}", v).unwrap(), None);
    assert_eq!(
        parse_number(br#"{"Item":{"v":{"S":"7"}}}"#, v).unwrap(),
        None
    );
    assert!(parse_number(b"[", v).is_err());
}

#[test]
fn expiry_by_entry_or_ttl_attribute() {
    for c in [DynamoConfig::default(), custom()] {
        let fresh = round_trip(
            &c,
            &entry::encode(Encoding::Raw, NOW + 1000, b"v"),
            NOW + 1000,
        );
        assert_eq!(fresh.live(NOW).expect("fresh").payload, b"v");
        assert!(fresh.live(NOW + 1000).is_none(), "expired by its entry");
        // The ttl attribute is whole seconds, rounded up from the entry's expiry.
        assert_eq!(fresh.ttl, Some((NOW + 1000).div_ceil(1000) as f64));
        // Someone else's item: no expiry in the entry, a ttl in the past.
        let mut stale = round_trip(&c, &entry::encode(Encoding::Raw, 0, b"v"), 0);
        assert!(stale.ttl.is_none() && stale.live(NOW).is_some());
        stale.ttl = Some((NOW / 1000 - 1) as f64);
        assert!(stale.live(NOW).is_none(), "expired by its ttl attribute");
    }
}

#[test]
fn unreadable_items_are_misses() {
    let c = DynamoConfig::default();
    for value in [
        None,
        Some(json!({ "S": "text" })),
        Some(json!({ "B": "not base64!" })),
        Some(json!({ "B": b64(b"garbage") })),
    ] {
        let mut it = json!({ "id": { "S": "x" } });
        if let Some(v) = value.clone() {
            it["value"] = v;
        }
        let answer = json!({ "Item": it }).to_string();
        let got = parse_get(&c, answer.as_bytes()).unwrap().unwrap();
        assert!(got.live(NOW).is_none(), "{value:?}");
    }
}
