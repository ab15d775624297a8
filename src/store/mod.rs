//! The store API: batch-first; single-key calls are the one-element case.

pub mod dynamodb;
pub mod metered;
pub mod tmp;
mod tmp_env;
mod tmp_lru;

use crate::entry::{self, Encoding, Entry, IntegrityKey};
use crate::error::{Error, Result};
use std::cell::RefCell;

/// What a store keeps: encoded entries (see `entry`) under cache keys of one namespace.
pub trait Store {
    /// Looks up `keys`; calls `found(index, entry)` for each live hit. Expired entries are misses.
    /// When `found` answers [`crate::Error::Corrupt`] the entry is deleted; any other error
    /// from `found` makes that key a miss and leaves the entry alone.
    fn get_many(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
    ) -> Result<()>;

    /// Writes `(key, encoded entry)` pairs, all or nothing.
    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()>;

    /// Deletes `keys`; missing keys are fine.
    fn delete_many(&self, keys: &[&[u8]]) -> Result<()>;

    /// Deletes every key of this store's namespace, and nothing else.
    fn clear(&self) -> Result<()>;

    /// Deletes expired and unreadable entries; returns how many.
    fn prune(&self) -> Result<u64>;

    /// The largest encoded entry this store keeps ([`frame`] refuses larger ones).
    fn max_entry_size(&self) -> usize;

    /// Payloads of at least this many bytes are worth compressing (0 = never).
    fn compress_threshold(&self) -> usize {
        0
    }

    /// [`Store::get_many`] for callers that report what they cannot read: an entry refused
    /// before decoding (see [`Sealed`]) comes to `found` as its error, so that it can be
    /// reported, and is then deleted like any corrupt entry.
    fn read(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Result<Entry<'_>>) -> Result<()>,
    ) -> Result<()> {
        self.get_many(keys, &mut |i, e| found(i, Ok(e)))
    }

    /// The key [`frame`] tags entries with (see [`Sealed`]); none by default.
    fn integrity(&self) -> Option<&IntegrityKey> {
        None
    }

    /// Told of a value [`frame`] refused before it reached the store (to count it).
    fn refused(&self, _error: &Error) {}
}

/// A store whose entries carry an integrity tag when it has an [`IntegrityKey`]: [`frame`]
/// tags what it writes, and every read verifies the tag before the entry reaches `found`, so
/// an entry without a valid tag (changed, or written with another key or none) is
/// [`Error::Corrupt`]: a miss, deleted and never decoded ([`Store::read`] hands the error to
/// `found` to report). Without a key it is the store itself.
pub struct Sealed<S> {
    store: S,
    key: Option<IntegrityKey>,
    verified: RefCell<Verified>,
}

/// The entries a [`Sealed`] store verified lately, in [`Verified::SLOTS`] slots picked by a
/// hash of the cache key (a direct-mapped cache, its buffers reused): reading the same bytes
/// under the same key again costs a compare instead of a MAC, since bytes equal to bytes whose
/// tag checked out are authentic. Only keys up to [`Verified::MAX_KEY`] and entries up to
/// [`Verified::MAX_ENTRY`] bytes are kept, so it holds at most about 1.3 MiB.
#[derive(Default)]
struct Verified {
    slots: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Verified {
    const SLOTS: usize = 1024;
    const MAX_KEY: usize = 256;
    const MAX_ENTRY: usize = 1024;

    /// The slot of `key` (FNV-1a: keys that share a slot only take turns).
    fn slot(&mut self, key: &[u8]) -> &mut (Vec<u8>, Vec<u8>) {
        if self.slots.is_empty() {
            self.slots.resize_with(Self::SLOTS, Default::default);
        }
        let h = key.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        &mut self.slots[(h as usize) & (Self::SLOTS - 1)]
    }
}

impl<S: Store> Sealed<S> {
    pub fn new(store: S, key: Option<IntegrityKey>) -> Self {
        Sealed {
            store,
            key,
            verified: RefCell::default(),
        }
    }

    /// Verifies `e` as the entry of `key`, through the bytes already verified.
    fn check(&self, mac: &IntegrityKey, key: &[u8], e: &Entry<'_>) -> Result<()> {
        let stored = e.stored();
        let mut verified = self.verified.borrow_mut();
        let (k, bytes) = verified.slot(key);
        if !bytes.is_empty() && bytes.as_slice() == stored && k.as_slice() == key {
            return Ok(());
        }
        mac.verify(key, e)?;
        if key.len() <= Verified::MAX_KEY && stored.len() <= Verified::MAX_ENTRY {
            k.clear();
            k.extend_from_slice(key);
            bytes.clear();
            bytes.extend_from_slice(stored);
        }
        Ok(())
    }
}

impl<S> std::ops::Deref for Sealed<S> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.store
    }
}

impl<S: Store> Store for Sealed<S> {
    fn get_many(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
    ) -> Result<()> {
        match &self.key {
            None => self.store.get_many(keys, found),
            Some(mac) => self.store.get_many(keys, &mut |i, e| {
                self.check(mac, keys[i], &e)?;
                found(i, e)
            }),
        }
    }

