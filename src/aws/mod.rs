//! A lean AWS client for DynamoDB's JSON protocol: HTTP/1.1 with kept-alive connections
//! (`http`), SigV4 (`sigv4`), retries with jittered backoff (`retry`), the client's settings
//! and its per-process cache (`config`), where credentials come from (`credentials`: given, the
//! environment's, or AWS's default chain through aws-config), and the per-process Tokio runtime it runs on
//! (`runtime`). It sends operations and answers their bodies; it knows nothing of the cache's
//! items, entries or namespaces (those are `store::dynamodb`). Why it exists instead of
//! aws-sdk-dynamodb: docs/decisions.md, decision 9.

mod chain_http;
pub mod config;
pub mod credentials;
pub mod http;
pub mod retry;
pub mod runtime;
pub mod sigv4;
pub mod source;
