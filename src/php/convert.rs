//! zval <-> stored bytes: the serde shape of `codec` implemented directly over zvals, plus the
//! `serialize()`/igbinary fallback for values with objects. Conversion only: which bytes mean
//! what is decided in the core (`codec`, `entry`, `classes`).

use crate::classes::ClassPolicy;
use crate::codec::{self, Builder, MAX_DEPTH};
use crate::entry::{Encoding, Entry};
use crate::error::{Error, Result};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::ffi::zend_object;
use ext_php_rs::ffi::zend_value;
use ext_php_rs::flags::{DataType, ZvalTypeFlags};
use ext_php_rs::types::array::Iter;
use ext_php_rs::types::{ZendCallable, ZendHashTable, ZendStr, Zval};
use ext_php_rs::zend::{try_catch, CatchError, ExecutorGlobals};
use serde::ser::{Error as _, SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use std::cell::Cell;
use std::panic::AssertUnwindSafe;

/// The marker error when a value holds an object: the caller falls back to `serialize()`.
const HAS_OBJECT: &str = "\u{0}object";

struct Ser<'a>(&'a Zval, usize);

fn deref(zv: &Zval) -> &Zval {
    let zv = zv.dereference();
    zv.indirect().unwrap_or(zv)
}

impl Serialize for Ser<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let zv = deref(self.0);
        match zv.get_type() {
            DataType::Null | DataType::Undef => s.serialize_unit(),
            DataType::False => s.serialize_bool(false),
            DataType::True => s.serialize_bool(true),
            DataType::Long => s.serialize_i64(zv.long().unwrap_or_default()),
            DataType::Double => s.serialize_f64(zv.double().unwrap_or_default()),
            DataType::String => {
                s.serialize_bytes(zv.zend_str().map(|z| z.as_bytes()).unwrap_or_default())
            }
            DataType::Array => {
                if self.1 >= MAX_DEPTH {
                    return Err(S::Error::custom(
                        "arrays nested too deep (or a recursive array)",
                    ));
                }
                let ht = zv
                    .array()
                    .ok_or_else(|| S::Error::custom("unreadable array"))?;
                serialize_array(ht, self.1 + 1, s)
            }
            DataType::Object(_) => Err(S::Error::custom(HAS_OBJECT)),
            DataType::Resource => Err(S::Error::custom("resources cannot be cached")),
            other => Err(S::Error::custom(format!(
                "values of type {other} cannot be cached"
            ))),
        }
    }
}

fn serialize_array<S: Serializer>(
    ht: &ZendHashTable,
    depth: usize,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    let mut it = Iter::new(ht);
    let mut n: i64 = 0;
    let mut list = true;
    while let Some((k, _)) = it.next_zval() {
        if k.long() != Some(n) {
            list = false;
            break;
        }
        n += 1;
    }
    let mut it = Iter::new(ht);
    if list {
        let mut seq = s.serialize_seq(Some(ht.len()))?;
        while let Some((_, v)) = it.next_zval() {
            seq.serialize_element(&Ser(v, depth))?;
        }
        seq.end()
    } else {
        let mut map = s.serialize_map(Some(ht.len()))?;
        while let Some((k, v)) = it.next_zval() {
            match k.long() {
                Some(i) => map.serialize_key(&i)?,
                None => map.serialize_key(&serde_bytes(
                    k.zend_str().map(|z| z.as_bytes()).unwrap_or_default(),
                ))?,
            }
            map.serialize_value(&Ser(v, depth))?;
        }
        map.end()
    }
}

struct BytesOut<'a>(&'a [u8]);
impl Serialize for BytesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}
fn serde_bytes(b: &[u8]) -> BytesOut<'_> {
    BytesOut(b)
}

/// A zval of `flags` holding `value`. Written field by field: `Zval::set_*` first releases
/// the old value, which costs a fifth of decoding time for a value just made.
fn raw(flags: ZvalTypeFlags, value: zend_value) -> Zval {
    let mut z = Zval::new();
    z.value = value;
    z.u1.type_info = flags.bits();
    z
}

