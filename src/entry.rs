//! The stored entry: a 12-byte header and the encoded value.
//!
//! ```text
//! byte 0      magic 0xLC (0xC4)
//! byte 1      format version (1)
//! byte 2      encoding (see [`Encoding`])
//! byte 3      flags (bit 0: payload compressed with zstd; other bits must be 0)
//! bytes 4-11  expiry, milliseconds since the Unix epoch, little endian; 0 = never
//! bytes 12-   payload
//! ```

use crate::error::{Error, Result};

pub const MAGIC: u8 = 0xC4;
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 12;
/// Flag: the payload is a zstd frame.
pub const COMPRESSED: u8 = 1;
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
        if bytes[3] & !COMPRESSED != 0 {
            return Err(Error::Corrupt(format!("unknown flags {}", bytes[3])));
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&bytes[4..12]);
        Ok(Entry {
            encoding,
            expires_at_ms: u64::from_le_bytes(exp),
            compressed: bytes[3] & COMPRESSED != 0,
            payload: &bytes[HEADER_LEN..],
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

    #[test]
    fn malformed_entries_are_corrupt() {
        let good = encode(Encoding::Raw, 0, b"x");
        assert!(Entry::decode(&good[..5]).is_err());
        for (i, b) in [(0, 0u8), (1, 9), (2, 77), (3, 2)] {
            let mut bad = good.clone();
            bad[i] = b;
            assert!(
                matches!(Entry::decode(&bad), Err(Error::Corrupt(_))),
                "byte {i}"
            );
        }
    }
}
