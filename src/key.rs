//! Key rules, namespacing and hashing of long keys.
//!
//! A storage key is `namespace ':' key`, or `namespace '#' sha256(key)` when that would be longer
//! than [`MAX_PLAIN_KEY`]. Namespaces may not contain `:` or `#`, and keys may not contain `:`,
//! so no two (namespace, key) pairs share a storage key and a namespace's keys share two prefixes.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// Characters PSR-6 and PSR-16 reserve; a key containing one is rejected.
pub const RESERVED: &[u8] = b"{}()/\\@:";
/// Longest storage key kept as is; longer ones are hashed (LMDB's limit is 511 bytes).
pub const MAX_PLAIN_KEY: usize = 400;
/// Longest namespace.
pub const MAX_NAMESPACE: usize = 64;

/// Checks a cache key: non-empty, no reserved character. Any length is fine.
pub fn validate_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey("a key cannot be empty".into()));
    }
    if let Some(c) = key.iter().find(|c| RESERVED.contains(c)) {
        return Err(Error::InvalidKey(format!(
            "\"{}\" contains the reserved character \"{}\"",
            String::from_utf8_lossy(key),
            *c as char
        )));
    }
    Ok(())
}

/// Checks a namespace: up to 64 of `A-Za-z0-9_.-`, possibly empty.
pub fn validate_namespace(ns: &str) -> Result<()> {
    namespace_from_bytes(ns.as_bytes()).map(|_| ())
}

/// A namespace given as bytes (PHP strings need not be UTF-8), checked as by
/// [`validate_namespace`].
pub fn namespace_from_bytes(ns: &[u8]) -> Result<String> {
    let ok = ns.len() <= MAX_NAMESPACE
        && ns
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'));
    match std::str::from_utf8(ns) {
        Ok(s) if ok => Ok(s.to_owned()),
        _ => Err(Error::InvalidConfig(format!(
            "namespace \"{}\" must be at most {MAX_NAMESPACE} characters of A-Za-z0-9_.-",
            String::from_utf8_lossy(ns)
        ))),
    }
}

/// The storage key of `key` in namespace `ns` (both already validated).
pub fn storage_key(ns: &str, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(ns.len() + 1 + key.len().min(64));
    storage_key_into(ns, key, &mut k);
    k
}

/// [`storage_key`] into a buffer that is reused from key to key.
pub fn storage_key_into(ns: &str, key: &[u8], out: &mut Vec<u8>) {
    if ns.len() + 1 + key.len() <= MAX_PLAIN_KEY {
        out.clear();
        out.extend_from_slice(ns.as_bytes());
        out.push(b':');
        out.extend_from_slice(key);
    } else {
        hashed_key_into(ns, key, out);
    }
}

/// The hashed form of a storage key, `ns '#' hex(sha256(key))`, whatever the key's length.
pub fn hashed_key_into(ns: &str, key: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(ns.as_bytes());
    out.push(b'#');
    hex_into(&Sha256::digest(key), out);
}

/// Appends `bytes` as lowercase hex (also SigV4's encoding).
pub fn hex_into(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for b in bytes {
        out.extend_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
    }
}

/// The prefixes every storage key of namespace `ns` starts with.
pub fn namespace_prefixes(ns: &str) -> [Vec<u8>; 2] {
    let mut plain = ns.as_bytes().to_vec();
    plain.push(b':');
    let mut hashed = ns.as_bytes().to_vec();
    hashed.push(b'#');
    [plain, hashed]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psr_minimum_keys_are_valid() {
        let k = b"Aa0_.Zz9".repeat(8);
        assert_eq!(k.len(), 64);
        assert!(validate_key(&k).is_ok());
        assert!(validate_key(&[0xff, 0x00, b'x']).is_ok());
    }

    #[test]
    fn reserved_and_empty_keys_are_rejected() {
        assert!(validate_key(b"").is_err());
        for c in RESERVED {
            assert!(validate_key(&[b'a', *c, b'b']).is_err(), "{}", *c as char);
        }
    }

    #[test]
    fn namespaces() {
        assert_eq!(namespace_from_bytes(b"app-1").unwrap(), "app-1");
        for bad in [&b"ns\xff"[..], b"\xc3", b"\xc3\xa9"] {
            assert!(matches!(
                namespace_from_bytes(bad),
                Err(Error::InvalidConfig(_))
            ));
        }
        assert!(validate_namespace("").is_ok());
        assert!(validate_namespace("app-1.v2_x").is_ok());
        for bad in ["a:b", "a#b", "a/b", "é", &"x".repeat(65)] {
            assert!(validate_namespace(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_keys_are_hashed_and_distinct() {
        let a = storage_key("ns", &b"a".repeat(1000));
        let b = storage_key("ns", &b"b".repeat(1000));
        assert_eq!(a.len(), 2 + 1 + 64);
        assert!(a.starts_with(b"ns#"));
        assert_ne!(a, b);
        assert_eq!(storage_key("ns", b"k"), b"ns:k");
        let [p, h] = namespace_prefixes("ns");
        assert!(a.starts_with(&h) && storage_key("ns", b"k").starts_with(&p));
    }
}
