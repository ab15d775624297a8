//! The DynamoDB answer parsers (`store::dynamodb::read`) on arbitrary bytes, and on answers
//! built from arbitrary ids, values and ttls. Invariants: they never panic; an item found is
//! the one in the answer (id, value bytes, ttl); `live()` never panics on what they return.
#![no_main]

use lambda_cache::store::dynamodb::config::DynamoConfig;
use lambda_cache::store::dynamodb::read::{parse_batch_get, parse_get, parse_number};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = DynamoConfig::default();
    let now = 1_700_000_000_000;
    if let Ok(Some(f)) = parse_get(&config, data) {
        let _ = f.live(now);
    }
    let _ = parse_number(data, "v");
    if let Ok((found, _)) = parse_batch_get(&config, data) {
        for f in &found {
            let _ = f.live(now);
        }
    }

    // A well-formed answer from the input: [id length] id, value bytes, and a ttl.
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (id, value) = rest.split_at(usize::from(n).min(rest.len()));
    let id = String::from_utf8_lossy(id).into_owned();
    let ttl = u64::from(n) * 1_000_003;
    let b64 = base64_simd::STANDARD.encode_to_string(value);
    let item = serde_json::json!({
        "ttl": {"N": ttl.to_string()},
        "value": {"B": b64},
        "id": {"S": id},
        "other": {"L": [{"S": "x"}]},
    });
    let answer = serde_json::to_vec(&serde_json::json!({ "Item": item })).unwrap();
    let f = parse_get(&config, &answer).unwrap().expect("the item");
    assert_eq!(f.id, id);
    assert_eq!(f.value.as_deref(), Some(value));
    assert_eq!(f.ttl, Some(ttl as f64));
    let batch = serde_json::json!({
        "Responses": {"t": [item]},
        "UnprocessedKeys": {"t": {"Keys": [{"id": {"S": "left"}}]}},
    });
    let (found, left) = parse_batch_get(&config, &serde_json::to_vec(&batch).unwrap()).unwrap();
    assert_eq!(found, vec![f]);
    assert_eq!(left, vec!["left".to_string()]);
});
