//! ECR: the SDK client (ring TLS, timeouts), `GetAuthorizationToken`, token decoding and error causes.

use std::fmt;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ecr::config::retry::RetryConfig;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::get_authorization_token::GetAuthorizationTokenError;
use aws_smithy_http_client::tls;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;

use crate::error::Error;
use crate::retry;
use crate::settings::Settings;

/// The AWS config loader every run uses: the default credential chain and endpoint overrides
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_ECR`), rustls with ring, a timeout on every request and
/// SDK retries off (the refresher's own backoff in [`retry`] retries whole calls).
/// Tests add `endpoint_url` and `credentials_provider` before loading.
pub fn config_loader(settings: &Settings) -> ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let timeout = settings.request_timeout;
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(settings.region.name.clone()))
        .http_client(http_client)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(timeout)
                .read_timeout(timeout)
                .operation_attempt_timeout(timeout)
                .operation_timeout(timeout)
                .build(),
        )
        .retry_config(RetryConfig::disabled())
}

/// A docker login for one or more registries (one token serves every registry the principal
/// may read). Debug never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryLogin {
    /// Registry hosts, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`: the registry of
    /// `AWS_ACCOUNT` (or ECR's proxyEndpoint) first, then one per `REGISTRY_IDS` account;
    /// never empty, no duplicates.
    pub hosts: Vec<String>,
    /// User name from the token (`AWS`).
    pub username: String,
    /// Password from the token.
    pub password: Password,
    /// When the token expires, if ECR said.
    pub expires_at: Option<Timestamp>,
}

impl fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryLogin")
            .field("hosts", &self.hosts)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A registry password. Debug and Display print `<redacted>`; [`Password::expose`] gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The password itself, for building the dockerconfigjson only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why an authorization token could not be decoded. Never includes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64 (the decoder's own error is dropped: it quotes a byte of the token).
    #[error("the authorization token is not valid base64")]
    NotBase64,
    /// Decoded bytes are not UTF-8.
    #[error("the decoded authorization token is not UTF-8 text")]
    NotUtf8,
    /// No `:` between user and password.
    #[error("the decoded authorization token is not of the form <user>:<password>")]
    MissingColon,
    /// Empty user or password.
    #[error("the decoded authorization token has an empty user or password")]
    Empty,
}

/// Decodes an ECR authorization token, `base64("AWS:<password>")`, into user and password.
pub fn decode_token(encoded: &str) -> Result<(String, Password), TokenError> {
    let bytes = STANDARD
        .decode(encoded.trim())
        .map_err(|_| TokenError::NotBase64)?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::NotUtf8)?;
    let (user, password) = text.split_once(':').ok_or(TokenError::MissingColon)?;
    if user.is_empty() || password.is_empty() {
        return Err(TokenError::Empty);
    }
    Ok((user.to_owned(), Password::new(password)))
}

/// The registry host: the `proxyEndpoint` ECR returned (without scheme or path), or else
/// `<account>.dkr.ecr.<region>.<partition dns suffix>`.
pub fn registry_host(
    proxy_endpoint: Option<&str>,
    account: Option<&str>,
    settings: &Settings,
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
    from_proxy.or_else(|| account.map(|account| account_host(account, settings)))
}

/// `<account>.dkr.ecr.<region>.<partition dns suffix>`.
pub fn account_host(account: &str, settings: &Settings) -> String {
    format!(
        "{account}.dkr.ecr.{}.{}",
        settings.region.name, settings.region.dns_suffix
    )
}

