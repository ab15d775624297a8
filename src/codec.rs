//! Value <-> bytes.
//!
//! Values without objects are MessagePack: PHP strings as `bin` (they are bytes, not UTF-8),
//! integers as integers, floats always as float64 (so `-0.0`, `INF` and `NAN` survive), lists
//! (keys `0..n-1` in order) as arrays and every other PHP array as a map whose keys are integers
//! or `bin` strings. The binding implements the same serde shape directly over zvals; [`Value`]
//! is the plain-Rust model of it, used by tests and by anything outside PHP.

use crate::error::{Error, Result};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A PHP array key.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrayKey {
    Int(i64),
    Str(Vec<u8>),
}

/// A PHP value without objects.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
    /// Entries in PHP's order.
    Array(Vec<(ArrayKey, Value)>),
}

/// Serializes `value` as MessagePack.
pub fn to_msgpack<T: Serialize + ?Sized>(
    value: &T,
) -> std::result::Result<Vec<u8>, rmp_serde::encode::Error> {
    let mut out = Vec::with_capacity(64);
    value.serialize(&mut rmp_serde::Serializer::new(&mut out))?;
    Ok(out)
}

/// Deserializes MessagePack through `seed`; any malformed input is [`Error::Corrupt`].
pub fn from_msgpack_seed<'de, S: DeserializeSeed<'de>>(bytes: &[u8], seed: S) -> Result<S::Value> {
    let mut rest = bytes;
    let v = seed
        .deserialize(&mut rmp_serde::Deserializer::new(&mut rest))
        .map_err(|e| Error::Corrupt(e.to_string()))?;
    if rest.is_empty() {
        Ok(v)
    } else {
        Err(Error::Corrupt("trailing bytes after the value".into()))
    }
}

/// Whether `keys` are exactly `0..n-1` in order (a PHP list).
pub fn is_list<'a>(keys: impl Iterator<Item = &'a ArrayKey>) -> bool {
    keys.enumerate().all(|(i, k)| *k == ArrayKey::Int(i as i64))
}

struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl Serialize for ArrayKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ArrayKey::Int(i) => s.serialize_i64(*i),
            ArrayKey::Str(b) => s.serialize_bytes(b),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(b) => Bytes(b).serialize(s),
            Value::Array(items) if is_list(items.iter().map(|(k, _)| k)) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for (_, v) in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
            Value::Array(items) => {
                let mut map = s.serialize_map(Some(items.len()))?;
                for (k, v) in items {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// What a decoder builds: the binding implements this over zvals, [`Value`] implements it here.
pub trait Builder: Sized {
    type Arr;
    fn null() -> Self;
    fn bool(b: bool) -> Self;
    fn int(i: i64) -> Self;
    fn float(f: f64) -> Self;
    fn bytes(b: &[u8]) -> Self;
    fn new_array(capacity: usize) -> Self::Arr;
    fn push(arr: &mut Self::Arr, v: Self);
    fn insert(arr: &mut Self::Arr, k: ArrayKey, v: Self);
    fn array(arr: Self::Arr) -> Self;
}

impl Builder for Value {
    type Arr = Vec<(ArrayKey, Value)>;
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
        Vec::with_capacity(capacity)
    }
    fn push(arr: &mut Self::Arr, v: Self) {
        let i = arr.len() as i64;
        arr.push((ArrayKey::Int(i), v));
    }
    fn insert(arr: &mut Self::Arr, k: ArrayKey, v: Self) {
        arr.push((k, v))
    }
    fn array(arr: Self::Arr) -> Self {
        Value::Array(arr)
    }
}

/// Nesting deeper than this is refused (as PHP's own unserialize() limits depth).
pub const MAX_DEPTH: usize = 512;

/// A serde seed that builds a `B` from the MessagePack shape above.
pub struct Seed<B>(pub usize, pub std::marker::PhantomData<B>);

impl<B: Builder> Seed<B> {
    pub fn root() -> Self {
        Seed(0, std::marker::PhantomData)
    }
    fn child(&self) -> Self {
        Seed(self.0 + 1, std::marker::PhantomData)
    }
}

impl<'de, B: Builder> DeserializeSeed<'de> for Seed<B> {
    type Value = B;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<B, D::Error> {
        if self.0 > MAX_DEPTH {
            return Err(de::Error::custom("nesting too deep"));
        }
        d.deserialize_any(self)
    }
}

impl<'de, B: Builder> Visitor<'de> for Seed<B> {
    type Value = B;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a PHP value")
    }
    fn visit_unit<E>(self) -> std::result::Result<B, E> {
        Ok(B::null())
    }
    fn visit_none<E>(self) -> std::result::Result<B, E> {
        Ok(B::null())
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<B, E> {
        Ok(B::bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<B, E> {
        Ok(B::int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<B, E> {
        i64::try_from(v)
            .map(B::int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<B, E> {
        Ok(B::float(v))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<B, E> {
        Ok(B::bytes(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<B, E> {
        Ok(B::bytes(v.as_bytes()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<B, A::Error> {
        let mut arr = B::new_array(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(self.child())? {
            B::push(&mut arr, v);
        }
        Ok(B::array(arr))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<B, A::Error> {
        let mut arr = B::new_array(map.size_hint().unwrap_or(0).min(4096));
        while let Some(k) = map.next_key::<ArrayKey>()? {
            let v = map.next_value_seed(self.child())?;
            B::insert(&mut arr, k, v);
        }
        Ok(B::array(arr))
    }
}

impl<'de> Deserialize<'de> for ArrayKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct K;
        impl<'de> Visitor<'de> for K {
            type Value = ArrayKey;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array key")
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<ArrayKey, E> {
                Ok(ArrayKey::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<ArrayKey, E> {
                i64::try_from(v)
                    .map(ArrayKey::Int)
                    .map_err(|_| E::custom("key out of range"))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> std::result::Result<ArrayKey, E> {
                Ok(ArrayKey::Str(v.to_vec()))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<ArrayKey, E> {
                Ok(ArrayKey::Str(v.as_bytes().to_vec()))
            }
        }
        d.deserialize_any(K)
    }
}

/// Decodes MessagePack into a [`Value`].
pub fn decode_value(bytes: &[u8]) -> Result<Value> {
    from_msgpack_seed(bytes, Seed::<Value>::root())
}

/// Encodes a [`Value`] as MessagePack.
pub fn encode_value(value: &Value) -> Result<Vec<u8>> {
    to_msgpack(value).map_err(|e| Error::Unsupported(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(v: Value) -> Value {
        decode_value(&encode_value(&v).unwrap()).unwrap()
    }

    #[test]
    fn scalars_round_trip_exactly() {
        for v in [
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Int(0),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Int(-1),
            Value::Float(1.5),
            Value::Float(f64::INFINITY),
            Value::Str(vec![]),
            Value::Str((0..=255).collect()),
        ] {
            assert_eq!(rt(v.clone()), v);
        }
        match rt(Value::Float(-0.0)) {
            Value::Float(f) => assert!(f == 0.0 && f.is_sign_negative()),
            o => panic!("{o:?}"),
        }
        match rt(Value::Float(f64::NAN)) {
            Value::Float(f) => assert!(f.is_nan()),
            o => panic!("{o:?}"),
        }
        // A float that happens to be integral stays a float.
        assert_eq!(rt(Value::Float(2.0)), Value::Float(2.0));
    }

    #[test]
    fn arrays_keep_keys_and_order() {
        let list = Value::Array(vec![
            (ArrayKey::Int(0), Value::Int(1)),
            (ArrayKey::Int(1), Value::Null),
        ]);
        assert_eq!(rt(list.clone()), list);
        let map = Value::Array(vec![
            (ArrayKey::Int(5), Value::Int(1)),
            (ArrayKey::Str(b"05".to_vec()), Value::Str(b"x".to_vec())),
            (ArrayKey::Int(-3), Value::Array(vec![])),
            (ArrayKey::Str(vec![0xff, 0]), list),
            (ArrayKey::Int(0), Value::Bool(true)),
        ]);
        assert_eq!(rt(map.clone()), map);
    }

    #[test]
    fn garbage_and_trailing_bytes_are_corrupt() {
        let mut b = encode_value(&Value::Int(7)).unwrap();
        b.push(0xc0);
        assert!(matches!(decode_value(&b), Err(Error::Corrupt(_))));
        assert!(matches!(decode_value(&[0xc1]), Err(Error::Corrupt(_))));
        assert!(matches!(
            decode_value(&[0x92, 0x01]),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let mut b = vec![0x91u8; 10_000];
        b.push(0xc0);
        assert!(decode_value(&b).is_err());
    }
}
