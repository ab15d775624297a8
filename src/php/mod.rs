//! The ext-php-rs binding: one file per native class, conversion, one error map.

mod convert;
mod dynamodb_store;
mod errors;
mod memo;
mod ops;
mod store_class;
mod tmp_store;

use ext_php_rs::prelude::*;

/// The extension's version, as `phpversion('lambda_cache')` also reports it.
#[php_function]
pub fn lambda_cache_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .class::<errors::InvalidArgumentException>()
        .class::<errors::StoreException>()
        .class::<tmp_store::TmpStore>()
        .class::<dynamodb_store::DynamoDbStore>()
        .function(wrap_function!(lambda_cache_version))
}
