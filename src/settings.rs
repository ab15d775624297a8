//! Site-wide defaults of the stores (php.ini `lambda_cache.*`; the binding reads them as text)
//! and the one rule for which default a store gets:
//!
//! **an option given to the pool > the setting > the environment > the built-in default.**
//!
//! The binding passes the options and the settings' text; parsing, checks and the order are
//! here, so the PHP classes and the binding decide nothing.

use crate::error::{Error, Result};
use crate::metrics::DEFAULT_EMF_NAMESPACE;
use crate::store::dynamodb::config::DynamoConfig;
use crate::store::tmp::TmpConfig;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The /tmp store's size budget when neither an option nor a setting gives one: 128 MiB of
/// Lambda's 512 MiB /tmp, which Bref's OPcache file cache shares.
pub const DEFAULT_TMP_MAX_BYTES: u64 = 128 * 1024 * 1024;

/// The directory under the temporary directory the /tmp store uses by default.
pub const TMP_SUBDIRECTORY: &str = "lambda-cache";

/// The settings' names (php.ini directives), in the order [`Settings::values`] gives them.
pub const NAMES: [&str; 9] = [
    "lambda_cache.tmp_directory",
    "lambda_cache.tmp_max_bytes",
    "lambda_cache.dynamodb_table",
    "lambda_cache.dynamodb_endpoint",
    "lambda_cache.dynamodb_connect_timeout_ms",
    "lambda_cache.dynamodb_attempt_timeout_ms",
    "lambda_cache.dynamodb_operation_timeout_ms",
    "lambda_cache.dynamodb_max_attempts",
    "lambda_cache.metrics_emf",
];

/// The settings as given (bytes: php.ini values need not be UTF-8). `None` or empty: unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    pub tmp_directory: Option<Vec<u8>>,
    pub tmp_max_bytes: Option<Vec<u8>>,
    pub dynamodb_table: Option<Vec<u8>>,
    pub dynamodb_endpoint: Option<Vec<u8>>,
    pub dynamodb_connect_timeout_ms: Option<Vec<u8>>,
    pub dynamodb_attempt_timeout_ms: Option<Vec<u8>>,
    pub dynamodb_operation_timeout_ms: Option<Vec<u8>>,
    pub dynamodb_max_attempts: Option<Vec<u8>>,
    pub metrics_emf: Option<Vec<u8>>,
}

impl Settings {
    /// Settings from a lookup by name (one of [`NAMES`]).
    pub fn from_lookup(mut get: impl FnMut(&str) -> Option<Vec<u8>>) -> Settings {
        let [a, b, c, d, e, f, g, h, i] = NAMES.map(|n| get(n).filter(|v| !v.is_empty()));
        Settings {
            tmp_directory: a,
            tmp_max_bytes: b,
            dynamodb_table: c,
            dynamodb_endpoint: d,
            dynamodb_connect_timeout_ms: e,
            dynamodb_attempt_timeout_ms: f,
            dynamodb_operation_timeout_ms: g,
            dynamodb_max_attempts: h,
            metrics_emf: i,
        }
    }
}

/// The rule, for one value: the option, else the setting, else the environment's.
pub fn pick<T>(
    option: Option<T>,
    setting: Option<T>,
    environment: impl FnOnce() -> Option<T>,
) -> Option<T> {
    option.or(setting).or_else(environment)
}

fn invalid(name: &str, value: &[u8], expected: &str) -> Error {
    Error::InvalidConfig(format!(
        "php.ini setting lambda_cache.{name} = \"{}\": {expected}",
        String::from_utf8_lossy(value).escape_debug()
    ))
}

fn text(name: &str, value: &Option<Vec<u8>>) -> Result<Option<String>> {
    value
        .as_deref()
        .map(|v| {
            std::str::from_utf8(v)
                .map(|s| s.trim().to_string())
                .map_err(|_| invalid(name, v, "not UTF-8"))
        })
        .transpose()
}

/// A positive integer, as in `5000`.
fn positive(name: &str, value: &Option<Vec<u8>>) -> Result<Option<u64>> {
    let Some(v) = value.as_deref() else {
        return Ok(None);
    };
    let s = std::str::from_utf8(v).unwrap_or("").trim();
    match s.parse::<u64>() {
        Ok(n) if n > 0 && s.bytes().all(|c| c.is_ascii_digit()) => Ok(Some(n)),
        _ => Err(invalid(name, v, "expected a positive integer")),
    }
}

