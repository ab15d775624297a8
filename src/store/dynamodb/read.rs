//! The read path's JSON, typed: GetItem and BatchGetItem bodies written straight from the ids,
//! and answers parsed into what the cache needs of an item (id, value bytes, ttl), borrowing
//! from the answer's bytes instead of building a generic JSON tree. With `serde_json::Value`,
//! a getItems(1000) spent most of its client CPU allocating and freeing that tree
//! (docs/decisions.md, decision 11).

use super::config::DynamoConfig;
use crate::entry::Entry;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;

/// One item read back: what the cache needs of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    pub id: String,
    /// The value attribute's bytes; None when it is missing, not `B`, or not base64.
    pub value: Option<Vec<u8>>,
    /// The ttl attribute (epoch seconds), when it is a readable `N`.
    pub ttl: Option<f64>,
}

impl Fetched {
    /// The entry, unless the item is unreadable or expired: by its entry's own expiry, or by
    /// the ttl attribute DynamoDB goes by (it deletes expired items days late, and emulators
    /// never do).
    pub fn live(&self, now_ms: u64) -> Option<Entry<'_>> {
        let e = Entry::decode(self.value.as_deref()?).ok()?;
        let ttl_passed = self.ttl.is_some_and(|t| t * 1000.0 <= now_ms as f64);
        (!e.is_expired(now_ms) && !ttl_passed).then_some(e)
    }

    pub(super) fn from_attrs(config: &DynamoConfig, attrs: Attrs<'_>) -> Option<Fetched> {
        let (mut id, mut value, mut ttl) = (None, None, None);
        for (name, attr) in attrs.0 {
            if *name.0 == *config.key_attribute {
                id = attr.s.map(|s| s.0.into_owned());
            } else if *name.0 == *config.value_attribute {
                value = attr
                    .b
                    .and_then(|b| base64_simd::STANDARD.decode_to_vec(b.0.as_bytes()).ok());
            } else if *name.0 == *config.ttl_attribute {
                ttl = attr.n.and_then(|n| n.0.parse::<f64>().ok());
            }
        }
        Some(Fetched {
            id: id?,
            value,
            ttl,
        })
    }
}

/// The body of a GetItem of `id`.
pub fn get_body(config: &DynamoConfig, table: &str, id: &str, consistent: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(96 + table.len() + id.len());
    out.extend_from_slice(b"{\"TableName\":");
    json_str(&mut out, table);
    out.extend_from_slice(b",\"Key\":");
    key_json(&mut out, config, id);
    consistent_read(&mut out, consistent);
    out.push(b'}');
    out
}

/// The body of a BatchGetItem of `ids` (at most 100) from `table`.
pub fn batch_get_body(
    config: &DynamoConfig,
    table: &str,
    ids: &[impl AsRef<str>],
    consistent: bool,
) -> Vec<u8> {
    let per_key = config.key_attribute.len() + 16;
    let len = ids
        .iter()
        .map(|i| i.as_ref().len() + per_key)
        .sum::<usize>();
    let mut out = Vec::with_capacity(64 + table.len() + len);
    out.extend_from_slice(b"{\"RequestItems\":{");
    json_str(&mut out, table);
    out.extend_from_slice(b":{\"Keys\":[");
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        key_json(&mut out, config, id.as_ref());
    }
    out.push(b']');
    consistent_read(&mut out, consistent);
    out.extend_from_slice(b"}}}");
    out
}

/// A GetItem answer: the item, if there is one with an id.
pub fn parse_get(config: &DynamoConfig, answer: &[u8]) -> Result<Option<Fetched>, String> {
    let out: GetItemOut<'_> = serde_json::from_slice(answer).map_err(|e| e.to_string())?;
    Ok(out.item.and_then(|a| Fetched::from_attrs(config, a)))
}

/// The Number attribute `name` of a GetItem answer's item or an UpdateItem answer's
/// attributes; None when there is no item or no such number.
pub fn parse_number(answer: &[u8], name: &str) -> Result<Option<u64>, String> {
    let out: GetItemOut<'_> = serde_json::from_slice(answer).map_err(|e| e.to_string())?;
    Ok(out
        .item
        .and_then(|a| a.0.into_iter().find(|(n, _)| n.0 == name))
        .and_then(|(_, a)| a.n?.0.parse().ok()))
}

/// A BatchGetItem answer: the items found, and the ids handed back as unprocessed. A request
/// names one table, so every table in the answer is that one (by name or by ARN).
pub fn parse_batch_get(
    config: &DynamoConfig,
    answer: &[u8],
) -> Result<(Vec<Fetched>, Vec<String>), String> {
    let out: BatchGetOut<'_> = serde_json::from_slice(answer).map_err(|e| e.to_string())?;
    let found = out
        .responses
        .into_values()
        .flatten()
        .filter_map(|a| Fetched::from_attrs(config, a))
        .collect();
    let left = out
        .unprocessed
        .into_values()
        .flat_map(|k| k.keys)
        .filter_map(|a| Fetched::from_attrs(config, a).map(|f| f.id))
        .collect();
    Ok((found, left))
}

pub(super) fn json_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(out, s).expect("a string always serializes into a Vec");
}

pub(super) fn key_json(out: &mut Vec<u8>, config: &DynamoConfig, id: &str) {
    out.push(b'{');
    json_str(out, &config.key_attribute);
    out.extend_from_slice(b":{\"S\":");
    json_str(out, id);
    out.extend_from_slice(b"}}");
}

fn consistent_read(out: &mut Vec<u8>, consistent: bool) {
    out.extend_from_slice(if consistent {
        b",\"ConsistentRead\":true"
    } else {
        b",\"ConsistentRead\":false"
    });
}

/// A JSON string, borrowed from the answer unless it had escapes.
#[derive(PartialEq, Eq, Hash)]
pub(super) struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'a>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V(PhantomData))
    }
}

/// An attribute value; the types the cache does not use (M, L, BOOL...) are skipped.
#[derive(Deserialize)]
pub(super) struct Attr<'a> {
    #[serde(borrow, rename = "S", default)]
    s: Option<Str<'a>>,
    #[serde(borrow, rename = "B", default)]
    b: Option<Str<'a>>,
    #[serde(borrow, rename = "N", default)]
    n: Option<Str<'a>>,
}

/// An item's attributes in answer order: a Vec, cheaper than a map for three entries.
pub(super) struct Attrs<'a>(Vec<(Str<'a>, Attr<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Attrs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Attrs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an item")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Attrs<'a>, A::Error> {
                let mut out = Vec::with_capacity(m.size_hint().unwrap_or(3));
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(Attrs(out))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

#[derive(Deserialize)]
struct GetItemOut<'a> {
    /// `Item` of GetItem, `Attributes` of UpdateItem.
    #[serde(borrow, rename = "Item", alias = "Attributes", default)]
    item: Option<Attrs<'a>>,
}

#[derive(Deserialize)]
struct BatchGetOut<'a> {
    #[serde(borrow, rename = "Responses", default)]
    responses: HashMap<Str<'a>, Vec<Attrs<'a>>>,
    #[serde(borrow, rename = "UnprocessedKeys", default)]
    unprocessed: HashMap<Str<'a>, KeysAndAttributes<'a>>,
}

#[derive(Deserialize)]
struct KeysAndAttributes<'a> {
    #[serde(borrow, rename = "Keys", default)]
    keys: Vec<Attrs<'a>>,
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
