//! SigV4 for one GetItem: the client's own signer (`src/aws/sigv4.rs`) against the official
//! `aws-sigv4` crate, side by side in one run, each signing the same request (headers, body,
//! session token) with everything a request needs: the date, the canonical request, the string
//! to sign, the signature and the Authorization header. `aws-sigv4` derives the signing key per
//! request; ours keeps it per day and secret.
//! `cargo bench --no-default-features --bench sigv4` (divan: compare the two medians).

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use lambda_cache::aws::credentials::Credentials;
use lambda_cache::aws::sigv4::{amz_date, now_secs, Signer};
use std::hint::black_box;
use std::time::SystemTime;

const KEY_ID: &str = "ASIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleexampleexampleexampleexampleexampleexampleexampleexampleexampleexampleexampleexampleexample";
const HOST: &str = "dynamodb.eu-west-1.amazonaws.com";
const BODY: &[u8] = br##"{"TableName":"cache","Key":{"id":{"S":"ns|3:user:12345:profile"}},"ConsistentRead":false,"ProjectionExpression":"#v,#t","ExpressionAttributeNames":{"#v":"value","#t":"ttl"}}"##;

/// Ours, as `DynamoHttp::once` signs.
fn ours(signer: &Signer, credentials: &Credentials) -> usize {
    let date = amz_date(now_secs());
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("host", HOST),
        ("x-amz-date", &date),
        ("x-amz-security-token", TOKEN),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    signer
        .authorization(credentials, "POST", &headers, BODY, &date)
        .len()
}

/// aws-sigv4, with the identity made once (as a client would keep it).
fn official(identity: &aws_smithy_runtime_api::client::identity::Identity) -> usize {
    let settings = SigningSettings::default();
    let params = v4::SigningParams::builder()
        .identity(identity)
        .region("eu-west-1")
        .name("dynamodb")
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("host", HOST),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    let request = SignableRequest::new(
        "POST",
        "https://dynamodb.eu-west-1.amazonaws.com/",
        headers.into_iter(),
        SignableBody::Bytes(BODY),
    )
    .unwrap();
    let (instructions, signature) = sign(request, &params).unwrap().into_parts();
    // The headers to add (x-amz-date, x-amz-security-token, authorization), as a client would.
    let added: usize = instructions
        .headers()
        .map(|(name, value)| name.len() + value.len())
        .sum();
    added + signature.len()
}

fn main() {
    divan::main();
}

#[divan::bench]
fn ours_signer(bencher: divan::Bencher) {
    let signer = Signer::new("eu-west-1".into(), "dynamodb");
    let credentials = Credentials::new(KEY_ID.into(), SECRET.into(), Some(TOKEN.into()));
    bencher.bench_local(|| ours(black_box(&signer), black_box(&credentials)));
}

#[divan::bench]
fn aws_sigv4(bencher: divan::Bencher) {
    let identity =
        aws_credential_types::Credentials::new(KEY_ID, SECRET, Some(TOKEN.into()), None, "bench")
            .into();
    bencher.bench_local(|| official(black_box(&identity)));
}