/// A size in bytes, optionally with a K, M or G suffix (powers of 1024, as in `memory_limit`).
fn size(name: &str, value: &Option<Vec<u8>>) -> Result<Option<u64>> {
    let Some(v) = value.as_deref() else {
        return Ok(None);
    };
    let s = std::str::from_utf8(v).unwrap_or("").trim();
    let (digits, shift) = match s.as_bytes().last() {
        Some(b'k' | b'K') => (&s[..s.len() - 1], 10),
        Some(b'm' | b'M') => (&s[..s.len() - 1], 20),
        Some(b'g' | b'G') => (&s[..s.len() - 1], 30),
        _ => (s, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .filter(|_| !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|n| n.checked_mul(1 << shift))
        .map(Some)
        .ok_or_else(|| {
            invalid(
                name,
                v,
                "expected a size in bytes, optionally with K, M or G (e.g. 134217728 or 128M)",
            )
        })
}

/// The `metrics` option of a pool, or the `lambda_cache.metrics_emf` setting: EMF lines off,
/// on (namespace [`DEFAULT_EMF_NAMESPACE`]) or on under a CloudWatch namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emf {
    Off,
    On,
    Named(String),
}

/// Whether a pool writes EMF lines, and under which CloudWatch namespace: the option, else the
/// setting (`0`/`off`/`false`/`no`, `1`/`on`/`true`/`yes`, or a namespace), else off.
/// A namespace is 1-255 of `A-Za-z0-9 ._-/#:`, not starting with `AWS/` (CloudWatch's rules).
pub fn emf_namespace(settings: &Settings, option: Option<Emf>) -> Result<Option<String>> {
    let setting = text("metrics_emf", &settings.metrics_emf)?.map(|t| {
        match t.to_ascii_lowercase().as_str() {
            "0" | "off" | "false" | "no" => Emf::Off,
            "1" | "on" | "true" | "yes" => Emf::On,
            _ => Emf::Named(t),
        }
    });
    let from_setting = option.is_none();
    match pick(option, setting, || None) {
        None | Some(Emf::Off) => Ok(None),
        Some(Emf::On) => Ok(Some(DEFAULT_EMF_NAMESPACE.to_string())),
        Some(Emf::Named(n)) => {
            let ok = !n.is_empty()
                && n.len() <= 255
                && !n.starts_with("AWS/")
                && n.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b" ._-/#:".contains(&c));
            if ok {
                Ok(Some(n))
            } else if from_setting {
                Err(invalid(
                    "metrics_emf",
                    n.as_bytes(),
                    "expected On, Off or a CloudWatch namespace (1-255 of A-Za-z0-9 ._-/#:, \
                     not starting with AWS/)",
                ))
            } else {
                Err(Error::InvalidConfig(format!(
                    "metrics \"{}\": expected a bool or a CloudWatch namespace (1-255 of \
                     A-Za-z0-9 ._-/#:, not starting with AWS/)",
                    n.escape_debug()
                )))
            }
        }
    }
}

/// The /tmp store's configuration. `directory`: the option, else `lambda_cache.tmp_directory`,
/// else `<temp_dir()>/lambda-cache` (PHP's temporary directory: `sys_temp_dir`, else `TMPDIR`,
/// else /tmp). `max_bytes`: the option, else `lambda_cache.tmp_max_bytes`, else 128 MiB.
/// Invalid settings are refused even when an option overrides them.
pub fn tmp_config(
    settings: &Settings,
    directory: Option<PathBuf>,
    namespace: String,
    max_bytes: Option<u64>,
    temp_dir: impl FnOnce() -> PathBuf,
) -> Result<TmpConfig> {
    let setting_bytes = size("tmp_max_bytes", &settings.tmp_max_bytes)?;
    let setting_directory = settings
        .tmp_directory
        .as_deref()
        .map(|d| PathBuf::from(OsStr::from_bytes(d)));
    Ok(TmpConfig {
        directory: pick(directory, setting_directory, || {
            Some(temp_dir().join(TMP_SUBDIRECTORY))
        })
        .unwrap_or_default(),
        namespace,
        max_bytes: pick(max_bytes, setting_bytes, || None).unwrap_or(DEFAULT_TMP_MAX_BYTES),
    })
}

