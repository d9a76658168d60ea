//! ECR: the SDK config (ring TLS, timeouts, SDK retries off), `GetAuthorizationToken` and the
//! registry hosts of the login.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader};
use aws_sdk_ecr::config::retry::RetryConfig;
use aws_smithy_http_client::tls;
use jiff::Timestamp;

use crate::cause;
use crate::dockerconfig::{self, RegistryLogin};
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::settings::{Region, Target};

/// The AWS config loader every run uses: the default credential chain and endpoint overrides
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_ECR`), rustls with ring, `request_timeout` on every
/// request and SDK retries off ([`RetryPolicy`] retries whole calls).
/// Tests add `endpoint_url` and `credentials_provider` before loading.
pub fn config_loader(region: &Region, request_timeout: Duration) -> ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .region(aws_config::Region::new(region.name.clone()))
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(request_timeout)
                .read_timeout(request_timeout)
                .operation_attempt_timeout(request_timeout)
                .operation_timeout(request_timeout)
                .build(),
        )
        .retry_config(RetryConfig::disabled())
}

/// The registry host: the `proxyEndpoint` ECR returned (without scheme or path), or else
/// `<account>.dkr.ecr.<region>.<partition dns suffix>`.
pub fn registry_host(
    proxy_endpoint: Option<&str>,
    account: Option<&str>,
    region: &Region,
) -> Option<String> {
    let from_proxy = proxy_endpoint.and_then(|endpoint| {
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"))
            .unwrap_or(endpoint);
        let host = rest.split('/').next().unwrap_or_default();
        let plausible = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'));
        plausible.then(|| host.to_owned())
    });
    from_proxy.or_else(|| account.map(|account| account_host(account, region)))
}

/// `<account>.dkr.ecr.<region>.<partition dns suffix>`.
pub fn account_host(account: &str, region: &Region) -> String {
    format!(
        "{account}.dkr.ecr.{}.{}",
        region.name,
        region.partition.dns_suffix()
    )
}

/// Every registry host of the Secret: `primary` first, then one per extra account
/// (`REGISTRY_IDS`), without duplicates.
pub fn registry_hosts(primary: String, extra_accounts: &[String], region: &Region) -> Vec<String> {
    let mut hosts = vec![primary];
    for account in extra_accounts {
        let host = account_host(account, region);
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

/// Calls `GetAuthorizationToken` (for `AWS_ACCOUNT` if set), retrying transient failures, and
/// decodes the result.
pub async fn fetch_login(
    client: &aws_sdk_ecr::Client,
    target: &Target,
    retry: &RetryPolicy,
) -> Result<RegistryLogin, Error> {
    let role_arn = target.role_arn.as_deref();
    let output = retry
        .run(
            "get ECR token",
            cause::aws_is_transient,
            |err| cause::ecr_token(err, role_arn),
            || async {
                let mut request = client.get_authorization_token();
                if let Some(account) = &target.account {
                    // Deprecated by AWS (the token is valid for every registry the principal may
                    // use) but still honoured: it makes ECR answer with that account's
                    // proxyEndpoint, which names the registry host in the dockerconfigjson.
                    #[allow(deprecated)]
                    let with_account = request.registry_ids(account.clone());
                    request = with_account;
                }
                request.send().await
            },
        )
        .await
        .map_err(|source| Error::EcrToken {
            role_arn: target.role_arn.clone(),
            source: Box::new(source),
        })?;

    let no_data = |problem| Error::EcrResponse { problem };
    let data = output
        .authorization_data
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or_else(|| no_data("the response holds no authorization data"))?;
    let encoded = data
        .authorization_token
        .as_deref()
        .ok_or_else(|| no_data("the response holds no authorization token"))?;
    let (username, password) = dockerconfig::decode_token(encoded).map_err(Error::DecodeToken)?;
    let primary = registry_host(
        data.proxy_endpoint.as_deref(),
        target.account.as_deref(),
        &target.region,
    )
    .ok_or_else(|| {
        no_data("the response names no registry (proxyEndpoint) and AWS_ACCOUNT is not set")
    })?;
    let hosts = registry_hosts(primary, &target.registry_ids, &target.region);
    let expires_at = data
        .expires_at
        .and_then(|t| Timestamp::new(t.secs(), i32::try_from(t.subsec_nanos()).unwrap_or(0)).ok());
    Ok(RegistryLogin {
        hosts,
        username,
        password,
        expires_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(name: &str) -> Region {
        Region::parse(name).expect("valid region")
    }

    #[test]
    fn the_registry_host_comes_from_the_proxy_endpoint() {
        let s = region("eu-west-1");
        assert_eq!(
            registry_host(
                Some("https://111122223333.dkr.ecr.eu-west-1.amazonaws.com/"),
                Some("123456789012"),
                &s
            )
            .as_deref(),
            Some("111122223333.dkr.ecr.eu-west-1.amazonaws.com")
        );
    }

    #[test]
    fn without_a_proxy_endpoint_the_host_is_built_from_account_region_and_partition() {
        assert_eq!(
            registry_host(None, Some("123456789012"), &region("cn-north-1")).as_deref(),
            Some("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
        );
        assert_eq!(
            registry_host(None, Some("123456789012"), &region("eu-west-1")).as_deref(),
            Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        );
        assert_eq!(registry_host(None, None, &region("eu-west-1")), None);
    }

    #[test]
    fn extra_accounts_add_one_host_each_without_duplicates() {
        let s = region("eu-west-1");
        let hosts = registry_hosts(
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com".into(),
            &[
                "111122223333".into(),
                "123456789012".into(),
                "444455556666".into(),
            ],
            &s,
        );
        assert_eq!(
            hosts,
            vec![
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                "111122223333.dkr.ecr.eu-west-1.amazonaws.com",
                "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
            ]
        );
        let china = registry_hosts(
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn".into(),
            &["111122223333".into()],
            &region("cn-north-1"),
        );
        assert_eq!(
            china[1], "111122223333.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "extra hosts use the partition's suffix"
        );
        assert_eq!(
            registry_hosts("h".into(), &[], &s),
            vec!["h"],
            "no extras, one host"
        );
    }
}
