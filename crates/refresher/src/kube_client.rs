//! The Kubernetes client: its config (in-cluster or `KUBECONFIG`) and its HTTP stack, with
//! `REQUEST_TIMEOUT` on every request and `TCP_NODELAY` on every connection.

use std::time::Duration;

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt as _;

use crate::error::Error;

/// A Kubernetes client from in-cluster config or `KUBECONFIG`; see [`kube_client_with`].
pub async fn kube_client(request_timeout: Duration) -> Result<kube::Client, Error> {
    let config = kube::Config::infer()
        .await
        .map_err(|source| Error::KubeConfig {
            source: Box::new(source),
        })?;
    kube_client_with(config, request_timeout)
}

/// The TCP connector of the Kubernetes client: `TCP_NODELAY` on. kube's own builder leaves it
/// off, so the first request after the TLS handshake waited for the server's delayed ACK of the
/// client's last handshake record (Nagle's algorithm): about 40 ms per run against a real
/// kube-apiserver. The AWS SDK's connector already sets it.
pub fn tcp_connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.enforce_http(false);
    connector.set_nodelay(true);
    connector
}

/// A Kubernetes client from `config`: kube's default stack (TLS from the config's CA and client
/// certificate, base URI, authentication, extra headers) over [`tcp_connector`], with
/// `request_timeout` as connect, read and write timeout. kube's own retry layer is left out: it
/// retries 429/503/504 up to 15 times with delays growing to 1000 s, which would break the
/// bounded retry budget; [`crate::retry`] retries instead. A kubeconfig `proxy-url` is refused,
/// as kube's builder refuses it without its proxy features (which are not built in).
pub fn kube_client_with(
    config: kube::Config,
    request_timeout: Duration,
) -> Result<kube::Client, Error> {
    let client_error = |source| Error::KubeClient {
        source: Box::new(source),
    };
    if let Some(proxy_url) = &config.proxy_url {
        let proxy_url = Box::new(proxy_url.clone());
        return Err(client_error(match proxy_url.scheme_str() {
            Some("socks5") => kube::Error::ProxyProtocolDisabled {
                proxy_url,
                protocol_feature: "kube/socks5",
            },
            Some("http" | "https") => kube::Error::ProxyProtocolDisabled {
                proxy_url,
                protocol_feature: "kube/http-proxy",
            },
            _ => kube::Error::ProxyProtocolUnsupported { proxy_url },
        }));
    }
    let https = config
        .rustls_https_connector_with_connector(tcp_connector())
        .map_err(client_error)?;
    let mut connector = TimeoutConnector::new(https);
    connector.set_connect_timeout(Some(request_timeout));
    connector.set_read_timeout(Some(request_timeout));
    connector.set_write_timeout(Some(request_timeout));
    let http = hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().map_err(client_error)?)
        .layer(config.extra_headers_layer().map_err(client_error)?)
        .map_err(tower::BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::Service as _;

    #[tokio::test]
    async fn the_kubernetes_connector_turns_tcp_nodelay_on() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let uri = format!("http://127.0.0.1:{port}").parse().expect("uri");
        let stream = tcp_connector().call(uri).await.expect("connects");
        assert!(
            stream.inner().nodelay().expect("getsockopt"),
            "TCP_NODELAY off"
        );
    }

    #[test]
    fn a_kubeconfig_proxy_is_refused_as_kube_refuses_it_without_its_proxy_features() {
        let mut config = kube::Config::new("https://127.0.0.1:6443".parse().expect("uri"));
        config.proxy_url = Some("http://proxy.example:3128".parse().expect("uri"));
        let Err(err) = kube_client_with(config, Duration::from_secs(1)) else {
            panic!("a proxy-url was accepted");
        };
        let msg = err.to_string();
        assert!(
            msg.starts_with("build Kubernetes client: configured proxy"),
            "{msg}"
        );
        assert!(msg.contains("kube/http-proxy"), "{msg}");
    }
}
