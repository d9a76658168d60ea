//! Why a call failed: whether an AWS or Kubernetes error is worth retrying, and its cause in
//! words with what to do where that is known. A leaf: it knows the SDK and kube errors only.

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::get_authorization_token::GetAuthorizationTokenError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;

/// An error and its sources as one line, `a: b: c`, skipping a source whose text its parent
/// already contains (many errors repeat their source in their own message).
/// Line breaks inside a message become `; ` so the result stays one line.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = one_line(&err.to_string());
    let mut next = err.source();
    while let Some(source) = next {
        let text = one_line(&source.to_string());
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = source.source();
    }
    line
}

fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whether a failed AWS call (ECR or STS) is worth repeating: throttling, 5xx, timeouts, broken
/// connections and credential providers that timed out. Access denied, invalid or missing
/// credentials and bad requests are permanent.
pub fn aws_is_transient<E>(err: &SdkError<E>) -> bool
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
pub fn ecr_token(err: &SdkError<GetAuthorizationTokenError>, role_arn: Option<&str>) -> String {
    let principal = match role_arn {
        Some(arn) => format!("the role {arn}"),
        None => "the IAM principal".to_owned(),
    };
    aws(
        err,
        &format!("{principal} needs ecr:GetAuthorizationToken"),
        &format!("check the credentials and that {principal} has ecr:GetAuthorizationToken"),
    )
}

/// The cause of a failed `AssumeRole` in words, with what to do where that is known.
pub fn assume_role(err: &SdkError<AssumeRoleError>) -> String {
    let denied =
        "the caller needs sts:AssumeRole on the role and the role's trust policy must allow it";
    let cause = aws(err, denied, denied);
    match err {
        SdkError::ServiceError(service)
            if matches!(service.err(), AssumeRoleError::RegionDisabledException(_)) =>
        {
            format!("{cause} — activate STS for this region in the IAM account settings")
        }
        _ => cause,
    }
}

/// The cause of a failed AWS call in words: `denied` is the hint after an access-denied error,
/// `rejected` the one after another 401/403.
pub fn aws<E>(err: &SdkError<E>, denied: &str, rejected: &str) -> String
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
                chain(err)
            ),
            Some(_) => format!("loading AWS credentials failed: {}", chain(err)),
            None if failure.is_io() => format!("AWS endpoint unreachable: {}", chain(err)),
            None if failure.is_timeout() => format!("AWS request timed out: {}", chain(err)),
            None => chain(err),
        },
        SdkError::TimeoutError(_) => {
            format!("AWS request timed out (REQUEST_TIMEOUT): {}", chain(err))
        }
        _ => chain(err),
    }
}

/// The text of the first `<name>…</name>` element in an XML error body, if any.
fn xml_element<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let len = body[start..].find(&format!("</{name}>"))?;
    Some(body[start..start + len].trim()).filter(|text| !text.is_empty())
}

/// Whether a failed Kubernetes call is worth repeating: 409 conflicts, 429, 5xx, and
/// connection failures or timeouts. 401, 403, 404 and 422 are permanent.
pub fn kube_is_transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => status.code == 409 || status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// A cluster-wide request's failure (`verb` on `resource` across the cluster): a 403 says which
/// ClusterRole rule is missing; anything else as [`kube()`] says it.
pub fn cluster(err: &kube::Error, verb: &str, resource: &str) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden ({}) — the ServiceAccount needs the ClusterRole rule {verb} on {resource}, cluster-wide (the chart's ClusterRole for namespace selectors grants it)",
            status.message
        ),
        other => kube(other, "(all)"),
    }
}

/// The cause of a failed Secret call in words, with what to do where that is known.
pub fn kube(err: &kube::Error, namespace: &str) -> String {
    match err {
        kube::Error::Api(status) => {
            let message = &status.message;
            match status.code {
                401 => format!(
                    "unauthorized ({message}) — the service account token or kubeconfig credentials were rejected"
                ),
                403 => format!(
                    "forbidden ({message}) — the ServiceAccount needs get, create and patch on secrets in namespace {namespace}"
                ),
                404 => format!("not found ({message}) — does namespace {namespace} exist?"),
                409 => format!("conflict ({message})"),
                422 => format!("rejected as invalid ({message})"),
                code if code == 429 || code >= 500 => {
                    format!("API server error {code} ({message})")
                }
                code => format!("API error {code} ({message})"),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            format!("Kubernetes API unreachable: {}", chain(err))
        }
        other => chain(other),
    }
}

/// The API server's answer to a changed `type`: 422 Invalid, "field is immutable" on `type`.
pub fn is_type_change(status: &kube::core::Status) -> bool {
    status.code == 422
        && status.message.contains("immutable")
        && (status.message.contains("type")
            || status
                .details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.field == "type")))
}

