//! The write path's JSON, written straight from the entries: PutItem, DeleteItem and
//! BatchWriteItem bodies, and the ids BatchWriteItem hands back unprocessed (decision 11).

use super::config::DynamoConfig;
use super::read::{json_str, key_json, Attrs, Fetched, Str};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::io::Write as _;

/// One request of a write: put `entry` under `id`, or delete `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write<'a> {
    pub id: String,
    /// The encoded entry to put, with its expiry (ms, 0: none); None deletes.
    pub put: Option<(&'a [u8], u64)>,
}

/// The body of a PutItem (`w.put` set) or DeleteItem of one request.
pub fn single_body(config: &DynamoConfig, table: &str, w: &Write<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + table.len() + body_len(w));
    out.extend_from_slice(b"{\"TableName\":");
    json_str(&mut out, table);
    out.push(b',');
    target_json(&mut out, config, w);
    out.push(b'}');
    out
}

/// The body of a BatchWriteItem of `writes` (at most 25) on `table`.
pub fn batch_body(config: &DynamoConfig, table: &str, writes: &[Write<'_>]) -> Vec<u8> {
    let len = writes.iter().map(|w| 32 + body_len(w)).sum::<usize>();
    let mut out = Vec::with_capacity(32 + table.len() + len);
    out.extend_from_slice(b"{\"RequestItems\":{");
    json_str(&mut out, table);
    out.extend_from_slice(b":[");
    for (n, w) in writes.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(if w.put.is_some() {
            b"{\"PutRequest\":{"
        } else {
            b"{\"DeleteRequest\":{"
        });
        target_json(&mut out, config, w);
        out.extend_from_slice(b"}}");
    }
    out.extend_from_slice(b"]}}");
    out
}

/// The ids of the requests a BatchWriteItem answer hands back as unprocessed.
pub fn parse_unprocessed(config: &DynamoConfig, answer: &[u8]) -> Result<HashSet<String>, String> {
    let out: BatchWriteOut<'_> = serde_json::from_slice(answer).map_err(|e| e.to_string())?;
    Ok(out
        .unprocessed
        .into_values()
        .flatten()
        .filter_map(|r| r.put.map(|p| p.item).or(r.delete.map(|d| d.key)))
        .filter_map(|a| Fetched::from_attrs(config, a).map(|f| f.id))
        .collect())
}

/// `"Item":{...}` for a put, `"Key":{...}` for a delete.
fn target_json(out: &mut Vec<u8>, config: &DynamoConfig, w: &Write<'_>) {
    match w.put {
        Some((entry, expires)) => {
            out.extend_from_slice(b"\"Item\":");
            item_json(out, config, &w.id, entry, expires);
        }
        None => {
            out.extend_from_slice(b"\"Key\":");
            key_json(out, config, &w.id);
        }
    }
}

fn body_len(w: &Write<'_>) -> usize {
    w.id.len() + 48 + w.put.map_or(0, |(e, _)| e.len().div_ceil(3) * 4 + 32)
}

/// `{key: {S: id}, value: {B: base64(entry)}, ttl: {N: seconds}}`, the ttl rounded up to whole
/// seconds and left out for an entry that never expires.
fn item_json(out: &mut Vec<u8>, config: &DynamoConfig, id: &str, entry: &[u8], expires_at_ms: u64) {
    out.push(b'{');
    json_str(out, &config.key_attribute);
    out.extend_from_slice(b":{\"S\":");
    json_str(out, id);
    out.extend_from_slice(b"},");
    json_str(out, &config.value_attribute);
    out.extend_from_slice(b":{\"B\":\"");
    base64_simd::STANDARD.encode_append(entry, out);
    out.extend_from_slice(b"\"}");
    if expires_at_ms != 0 {
        out.push(b',');
        json_str(out, &config.ttl_attribute);
        out.extend_from_slice(b":{\"N\":\"");
        write!(out, "{}", expires_at_ms.div_ceil(1000)).expect("a Vec takes any write");
        out.extend_from_slice(b"\"}");
    }
    out.push(b'}');
}