impl Builder for Zval {
    type Arr = ZBox<ZendHashTable>;
    fn null() -> Self {
        Zval::new()
    }
    fn bool(b: bool) -> Self {
        let flags = if b {
            ZvalTypeFlags::True
        } else {
            ZvalTypeFlags::False
        };
        raw(flags, zend_value { lval: 0 })
    }
    fn int(i: i64) -> Self {
        raw(ZvalTypeFlags::Long, zend_value { lval: i })
    }
    fn float(f: f64) -> Self {
        raw(ZvalTypeFlags::Double, zend_value { dval: f })
    }
    fn bytes(b: &[u8]) -> Self {
        bytes_zval(b)
    }
    fn new_array(capacity: usize) -> Self::Arr {
        ZendHashTable::with_capacity(capacity as u32)
    }
    fn push(arr: &mut Self::Arr, mut v: Self) {
        // The table takes the value over; forgetting `v` hands over its reference.
        unsafe { ext_php_rs::ffi::zend_hash_next_index_insert(&mut **arr, &mut v) };
        std::mem::forget(v);
    }
    fn insert_int(arr: &mut Self::Arr, k: i64, mut v: Self) {
        unsafe { ext_php_rs::ffi::zend_hash_index_update(&mut **arr, k as u64, &mut v) };
        std::mem::forget(v);
    }
    fn insert_str(arr: &mut Self::Arr, k: &[u8], mut v: Self) {
        // Binary-safe and without numeric-string normalisation: the decoder has already
        // turned keys that PHP would make integers into integers (`codec::int_key`).
        unsafe {
            ext_php_rs::ffi::zend_hash_str_update(&mut **arr, k.as_ptr().cast(), k.len(), &mut v);
        }
        std::mem::forget(v);
    }
    fn array(arr: Self::Arr) -> Self {
        raw(
            ZvalTypeFlags::ArrayEx,
            zend_value {
                arr: arr.into_raw(),
            },
        )
    }
}

/// A PHP string zval holding `b`.
pub fn bytes_zval(b: &[u8]) -> Zval {
    let s = ZendStr::new(b, false);
    // Empty and one-byte strings come back interned (immutable, not reference counted).
    let interned = unsafe { s.gc.u.type_info } & ext_php_rs::ffi::GC_IMMUTABLE != 0;
    let flags = if interned {
        ZvalTypeFlags::InternedStringEx
    } else {
        ZvalTypeFlags::StringEx
    };
    raw(flags, zend_value { str_: s.into_raw() })
}

/// Encodes a PHP value: strings as raw bytes, values without objects as MessagePack, others
/// through `serialize()` (igbinary when loaded and every class is allowed).
pub fn encode(zv: &Zval, policy: &ClassPolicy) -> Result<(Encoding, Vec<u8>)> {
    let zv = deref(zv);
    if let Some(s) = zv.zend_str() {
        return Ok((Encoding::Raw, s.as_bytes().to_vec()));
    }
    match codec::to_msgpack(&Ser(zv, 0)) {
        Ok(bytes) => Ok((Encoding::MsgPack, bytes)),
        Err(e) if e.to_string().contains(HAS_OBJECT) => encode_objects(zv, policy),
        Err(e) => Err(Error::Unsupported(
            e.to_string()
                .trim_start_matches("syntax error: ")
                .to_string(),
        )),
    }
}

fn encode_objects(zv: &Zval, policy: &ClassPolicy) -> Result<(Encoding, Vec<u8>)> {
    if *policy == ClassPolicy::None {
        let class = zv.object().and_then(|o| o.get_class_name().ok());
        return Err(Error::ClassNotAllowed(
            class.unwrap_or_else(|| "(inside an array)".into()),
        ));
    }
    let (encoding, func) = if *policy == ClassPolicy::All && igbinary_loaded() {
        (Encoding::Igbinary, "igbinary_serialize")
    } else {
        (Encoding::PhpSerialize, "serialize")
    };
    let out = call(func, &[zv])?;
    let bytes = out
        .zend_str()
        .map(|s| s.as_bytes().to_vec())
        .ok_or_else(|| Error::Unsupported(format!("{func}() failed")))?;
    if encoding == Encoding::PhpSerialize {
        policy.check_serialized(&bytes)?;
    }
    Ok((encoding, bytes))
}

/// Decodes a stored entry into a zval. A value the policy does not allow is an error that is
/// not [`Error::Corrupt`] (a miss that leaves the entry alone).
pub fn decode(entry: &Entry<'_>, policy: &ClassPolicy) -> Result<Zval> {
    match entry.encoding {
        Encoding::Raw => Ok(bytes_zval(entry.payload)),
        Encoding::MsgPack => codec::decode_into::<Zval>(entry.payload),
        Encoding::PhpSerialize => {
            policy.check_serialized(entry.payload)?;
            // Checked above; PHP checks once more with the same list.
            let mut opts = ZendHashTable::new();
            let allowed = match policy {
                ClassPolicy::Only(names) => {
                    let mut list = ZendHashTable::new();
                    for n in names {
                        let _ = list.push(bytes_zval(n));
                    }
                    let mut z = Zval::new();
                    z.set_hashtable(list);
                    z
                }
                _ => <Zval as Builder>::bool(true),
            };
            let _ = opts.insert("allowed_classes", allowed);
            let mut o = Zval::new();
            o.set_hashtable(opts);
            let data = bytes_zval(entry.payload);
            unserialized(call("unserialize", &[&data, &o])?)
        }
        Encoding::Igbinary => {
            if *policy != ClassPolicy::All || !igbinary_loaded() {
                return Err(Error::ClassNotAllowed(
                    "(igbinary data needs allowedClasses: true and ext-igbinary)".into(),
                ));
            }
            unserialized(call("igbinary_unserialize", &[&bytes_zval(entry.payload)])?)
        }
    }
}

