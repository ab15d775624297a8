//! The store API: batch-first; single-key calls are the one-element case.

pub mod dynamodb;
pub mod tmp;
mod tmp_env;
mod tmp_lru;

use crate::entry::{self, Encoding, Entry, IntegrityKey};
use crate::error::{Error, Result};

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
}

/// A store whose entries carry an integrity tag when it has an [`IntegrityKey`]: [`frame`]
/// tags what it writes, and every read verifies the tag before the entry reaches `found`, so
/// an entry without a valid tag (changed, or written with another key or none) is
/// [`Error::Corrupt`]: a miss, deleted and never decoded ([`Store::read`] hands the error to
/// `found` to report). Without a key it is the store itself.
pub struct Sealed<S> {
    store: S,
    key: Option<IntegrityKey>,
}

impl<S: Store> Sealed<S> {
    pub fn new(store: S, key: Option<IntegrityKey>) -> Self {
        Sealed { store, key }
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
                mac.verify(keys[i], &e)?;
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
            Some(mac) => self
                .store
                .get_many(keys, &mut |i, e| match mac.verify(keys[i], &e) {
                    Ok(()) => found(i, Ok(e)),
                    Err(err) => {
                        let _ = found(i, Err(err.clone()));
                        Err(err)
                    }
                }),
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
    use std::cell::RefCell;
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