/// The DynamoDB store's configuration before the pool's options are laid over it: the built-in
/// defaults with the settings in their place. Table and endpoint stay `None` when unset, so
/// that `DynamoConfig::resolve` takes them from the environment (`DYNAMO_DB_TABLE`,
/// `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`). Invalid settings are refused even when
/// an option would override them.
pub fn dynamodb_config(settings: &Settings) -> Result<DynamoConfig> {
    let builtin = DynamoConfig::default();
    let max_attempts = positive("dynamodb_max_attempts", &settings.dynamodb_max_attempts)?
        .map(|n| n.min(u64::from(u32::MAX)) as u32);
    Ok(DynamoConfig {
        table: text("dynamodb_table", &settings.dynamodb_table)?,
        endpoint: text("dynamodb_endpoint", &settings.dynamodb_endpoint)?,
        connect_timeout_ms: positive(
            "dynamodb_connect_timeout_ms",
            &settings.dynamodb_connect_timeout_ms,
        )?
        .unwrap_or(builtin.connect_timeout_ms),
        attempt_timeout_ms: positive(
            "dynamodb_attempt_timeout_ms",
            &settings.dynamodb_attempt_timeout_ms,
        )?
        .unwrap_or(builtin.attempt_timeout_ms),
        operation_timeout_ms: positive(
            "dynamodb_operation_timeout_ms",
            &settings.dynamodb_operation_timeout_ms,
        )?
        .unwrap_or(builtin.operation_timeout_ms),
        max_attempts: max_attempts.unwrap_or(builtin.max_attempts),
        ..builtin
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn set(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_bytes().to_vec())
        })
    }

    fn refused(r: Result<impl std::fmt::Debug>) -> String {
        match r {
            Err(Error::InvalidConfig(m)) => m,
            other => panic!("accepted: {other:?}"),
        }
    }

    #[test]
    fn an_option_beats_a_setting_beats_the_environment_beats_the_builtin() {
        let env = || Some("env");
        assert_eq!(pick(Some("option"), Some("setting"), env), Some("option"));
        assert_eq!(pick(None, Some("setting"), env), Some("setting"));
        assert_eq!(pick(None, None, env), Some("env"));
        assert_eq!(pick::<&str>(None, None, || None), None);
        // The environment is not even read when a setting is given.
        assert_eq!(
            pick(None, Some(1), || -> Option<i32> { panic!("read") }),
            Some(1)
        );
    }

    #[test]
    fn the_tmp_store_takes_option_then_setting_then_the_temporary_directory() {
        let tmp = || PathBuf::from("/var/tmp");
        let none = Settings::default();
        let c = tmp_config(&none, None, "ns".into(), None, tmp).unwrap();
        assert_eq!(c.directory, Path::new("/var/tmp/lambda-cache"));
        assert_eq!(c.max_bytes, DEFAULT_TMP_MAX_BYTES);
        assert_eq!(c.namespace, "ns");

        let s = set(&[
            ("lambda_cache.tmp_directory", "/srv/cache"),
            ("lambda_cache.tmp_max_bytes", "64M"),
        ]);
        let c = tmp_config(&s, None, String::new(), None, || unreachable!()).unwrap();
        assert_eq!(
            (c.directory.as_path(), c.max_bytes),
            (Path::new("/srv/cache"), 64 << 20)
        );
        let c = tmp_config(&s, Some("/opt/x".into()), String::new(), Some(1 << 20), tmp).unwrap();
        assert_eq!(
            (c.directory.as_path(), c.max_bytes),
            (Path::new("/opt/x"), 1 << 20)
        );
    }

    #[test]
    fn dynamodb_settings_lie_between_the_options_and_the_environment() {
        let builtin = DynamoConfig::default();
        let c = dynamodb_config(&Settings::default()).unwrap();
        assert_eq!(
            c, builtin,
            "no setting: the built-in defaults, table and endpoint from the environment"
        );
        assert_eq!((c.table, c.endpoint), (None, None));

        let s = set(&[
            ("lambda_cache.dynamodb_table", "from_ini"),
            ("lambda_cache.dynamodb_endpoint", "http://127.0.0.1:1"),
            ("lambda_cache.dynamodb_connect_timeout_ms", "11"),
            ("lambda_cache.dynamodb_attempt_timeout_ms", "22"),
            ("lambda_cache.dynamodb_operation_timeout_ms", "33"),
            ("lambda_cache.dynamodb_max_attempts", "4"),
        ]);
        let c = dynamodb_config(&s).unwrap();
        assert_eq!(c.table.as_deref(), Some("from_ini"));
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:1"));
        assert_eq!(
            (
                c.connect_timeout_ms,
                c.attempt_timeout_ms,
                c.operation_timeout_ms,
                c.max_attempts
            ),
            (11, 22, 33, 4)
        );
        // A table from the setting is resolved as given: the environment is never asked.
        let resolved = DynamoConfig {
            region: Some("eu-west-1".into()),
            access_key_id: Some("AKID".into()),
            secret_access_key: Some("secret".into()),
            ..c
        }
        .resolve()
        .unwrap();
        assert_eq!(resolved.table, "from_ini");
        assert_eq!(resolved.endpoint.as_deref(), Some("http://127.0.0.1:1"));
    }

    #[test]
    fn invalid_settings_are_refused_with_their_name() {
        for (name, value, expected) in [
            ("tmp_max_bytes", "12x", "a size in bytes"),
            ("tmp_max_bytes", "-1", "a size in bytes"),
            ("tmp_max_bytes", "M", "a size in bytes"),
            ("tmp_max_bytes", "99999999999G", "a size in bytes"),
            ("dynamodb_connect_timeout_ms", "0", "a positive integer"),
            ("dynamodb_attempt_timeout_ms", "1.5", "a positive integer"),
            ("dynamodb_operation_timeout_ms", "+3", "a positive integer"),
            ("dynamodb_max_attempts", "three", "a positive integer"),
        ] {
            let full = format!("lambda_cache.{name}");
            let s = set(&[(&full, value)]);
            let m = if name.starts_with("tmp") {
                refused(tmp_config(&s, None, String::new(), Some(1 << 20), || {
                    "/tmp".into()
                }))
            } else {
                refused(dynamodb_config(&s))
            };
            assert!(
                m.contains(&format!("lambda_cache.{name} = \"{value}\"")) && m.contains(expected),
                "{name}={value}: {m}"
            );
        }
        let s = Settings {
            dynamodb_table: Some(b"t\xff".to_vec()),
            ..Default::default()
        };
        assert!(refused(dynamodb_config(&s)).contains("not UTF-8"));
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        for (v, n) in [
            ("262144", 262_144),
            ("256k", 256 << 10),
            (" 128M ", 128 << 20),
            ("1G", 1 << 30),
        ] {
            let s = set(&[("lambda_cache.tmp_max_bytes", v)]);
            let c = tmp_config(&s, None, String::new(), None, || "/tmp".into()).unwrap();
            assert_eq!(c.max_bytes, n, "{v}");
        }
    }

    #[test]
    fn emf_takes_the_option_then_the_setting_and_is_off_by_default() {
        let none = Settings::default();
        assert_eq!(emf_namespace(&none, None).unwrap(), None);
        assert_eq!(
            emf_namespace(&none, Some(Emf::On)).unwrap().as_deref(),
            Some("LambdaCache")
        );
        let on = set(&[("lambda_cache.metrics_emf", "1")]);
        assert_eq!(
            emf_namespace(&on, None).unwrap().as_deref(),
            Some("LambdaCache")
        );
        assert_eq!(emf_namespace(&on, Some(Emf::Off)).unwrap(), None);
        let named = set(&[("lambda_cache.metrics_emf", "My/App")]);
        assert_eq!(
            emf_namespace(&named, None).unwrap().as_deref(),
            Some("My/App")
        );
        assert_eq!(
            emf_namespace(&named, Some(Emf::Named("Other".into())))
                .unwrap()
                .as_deref(),
            Some("Other")
        );
        let off = set(&[("lambda_cache.metrics_emf", "Off")]);
        assert_eq!(emf_namespace(&off, None).unwrap(), None);
        let bad = set(&[("lambda_cache.metrics_emf", "AWS/Lambda")]);
        assert!(refused(emf_namespace(&bad, None)).contains("lambda_cache.metrics_emf"));
        assert!(refused(emf_namespace(&none, Some(Emf::Named("a\"b".into())))).contains("metrics"));
    }

    #[test]
    fn empty_settings_are_unset() {
        let s = set(&[
            ("lambda_cache.dynamodb_table", ""),
            ("lambda_cache.tmp_directory", ""),
        ]);
        assert_eq!(s, Settings::default());
    }
}
