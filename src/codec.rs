//! Value <-> bytes.
//!
//! Values without objects are MessagePack: PHP strings as `bin` (they are bytes, not UTF-8),
//! integers as integers, floats always as float64 (so `-0.0`, `INF` and `NAN` survive), lists
//! (keys `0..n-1` in order) as arrays and every other PHP array as a map whose keys are integers
//! or `bin` strings. The binding implements that serde shape directly over zvals and decodes
//! through [`Builder`]; the tests below model it in plain Rust.

use crate::error::{Error, Result};
use serde::Serialize;

/// Serializes `value` as MessagePack.
pub fn to_msgpack<T: Serialize + ?Sized>(
    value: &T,
) -> std::result::Result<Vec<u8>, rmp_serde::encode::Error> {
    let mut out = Vec::with_capacity(64);
    value.serialize(&mut rmp_serde::Serializer::new(&mut out))?;
    Ok(out)
}

/// What a decoder builds: the binding implements this over zvals.
pub trait Builder: Sized {
    type Arr;
    fn null() -> Self;
    fn bool(b: bool) -> Self;
    fn int(i: i64) -> Self;
    fn float(f: f64) -> Self;
    fn bytes(b: &[u8]) -> Self;
    fn new_array(capacity: usize) -> Self::Arr;
    fn push(arr: &mut Self::Arr, v: Self);
    fn insert_int(arr: &mut Self::Arr, k: i64, v: Self);
    fn insert_str(arr: &mut Self::Arr, k: &[u8], v: Self);
    fn array(arr: Self::Arr) -> Self;
}

/// The integer PHP makes of the array key `k`, if any: PHP turns a string key that is a
/// canonical decimal integer in `i64` range (`"7"`, `"-3"`; not `"07"`, `"-0"`, `"+7"`, `" 7"`,
/// `"9223372036854775808"`) into that integer, so such a key never exists as a string in a
/// PHP array. Our encoder never writes one, but an entry written by someone else may: decoding
/// follows the same rule, so the array is indexable and a key cannot appear twice.
pub fn int_key(k: &[u8]) -> Option<i64> {
    let digits = k.strip_prefix(b"-").unwrap_or(k);
    // At most 19 digits (i64::MAX has 19), no leading zero, and "-0" is a string.
    let canonical = match digits {
        [b'0'] => digits.len() == k.len(),
        [b'1'..=b'9', rest @ ..] => rest.len() < 19 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !canonical {
        return None;
    }
    // Parsed negated, so that i64::MIN (whose magnitude i64 cannot hold) fits too.
    let neg = digits.iter().try_fold(0i64, |acc, d| {
        acc.checked_mul(10)?.checked_sub(i64::from(d - b'0'))
    })?;
    if digits.len() == k.len() {
        neg.checked_neg()
    } else {
        Some(neg)
    }
}

/// Nesting deeper than this is refused (as PHP's own unserialize() limits depth).
pub const MAX_DEPTH: usize = 512;

/// Decodes the MessagePack shape above into a `B`. Hand-written rather than through serde:
/// strings are borrowed from the input and nothing is built that is not kept.
pub fn decode_into<B: Builder>(bytes: &[u8]) -> Result<B> {
    let mut d = Decoder { b: bytes, i: 0 };
    let v = d.value::<B>(0)?;
    if d.i == bytes.len() {
        Ok(v)
    } else {
        Err(Error::Corrupt("trailing bytes after the value".into()))
    }
}

struct Decoder<'a> {
    b: &'a [u8],
    i: usize,
}

