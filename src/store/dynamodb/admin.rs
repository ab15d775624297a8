//! Table administration: cold calls, sent as `serde_json::Value`.

use super::http::{CallError, DynamoHttp};
use super::DynamoStore;
use crate::error::Result;
use serde_json::{json, Value};
use std::time::Duration;

/// How long `create_table` waits for a new table to become active.
const CREATE_WAIT: Duration = Duration::from_secs(60);

impl DynamoStore {
    async fn call(&self, client: &DynamoHttp, op: &str, body: Value) -> Result<Value> {
        client
            .call(op, &body)
            .await
            .map_err(|e| e.into_error(op, self.table()))
    }

    /// Creates the table (string partition key, on-demand capacity) unless it exists, waits
    /// until it is active, and enables TTL on the ttl attribute. Answers what it did; a TTL the
    /// endpoint does not support (local emulators) is said, not an error.
    pub fn create_table(&self) -> Result<String> {
        let k = &self.config.key_attribute;
        self.run("CreateTable", CREATE_WAIT + self.limit(), |client| async move {
            let table = self.table();
            let create = json!({
                "TableName": table,
                "KeySchema": [{ "AttributeName": k, "KeyType": "HASH" }],
                "AttributeDefinitions": [{ "AttributeName": k, "AttributeType": "S" }],
                "BillingMode": "PAY_PER_REQUEST",
            });
            let mut note = match client.call("CreateTable", &create).await {
                Ok(_) => format!("created table {table}"),
                Err(CallError::Api { code, .. }) if code == "ResourceInUseException" => format!("table {table} exists"),
                Err(e) => return Err(e.into_error("CreateTable", table)),
            };
            // A new table takes seconds to become usable on DynamoDB.
            loop {
                let d = self.call(&client, "DescribeTable", json!({ "TableName": table })).await?;
                if d.pointer("/Table/TableStatus").and_then(Value::as_str) == Some("ACTIVE") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            let ttl = json!({ "TableName": table, "TimeToLiveSpecification": { "Enabled": true, "AttributeName": self.config.ttl_attribute } });
            // An endpoint that answers no (emulators: UnknownOperationException) is said; no
            // answer at all is an error.
            match client.call("UpdateTimeToLive", &ttl).await {
                Ok(_) => note.push_str(&format!("; TTL on {}", self.config.ttl_attribute)),
                Err(e @ CallError::Api { .. }) => note.push_str(&format!(
                    "; TTL not enabled ({})",
                    e.message("UpdateTimeToLive", table)
                )),
                Err(e) => return Err(e.into_error("UpdateTimeToLive", table)),
            }
            Ok(note)
        })
    }
}
