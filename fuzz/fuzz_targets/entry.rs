//! The stored entry header (`entry::Entry::decode`) on arbitrary bytes. Invariants: it never
//! panics; it accepts exactly a 12-byte header with the magic, version 1, a known encoding and
//! no unknown flag (and, when tagged, room for the tag after the header); the payload is what lies
//! between the header and the tag; an accepted untagged, uncompressed entry encodes back to the
//! same bytes; a
//! compressed one uncompresses without panicking (or is corrupt); and any payload survives
//! `encode_compressed` then `decode` then `plain`.
#![no_main]

use lambda_cache::entry::{self, Entry, HEADER_LEN, MAGIC, TAGGED, TAG_LEN, VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoded = Entry::decode(data);
    let tagged = data.len() > 3 && data[3] & TAGGED != 0;
    let tag = if tagged { TAG_LEN } else { 0 };
    let valid = data.len() >= HEADER_LEN + tag
        && data[0] == MAGIC
        && data[1] == VERSION
        && data[2] <= 3
        && data[3] & !(entry::COMPRESSED | TAGGED) == 0;
    assert_eq!(decoded.is_ok(), valid);
    if let Ok(e) = decoded {
        assert_eq!(e.payload, &data[HEADER_LEN..data.len() - tag]);
        assert_eq!(e.tagged, tagged);
        assert_eq!(e.compressed, data[3] & entry::COMPRESSED != 0);
        if e.compressed {
            let mut buf = Vec::new();
            if let Ok(p) = e.plain(&mut buf) {
                assert!(!p.compressed);
            }
        } else if !tagged {
            assert_eq!(entry::encode(e.encoding, e.expires_at_ms, e.payload), data);
        }
        let _ = e.is_expired(u64::from_le_bytes([data[4]; 8]));
    }
    // Round trip of the input as a payload, compressed when it is worth it.
    let (head, payload) = data.split_at(data.len().min(9));
    let expiry = head.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
    let threshold = usize::from(*head.first().unwrap_or(&0)) % 4;
    let encoding = if payload.is_empty() {
        entry::Encoding::Raw
    } else {
        entry::Encoding::MsgPack
    };
    let stored = entry::encode_compressed(encoding, expiry, payload, threshold);
    let e = Entry::decode(&stored).expect("an encoded entry decodes");
    assert_eq!((e.encoding, e.expires_at_ms), (encoding, expiry));
    let mut buf = Vec::new();
    assert_eq!(e.plain(&mut buf).expect("it uncompresses").payload, payload);
});