#[derive(Deserialize)]
struct BatchWriteOut<'a> {
    #[serde(borrow, rename = "UnprocessedItems", default)]
    unprocessed: HashMap<Str<'a>, Vec<WriteRequest<'a>>>,
}

#[derive(Deserialize)]
struct WriteRequest<'a> {
    #[serde(borrow, rename = "PutRequest", default)]
    put: Option<PutRequest<'a>>,
    #[serde(borrow, rename = "DeleteRequest", default)]
    delete: Option<DeleteRequest<'a>>,
}

#[derive(Deserialize)]
struct PutRequest<'a> {
    #[serde(borrow, rename = "Item")]
    item: Attrs<'a>,
}

#[derive(Deserialize)]
struct DeleteRequest<'a> {
    #[serde(borrow, rename = "Key")]
    key: Attrs<'a>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parse(body: &[u8]) -> Value {
        serde_json::from_slice(body).expect("a body is JSON")
    }

    fn b64(bytes: &[u8]) -> String {
        base64_simd::STANDARD.encode_to_string(bytes)
    }

    #[test]
    fn put_and_delete_bodies() {
        let c = DynamoConfig {
            key_attribute: "pk".into(),
            value_attribute: "v".into(),
            ttl_attribute: "exp".into(),
            ..Default::default()
        };
        let odd = "ns|0:\"quoted\" \u{e9}";
        let put = Write {
            id: odd.into(),
            put: Some((b"\xc4entry", 1_700_000_000_001)),
        };
        assert_eq!(
            parse(&single_body(&c, "t", &put)),
            json!({ "TableName": "t", "Item": {
                "pk": { "S": odd }, "v": { "B": b64(b"\xc4entry") }, "exp": { "N": "1700000001" },
            } })
        );
        let forever = Write {
            id: "k".into(),
            put: Some((b"", 0)),
        };
        assert_eq!(
            parse(&single_body(&c, "t", &forever))["Item"],
            json!({ "pk": { "S": "k" }, "v": { "B": "" } }),
            "no expiry, no ttl attribute"
        );
        let delete = Write {
            id: odd.into(),
            put: None,
        };
        assert_eq!(
            parse(&single_body(&c, "t", &delete)),
            json!({ "TableName": "t", "Key": { "pk": { "S": odd } } })
        );
    }

    #[test]
    fn batch_bodies_mix_puts_and_deletes() {
        let c = DynamoConfig::default();
        let writes = [
            Write {
                id: "a".into(),
                put: Some((b"x", 2_000)),
            },
            Write {
                id: "b".into(),
                put: None,
            },
        ];
        assert_eq!(
            parse(&batch_body(&c, "t", &writes)),
            json!({ "RequestItems": { "t": [
                { "PutRequest": { "Item": {
                    "id": { "S": "a" }, "value": { "B": b64(b"x") }, "ttl": { "N": "2" },
                } } },
                { "DeleteRequest": { "Key": { "id": { "S": "b" } } } },
            ] } })
        );
    }

    #[test]
    fn unprocessed_requests_are_named_by_id() {
        let c = DynamoConfig::default();
        let answer = json!({ "UnprocessedItems": { "t": [
            { "PutRequest": { "Item": { "id": { "S": "a" }, "value": { "B": "eA==" } } } },
            { "DeleteRequest": { "Key": { "id": { "S": "b\"" } } } },
        ] } });
        let left = parse_unprocessed(&c, answer.to_string().as_bytes()).unwrap();
        assert_eq!(left, HashSet::from(["a".to_string(), "b\"".to_string()]));
        let none = parse_unprocessed(&c, br#"{"UnprocessedItems":{}}"#).unwrap();
        assert!(none.is_empty());
        assert!(parse_unprocessed(&c, b"{}").unwrap().is_empty());
        assert!(parse_unprocessed(&c, b"[").is_err());
    }
}
