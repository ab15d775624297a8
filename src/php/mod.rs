//! The ext-php-rs binding: one file per native class, conversion, one error map.

mod convert;
mod dynamodb_store;
mod errors;
mod ini;
mod memo;
mod metrics;
mod ops;
mod sensitive;
mod store_class;
mod tmp_store;

use ext_php_rs::prelude::*;
use ini::startup;

/// The extension's version, as `phpversion('lambda_cache')` also reports it.
#[php_function]
pub fn lambda_cache_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Request start-up: what module start-up cannot do because ext-php-rs registers the classes
/// after it (see `sensitive`).
extern "C" fn request_startup(_type: i32, _module_number: i32) -> i32 {
    sensitive::hide_secrets_from_traces();
    0
}

/// Request shutdown: the pools' EMF lines (`metrics`).
extern "C" fn request_shutdown(_type: i32, _module_number: i32) -> i32 {
    metrics::request_shutdown();
    0
}

#[php_module]
#[php(startup = "startup")]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .info_function(ini::info)
        .request_startup_function(request_startup)
        .request_shutdown_function(request_shutdown)
        .class::<errors::InvalidArgumentException>()
        .class::<errors::StoreException>()
        .class::<tmp_store::TmpStore>()
        .class::<dynamodb_store::DynamoDbStore>()
        .function(wrap_function!(lambda_cache_version))
}