/// Every registry host of the Secret: `primary` first, then one per extra account
/// (`REGISTRY_IDS`), without duplicates.
pub fn registry_hosts(
    primary: String,
    extra_accounts: &[String],
    settings: &Settings,
) -> Vec<String> {
    let mut hosts = vec![primary];
    for account in extra_accounts {
        let host = account_host(account, settings);
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
    settings: &Settings,
) -> Result<RegistryLogin, Error> {
    let registry = &settings.registry;
    let role_arn = settings.role_arn.as_deref();
    let output = retry::transient(
        settings,
        "get ECR token",
        is_transient,
        |err| describe(err, role_arn),
        || async {
            let mut request = client.get_authorization_token();
            if let Some(account) = &settings.account {
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
        registry: registry.clone(),
        role_arn: settings.role_arn.clone(),
        source: Box::new(source),
    })?;

    let no_data = |problem| Error::EcrResponse {
        registry: registry.clone(),
        problem,
    };
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
    let (username, password) = decode_token(encoded).map_err(|source| Error::DecodeToken {
        registry: registry.clone(),
        source,
    })?;
    let primary = registry_host(
        data.proxy_endpoint.as_deref(),
        settings.account.as_deref(),
        settings,
    )
    .ok_or_else(|| {
        no_data("the response names no registry (proxyEndpoint) and AWS_ACCOUNT is not set")
    })?;
    let hosts = registry_hosts(primary, &settings.registry_ids, settings);
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

/// Whether a failed call is worth repeating: throttling, 5xx, timeouts, broken connections and
/// credential providers that timed out. Access denied, invalid or missing credentials and bad
/// requests are permanent.
/// Used for every AWS call (ECR and STS).
pub fn is_transient<E>(err: &SdkError<E>) -> bool
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::TimeoutError(_) => true,
        SdkError::DispatchFailure(failure) => {
            if failure.is_io() || failure.is_timeout() {
                return true;
            }
            match credentials_error(err) {
                Some(CredentialsError::CredentialsNotLoaded(_))
                | Some(CredentialsError::InvalidConfiguration(_)) => false,
                Some(_) => true,
                None => !failure.is_user(),
            }
        }
        SdkError::ResponseError(response) => {
            let status = response.raw().status().as_u16();
            status == 429 || status >= 500
        }
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().unwrap_or_default();
            status == 429
                || status >= 500
                || code.contains("Throttl")
                || matches!(
                    code,
                    "ServerException" | "RequestTimeout" | "RequestTimeoutException"
                )
        }
        _ => false,
    }
}

fn credentials_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CredentialsError> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = next {
        if let Some(found) = current.downcast_ref::<CredentialsError>() {
            return Some(found);
        }
        next = current.source();
    }
    None
}

/// The cause of a failed `GetAuthorizationToken` in words, with what to do where that is known.
/// With `ROLE_ARN`, the permission hint names the assumed role.
pub fn describe(err: &SdkError<GetAuthorizationTokenError>, role_arn: Option<&str>) -> String {
    let principal = match role_arn {
        Some(arn) => format!("the role {arn}"),
        None => "the IAM principal".to_owned(),
    };
    describe_sdk(
        err,
        &format!("{principal} needs ecr:GetAuthorizationToken"),
        &format!("check the credentials and that {principal} has ecr:GetAuthorizationToken"),
    )
}

/// The cause of a failed AWS call in words: `denied` is the hint after an access-denied error,
/// `rejected` the one after another 401/403.
pub fn describe_sdk<E>(err: &SdkError<E>, denied: &str, rejected: &str) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let status = service.raw().status().as_u16();
            // Some endpoints (moto, proxies) answer in XML that the JSON protocol cannot parse:
            // take code and message from the body then.
            let body = std::str::from_utf8(service.raw().body().bytes().unwrap_or_default())
                .unwrap_or_default();
            let code = e
                .code()
                .or_else(|| xml_element(body, "Code"))
                .unwrap_or("unknown error");
            let message = e
                .message()
                .or_else(|| xml_element(body, "Message"))
                .unwrap_or_default();
            let detail = if message.is_empty() {
                format!("{code}, HTTP {status}")
            } else {
                format!("{code}: {message}")
            };
            match code {
                "AccessDeniedException" | "AccessDenied" => {
                    format!("access denied ({detail}) — {denied}")
                }
                "UnrecognizedClientException"
                | "InvalidClientTokenId"
                | "InvalidSignatureException"
                | "SignatureDoesNotMatch"
                | "IncompleteSignature" => format!(
                    "invalid AWS credentials ({detail}) — check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                ),
                "ExpiredTokenException" | "ExpiredToken" => format!(
                    "expired AWS credentials ({detail}) — renew the session credentials (AWS_SESSION_TOKEN)"
                ),
                _ if code.contains("Throttl") || status == 429 => {
                    format!("throttled by AWS ({detail})")
                }
                _ if status >= 500 => format!("AWS server error ({detail})"),
                _ if status == 401 || status == 403 => {
                    format!("rejected by AWS ({detail}) — {rejected}")
                }
                _ => format!("rejected by AWS ({detail})"),
            }
        }
        SdkError::DispatchFailure(failure) => match credentials_error(err) {
            Some(CredentialsError::CredentialsNotLoaded(_)) => format!(
                "no AWS credentials found ({}) — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the pod an IAM role",
                crate::error::chain(err)
            ),
            Some(_) => format!(
                "loading AWS credentials failed: {}",
                crate::error::chain(err)
            ),
            None if failure.is_io() => {
                format!("AWS endpoint unreachable: {}", crate::error::chain(err))
            }
            None if failure.is_timeout() => {
                format!("AWS request timed out: {}", crate::error::chain(err))
            }
            None => crate::error::chain(err),
        },
        SdkError::TimeoutError(_) => format!(
            "AWS request timed out (REQUEST_TIMEOUT): {}",
            crate::error::chain(err)
        ),
        _ => crate::error::chain(err),
    }
}

