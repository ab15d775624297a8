//! The batch operations every native store class exposes, over any core `Store`: argument
//! conversion around the core calls, nothing more.

use super::convert;
use super::memo::Memo;
use crate::classes::ClassPolicy;
use crate::entry::{Encoding, Entry};
use crate::error::{Error, Result};
use crate::store::{frame, Store};
use ext_php_rs::boxed::ZBox;
use ext_php_rs::types::{ZendHashTable, Zval};
use std::cell::RefCell;

/// The bytes of a key: keys are strings (binary-safe); anything else is an invalid key.
pub fn key_of(z: &Zval) -> Result<&[u8]> {
    z.zend_str()
        .map(|s| s.as_bytes())
        .ok_or_else(|| Error::InvalidKey(format!("keys must be strings, got {}", z.get_type())))
}

/// The bytes of a list of keys, borrowed from the PHP array.
pub fn keys_of(list: &ZendHashTable) -> Result<Vec<&[u8]>> {
    list.values().map(key_of).collect()
}

/// The value under `key`, or `miss` (returned as is) when there is none. A stored value that
/// cannot be read back (class not allowed, corrupt) is an error, so that it gets reported.
pub fn get(
    store: &dyn Store,
    policy: &ClassPolicy,
    memo: &RefCell<Memo>,
    key: &Zval,
    miss: &Zval,
) -> Result<Zval> {
    let k = key_of(key)?;
    let mut out = Ok(None);
    store.read(&[k], &mut |_, e| {
        out = e.and_then(|e| decode(memo, k, &e, policy)).map(Some);
        out.as_ref().map(drop).map_err(Clone::clone)
    })?;
    Ok(out?.unwrap_or_else(|| miss.shallow_clone()))
}

/// `[hits, errors]` for `keys`: `position => value` for hits, `position => reason` for stored
/// values that could not be read back (they count as misses).
pub fn get_many(
    store: &dyn Store,
    policy: &ClassPolicy,
    memo: &RefCell<Memo>,
    keys: &ZendHashTable,
) -> Result<ZBox<ZendHashTable>> {
    let refs = keys_of(keys)?;
    let mut hits = ZendHashTable::with_capacity(refs.len() as u32);
    let mut errors = ZendHashTable::new();
    let mut ended = false;
    store.read(&refs, &mut |i, e| {
        if ended {
            // PHP code ended the request: run no more of it, return to PHP.
            return Err(Error::Unsupported("the request is ending".into()));
        }
        match e.and_then(|e| decode(memo, refs[i], &e, policy)) {
            Ok(v) => {
                let _ = hits.insert_at_index(i as i64, v);
                Ok(())
            }
            Err(err) => {
                ended = convert::interrupted();
                let _ = errors.insert_at_index(i as i64, err.to_string());
                Err(err)
            }
        }
    })?;
    let mut out = ZendHashTable::with_capacity(2);
    let _ = out.push(hits);
    let _ = out.push(errors);
    Ok(out)
}

/// Decodes an entry, through the memo for MessagePack arrays. The memo is borrowed only
/// around its own lookups: decoding other entries runs PHP code (`__wakeup`, autoloaders) that
/// may read through this same store again.
fn decode(memo: &RefCell<Memo>, key: &[u8], e: &Entry<'_>, policy: &ClassPolicy) -> Result<Zval> {
    if e.encoding != Encoding::MsgPack {
        return convert::decode(e, policy);
    }
    if let Some(z) = memo.borrow().get(key, e.payload) {
        return Ok(z);
    }
    let z = convert::decode(e, policy)?;
    memo.borrow_mut().put(key, e.payload, &z);
    Ok(z)
}

/// An expiry, in milliseconds since the epoch (0 = never): a non-negative integer.
fn expiry_of(z: &Zval) -> Result<u64> {
    match z.long() {
        Some(n) if n >= 0 => Ok(n as u64),
        n => Err(Error::InvalidArgument(format!(
            "an expiry must be a non-negative integer (milliseconds since the epoch, 0 = never), \
             got {}",
            n.map_or_else(|| format!("a {}", z.get_type()), |n| n.to_string())
        ))),
    }
}

