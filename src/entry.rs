//! The stored entry: a 12-byte header and the encoded value.
//!
//! ```text
//! byte 0      magic 0xLC (0xC4)
//! byte 1      format version (1)
//! byte 2      encoding (see [`Encoding`])
//! byte 3      flags (bit 0: payload compressed; reserved, never set by version 1)
//! bytes 4-11  expiry, milliseconds since the Unix epoch, little endian; 0 = never
//! bytes 12-   payload
//! ```

use crate::error::{Error, Result};

pub const MAGIC: u8 = 0xC4;
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 12;

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
        if bytes[3] != 0 {
            return Err(Error::Corrupt(format!("unknown flags {}", bytes[3])));
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&bytes[4..12]);
        Ok(Entry {
            encoding,
            expires_at_ms: u64::from_le_bytes(exp),
            payload: &bytes[HEADER_LEN..],
        })
    }

    /// Whether the entry is expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms != 0 && self.expires_at_ms <= now_ms
    }
}

/// Encodes an entry into its stored bytes.
pub fn encode(encoding: Encoding, expires_at_ms: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&[MAGIC, VERSION, encoding as u8, 0]);
    out.extend_from_slice(&expires_at_ms.to_le_bytes());
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for (i, b) in [(0, 0u8), (1, 9), (2, 77), (3, 1)] {
            let mut bad = good.clone();
            bad[i] = b;
            assert!(
                matches!(Entry::decode(&bad), Err(Error::Corrupt(_))),
                "byte {i}"
            );
        }
    }
}
