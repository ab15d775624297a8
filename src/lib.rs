//! LambdaCache: PSR-6 and PSR-16 caches for PHP on AWS Lambda (Bref), as a PHP extension.
//!
//! The core (every module here but `php`) knows nothing of PHP: it is the stores, the key
//! rules, the entry format, the value codec, the clock, and the AWS client the DynamoDB store
//! sends through (`aws`: HTTP, SigV4, retries, the per-process runtime), tested by
//! `cargo test` alone.
//! The `php` module (feature `php`, on by default) is the ext-php-rs binding.

pub mod aws;
pub mod classes;
pub mod clock;
pub mod codec;
pub mod entry;
pub mod error;
pub mod key;
pub mod metrics;
pub mod settings;
pub mod store;

pub use error::{Error, Result};

#[cfg(feature = "php")]
mod php;
