//! Decoded arrays, kept per store object and handed out again while the stored bytes are
//! unchanged. A PHP array without objects is a value (copy-on-write), so sharing one decoded
//! array between reads is exactly what decoding it again would give, minus the decoding.
//! Validated by comparing the stored bytes, so it can never return stale data; bounded, and
//! gone with the store object (it never outlives the request).

use ext_php_rs::types::Zval;
use std::collections::HashMap;

/// Payloads shorter than this decode faster than they compare.
const MIN_PAYLOAD: usize = 64;
/// Bytes of payload kept at most (the decoded arrays take a few times this).
const MAX_BYTES: usize = 1 << 20;

#[derive(Default)]
pub struct Memo {
    map: HashMap<Vec<u8>, (Vec<u8>, Zval)>,
    bytes: usize,
}

impl Memo {
    /// The array decoded from `payload` under `key`, if this is what was decoded last time.
    pub fn get(&self, key: &[u8], payload: &[u8]) -> Option<Zval> {
        if payload.len() < MIN_PAYLOAD {
            return None;
        }
        match self.map.get(key) {
            Some((p, z)) if p.as_slice() == payload => Some(z.shallow_clone()),
            _ => None,
        }
    }

    /// Remembers `value`, decoded from `payload`, when it is an array worth keeping.
    pub fn put(&mut self, key: &[u8], payload: &[u8], value: &Zval) {
        if payload.len() < MIN_PAYLOAD || payload.len() > MAX_BYTES / 8 || !value.is_array() {
            return;
        }
        if self.bytes + payload.len() > MAX_BYTES {
            self.map.clear();
            self.bytes = 0;
        }
        self.bytes += payload.len();
        if let Some((old, _)) = self
            .map
            .insert(key.to_vec(), (payload.to_vec(), value.shallow_clone()))
        {
            self.bytes -= old.len();
        }
    }
}
