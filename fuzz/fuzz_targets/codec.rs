//! The MessagePack decoder (`codec::decode_into`) on arbitrary bytes, into a plain-Rust model
//! of a PHP value. Invariants: it never panics; what it accepts has no trailing bytes and no
//! complete value in a strict prefix; re-encoding what it decoded decodes to the same value.
#![no_main]

use lambda_cache::codec::{decode_into, to_msgpack, Builder};
use libfuzzer_sys::fuzz_target;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

#[derive(Debug, Clone)]
enum Key {
    Int(i64),
    Str(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    /// A MessagePack array (true) or map (false), in input order.
    Array(bool, Vec<(Key, Value)>),
}

/// Equality with floats compared by their bits (NaN payloads and -0.0 must survive).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x.to_bits() == y.to_bits(),
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Array(l, x), Value::Array(m, y)) => {
            l == m
                && x.len() == y.len()
                && x.iter().zip(y).all(|((ka, va), (kb, vb))| {
                    let keys = match (ka, kb) {
                        (Key::Int(i), Key::Int(j)) => i == j,
                        (Key::Str(s), Key::Str(t)) => s == t,
                        _ => false,
                    };
                    keys && same(va, vb)
                })
        }
        _ => false,
    }
}

impl Builder for Value {
    type Arr = (bool, Vec<(Key, Value)>);
    fn null() -> Self {
        Value::Null
    }
    fn bool(b: bool) -> Self {
        Value::Bool(b)
    }
    fn int(i: i64) -> Self {
        Value::Int(i)
    }
    fn float(f: f64) -> Self {
        Value::Float(f)
    }
    fn bytes(b: &[u8]) -> Self {
        Value::Str(b.to_vec())
    }
    fn new_array(capacity: usize) -> Self::Arr {
        // The decoder caps capacity by the input's length; a huge one would abort here.
        assert!(capacity <= 1 << 20, "capacity {capacity}");
        (true, Vec::with_capacity(capacity))
    }
    fn push(arr: &mut Self::Arr, v: Self) {
        assert!(arr.0, "push after a keyed insert");
        let i = arr.1.len() as i64;
        arr.1.push((Key::Int(i), v));
    }
    fn insert_int(arr: &mut Self::Arr, k: i64, v: Self) {
        arr.0 = false;
        arr.1.push((Key::Int(k), v));
    }
    fn insert_str(arr: &mut Self::Arr, k: &[u8], v: Self) {
        arr.0 = false;
        arr.1.push((Key::Str(k.to_vec()), v));
    }
    fn array(arr: Self::Arr) -> Self {
        Value::Array(arr.0, arr.1)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Key::Int(i) => s.serialize_i64(*i),
            Key::Str(b) => s.serialize_bytes(b),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(b) => s.serialize_bytes(b),
            Value::Array(true, items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for (_, v) in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Array(false, items) => {
                let mut map = s.serialize_map(Some(items.len()))?;
                for (k, v) in items {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = decode_into::<Value>(data) else {
        return;
    };
    let mut longer = data.to_vec();
    longer.push(0xc0);
    assert!(
        decode_into::<Value>(&longer).is_err(),
        "trailing byte accepted"
    );
    assert!(
        decode_into::<Value>(&data[..data.len() - 1]).is_err(),
        "a strict prefix decoded"
    );
    let again = to_msgpack(&v).expect("a decoded value encodes");
    let w = decode_into::<Value>(&again).expect("an encoded value decodes");
    assert!(same(&v, &w), "{v:?} re-encoded as {w:?}");
});
