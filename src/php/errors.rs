//! The one place where core errors become PHP exceptions.

use super::convert::{self, Interrupt};
use crate::error::Error;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::{bailout, ce};

/// Thrown by native classes for bad arguments (keys, configuration, expiries).
#[php_class]
#[php(name = "LambdaCache\\Native\\InvalidArgumentException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct InvalidArgumentException;

/// Thrown by native classes when the store fails; the PSR layer reports it and answers a miss
/// or `false`.
#[php_class]
#[php(name = "LambdaCache\\Native\\StoreException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct StoreException;

/// Exception codes, one per error kind (see README, "Errors").
pub fn code(e: &Error) -> i32 {
    match e {
        Error::InvalidKey(_) => 1,
        Error::InvalidConfig(_) => 2,
        Error::Unsupported(_) => 3,
        Error::ClassNotAllowed(_) => 4,
        Error::TooLarge { .. } => 5,
        Error::Corrupt(_) => 6,
        Error::Storage(_) => 7,
        Error::InvalidArgument(_) => 8,
    }
}

pub fn to_php(e: Error) -> PhpException {
    let ce = match e {
        Error::InvalidKey(_) | Error::InvalidConfig(_) | Error::InvalidArgument(_) => {
            <InvalidArgumentException as ext_php_rs::class::RegisteredClass>::get_metadata().ce()
        }
        _ => <StoreException as ext_php_rs::class::RegisteredClass>::get_metadata().ce(),
    };
    PhpException::new(message(&e), code(&e), ce)
}

/// The exception message of `e`. PHP takes messages as C strings: a NUL byte (keys and the
/// names of anonymous classes hold them) is written as `\0`, or the exception could not be
/// thrown at all.
fn message(e: &Error) -> String {
    e.to_string().replace('\0', "\\0")
}

/// `Result` of the binding: core errors convert with `?`.
pub type NResult<T> = std::result::Result<T, PhpException>;

pub trait IntoPhp<T> {
    fn php(self) -> NResult<T>;

    /// [`IntoPhp::php`] for calls that may have run PHP code (`serialize()`, `unserialize()`
    /// and what they call). If that code called `exit()`, the method returns a placeholder and
    /// throws nothing over PHP's exit; if it died of a fatal error, the bailout caught while
    /// the Rust frames below unwound goes on from here.
    fn php_code(self) -> NResult<T>
    where
        T: Placeholder;
}

impl<T> IntoPhp<T> for crate::Result<T> {
    fn php(self) -> NResult<T> {
        self.map_err(to_php)
    }

    fn php_code(self) -> NResult<T>
    where
        T: Placeholder,
    {
        match convert::take_interrupt() {
            None => self.php(),
            Some(Interrupt::Exit) => Ok(T::placeholder()),
            Some(Interrupt::Bailout) => {
                drop(self);
                // SAFETY: nothing of this call is left but this frame and the generated
                // handler, which catches the bailout and raises it again.
                unsafe { bailout() }
            }
        }
    }
}

/// The value a native method hands PHP while PHP unwinds an `exit()`; PHP never reads it.
pub trait Placeholder {
    fn placeholder() -> Self;
}

impl Placeholder for () {
    fn placeholder() -> Self {}
}

impl Placeholder for Zval {
    fn placeholder() -> Self {
        Zval::new()
    }
}

impl Placeholder for ZBox<ZendHashTable> {
    fn placeholder() -> Self {
        ZendHashTable::new()
    }
}
