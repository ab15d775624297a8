//! Table administration: cold calls, sent as `serde_json::Value`.

use crate::aws::http::{CallError, DynamoHttp};
use crate::error::Result;
use serde_json::{json, Value};
use std::time::Duration;

/// How long `create_table` waits for a new table to become active.
pub(super) const CREATE_WAIT: Duration = Duration::from_secs(60);

/// Creates `table` (string partition key `key_attribute`, on-demand capacity) unless it exists,
/// waits until it is active, and enables TTL on `ttl_attribute`. Answers what it did; a TTL the
/// endpoint does not support (local emulators) is said, not an error.
pub(super) async fn create_table(
    client: &DynamoHttp,
    table: &str,
    key_attribute: &str,
    ttl_attribute: &str,
) -> Result<String> {
    let k = key_attribute;
    let create = json!({
        "TableName": table,
        "KeySchema": [{ "AttributeName": k, "KeyType": "HASH" }],
        "AttributeDefinitions": [{ "AttributeName": k, "AttributeType": "S" }],
        "BillingMode": "PAY_PER_REQUEST",
    });
    let mut note = match client.call("CreateTable", &create).await {
        Ok(_) => format!("created table {table}"),
        Err(CallError::Api { code, .. }) if code == "ResourceInUseException" => {
            format!("table {table} exists")
        }
        Err(e) => return Err(e.into_error("CreateTable", table)),
    };
    // A new table takes seconds to become usable on DynamoDB.
    loop {
        let d = client
            .call("DescribeTable", &json!({ "TableName": table }))
            .await
            .map_err(|e| e.into_error("DescribeTable", table))?;
        if d.pointer("/Table/TableStatus").and_then(Value::as_str) == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let ttl = json!({ "TableName": table, "TimeToLiveSpecification": { "Enabled": true, "AttributeName": ttl_attribute } });
    // An endpoint that answers no (emulators: UnknownOperationException) is said; no
    // answer at all is an error.
    match client.call("UpdateTimeToLive", &ttl).await {
        Ok(_) => note.push_str(&format!("; TTL on {ttl_attribute}")),
        Err(e @ CallError::Api { .. }) => note.push_str(&format!(
            "; TTL not enabled ({})",
            e.message("UpdateTimeToLive", table)
        )),
        Err(e) => return Err(e.into_error("UpdateTimeToLive", table)),
    }
    Ok(note)
}