/// The text of the first `<name>…</name>` element in an XML error body, if any.
fn xml_element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + len].trim()).filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(region: &str) -> Settings {
        crate::settings::for_tests(region, std::time::Duration::ZERO)
    }

    #[test]
    fn an_xml_error_body_yields_its_code_and_message() {
        let body = "<ErrorResponse><Errors><Error><Code>InvalidClientTokenId</Code>\
                    <Message>The security token is invalid.</Message></Error></Errors></ErrorResponse>";
        assert_eq!(xml_element(body, "Code"), Some("InvalidClientTokenId"));
        assert_eq!(
            xml_element(body, "Message"),
            Some("The security token is invalid.")
        );
        assert_eq!(xml_element("{}", "Code"), None);
    }

    #[test]
    fn a_valid_token_decodes_to_user_and_password() {
        let encoded = STANDARD.encode("AWS:s3cr3t:with:colons");
        let (user, password) = decode_token(&encoded).expect("valid token");
        assert_eq!(user, "AWS");
        assert_eq!(password.expose(), "s3cr3t:with:colons");
    }

    #[test]
    fn a_token_that_is_not_base64_is_rejected_without_echoing_it() {
        let err = decode_token("not base64 at all!").expect_err("invalid");
        assert_eq!(err, TokenError::NotBase64);
        assert!(!err.to_string().contains("not base64 at all"));
    }

    #[test]
    fn a_token_without_a_colon_is_rejected() {
        let encoded = STANDARD.encode("AWSnopassword");
        assert_eq!(decode_token(&encoded), Err(TokenError::MissingColon));
    }

    #[test]
    fn a_token_with_an_empty_password_is_rejected() {
        let encoded = STANDARD.encode("AWS:");
        assert_eq!(decode_token(&encoded), Err(TokenError::Empty));
    }

    #[test]
    fn a_token_that_is_not_utf8_is_rejected() {
        let encoded = STANDARD.encode([0xff, 0xfe, b':', b'x']);
        assert_eq!(decode_token(&encoded), Err(TokenError::NotUtf8));
    }

    #[test]
    fn debug_of_a_login_hides_the_password() {
        let login = RegistryLogin {
            hosts: vec!["123456789012.dkr.ecr.eu-west-1.amazonaws.com".into()],
            username: "AWS".into(),
            password: Password::new("hunter2-very-secret"),
            expires_at: None,
        };
        let debug = format!("{login:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn the_registry_host_comes_from_the_proxy_endpoint() {
        let s = settings("eu-west-1");
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
            registry_host(None, Some("123456789012"), &settings("cn-north-1")).as_deref(),
            Some("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
        );
        assert_eq!(
            registry_host(None, Some("123456789012"), &settings("eu-west-1")).as_deref(),
            Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        );
        assert_eq!(registry_host(None, None, &settings("eu-west-1")), None);
    }

    #[test]
    fn extra_accounts_add_one_host_each_without_duplicates() {
        let s = settings("eu-west-1");
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
            &settings("cn-north-1"),
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
