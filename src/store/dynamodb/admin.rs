//! Table administration: cold calls, sent as `serde_json::Value`.

use crate::aws::http::{CallError, DynamoHttp};
use crate::error::Result;
use serde_json::{json, Value};
use std::time::Duration;

/// How long `create_table` waits for a new table to become active.
pub(super) const CREATE_WAIT: Duration = Duration::from_secs(60);

/// Creates `table` (string partition key `key_attribute`, on-demand capacity) unless it exists,
/// waits until it is active, and enables TTL on `ttl_attribute`. Answers what it did; a TTL the
/// endpoint does not support (local emulators) is said, not an error. Without `wait`, answers
/// once DynamoDB has accepted the table (or said it exists): no wait, no TTL (a caller that
/// shows progress polls [`describe_table`], then calls again with `wait`).
pub(super) async fn create_table(
    client: &DynamoHttp,
    table: &str,
    key_attribute: &str,
    ttl_attribute: &str,
    wait: bool,
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
    if !wait {
        return Ok(note);
    }
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

/// What [`describe_table`] tells of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInfo {
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`, ...
    pub status: String,
    /// DynamoDB's estimates, updated about every six hours.
    pub item_count: i64,
    pub size_bytes: i64,
    /// `PAY_PER_REQUEST` or `PROVISIONED` (a table without a billing mode summary is provisioned).
    pub billing_mode: String,
}

/// One DescribeTable: the table's status, size and billing mode; a missing table is an error
/// (`table ... does not exist`).
pub(super) async fn describe_table(client: &DynamoHttp, table: &str) -> Result<TableInfo> {
    let d = client
        .call("DescribeTable", &json!({ "TableName": table }))
        .await
        .map_err(|e| e.into_error("DescribeTable", table))?;
    Ok(table_info(&d))
}

fn table_info(d: &Value) -> TableInfo {
    let text = |p: &str| d.pointer(p).and_then(Value::as_str).map(str::to_string);
    let int = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    TableInfo {
        status: text("/Table/TableStatus").unwrap_or_default(),
        item_count: int("/Table/ItemCount"),
        size_bytes: int("/Table/TableSizeBytes"),
        billing_mode: text("/Table/BillingModeSummary/BillingMode")
            .unwrap_or_else(|| "PROVISIONED".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_info_reads_the_answer() {
        let d = json!({ "Table": {
            "TableStatus": "CREATING", "ItemCount": 12, "TableSizeBytes": 3400,
            "BillingModeSummary": { "BillingMode": "PAY_PER_REQUEST" },
        }});
        let info = table_info(&d);
        assert_eq!(info.status, "CREATING");
        assert_eq!((info.item_count, info.size_bytes), (12, 3400));
        assert_eq!(info.billing_mode, "PAY_PER_REQUEST");
        let bare = table_info(&json!({ "Table": { "TableStatus": "ACTIVE" } }));
        assert_eq!((bare.item_count, bare.size_bytes), (0, 0));
        assert_eq!(bare.billing_mode, "PROVISIONED");
    }
}
