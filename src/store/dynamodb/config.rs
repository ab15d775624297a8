//! Configuration of the DynamoDB store: its table and item layout, and the settings of the
//! client it runs on (`aws::config` resolves those and keeps one client per configuration).

use crate::aws::config::{self as aws_config, env, ClientConfig, KeyPair};
use crate::error::{Error, Result};
use std::time::Duration;

/// Everything the DynamoDB store is configured with. `None` means "from the environment".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DynamoConfig {
    pub table: Option<String>,
    pub namespace: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub key_attribute: String,
    pub ttl_attribute: String,
    pub value_attribute: String,
    pub consistent_read: bool,
    pub connect_timeout_ms: u64,
    pub attempt_timeout_ms: u64,
    pub operation_timeout_ms: u64,
    pub max_attempts: u32,
    /// Payloads of at least this many bytes are compressed (0 = never).
    pub compress_threshold: usize,
}

impl Default for DynamoConfig {
    fn default() -> Self {
        DynamoConfig {
            table: None,
            namespace: String::new(),
            region: None,
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            key_attribute: "id".into(),
            ttl_attribute: "ttl".into(),
            value_attribute: "value".into(),
            consistent_read: false,
            connect_timeout_ms: 1000,
            attempt_timeout_ms: 1000,
            operation_timeout_ms: 3000,
            max_attempts: 3,
            compress_threshold: 1024,
        }
    }
}

/// The settings once the environment has filled the gaps, checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resolved {
    pub table: String,
    /// `None`: the default chain's, looked up at the first call.
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// `None`: the default chain's, fetched at the first call.
    pub credentials: Option<KeyPair>,
}

impl DynamoConfig {
    pub fn resolve(&self) -> Result<Resolved> {
        let table = self
            .table
            .clone()
            .or_else(|| env("DYNAMO_DB_TABLE"))
            .ok_or_else(|| {
                Error::InvalidConfig("no table: pass one or set DYNAMO_DB_TABLE".into())
            })?;
        if table.len() < 3
            || table.len() > 255
            || !table
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
        {
            return Err(Error::InvalidConfig(format!(
                "\"{table}\" is not a DynamoDB table name (3-255 of A-Za-z0-9_.-)"
            )));
        }
        for (what, name) in [
            ("key", &self.key_attribute),
            ("ttl", &self.ttl_attribute),
            ("value", &self.value_attribute),
        ] {
            if name.is_empty() || name.len() > 255 {
                return Err(Error::InvalidConfig(format!(
                    "the {what} attribute name must be 1-255 bytes"
                )));
            }
        }
        if self.key_attribute == self.ttl_attribute
            || self.key_attribute == self.value_attribute
            || self.ttl_attribute == self.value_attribute
        {
            return Err(Error::InvalidConfig(
                "the key, ttl and value attributes need three different names".into(),
            ));
        }
        if self.operation_timeout_ms == 0
            || self.attempt_timeout_ms == 0
            || self.connect_timeout_ms == 0
            || self.max_attempts == 0
        {
            return Err(Error::InvalidConfig(
                "timeouts and maxAttempts must be positive".into(),
            ));
        }
        let region = aws_config::region(self.region.as_deref());
        let endpoint = aws_config::endpoint(self.endpoint.as_deref())?;
        let credentials = aws_config::credentials(
            self.access_key_id.as_deref(),
            self.secret_access_key.as_deref(),
            self.session_token.as_deref(),
        )?;
        Ok(Resolved {
            table,
            region,
            endpoint,
            credentials,
        })
    }

    fn timeouts(&self) -> (u64, u64, u64, u32) {
        (
            self.connect_timeout_ms,
            self.attempt_timeout_ms,
            self.operation_timeout_ms,
            self.max_attempts,
        )
    }
}

/// The key of a configuration's client in this process's cache: everything the client is built
/// from. Made once per store (`DynamoStore::open`), not per call.
pub fn client_key(config: &DynamoConfig, resolved: &Resolved) -> String {
    // Debug quotes and escapes every string: no two configurations share a key.
    format!("{:?}", (resolved, config.timeouts()))
}

