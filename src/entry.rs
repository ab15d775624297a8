//! The stored entry: a 12-byte header and the encoded value.
//!
//! ```text
//! byte 0      magic 0xLC (0xC4)
//! byte 1      format version (1)
//! byte 2      encoding (see [`Encoding`])
//! byte 3      flags (bit 0: payload compressed with zstd; bit 1: tagged; other bits must be 0)
//! bytes 4-11  expiry, milliseconds since the Unix epoch, little endian; 0 = never
//! bytes 12-   payload
//! last 16     when tagged: the integrity tag, a MAC over the storage key and every byte
//!             before it (see [`IntegrityKey`])
//! ```

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use siphasher::sip128::{Hasher128, SipHasher24};
use std::hash::Hasher;

pub const MAGIC: u8 = 0xC4;
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 12;
/// Flag: the payload is a zstd frame.
pub const COMPRESSED: u8 = 1;
/// Flag: the entry ends with a [`TAG_LEN`]-byte integrity tag.
pub const TAGGED: u8 = 2;
/// The length of an integrity tag.
pub const TAG_LEN: usize = 16;
/// zstd level, chosen by `benches/compression.rs` (docs/decisions.md).
const ZSTD_LEVEL: i32 = 1;
/// A compressed payload never expands past this (a cache value, not an archive).
const MAX_DECOMPRESSED: u64 = 64 << 20;

/// How the payload encodes the PHP value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Encoding {
    /// A PHP string, stored as its bytes.
    Raw = 0,
    /// Any value without objects, as MessagePack (see `codec`).
    MsgPack = 1,
    /// PHP's `serialize()` output.
    PhpSerialize = 2,
    /// igbinary's output.
    Igbinary = 3,
}

impl Encoding {
    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => Encoding::Raw,
            1 => Encoding::MsgPack,
            2 => Encoding::PhpSerialize,
            3 => Encoding::Igbinary,
            _ => return None,
        })
    }
}

/// A decoded view of a stored entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    pub encoding: Encoding,
    /// Milliseconds since the epoch; 0 = never expires.
    pub expires_at_ms: u64,
    /// Whether `payload` is compressed; see [`Entry::plain`].
    pub compressed: bool,
    pub payload: &'a [u8],
    /// Whether the stored entry ends with an integrity tag (not part of `payload`).
    pub tagged: bool,
    /// The entry as stored, which the integrity tag covers (kept by [`Entry::plain`]).
    stored: &'a [u8],
}

impl<'a> Entry<'a> {
    /// Parses stored bytes; anything malformed is [`Error::Corrupt`].
    pub fn decode(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() < HEADER_LEN {
            return Err(Error::Corrupt(format!(
                "{} bytes is shorter than the header",
                bytes.len()
            )));
        }
        if bytes[0] != MAGIC || bytes[1] != VERSION {
            return Err(Error::Corrupt("unknown magic or format version".into()));
        }
        let encoding = Encoding::from_u8(bytes[2])
            .ok_or_else(|| Error::Corrupt(format!("unknown encoding {}", bytes[2])))?;
        if bytes[3] & !(COMPRESSED | TAGGED) != 0 {
            return Err(Error::Corrupt(format!("unknown flags {}", bytes[3])));
        }
        let tagged = bytes[3] & TAGGED != 0;
        let end = if tagged {
            bytes
                .len()
                .checked_sub(TAG_LEN)
                .filter(|&end| end >= HEADER_LEN)
                .ok_or_else(|| Error::Corrupt("tagged entry shorter than its tag".into()))?
        } else {
            bytes.len()
        };
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&bytes[4..12]);
        Ok(Entry {
            encoding,
            expires_at_ms: u64::from_le_bytes(exp),
            compressed: bytes[3] & COMPRESSED != 0,
            payload: &bytes[HEADER_LEN..end],
            tagged,
            stored: bytes,
        })
    }

    /// The entry with its payload uncompressed (into `buf` when it was compressed).
    pub fn plain<'b>(&'b self, buf: &'b mut Vec<u8>) -> Result<Entry<'b>> {
        if !self.compressed {
            return Ok(*self);
        }
        let size = zstd::zstd_safe::get_frame_content_size(self.payload)
            .ok()
            .flatten()
            .filter(|&n| n <= MAX_DECOMPRESSED)
            .ok_or_else(|| {
                Error::Corrupt("compressed payload of unknown or excessive size".into())
            })?;
        *buf = zstd::bulk::decompress(self.payload, size as usize)
            .map_err(|e| Error::Corrupt(format!("cannot decompress: {e}")))?;
        Ok(Entry {
            compressed: false,
            payload: buf,
            ..*self
        })
    }

    /// The entry's bytes as stored (header, payload as stored, tag).
    pub fn stored(&self) -> &'a [u8] {
        self.stored
    }

    /// Whether the entry is expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms != 0 && self.expires_at_ms <= now_ms
    }
}

