//! The store API: batch-first; single-key calls are the one-element case.

pub mod dynamodb;
pub mod tmp;
mod tmp_env;
mod tmp_lru;

use crate::entry::Entry;
use crate::error::Result;

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

    /// The largest encoded entry `set_many` accepts.
    fn max_entry_size(&self) -> usize;

    /// Payloads of at least this many bytes are worth compressing (0 = never).
    fn compress_threshold(&self) -> usize {
        0
    }
}
