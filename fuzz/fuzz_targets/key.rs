//! Key validation and storage keys (`key`, and the DynamoDB item id built on them) on
//! arbitrary namespaces and keys. Invariants: they never panic; storage keys are
//! deterministic, start with one of the namespace's two prefixes, are the plain
//! `ns ':' key` up to `MAX_PLAIN_KEY` bytes and `ns '#' sha256` beyond; two different keys
//! never share a storage key; a DynamoDB id is within DynamoDB's 2048-byte partition key limit.
#![no_main]

use lambda_cache::key::{self, MAX_PLAIN_KEY};
use lambda_cache::store::dynamodb::item;
use libfuzzer_sys::fuzz_target;

/// DynamoDB's limit on a partition key's value.
const DYNAMODB_MAX_KEY: usize = 2048;

fuzz_target!(|data: &[u8]| {
    // [ns length] ns key1 0xFF-separated key2 (keys may be long: repeated by the last byte).
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let (ns, rest) = rest.split_at(usize::from(n % 80).min(rest.len()));
    let Ok(ns) = std::str::from_utf8(ns) else {
        return;
    };
    let ns_ok = ns.len() <= key::MAX_NAMESPACE
        && ns
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c));
    assert_eq!(key::validate_namespace(ns).is_ok(), ns_ok, "{ns:?}");
    if !ns_ok {
        return;
    }
    let mut parts = rest.splitn(2, |&c| c == 0xff);
    let k1 = parts
        .next()
        .unwrap_or_default()
        .repeat(1 + usize::from(n / 80));
    let k2 = parts.next().unwrap_or_default();
    for k in [&k1[..], k2] {
        let valid = key::validate_key(k).is_ok();
        assert_eq!(
            valid,
            !k.is_empty() && !k.iter().any(|c| key::RESERVED.contains(c))
        );
        if !valid {
            continue;
        }
        let s = key::storage_key(ns, k);
        assert_eq!(s, key::storage_key(ns, k), "not deterministic");
        let [plain, hashed] = key::namespace_prefixes(ns);
        if ns.len() + 1 + k.len() <= MAX_PLAIN_KEY {
            assert_eq!(s, [&plain[..], k].concat());
        } else {
            assert!(s.starts_with(&hashed) && s.len() == hashed.len() + 64);
            assert!(s.len() <= MAX_PLAIN_KEY);
        }
        let prefix = item::prefix(ns, u64::from(n) << 40);
        let id = item::id(&prefix, k);
        assert_eq!(id, item::id(&prefix, k));
        assert!(id.len() <= DYNAMODB_MAX_KEY, "id of {} bytes", id.len());
    }
    if k1 != k2 && key::validate_key(&k1).is_ok() && key::validate_key(k2).is_ok() {
        assert_ne!(key::storage_key(ns, &k1), key::storage_key(ns, k2));
        let p = item::prefix(ns, 7);
        assert_ne!(item::id(&p, &k1), item::id(&p, k2));
    }
});
