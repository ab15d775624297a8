//! SDK errors as the core's one error type, with what a person needs to act on them.

use crate::error::Error;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

pub fn sdk_error<E, R>(op: &str, table: &str, e: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let why = match &e {
        SdkError::TimeoutError(_) => "timed out".to_string(),
        SdkError::DispatchFailure(d) => {
            let kind = if d.is_timeout() {
                "timed out"
            } else if d.is_io() {
                "connection failed"
            } else {
                "request failed"
            };
            format!(
                "{kind}: {}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&e)
            )
        }
        SdkError::ServiceError(s) => {
            let err = s.err();
            match err.code() {
                Some("ResourceNotFoundException") => format!("table {table} does not exist"),
                Some(code) => format!("{code}: {}", err.message().unwrap_or("no message")),
                None => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)),
            }
        }
        _ => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)),
    };
    Error::Storage(format!("DynamoDB {op} on {table}: {why}"))
}