/// Encodes an entry into its stored bytes.
pub fn encode(encoding: Encoding, expires_at_ms: u64, payload: &[u8]) -> Vec<u8> {
    encode_flagged(encoding, expires_at_ms, 0, payload)
}

/// Encodes an entry, compressing payloads of at least `threshold` bytes (0 = never) when
/// that makes them smaller.
pub fn encode_compressed(
    encoding: Encoding,
    expires_at_ms: u64,
    payload: &[u8],
    threshold: usize,
) -> Vec<u8> {
    if threshold > 0 && payload.len() >= threshold {
        if let Ok(z) = zstd::bulk::compress(payload, ZSTD_LEVEL) {
            if z.len() < payload.len() {
                return encode_flagged(encoding, expires_at_ms, COMPRESSED, &z);
            }
        }
    }
    encode(encoding, expires_at_ms, payload)
}

/// The secret of `integrityKey`: it tags every entry a store writes with a MAC over the
/// namespace, the cache key and the entry's bytes, and makes an entry without a valid tag a
/// corrupt entry (a miss, reported) before anything decodes it. The MAC is SipHash-2-4 with
/// 128-bit output (`benches/mac.rs`, docs/decisions.md), keyed with the first 128 bits of
/// SHA-256 over the secret.
#[derive(Clone)]
pub struct IntegrityKey {
    k0: u64,
    k1: u64,
    namespace: Vec<u8>,
}

impl std::fmt::Debug for IntegrityKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntegrityKey(..)")
    }
}

/// The environment variable that gives the integrity key when a pool is given none.
pub const INTEGRITY_KEY_ENV: &str = "LAMBDA_CACHE_INTEGRITY_KEY";

impl IntegrityKey {
    /// The shortest secret accepted, in bytes.
    pub const MIN_LEN: usize = 16;

    /// A key from `secret` (at least [`Self::MIN_LEN`] bytes) for the entries of `namespace`.
    pub fn new(secret: &[u8], namespace: &[u8]) -> Result<Self> {
        if secret.len() < Self::MIN_LEN {
            return Err(Error::InvalidConfig(format!(
                "integrityKey must be at least {} bytes (use a random secret of 32 bytes or more)",
                Self::MIN_LEN
            )));
        }
        let digest = Sha256::new()
            .chain_update(b"lambda-cache integrity key 1\0")
            .chain_update(secret)
            .finalize();
        let word = |i: usize| u64::from_le_bytes(digest[i..i + 8].try_into().expect("8 bytes"));
        Ok(IntegrityKey {
            k0: word(0),
            k1: word(8),
            namespace: namespace.to_vec(),
        })
    }

    /// The key a store uses: `given`, else the environment variable [`INTEGRITY_KEY_ENV`]; none
    /// when that is unset or empty (an empty `given` turns integrity off whatever the
    /// environment says).
    pub fn resolve(given: Option<&[u8]>, namespace: &[u8]) -> Result<Option<Self>> {
        let from_env;
        let secret = match given {
            Some(s) => s,
            None => {
                from_env = std::env::var_os(INTEGRITY_KEY_ENV).unwrap_or_default();
                from_env.as_encoded_bytes()
            }
        };
        if secret.is_empty() {
            return Ok(None);
        }
        Self::new(secret, namespace).map(Some)
    }