/// The settings of the client a configuration runs on.
pub fn client_config(config: &DynamoConfig, resolved: &Resolved) -> ClientConfig {
    ClientConfig {
        region: resolved.region.clone(),
        endpoint: resolved.endpoint.clone(),
        credentials: resolved.credentials.clone(),
        connect_timeout: Duration::from_millis(config.connect_timeout_ms),
        attempt_timeout: Duration::from_millis(config.attempt_timeout_ms),
        max_attempts: config.max_attempts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration that needs nothing from the environment.
    fn given() -> DynamoConfig {
        DynamoConfig {
            table: Some("table".into()),
            region: Some("eu-west-1".into()),
            endpoint: Some("http://127.0.0.1:8000".into()),
            access_key_id: Some("AKIDEXAMPLE".into()),
            secret_access_key: Some("secret".into()),
            ..Default::default()
        }
    }

    fn refused(c: DynamoConfig) -> String {
        match c.resolve() {
            Err(Error::InvalidConfig(m)) => m,
            other => panic!("{c:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        // docs/decisions.md, decision 8.
        let d = DynamoConfig::default();
        assert_eq!(
            (
                d.connect_timeout_ms,
                d.attempt_timeout_ms,
                d.operation_timeout_ms
            ),
            (1000, 1000, 3000)
        );
        assert_eq!((d.max_attempts, d.compress_threshold), (3, 1024));
        assert_eq!(
            (&*d.key_attribute, &*d.ttl_attribute, &*d.value_attribute),
            ("id", "ttl", "value")
        );
        assert!(!d.consistent_read);
    }

    #[test]
    fn given_settings_are_resolved_as_given() {
        let r = given().resolve().unwrap();
        assert_eq!(
            r,
            Resolved {
                table: "table".into(),
                region: Some("eu-west-1".into()),
                endpoint: Some("http://127.0.0.1:8000".into()),
                credentials: Some(("AKIDEXAMPLE".into(), "secret".into(), None)),
            }
        );
        let c = client_config(&given(), &r);
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(
            (c.connect_timeout, c.attempt_timeout, c.max_attempts),
            (Duration::from_secs(1), Duration::from_secs(1), 3)
        );
    }

    #[test]
    fn table_names_are_checked() {
        for ok in ["abc", "My.table-1_x", &"t".repeat(255)] {
            let c = DynamoConfig {
                table: Some(ok.to_string()),
                ..given()
            };
            assert_eq!(c.resolve().map(|r| r.table), Ok(ok.to_string()));
        }
        for bad in ["ab", "with space", "t\u{e9}", "a/b", &"t".repeat(256)] {
            let m = refused(DynamoConfig {
                table: Some(bad.to_string()),
                ..given()
            });
            assert!(m.contains("not a DynamoDB table name"), "{bad}: {m}");
        }
    }

    #[test]
    fn attribute_names_are_distinct_and_bounded() {
        let m = refused(DynamoConfig {
            ttl_attribute: String::new(),
            ..given()
        });
        assert!(m.contains("ttl attribute name must be 1-255 bytes"), "{m}");
        let m = refused(DynamoConfig {
            value_attribute: "v".repeat(256),
            ..given()
        });
        assert!(m.contains("value attribute name"), "{m}");
        for (k, t, v) in [("a", "a", "v"), ("a", "t", "a"), ("k", "a", "a")] {
            let m = refused(DynamoConfig {
                key_attribute: k.into(),
                ttl_attribute: t.into(),
                value_attribute: v.into(),
                ..given()
            });
            assert!(m.contains("three different names"), "{k} {t} {v}: {m}");
        }
    }

    #[test]
    fn timeouts_and_attempts_must_be_positive() {
        let zero: [fn(&mut DynamoConfig); 4] = [
            |c| c.connect_timeout_ms = 0,
            |c| c.attempt_timeout_ms = 0,
            |c| c.operation_timeout_ms = 0,
            |c| c.max_attempts = 0,
        ];
        for set in zero {
            let mut c = given();
            set(&mut c);
            assert!(refused(c).contains("must be positive"));
        }
    }

    #[test]
    fn endpoints_and_credentials_are_checked_at_resolution() {
        let m = refused(DynamoConfig {
            endpoint: Some("http://host/prefix".into()),
            ..given()
        });
        assert!(m.contains("a path"), "{m}");
        let m = refused(DynamoConfig {
            secret_access_key: None,
            ..given()
        });
        assert!(m.contains("go together"), "{m}");
    }

    #[test]
    fn client_keys_tell_configurations_apart() {
        let key = |c: &DynamoConfig| client_key(c, &c.resolve().unwrap());
        assert_eq!(key(&given()), key(&given()));
        let others = [
            DynamoConfig {
                table: Some("other".into()),
                ..given()
            },
            DynamoConfig {
                secret_access_key: Some("other".into()),
                ..given()
            },
            DynamoConfig {
                attempt_timeout_ms: 999,
                ..given()
            },
            DynamoConfig {
                max_attempts: 4,
                ..given()
            },
        ];
        for c in &others {
            assert_ne!(key(c), key(&given()), "{c:?}");
        }
        // What the client does not depend on shares it.
        let same = DynamoConfig {
            namespace: "other".into(),
            consistent_read: true,
            ..given()
        };
        assert_eq!(key(&same), key(&given()));
    }
}
