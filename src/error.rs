//! The one error type of the core. The binding maps it to PHP exceptions in exactly one place
//! (`src/php/errors.rs`); the PSR layer in `php/` turns those into PSR behaviour.

use std::fmt;

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A key that breaks the key rules (empty, reserved character).
    InvalidKey(String),
    /// A configuration value that cannot work (namespace, directory, size budget).
    InvalidConfig(String),
    /// A value that cannot be stored at all (a closure, a resource, a recursive array).
    Unsupported(String),
    /// An object whose class is not in `allowed_classes`.
    ClassNotAllowed(String),
    /// An encoded value larger than the store accepts.
    TooLarge { size: usize, limit: usize },
    /// A stored entry or file that cannot be read back; it is treated as a miss.
    Corrupt(String),
    /// The backing storage failed (I/O, LMDB).
    Storage(String),
    /// An argument of the wrong shape that is neither a key nor configuration (an expiry,
    /// arrays of different lengths).
    InvalidArgument(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidKey(m) => write!(f, "invalid key: {m}"),
            Error::InvalidConfig(m) => write!(f, "invalid configuration: {m}"),
            Error::Unsupported(m) => write!(f, "value cannot be cached: {m}"),
            Error::ClassNotAllowed(c) => write!(
                f,
                "value cannot be cached: class {c} is not in allowedClasses"
            ),
            Error::TooLarge { size, limit } => {
                write!(f, "value too large: {size} bytes encoded, limit {limit}")
            }
            Error::Corrupt(m) => write!(f, "corrupt entry: {m}"),
            Error::Storage(m) => write!(f, "storage error: {m}"),
            Error::InvalidArgument(m) => write!(f, "invalid argument: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<heed::Error> for Error {
    fn from(e: heed::Error) -> Self {
        Error::Storage(e.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Storage(e.to_string())
    }
}