    fn tag(&self, key: &[u8], covered: &[u8]) -> [u8; TAG_LEN] {
        let mut h = SipHasher24::new_with_keys(self.k0, self.k1);
        h.write(&(self.namespace.len() as u64).to_le_bytes());
        h.write(&self.namespace);
        h.write(&(key.len() as u64).to_le_bytes());
        h.write(key);
        h.write(covered);
        h.finish128().as_bytes()
    }

    /// Tags `entry` (the bytes [`encode`] made) as the entry of `key`.
    pub fn seal(&self, key: &[u8], entry: &mut Vec<u8>) {
        entry[3] |= TAGGED;
        let tag = self.tag(key, entry);
        entry.extend_from_slice(&tag);
    }

    /// Whether `e` is the entry this key tagged for `key`; anything else is corrupt.
    pub fn verify(&self, key: &[u8], e: &Entry<'_>) -> Result<()> {
        if !e.tagged {
            return Err(Error::Corrupt(
                "no integrity tag (written without integrityKey)".into(),
            ));
        }
        let (covered, tag) = e.stored.split_at(e.stored.len() - TAG_LEN);
        let expected = self.tag(key, covered);
        let diff = expected.iter().zip(tag).fold(0u8, |d, (a, b)| d | (a ^ b));
        if diff != 0 {
            return Err(Error::Corrupt(
                "integrity tag does not match (changed, or written with another integrityKey)"
                    .into(),
            ));
        }
        Ok(())
    }
}

