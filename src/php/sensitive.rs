//! `#[\SensitiveParameter]` on the native constructors' secret parameters, as PHP marks
//! `password_hash()`'s password: a constructor that throws (a typo in `endpoint`) would otherwise
//! show credentials and the integrity key in `getTrace()` (to error trackers that record
//! arguments) and in `getTraceAsString()`. ext-php-rs registers classes inside its module
//! start-up and has no parameter attributes, so this runs at the first request start-up of each
//! process (php-fpm workers included), once.

use super::dynamodb_store::DynamoDbStore;
use super::tmp_store::TmpStore;
use ext_php_rs::class::{ClassMetadata, RegisteredClass};
use ext_php_rs::ffi::{zend_string, HashTable};
use ext_php_rs::types::ZendStr;
use std::ffi::c_void;
use std::sync::Once;

extern "C" {
    /// Zend/zend_attributes.h, exported by PHP (the same from 8.0 to 8.5); ext-php-rs has no
    /// binding for it.
    fn zend_add_attribute(
        attributes: *mut *mut HashTable,
        name: *mut zend_string,
        argc: u32,
        flags: u32,
        offset: u32,
        lineno: u32,
    ) -> *mut c_void;
}

/// `ZEND_ATTRIBUTE_PERSISTENT`: the attribute of an internal function lives as long as it.
const ATTRIBUTE_PERSISTENT: u32 = 1;

/// Marks the secret parameters of both native constructors, once per process.
pub fn hide_secrets_from_traces() {
    static DONE: Once = Once::new();
    DONE.call_once(|| {
        // DynamoDbStore($options, $allowed_classes, $integrity_key): options hold
        // secretAccessKey and sessionToken.
        mark(DynamoDbStore::get_metadata(), &[1, 3]);
        // TmpStore($directory, $namespace, $max_bytes, $allowed_classes, $integrity_key).
        mark(TmpStore::get_metadata(), &[5]);
    });
}

/// Adds `#[\SensitiveParameter]` to the constructor parameters at `offsets` (1 = the first).
fn mark<T: RegisteredClass>(meta: &ClassMetadata<T>, offsets: &[u32]) {
    // Never a panic here (an extern "C" caller): a class that failed to register is left.
    if !meta.has_ce() {
        return;
    }
    let ctor = meta.ce().constructor;
    if ctor.is_null() {
        return;
    }
    for &offset in offsets {
        let name = ZendStr::new("SensitiveParameter", true);
        // SAFETY: `ctor` is the class's registered constructor, alive until module shutdown,
        // which frees its attributes; the attribute table and the attribute are allocated
        // persistent, as for every internal function.
        unsafe {
            zend_add_attribute(
                &raw mut (*ctor).common.attributes,
                name.as_ptr().cast_mut(),
                0,
                ATTRIBUTE_PERSISTENT,
                offset,
                0,
            );
        }
    }
}
