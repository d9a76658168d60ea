//! STS: assuming `ROLE_ARN` with the default chain's credentials, for the ECR call that follows.

use std::time::SystemTime;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use ecr_contract::names;

use crate::cause;
use crate::error::Error;
use crate::retry::RetryPolicy;

/// Longest role session name STS accepts.
const MAX_SESSION_NAME: usize = 64;

/// The role session name of a registry: [`names::role_session`], cut to 64 characters
/// (registry names are DNS labels, which STS accepts as they are).
pub fn session_name(registry: &str) -> String {
    let mut name = names::role_session(registry);
    name.truncate(MAX_SESSION_NAME);
    name
}

/// Calls STS `AssumeRole` for `role_arn` with the credentials, endpoint (`AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_STS`), HTTP client and timeouts of `sdk_config`, retrying transient
/// failures. The credentials it returns are secrets: only the role, the assumed identity's ARN
/// and the expiry are logged.
///
/// aws-config's `AssumeRoleProvider` is not used: it would assume the role lazily inside the
/// ECR call, so its failures would surface as "loading credentials failed" of the ECR step and be
/// retried as transient even when STS denied access.
pub async fn assume_role(
    registry: &str,
    role_arn: &str,
    sdk_config: &SdkConfig,
    retry: &RetryPolicy,
) -> Result<Credentials, Error> {
    let client = aws_sdk_sts::Client::new(sdk_config);
    let session = session_name(registry);
    let step = format!("assume role {role_arn}");
    let output = retry
        .run(&step, cause::aws_is_transient, cause::assume_role, || {
            client
                .assume_role()
                .role_arn(role_arn)
                .role_session_name(&session)
                .send()
        })
        .await
        .map_err(|source| Error::AssumeRole {
            role_arn: role_arn.to_owned(),
            source: Box::new(source),
        })?;

    let credentials = output
        .credentials
        .ok_or_else(|| Error::AssumeRoleResponse {
            role_arn: role_arn.to_owned(),
        })?;
    let expires_at = SystemTime::try_from(credentials.expiration).ok();
    tracing::info!(
        role_arn,
        session = %session,
        assumed_role = output.assumed_role_user.as_ref().map_or("unknown", |u| u.arn.as_str()),
        expires_at = %credentials.expiration,
        "assumed role"
    );
    Ok(Credentials::new(
        credentials.access_key_id,
        credentials.secret_access_key,
        Some(credentials.session_token),
        expires_at,
        "AssumeRole",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_name_names_the_registry_and_fits_sts_limits() {
        assert_eq!(session_name("primary"), "ecr-refresher-primary");
        let long = "r".repeat(63);
        let name = session_name(&long);
        assert_eq!(name.len(), 64);
        assert!(name.starts_with("ecr-refresher-rrr"));
    }
}
