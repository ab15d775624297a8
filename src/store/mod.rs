//! The store API: batch-first; single-key calls are the one-element case.

pub mod dynamodb;
pub mod tmp;
mod tmp_env;
mod tmp_lru;

use crate::entry::{self, Encoding, Entry};
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
}

/// The entry `store` keeps for one value under `key`, the one way to make one: the key is
/// checked first (a bad key is [`Error::InvalidKey`] whatever the value), then `encode` gives
/// the payload, which is compressed from the store's threshold on and refused as
/// [`Error::TooLarge`] above its `max_entry_size`. `expires_at_ms`: 0 = never.
pub fn frame(
    store: &dyn Store,
    key: &[u8],
    expires_at_ms: u64,
    encode: impl FnOnce() -> Result<(Encoding, Vec<u8>)>,
) -> Result<Vec<u8>> {
    crate::key::validate_key(key)?;
    let (encoding, payload) = encode()?;
    let e = entry::encode_compressed(
        encoding,
        expires_at_ms,
        &payload,
        store.compress_threshold(),
    );
    let limit = store.max_entry_size();
    if e.len() > limit {
        return Err(Error::TooLarge {
            size: e.len(),
            limit,
        });
    }
    Ok(e)
}