fn encode_flagged(encoding: Encoding, expires_at_ms: u64, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&[MAGIC, VERSION, encoding as u8, flags]);
    out.extend_from_slice(&expires_at_ms.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_above_the_threshold_round_trips() {
        let text = b"the same words again and again ".repeat(100);
        let small = encode_compressed(Encoding::Raw, 5, b"short", 64);
        assert!(!Entry::decode(&small).unwrap().compressed);
        let big = encode_compressed(Encoding::Raw, 5, &text, 64);
        assert!(big.len() < text.len() / 4);
        let e = Entry::decode(&big).unwrap();
        assert!(e.compressed);
        let mut buf = Vec::new();
        let plain = e.plain(&mut buf).unwrap();
        assert_eq!(
            (plain.payload, plain.expires_at_ms, plain.compressed),
            (&text[..], 5, false)
        );
        // Incompressible payloads stay as they are.
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        assert!(
            !Entry::decode(&encode_compressed(Encoding::Raw, 0, &noise, 64))
                .unwrap()
                .compressed
        );
        // A compressed flag on bytes that are not zstd is corrupt, not a crash.
        let mut bad = encode(Encoding::Raw, 0, b"not zstd at all");
        bad[3] = COMPRESSED;
        assert!(matches!(
            Entry::decode(&bad).unwrap().plain(&mut buf),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn round_trip_and_expiry() {
        let bytes = encode(Encoding::MsgPack, 1_000, b"payload");
        let e = Entry::decode(&bytes).unwrap();
        assert_eq!(e.encoding, Encoding::MsgPack);
        assert_eq!(e.payload, b"payload");
        assert!(!e.is_expired(999));
        assert!(e.is_expired(1_000));
        let never = encode(Encoding::Raw, 0, b"");
        assert!(!Entry::decode(&never).unwrap().is_expired(u64::MAX));
    }

    fn sealed(mac: &IntegrityKey, key: &[u8], payload: &[u8], threshold: usize) -> Vec<u8> {
        let mut e = encode_compressed(Encoding::PhpSerialize, 7, payload, threshold);
        mac.seal(key, &mut e);
        e
    }

    #[test]
    fn a_sealed_entry_verifies_for_its_key_and_namespace_only() {
        let mac = IntegrityKey::new(b"0123456789abcdef-secret", b"app").unwrap();
        let text = b"O:8:\"DateTime\":0:{}".repeat(100);
        for threshold in [0, 64] {
            let bytes = sealed(&mac, b"k", &text, threshold);
            assert_eq!(bytes[3] & TAGGED, TAGGED);
            let e = Entry::decode(&bytes).unwrap();
            assert!(e.tagged);
            assert_eq!((e.compressed, e.expires_at_ms), (threshold > 0, 7));
            assert_eq!(mac.verify(b"k", &e), Ok(()));
            // The tag is not part of the payload, and survives decompression.
            let mut buf = Vec::new();
            let plain = e.plain(&mut buf).unwrap();
            assert_eq!(plain.payload, &text[..]);
            assert_eq!(mac.verify(b"k", &plain), Ok(()));
            // Another cache key, namespace or secret: corrupt.
            let other_ns = IntegrityKey::new(b"0123456789abcdef-secret", b"app2").unwrap();
            let other_secret = IntegrityKey::new(b"0123456789abcdef-other", b"app").unwrap();
            for (what, m, key) in [
                ("key", &mac, &b"k2"[..]),
                ("namespace", &other_ns, b"k"),
                ("secret", &other_secret, b"k"),
            ] {
                assert!(
                    matches!(m.verify(key, &e), Err(Error::Corrupt(_))),
                    "{what}"
                );
            }
        }
    }

    #[test]
    fn every_changed_byte_of_a_sealed_entry_fails_verification() {
        let mac = IntegrityKey::new(b"0123456789abcdef", b"").unwrap();
        let good = sealed(&mac, b"key", b"a:1:{i:0;O:1:\"X\":0:{}}", 0);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            let ok = Entry::decode(&bad).map(|e| mac.verify(b"key", &e));
            assert!(
                !matches!(ok, Ok(Ok(()))),
                "byte {i} changed and still verified"
            );
        }
        // Cut short or extended: never verified.
        for bad in [&good[..good.len() - 1], &[&good[..], b"x"].concat()[..]] {
            let ok = Entry::decode(bad).map(|e| mac.verify(b"key", &e));
            assert!(!matches!(ok, Ok(Ok(()))));
        }
    }

    #[test]
    fn an_untagged_entry_fails_verification_and_a_short_secret_is_refused() {
        let mac = IntegrityKey::new(b"0123456789abcdef", b"").unwrap();
        let plain = encode(Encoding::PhpSerialize, 0, b"O:1:\"X\":0:{}");
        let e = Entry::decode(&plain).unwrap();
        assert!(!e.tagged);
        assert!(matches!(mac.verify(b"k", &e), Err(Error::Corrupt(_))));
        // Stripping the flag off a sealed entry leaves the tag in the payload: corrupt.
        let mut stripped = sealed(&mac, b"k", b"x", 0);
        stripped[3] &= !TAGGED;
        let e = Entry::decode(&stripped).unwrap();
        assert!(matches!(mac.verify(b"k", &e), Err(Error::Corrupt(_))));
        // A tagged flag on an entry too short for a tag is corrupt.
        let mut short = encode(Encoding::Raw, 0, b"abc");
        short[3] = TAGGED;
        assert!(matches!(Entry::decode(&short), Err(Error::Corrupt(_))));
        assert!(matches!(
            IntegrityKey::new(b"fifteen bytes..", b""),
            Err(Error::InvalidConfig(_))
        ));
        assert!(matches!(IntegrityKey::resolve(Some(b""), b"ns"), Ok(None)));
        assert_eq!(format!("{mac:?}"), "IntegrityKey(..)");
    }

    #[test]
    fn malformed_entries_are_corrupt() {
        let good = encode(Encoding::Raw, 0, b"x");
        assert!(Entry::decode(&good[..5]).is_err());
        for (i, b) in [(0, 0u8), (1, 9), (2, 77), (3, 4)] {
            let mut bad = good.clone();
            bad[i] = b;
            assert!(
                matches!(Entry::decode(&bad), Err(Error::Corrupt(_))),
                "byte {i}"
            );
        }
    }
}
