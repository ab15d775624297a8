//! The HTTP client aws-config's providers send through (STS, SSO, container credentials,
//! instance metadata): the same hyper, HTTP/1.1 and rustls with ring and the built-in webpki
//! roots as the DynamoDB client, so the chain adds no TLS stack, no HTTP/2 and no certificate
//! files read at start-up (aws-smithy-http-client would add all three). Its requests are small
//! and their answers too: bodies are whole, answers read up to [`MAX_ANSWER`].

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::connect::HttpConnector as Tcp;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// The largest answer read: credential and token answers are a few KiB.
const MAX_ANSWER: usize = 1 << 20;

type Hyper = Client<hyper_rustls::HttpsConnector<Tcp>, Full<Bytes>>;

/// What aws-config is given as its `http_client`.
#[derive(Debug, Default)]
pub struct ChainHttp;

impl HttpClient for ChainHttp {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let mut tcp = Tcp::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(settings.connect_timeout());
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        SharedHttpConnector::new(Connector {
            client: Client::builder(TokioExecutor::new()).build(https),
            read_timeout: settings.read_timeout(),
        })
    }
}

#[derive(Debug)]
struct Connector {
    client: Hyper,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let client = self.client.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::user(e.into()))?;
            let (parts, body) = request.into_parts();
            let Some(bytes) = body.bytes().map(Bytes::copy_from_slice) else {
                return Err(ConnectorError::user("a streaming request body".into()));
            };
            let send = async {
                let answer = client
                    .request(hyper::Request::from_parts(parts, Full::new(bytes)))
                    .await
                    .map_err(|e| ConnectorError::io(e.into()))?;
                let (parts, body) = answer.into_parts();
                let body = Limited::new(body, MAX_ANSWER)
                    .collect()
                    .await
                    .map_err(ConnectorError::io)?
                    .to_bytes();
                Ok(hyper::Response::from_parts(parts, SdkBody::from(body)))
            };
            let answer = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, send)
                    .await
                    .map_err(|e| ConnectorError::timeout(e.into()))??,
                None => send.await?,
            };
            HttpResponse::try_from(answer).map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}