enum Key<'a> {
    Int(i64),
    Str(&'a [u8]),
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("MessagePack: {what}"))
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self
            .b
            .get(self.i..self.i.checked_add(n).ok_or_else(|| corrupt("length"))?)
            .ok_or_else(|| corrupt("truncated"))?;
        self.i += n;
        Ok(s)
    }
    fn uint(&mut self, n: usize) -> Result<u64> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
    fn len(&mut self, n: usize) -> Result<usize> {
        let len = self.uint(n)? as usize;
        // Every element takes at least one byte: a length beyond the input is corrupt.
        if len > self.b.len() - self.i {
            return Err(corrupt("length beyond the input"));
        }
        Ok(len)
    }
    /// An integer or a string (the only things that can be array keys).
    fn key(&mut self) -> Result<Key<'a>> {
        let t = self.take(1)?[0];
        Ok(match t {
            0x00..=0x7f => Key::Int(i64::from(t)),
            0xe0..=0xff => Key::Int(i64::from(t as i8)),
            0xcc => Key::Int(self.uint(1)? as i64),
            0xcd => Key::Int(self.uint(2)? as i64),
            0xce => Key::Int(self.uint(4)? as i64),
            0xcf => {
                Key::Int(i64::try_from(self.uint(8)?).map_err(|_| corrupt("integer out of range"))?)
            }
            0xd0 => Key::Int(i64::from(self.uint(1)? as u8 as i8)),
            0xd1 => Key::Int(i64::from(self.uint(2)? as u16 as i16)),
            0xd2 => Key::Int(i64::from(self.uint(4)? as u32 as i32)),
            0xd3 => Key::Int(self.uint(8)? as i64),
            0xa0..=0xbf => Key::Str(self.take(usize::from(t & 0x1f))?),
            0xc4 | 0xd9 => {
                let n = self.len(1)?;
                Key::Str(self.take(n)?)
            }
            0xc5 | 0xda => {
                let n = self.len(2)?;
                Key::Str(self.take(n)?)
            }
            0xc6 | 0xdb => {
                let n = self.len(4)?;
                Key::Str(self.take(n)?)
            }
            _ => {
                self.i -= 1;
                return Err(corrupt("not a key"));
            }
        })
    }
    fn value<B: Builder>(&mut self, depth: usize) -> Result<B> {
        if depth > MAX_DEPTH {
            return Err(corrupt("nesting too deep"));
        }
        let t = *self.b.get(self.i).ok_or_else(|| corrupt("truncated"))?;
        let (n, map) = match t {
            0xc0 => {
                self.i += 1;
                return Ok(B::null());
            }
            0xc2 | 0xc3 => {
                self.i += 1;
                return Ok(B::bool(t == 0xc3));
            }
            0xcb => {
                self.i += 1;
                return Ok(B::float(f64::from_bits(self.uint(8)?)));
            }
            0xca => {
                self.i += 1;
                return Ok(B::float(f64::from(f32::from_bits(self.uint(4)? as u32))));
            }
            0x90..=0x9f => {
                self.i += 1;
                (usize::from(t & 0x0f), false)
            }
            0xdc => {
                self.i += 1;
                (self.len(2)?, false)
            }
            0xdd => {
                self.i += 1;
                (self.len(4)?, false)
            }
            0x80..=0x8f => {
                self.i += 1;
                (usize::from(t & 0x0f), true)
            }
            0xde => {
                self.i += 1;
                (self.len(2)?, true)
            }
            0xdf => {
                self.i += 1;
                (self.len(4)?, true)
            }
            _ => {
                return match self.key()? {
                    Key::Int(i) => Ok(B::int(i)),
                    Key::Str(s) => Ok(B::bytes(s)),
                }
            }
        };
        let mut arr = B::new_array(n);
        for _ in 0..n {
            if map {
                match self.key()? {
                    Key::Int(k) => {
                        let v = self.value(depth + 1)?;
                        B::insert_int(&mut arr, k, v)
                    }
                    Key::Str(k) => {
                        let v = self.value(depth + 1)?;
                        match int_key(k) {
                            Some(i) => B::insert_int(&mut arr, i, v),
                            None => B::insert_str(&mut arr, k, v),
                        }
                    }
                }
            } else {
                let v = self.value(depth + 1)?;
                B::push(&mut arr, v);
            }
        }
        Ok(B::array(arr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::ser::{SerializeMap, SerializeSeq, Serializer};

    /// A PHP array key.
    #[derive(Debug, Clone, PartialEq)]
    enum ArrayKey {
        Int(i64),
        Str(Vec<u8>),
    }

    /// A PHP value without objects: the plain-Rust model of the shape above.
    #[derive(Debug, Clone, PartialEq)]
    enum Value {
        Null,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(Vec<u8>),
        /// Entries in PHP's order.
        Array(Vec<(ArrayKey, Value)>),
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
                Value::Str(b) => s.serialize_bytes(b),
                Value::Array(items)
                    if (items.iter().enumerate())
                        .all(|(i, (k, _))| *k == ArrayKey::Int(i as i64)) =>
                {
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
        fn insert_int(arr: &mut Self::Arr, k: i64, v: Self) {
            arr.push((ArrayKey::Int(k), v))
        }
        fn insert_str(arr: &mut Self::Arr, k: &[u8], v: Self) {
            arr.push((ArrayKey::Str(k.to_vec()), v))
        }
        fn array(arr: Self::Arr) -> Self {
            Value::Array(arr)
        }
    }

    fn encode_value(v: &Value) -> Vec<u8> {
        to_msgpack(v).unwrap()
    }

    fn decode_value(bytes: &[u8]) -> Result<Value> {
        decode_into(bytes)
    }

    fn rt(v: Value) -> Value {
        decode_value(&encode_value(&v)).unwrap()
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
        for i in [
            127,
            128,
            255,
            256,
            65535,
            65536,
            -32,
            -33,
            -128,
            -129,
            -32768,
            -32769,
            1 << 31,
            -(1 << 31) - 1,
            1 << 40,
        ] {
            assert_eq!(rt(Value::Int(i)), Value::Int(i), "{i}");
        }
        for n in [31usize, 32, 255, 256, 70_000] {
            let s = Value::Str(vec![b'x'; n]);
            assert_eq!(rt(s.clone()), s, "{n}");
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
        let mut b = encode_value(&Value::Int(7));
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

    #[test]
    fn canonical_integer_keys_are_what_php_makes_ints_of() {
        for (k, i) in [
            ("0", 0),
            ("7", 7),
            ("-7", -7),
            ("10", 10),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(int_key(k.as_bytes()), Some(i), "{k}");
        }
        for k in [
            "",
            "-",
            "-0",
            "00",
            "07",
            "-07",
            "+7",
            " 7",
            "7 ",
            "7a",
            "1e3",
            "1.0",
            "0x1",
            "--7",
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999",
            "10000000000000000000",
            "\u{0}7",
            "\u{661}",
        ] {
            assert_eq!(int_key(k.as_bytes()), None, "{k:?}");
        }
    }

    #[test]
    fn string_keys_of_canonical_integers_decode_as_integers() {
        let bin = |s: &str| {
            let mut b = vec![0xc4, s.len() as u8];
            b.extend_from_slice(s.as_bytes());
            b
        };
        let mut m = vec![0x84];
        m.extend(bin("7"));
        m.push(0x01);
        m.extend(bin("5"));
        m.push(0x02);
        m.extend([0x05, 0x03]);
        m.extend(b"\xa207");
        m.push(0x04);
        let v = decode_value(&m).unwrap();
        // The model keeps duplicates as given; a PHP array updates the key in place.
        assert_eq!(
            v,
            Value::Array(vec![
                (ArrayKey::Int(7), Value::Int(1)),
                (ArrayKey::Int(5), Value::Int(2)),
                (ArrayKey::Int(5), Value::Int(3)),
                (ArrayKey::Str(b"07".to_vec()), Value::Int(4)),
            ])
        );
    }
}
