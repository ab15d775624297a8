//! The php.ini settings (`lambda_cache.*`, registered at module start-up, changeable
//! everywhere: `PHP_INI_ALL`) and `php --ri lambda_cache`. The settings are read as text at
//! each store's construction and handed to the core (`crate::settings`), which decides which
//! default applies and refuses invalid values.

use crate::aws::{runtime, source};
use crate::settings::{Settings, NAMES};
use ext_php_rs::ffi::zend_module_entry;
use ext_php_rs::flags::IniEntryPermission;
use ext_php_rs::zend::{IniEntryDef, IniEntryDefs, ModuleEntry};
use ext_php_rs::{info_table_end, info_table_row, info_table_start};
use std::ffi::{c_char, CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// Every setting, empty by default (unset: the environment's or the built-in default applies).
static INI: IniEntryDefs<10> = IniEntryDefs::new([
    IniEntryDef::new(c"lambda_cache.tmp_directory", c"", IniEntryPermission::All),
    IniEntryDef::new(c"lambda_cache.tmp_max_bytes", c"", IniEntryPermission::All),
    IniEntryDef::new(c"lambda_cache.dynamodb_table", c"", IniEntryPermission::All),
    IniEntryDef::new(
        c"lambda_cache.dynamodb_endpoint",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"lambda_cache.dynamodb_connect_timeout_ms",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"lambda_cache.dynamodb_attempt_timeout_ms",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"lambda_cache.dynamodb_operation_timeout_ms",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(
        c"lambda_cache.dynamodb_max_attempts",
        c"",
        IniEntryPermission::All,
    ),
    IniEntryDef::new(c"lambda_cache.metrics_emf", c"", IniEntryPermission::All),
    IniEntryDef::end(),
]);

extern "C" {
    /// Zend/zend_ini.h (PHP 8.0-8.5): the current value of a directive, NULL when unknown.
    fn zend_ini_string_ex(
        name: *const c_char,
        name_length: usize,
        orig: i32,
        exists: *mut bool,
    ) -> *mut c_char;
    /// Zend/zend_ini.h: the module's directives as phpinfo()'s table.
    fn display_ini_entries(module: *mut zend_module_entry);
    /// main/php_open_temporary_file.h: what `sys_get_temp_dir()` returns (`sys_temp_dir`,
    /// else `TMPDIR`, else /tmp).
    fn php_get_temporary_directory() -> *const c_char;
}

/// Module start-up: registers the settings (nothing else happens at MINIT).
pub fn startup(_type: i32, module_number: i32) -> i32 {
    IniEntryDef::register(INI.as_slice(), module_number);
    0
}

/// The settings' current values (php.ini, `-d`, `ini_set()`).
pub fn settings() -> Settings {
    Settings::from_lookup(|name| {
        let mut exists = false;
        // SAFETY: the name is a valid buffer of that length; the value returned is the
        // directive's NUL-terminated string, alive while the directive is unchanged (copied
        // at once).
        let value = unsafe { zend_ini_string_ex(name.as_ptr().cast(), name.len(), 0, &mut exists) };
        (!value.is_null()).then(|| unsafe { CStr::from_ptr(value) }.to_bytes().to_vec())
    })
}

/// PHP's temporary directory, as `sys_get_temp_dir()` gives it.
pub fn temp_dir() -> PathBuf {
    // SAFETY: PHP returns a NUL-terminated path it keeps for the process (or NULL).
    let dir = unsafe { php_get_temporary_directory() };
    if dir.is_null() {
        return PathBuf::from("/tmp");
    }
    PathBuf::from(OsStr::from_bytes(unsafe { CStr::from_ptr(dir) }.to_bytes()))
}

/// Facts fixed when the extension was built (build.rs).
const COMMIT: &str = env!("LAMBDA_CACHE_GIT_COMMIT");
const TARGET: &str = env!("LAMBDA_CACHE_TARGET");
const GLIBC_FLOOR: &str = env!("LAMBDA_CACHE_GLIBC_FLOOR");

/// `php --ri lambda_cache`, phpinfo(): version, build facts, this process's runtime state,
/// then the settings.
pub extern "C" fn info(module: *mut ModuleEntry) {
    let (runtimes, clients) = runtime::created();
    let created = |n: u64| match n {
        0 => "no".to_string(),
        n => format!("yes ({n} in this process)"),
    };
    info_table_start!();
    info_table_row!("LambdaCache support", "enabled");
    info_table_row!("Version", env!("CARGO_PKG_VERSION"));
    info_table_row!("Git commit", COMMIT);
    info_table_row!("Target", TARGET);
    info_table_row!("glibc floor", GLIBC_FLOOR);
    info_table_row!(
        "PHP extension API (built against)",
        ext_php_rs::ffi::ZEND_MODULE_API_NO.to_string()
    );
    info_table_row!("Tokio runtime created", created(runtimes));
    info_table_row!("DynamoDB client created", created(clients));
    info_table_row!("DynamoDB credential source", source::current());
    info_table_end!();
    debug_assert_eq!(NAMES.len() + 1, INI.as_slice().len());
    // SAFETY: `module` is this module's entry, which PHP passes to its info function.
    unsafe { display_ini_entries(module) };
}
