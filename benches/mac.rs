//! Which MAC for `integrityKey` (docs/decisions.md): time per tag over a storage key and an entry
//! of cache-like sizes, the key schedule done once as the stores do.
//! `cargo bench --no-default-features --bench mac` (divan)

use std::hash::Hasher;

use divan::{black_box, Bencher};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const SIZES: [usize; 4] = [32, 212, 1024, 8192];
const KEY: [u8; 32] = [7; 32];
const STORAGE_KEY: &[u8] = b"app|menu:item-42";

fn main() {
    divan::main();
}

#[divan::bench(args = SIZES)]
fn hmac_sha256(bencher: Bencher, size: usize) {
    let (mac, entry) = (
        Hmac::<Sha256>::new_from_slice(&KEY).unwrap(),
        vec![0x5au8; size],
    );
    bencher.bench_local(|| {
        let mut m = mac.clone();
        m.update(STORAGE_KEY);
        m.update(black_box(&entry));
        m.finalize().into_bytes()[0]
    });
}

#[divan::bench(args = SIZES)]
fn blake3_keyed(bencher: Bencher, size: usize) {
    let (mac, entry) = (blake3::Hasher::new_keyed(&KEY), vec![0x5au8; size]);
    bencher.bench_local(|| {
        let mut m = mac.clone();
        m.update(STORAGE_KEY);
        m.update(black_box(&entry));
        m.finalize().as_bytes()[0]
    });
}

#[divan::bench(args = SIZES)]
fn siphash_2_4_128(bencher: Bencher, size: usize) {
    let (k0, k1) = (u64::from_le_bytes([7; 8]), u64::from_le_bytes([9; 8]));
    let entry = vec![0x5au8; size];
    bencher.bench_local(|| {
        let mut m = siphasher::sip128::SipHasher24::new_with_keys(k0, k1);
        m.write(STORAGE_KEY);
        m.write(black_box(&entry));
        siphasher::sip128::Hasher128::finish128(&m).h1
    });
}