/// Encodes and writes `values[i]` under `keys[i]` expiring at `expiries[i]` (ms, 0 = never).
/// Values that cannot be stored are left out and answered as `position => reason`; the
/// others are written in one transaction. A bad key or expiry fails the whole call.
pub fn set_many(
    store: &dyn Store,
    policy: &ClassPolicy,
    keys: &ZendHashTable,
    values: &ZendHashTable,
    expiries: &ZendHashTable,
) -> Result<ZBox<ZendHashTable>> {
    let n = keys.len();
    if values.len() != n || expiries.len() != n {
        return Err(Error::InvalidArgument(
            "keys, values and expiries must have the same length".into(),
        ));
    }
    let mut failed = ZendHashTable::new();
    let mut encoded = Vec::with_capacity(n);
    let rows = keys.values().zip(values.values()).zip(expiries.values());
    for (i, ((k, v), exp)) in rows.enumerate() {
        let k = key_of(k)?;
        match frame(store, k, expiry_of(exp)?, || convert::encode(v, policy)) {
            Ok(e) => encoded.push((k, e)),
            Err(err @ Error::InvalidKey(_)) => return Err(err),
            // PHP code ended the request: write nothing, return to PHP at once.
            Err(err) if convert::interrupted() => return Err(err),
            Err(err) => {
                let _ = failed.insert_at_index(i as i64, err.to_string());
            }
        }
    }
    if !encoded.is_empty() {
        let items: Vec<(&[u8], &[u8])> = encoded.iter().map(|(k, e)| (*k, &e[..])).collect();
        store.set_many(&items)?;
    }
    Ok(failed)
}

/// Encodes and writes one value; a value that cannot be stored is an error.
pub fn set(
    store: &dyn Store,
    policy: &ClassPolicy,
    key: &Zval,
    value: &Zval,
    expires_at_ms: &Zval,
) -> Result<()> {
    let k = key_of(key)?;
    let e = frame(store, k, expiry_of(expires_at_ms)?, || {
        convert::encode(value, policy)
    })?;
    store.set_many(&[(k, &e)])
}

pub fn delete_many(store: &dyn Store, keys: &ZendHashTable) -> Result<()> {
    store.delete_many(&keys_of(keys)?)
}

/// `allowedClasses`: `false` (no objects), `true` or `null` (any class, the default) or a list
/// of class names; anything else is a configuration error.
pub fn class_policy(z: &Zval) -> Result<ClassPolicy> {
    let invalid =
        || Error::InvalidConfig("allowedClasses must be a bool or a list of class names".into());
    if z.is_false() {
        Ok(ClassPolicy::None)
    } else if z.is_true() || z.is_null() {
        Ok(ClassPolicy::All)
    } else if let Some(list) = z.array() {
        let names: Option<Vec<&[u8]>> = list
            .values()
            .map(|n| n.zend_str().map(|s| s.as_bytes()))
            .collect();
        Ok(ClassPolicy::only(names.ok_or_else(invalid)?))
    } else {
        Err(invalid())
    }
}

/// `integrityKey`: the bytes of a string; `null` or nothing = from the environment.
pub fn secret_of(z: Option<&Zval>) -> Option<&[u8]> {
    z.and_then(|z| z.zend_str()).map(|s| s.as_bytes())
}

/// The counters of `crate::metrics` into a `stats()` array: integers, and floats for the
/// consumed capacity and the latency percentiles.
pub fn insert_metrics(out: &mut ZendHashTable, s: &crate::metrics::Snapshot, dynamodb: bool) {
    for (k, v) in s.values(dynamodb) {
        let _ = match v {
            crate::metrics::Value::Int(n) => out.insert(k.as_str(), n as i64),
            crate::metrics::Value::Float(f) => out.insert(k.as_str(), f),
        };
    }
}