/// The API server's answer to a JSON Patch whose `test` failed (the object changed since it was
/// read): 422 Invalid, "testing value … failed: test failed" as the cause.
pub fn is_test_failure(err: &kube::Error) -> bool {
    let kube::Error::Api(status) = err else {
        return false;
    };
    let mentions = |text: &str| text.contains("test failed");
    status.code == 422
        && (mentions(&status.message)
            || status
                .details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| mentions(&c.message))))
}

/// The cause of a failed ServiceAccount call in words, with what to do where that is known.
pub fn service_account(err: &kube::Error, namespace: &str, name: &str) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden ({}) — the refresher's ServiceAccount needs get and patch on serviceaccounts/{name} in namespace {namespace} (the chart grants it for imagePullSecretFor)",
            status.message
        ),
        kube::Error::Api(status) if is_test_failure(err) => format!(
            "the ServiceAccount kept changing while it was patched ({})",
            status.message
        ),
        other => kube(other, namespace),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);
    #[derive(Debug, thiserror::Error)]
    #[error("inner: {0}")]
    struct Inner(#[source] std::io::Error);

    #[test]
    fn a_chain_joins_sources_without_repeating_them() {
        let err = Outer(Inner(std::io::Error::other("refused")));
        assert_eq!(chain(&err), "outer: inner: refused");
    }

    #[test]
    fn a_chain_is_one_line() {
        let err = Outer(Inner(std::io::Error::other(
            "no credentials. Attempted:\n  Env: unset\n  IMDS: off",
        )));
        assert_eq!(
            chain(&err),
            "outer: inner: no credentials. Attempted:; Env: unset; IMDS: off"
        );
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

    fn api_error(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "Test")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn conflicts_and_server_errors_are_transient_but_forbidden_and_invalid_are_not() {
        for code in [409, 429, 500, 503] {
            assert!(kube_is_transient(&api_error(code, "x")), "{code}");
        }
        for code in [401, 403, 404, 422] {
            assert!(!kube_is_transient(&api_error(code, "x")), "{code}");
        }
    }

    #[test]
    fn a_forbidden_error_says_which_permissions_are_needed() {
        let msg = kube(&api_error(403, "secrets is forbidden"), "apps");
        assert!(
            msg.contains("get, create and patch on secrets in namespace apps"),
            "{msg}"
        );
    }

    #[test]
    fn an_immutable_type_is_recognised() {
        let status = kube::core::Status::failure(
            "Secret \"regcred-primary\" is invalid: type: Invalid value: \"kubernetes.io/dockerconfigjson\": field is immutable",
            "Invalid",
        )
        .with_code(422);
        assert!(is_type_change(&status));
        let other = kube::core::Status::failure("data: too long", "Invalid").with_code(422);
        assert!(!is_type_change(&other));
    }

    #[test]
    fn a_failed_test_operation_is_recognised() {
        // What kube-apiserver answers (NewGenericServerResponse 422 with the patch error as cause).
        let status: kube::core::Status = serde_json::from_value(serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server rejected our request due to an error in our request",
            "reason": "Invalid", "code": 422,
            "details": {"causes": [{"reason": "UnexpectedServerResponse",
                "message": "testing value /metadata/resourceVersion failed: test failed"}]},
        }))
        .expect("a Status");
        assert!(is_test_failure(&kube::Error::Api(status.boxed())));
        let other = kube::core::Status::failure("invalid name", "Invalid").with_code(422);
        assert!(!is_test_failure(&kube::Error::Api(other.boxed())));
    }

    #[test]
    fn a_forbidden_patch_names_the_needed_permission() {
        let msg = service_account(&api_error(403, "forbidden"), "apps", "default");
        assert!(
            msg.contains("get and patch on serviceaccounts/default in namespace apps"),
            "{msg}"
        );
    }
}
