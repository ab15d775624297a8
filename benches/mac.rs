//! Which MAC for `integrityKey` (docs/decisions.md): ns per tag over a storage key and an entry
//! of cache-like sizes, the key schedule done once as the stores do.
//! `cargo bench --no-default-features --bench mac`

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::hash::Hasher;
use std::hint::black_box;
use std::time::Instant;

fn ns_per_op(mut f: impl FnMut() -> u64) -> f64 {
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        let mut acc = 0u64;
        for _ in 0..n {
            acc = acc.wrapping_add(f());
        }
        black_box(acc);
        let s = t.elapsed().as_secs_f64();
        if s > 0.3 {
            return s * 1e9 / n as f64;
        }
        n *= 2;
    }
}

fn main() {
    let key = [7u8; 32];
    let hmac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    let blake = blake3::Hasher::new_keyed(&key);
    let (k0, k1) = (u64::from_le_bytes([7; 8]), u64::from_le_bytes([9; 8]));
    println!(
        "{:>8} {:>14} {:>14} {:>16}",
        "entry", "HMAC-SHA256", "BLAKE3 keyed", "SipHash-2-4-128"
    );
    for size in [32usize, 212, 1024, 8192] {
        let entry = vec![0x5au8; size];
        let storage_key = b"app|menu:item-42";
        let h = ns_per_op(|| {
            let mut m = hmac.clone();
            m.update(storage_key);
            m.update(&entry);
            m.finalize().into_bytes()[0] as u64
        });
        let b = ns_per_op(|| {
            let mut m = blake.clone();
            m.update(storage_key);
            m.update(&entry);
            m.finalize().as_bytes()[0] as u64
        });
        let s = ns_per_op(|| {
            let mut m = siphasher::sip128::SipHasher24::new_with_keys(k0, k1);
            m.write(storage_key);
            m.write(&entry);
            siphasher::sip128::Hasher128::finish128(&m).h1
        });
        println!("{size:>8} {h:>11.0} ns {b:>11.0} ns {s:>13.0} ns");
    }
}