    fn read(
        &self,
        keys: &[&[u8]],
        found: &mut dyn FnMut(usize, Result<Entry<'_>>) -> Result<()>,
    ) -> Result<()> {
        match &self.key {
            None => self.store.get_many(keys, &mut |i, e| found(i, Ok(e))),
            Some(mac) => {
                self.store
                    .get_many(keys, &mut |i, e| match self.check(mac, keys[i], &e) {
                        Ok(()) => found(i, Ok(e)),
                        Err(err) => {
                            let _ = found(i, Err(err.clone()));
                            Err(err)
                        }
                    })
            }
        }
    }

    fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
        self.store.set_many(items)
    }

    fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
        self.store.delete_many(keys)
    }

    fn clear(&self) -> Result<()> {
        self.store.clear()
    }

    fn prune(&self) -> Result<u64> {
        self.store.prune()
    }

    fn max_entry_size(&self) -> usize {
        self.store.max_entry_size()
    }

    fn compress_threshold(&self) -> usize {
        self.store.compress_threshold()
    }

    fn integrity(&self) -> Option<&IntegrityKey> {
        self.key.as_ref()
    }
}

/// The entry `store` keeps for one value under `key`, the one way to make one: the key is
/// checked first (a bad key is [`Error::InvalidKey`] whatever the value), then `encode` gives
/// the payload, which is compressed from the store's threshold on and refused as
/// [`Error::TooLarge`] above its `max_entry_size` (its integrity tag included, when the store
/// has a key: [`Store::integrity`]). `expires_at_ms`: 0 = never.
pub fn frame(
    store: &dyn Store,
    key: &[u8],
    expires_at_ms: u64,
    encode: impl FnOnce() -> Result<(Encoding, Vec<u8>)>,
) -> Result<Vec<u8>> {
    let framed = frame_unreported(store, key, expires_at_ms, encode);
    if let Err(e) = &framed {
        store.refused(e);
    }
    framed
}

