//! Client errors as the core's one error type, with what a person needs to act on them.

use super::http::CallError;
use crate::error::Error;

pub fn call_error(op: &str, table: &str, e: CallError) -> Error {
    let why = match e {
        CallError::Api { code, .. } if code == "ResourceNotFoundException" => {
            format!("table {table} does not exist")
        }
        CallError::Api {
            code,
            message,
            status,
        } => format!("{code} (HTTP {status}): {message}"),
        CallError::Transport(m) => format!("no answer: {m}"),
        CallError::Timeout(d) => format!("no answer within {} ms", d.as_millis()),
    };
    Error::Storage(format!("DynamoDB {op} on {table}: {why}"))
}