/// `unserialize()` answers `false` for garbage (and for a stored `false`, which never takes
/// this path: `false` is MessagePack).
fn unserialized(z: Zval) -> Result<Zval> {
    if z.is_false() {
        Err(Error::Corrupt("unserialize() failed".into()))
    } else {
        Ok(z)
    }
}

fn igbinary_loaded() -> bool {
    static LOADED: once_cell::sync::OnceCell<bool> = once_cell::sync::OnceCell::new();
    *LOADED.get_or_init(|| {
        let name = bytes_zval(b"igbinary");
        call("extension_loaded", &[&name])
            .map(|z| z.is_true())
            .unwrap_or(false)
    })
}

/// Calls a PHP function; a thrown exception becomes an error (and is cleared).
///
/// The function may run any PHP code (`__wakeup`, `__serialize`, autoloaders, error handlers),
/// which may end the request instead of returning: then this returns at once with an error and
/// [`interrupted`] is true until the native method has given control back to PHP.
/// - `exit()` leaves an unwind-exit object in `EG(exception)`: it is left there (it is not an
///   exception with methods) for PHP to finish the exit when the native method returns.
/// - A fatal error (`memory_limit`, ...) is a `zend_bailout()` (a longjmp): it is caught here so
///   that the Rust frames in between unwind normally (borrows, read transactions), and is raised
///   again when the native method returns (`errors::IntoPhp::php_code`).
fn call(name: &str, args: &[&Zval]) -> Result<Zval> {
    let f = ZendCallable::try_from_name(name)
        .map_err(|e| Error::Unsupported(format!("{name}: {e}")))?;
    let args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn> = args.iter().map(|a| *a as _).collect();
    let r = match try_catch(AssertUnwindSafe(|| f.try_call(args))) {
        Ok(r) => r,
        Err(CatchError::Bailout) => return Err(interrupt(name, Interrupt::Bailout)),
        Err(CatchError::Panic(message)) => std::panic::resume_unwind(Box::new(message)),
        Err(e) => return Err(Error::Unsupported(format!("{name}(): {e}"))),
    };
    if exiting() {
        return Err(interrupt(name, Interrupt::Exit));
    }
    if let Some(ex) = ExecutorGlobals::take_exception() {
        let msg = ex
            .into_zval(false)
            .ok()
            .and_then(|z| z.try_call_method("getMessage", vec![]).ok())
            .and_then(|m| m.string());
        return Err(Error::Unsupported(
            msg.unwrap_or_else(|| format!("{name}() threw")),
        ));
    }
    r.map_err(|e| Error::Unsupported(format!("{name}(): {e}")))
}

/// How PHP code run by [`call`] ended the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// `exit()`: PHP's unwind-exit object is in `EG(exception)`.
    Exit,
    /// A fatal error: a bailout was caught and is to be raised again.
    Bailout,
}

thread_local! {
    /// How PHP code ended the request during the current native call, until it returns.
    static INTERRUPT: Cell<Option<Interrupt>> = const { Cell::new(None) };
}

fn interrupt(name: &str, how: Interrupt) -> Error {
    INTERRUPT.with(|i| i.set(Some(how)));
    Error::Unsupported(format!("{name}() did not return (exit or a fatal error)"))
}

extern "C" {
    fn zend_is_unwind_exit(ex: *const zend_object) -> bool;
    fn zend_is_graceful_exit(ex: *const zend_object) -> bool;
}

/// Whether `EG(exception)` is PHP's unwind-exit (`exit()`) or graceful-exit object.
fn exiting() -> bool {
    let eg = ExecutorGlobals::get();
    eg.exception().is_some_and(|ex| {
        let ex: *const zend_object = ex;
        // SAFETY: a live object owned by the engine, read while the globals are held.
        unsafe { zend_is_unwind_exit(ex) || zend_is_graceful_exit(ex) }
    })
}

/// Whether PHP code run during this native call has ended the request: run no more PHP code,
/// write nothing, return to PHP.
pub fn interrupted() -> bool {
    INTERRUPT.with(Cell::get).is_some()
}

/// [`interrupted`], and forgets it: the native method is returning to PHP.
pub fn take_interrupt() -> Option<Interrupt> {
    INTERRUPT.with(Cell::take)
}

/// A PHP string argument as its bytes, not necessarily UTF-8 (a path, a namespace); declared
/// `string` to PHP.
pub struct Bytes<'a>(pub &'a [u8]);

impl<'a> ext_php_rs::convert::FromZval<'a> for Bytes<'a> {
    const TYPE: ext_php_rs::flags::DataType = ext_php_rs::flags::DataType::String;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        deref(zval).zend_str().map(|s| Bytes(s.as_bytes()))
    }
}