fn frame_unreported(
    store: &dyn Store,
    key: &[u8],
    expires_at_ms: u64,
    encode: impl FnOnce() -> Result<(Encoding, Vec<u8>)>,
) -> Result<Vec<u8>> {
    crate::key::validate_key(key)?;
    let (encoding, payload) = encode()?;
    let mut e = entry::encode_compressed(
        encoding,
        expires_at_ms,
        &payload,
        store.compress_threshold(),
    );
    if let Some(mac) = store.integrity() {
        mac.seal(key, &mut e);
    }
    let limit = store.max_entry_size();
    if e.len() > limit {
        return Err(Error::TooLarge {
            size: e.len(),
            limit,
        });
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A store in a map, to test what [`Sealed`] and [`frame`] add.
    #[derive(Default)]
    struct MapStore(RefCell<HashMap<Vec<u8>, Vec<u8>>>);

    impl Store for MapStore {
        fn get_many(
            &self,
            keys: &[&[u8]],
            found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
        ) -> Result<()> {
            let map = self.0.borrow();
            for (i, k) in keys.iter().enumerate() {
                if let Some(bytes) = map.get(*k) {
                    let _ = Entry::decode(bytes).and_then(|e| found(i, e));
                }
            }
            Ok(())
        }
        fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
            for (k, v) in items {
                self.0.borrow_mut().insert(k.to_vec(), v.to_vec());
            }
            Ok(())
        }
        fn delete_many(&self, _: &[&[u8]]) -> Result<()> {
            Ok(())
        }
        fn clear(&self) -> Result<()> {
            Ok(())
        }
        fn prune(&self) -> Result<u64> {
            Ok(0)
        }
        fn max_entry_size(&self) -> usize {
            1 << 20
        }
    }

    fn put(store: &dyn Store, key: &[u8], payload: &[u8]) {
        let e = frame(store, key, 0, || {
            Ok((Encoding::PhpSerialize, payload.to_vec()))
        })
        .unwrap();
        store.set_many(&[(key, &e)]).unwrap();
    }

    /// What `store` hands to `found` for `keys`: the payloads, or the error `found` never saw.
    fn read(store: &dyn Store, keys: &[&[u8]]) -> Vec<Option<Vec<u8>>> {
        let mut out = vec![None; keys.len()];
        store
            .get_many(keys, &mut |i, e| {
                out[i] = Some(e.payload.to_vec());
                Ok(())
            })
            .unwrap();
        out
    }

    fn key(secret: &[u8]) -> Option<IntegrityKey> {
        Some(IntegrityKey::new(secret, b"ns").unwrap())
    }

    #[test]
    fn a_keyed_store_reads_only_what_its_key_wrote_under_that_key() {
        let keyed = Sealed::new(MapStore::default(), key(b"secret-one-0123456789"));
        put(&keyed, b"own", b"O:1:\"X\":0:{}");
        assert_eq!(read(&keyed, &[b"own"]), [Some(b"O:1:\"X\":0:{}".to_vec())]);

        // Written by a store without a key, or with another one, into the same map.
        let map = &keyed.store;
        put(&Sealed::new(ShareMap(map), None), b"none", b"b:1;");
        put(
            &Sealed::new(ShareMap(map), key(b"secret-two-0123456789")),
            b"other",
            b"b:1;",
        );
        // Moved to another cache key, or changed in place.
        let own = map.0.borrow()[&b"own"[..]].clone();
        map.0.borrow_mut().insert(b"moved".to_vec(), own.clone());
        let mut changed = own;
        let last = changed.len() - entry::TAG_LEN - 1;
        changed[last] ^= 1;
        map.0.borrow_mut().insert(b"changed".to_vec(), changed);
        assert_eq!(
            read(&keyed, &[b"none", b"other", b"moved", b"changed", b"own"]),
            [None, None, None, None, Some(b"O:1:\"X\":0:{}".to_vec())]
        );

        // Without a key, tagged entries still read (the tag is not part of the payload).
        assert_eq!(
            read(&ShareMap(map), &[b"own", b"other"]),
            [Some(b"O:1:\"X\":0:{}".to_vec()), Some(b"b:1;".to_vec())]
        );
    }

    #[test]
    fn an_entry_changed_after_it_was_verified_is_refused() {
        let keyed = Sealed::new(MapStore::default(), key(b"secret-one-0123456789"));
        put(&keyed, b"k", b"s:5:\"first\";");
        for _ in 0..2 {
            assert_eq!(read(&keyed, &[b"k"]), [Some(b"s:5:\"first\";".to_vec())]);
        }
        let map = &keyed.store;
        let mut changed = map.0.borrow()[&b"k"[..]].clone();
        let at = entry::HEADER_LEN + 5;
        changed[at] ^= 1;
        map.0.borrow_mut().insert(b"k".to_vec(), changed.clone());
        assert_eq!(read(&keyed, &[b"k"]), [None]);
        // Entries a key verified under one cache key do not pass under another.
        map.0.borrow_mut().insert(b"k2".to_vec(), changed);
        put(&keyed, b"k", b"s:5:\"first\";");
        assert_eq!(read(&keyed, &[b"k"]), [Some(b"s:5:\"first\";".to_vec())]);
        let own = map.0.borrow()[&b"k"[..]].clone();
        map.0.borrow_mut().insert(b"k2".to_vec(), own);
        assert_eq!(
            read(&keyed, &[b"k2", b"k"]),
            [None, Some(b"s:5:\"first\";".to_vec())]
        );
        // Large entries are verified on every read, never remembered.
        let big = vec![b'x'; Verified::MAX_ENTRY + 1];
        put(&keyed, b"big", &big);
        assert_eq!(read(&keyed, &[b"big"]), [Some(big.clone())]);
        assert!(keyed.verified.borrow_mut().slot(b"big").1.is_empty());
        let mut changed = map.0.borrow()[&b"big"[..]].clone();
        changed[entry::HEADER_LEN] ^= 1;
        map.0.borrow_mut().insert(b"big".to_vec(), changed);
        assert_eq!(read(&keyed, &[b"big"]), [None]);
    }

    #[test]
    fn read_hands_refused_entries_to_found_as_errors() {
        let keyed = Sealed::new(MapStore::default(), key(b"secret-one-0123456789"));
        put(&keyed, b"own", b"i:1;");
        put(&Sealed::new(ShareMap(&keyed.store), None), b"none", b"i:2;");
        let mut seen = Vec::new();
        keyed
            .read(&[b"own", b"none", b"absent"], &mut |i, e| {
                seen.push((i, e.map(|e| e.payload.to_vec())));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[0], (0, Ok(b"i:1;".to_vec())));
        assert!(matches!(seen[1], (1, Err(Error::Corrupt(_)))));
    }

    #[test]
    fn the_tag_counts_towards_the_entry_size_limit() {
        let keyed = Sealed::new(MapStore::default(), key(b"secret-one-0123456789"));
        let fits = 1usize << 20;
        let payload = vec![b'x'; fits - entry::HEADER_LEN];
        assert!(frame(&MapStore::default(), b"k", 0, || Ok((
            Encoding::Raw,
            payload.clone()
        )))
        .is_ok());
        assert!(matches!(
            frame(&keyed, b"k", 0, || Ok((Encoding::Raw, payload))),
            Err(Error::TooLarge { .. })
        ));
    }

    /// A second handle on a [`MapStore`]'s map.
    struct ShareMap<'a>(&'a MapStore);

    impl Store for ShareMap<'_> {
        fn get_many(
            &self,
            keys: &[&[u8]],
            found: &mut dyn FnMut(usize, Entry<'_>) -> Result<()>,
        ) -> Result<()> {
            self.0.get_many(keys, found)
        }
        fn set_many(&self, items: &[(&[u8], &[u8])]) -> Result<()> {
            self.0.set_many(items)
        }
        fn delete_many(&self, keys: &[&[u8]]) -> Result<()> {
            self.0.delete_many(keys)
        }
        fn clear(&self) -> Result<()> {
            Ok(())
        }
        fn prune(&self) -> Result<u64> {
            Ok(0)
        }
        fn max_entry_size(&self) -> usize {
            self.0.max_entry_size()
        }
    }
}
