//! The crate's one error type: a variant per failed operation, each naming the registry and step.

use aws_sdk_ecr::error::SdkError;
use aws_sdk_ecr::operation::get_authorization_token::GetAuthorizationTokenError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;

use crate::{ecr, secret, service_account, sts};

/// Everything that can stop a run. [`Error::MissingSetting`] and [`Error::InvalidSetting`] are
/// bad settings (exit 2); every other variant is a failure at run time (exit 1).
///
/// Display is the one line printed at the end of a failed run: registry, step, cause and, where
/// one is known, what to do. No variant holds a token, password or secret key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required setting is unset or empty.
    #[error("missing setting {env} ({flag})")]
    MissingSetting {
        /// Environment variable.
        env: &'static str,
        /// Command-line flag.
        flag: &'static str,
    },

    /// A setting has a value that cannot work.
    #[error("invalid setting {env} ({flag}) = {value:?}: {reason}")]
    InvalidSetting {
        /// Environment variable.
        env: &'static str,
        /// Command-line flag.
        flag: &'static str,
        /// The value given (settings hold no credentials).
        value: String,
        /// What is allowed.
        reason: String,
    },

    /// Neither in-cluster config nor a kubeconfig could be loaded.
    #[error(
        "registry {registry}: load Kubernetes config: {} — run in a pod with a service account or set KUBECONFIG",
        crate::error::chain(source)
    )]
    KubeConfig {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        source: Box<kube::config::InferConfigError>,
    },

    /// The Kubernetes client could not be built from its config.
    #[error(
        "registry {registry}: build Kubernetes client: {}",
        crate::error::chain(source)
    )]
    KubeClient {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        source: Box<kube::Error>,
    },

    /// STS `AssumeRole` of `ROLE_ARN` failed (after retries, if the failure was transient).
    #[error(
        "registry {registry}: assume role {role_arn}: {}",
        sts::describe(source)
    )]
    AssumeRole {
        /// Registry name.
        registry: String,
        /// The role.
        role_arn: String,
        /// The SDK error.
        #[source]
        source: Box<SdkError<AssumeRoleError>>,
    },

    /// STS answered `AssumeRole` without credentials.
    #[error("registry {registry}: assume role {role_arn}: the response holds no credentials")]
    AssumeRoleResponse {
        /// Registry name.
        registry: String,
        /// The role.
        role_arn: String,
    },

    /// ECR `GetAuthorizationToken` failed (after retries, if the failure was transient).
    #[error(
        "registry {registry}: get ECR token: {}",
        ecr::describe(source, role_arn.as_deref())
    )]
    EcrToken {
        /// Registry name.
        registry: String,
        /// The role assumed first, if any.
        role_arn: Option<String>,
        /// The SDK error.
        #[source]
        source: Box<SdkError<GetAuthorizationTokenError>>,
    },

    /// ECR answered without usable authorization data.
    #[error("registry {registry}: get ECR token: {problem}")]
    EcrResponse {
        /// Registry name.
        registry: String,
        /// What was missing.
        problem: &'static str,
    },

    /// The token ECR returned is not `base64("<user>:<password>")`.
    #[error("registry {registry}: decode ECR token: {source}")]
    DecodeToken {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        source: ecr::TokenError,
    },

    /// Reading the existing Secret failed.
    #[error(
        "registry {registry}: read Secret {namespace}/{name}: {}",
        secret::describe(source, namespace)
    )]
    ReadSecret {
        /// Registry name.
        registry: String,
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    /// A Secret of that name exists with another type; it was left untouched.
    #[error(
        "registry {registry}: apply Secret {namespace}/{name}: a Secret of that name already exists with type {found:?}, not \"kubernetes.io/dockerconfigjson\", and the type of a Secret cannot change; it was left untouched — delete it (kubectl delete secret -n {namespace} {name}) or choose another SECRET_NAME"
    )]
    WrongSecretType {
        /// Registry name.
        registry: String,
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// The type found (or what the API server reported).
        found: String,
    },

    /// The server-side apply failed.
    #[error(
        "registry {registry}: apply Secret {namespace}/{name}: {}",
        secret::describe(source, namespace)
    )]
    ApplySecret {
        /// Registry name.
        registry: String,
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    /// A ServiceAccount named in `IMAGE_PULL_SECRET_FOR` does not exist (it is not created).
    #[error(
        "registry {registry}: patch ServiceAccount {namespace}/{name}: not found — create the ServiceAccount or remove it from IMAGE_PULL_SECRET_FOR (imagePullSecretFor); the refresher does not create ServiceAccounts"
    )]
    ServiceAccountMissing {
        /// Registry name.
        registry: String,
        /// Namespace.
        namespace: String,
        /// ServiceAccount name.
        name: String,
    },

    /// Reading or patching a ServiceAccount named in `IMAGE_PULL_SECRET_FOR` failed.
    #[error(
        "registry {registry}: {step} ServiceAccount {namespace}/{name}: {}",
        service_account::describe(source, namespace, name)
    )]
    ServiceAccount {
        /// Registry name.
        registry: String,
        /// `read` or `patch`.
        step: &'static str,
        /// Namespace.
        namespace: String,
        /// ServiceAccount name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    /// Some target namespaces failed (each was logged when it failed); the others were written.
    #[error(
        "registry {registry}: {failed} of {total} target namespaces failed: {}",
        failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Namespaces {
        /// Registry name.
        registry: String,
        /// Number of target namespaces.
        total: usize,
        /// Number of failed namespaces.
        failed: usize,
        /// Every failure (a namespace may fail in more than one ServiceAccount).
        failures: Vec<Error>,
    },

    /// The dry-run Secret could not be rendered.
    #[error("registry {registry}: render dry-run Secret: {source}")]
    RenderDryRun {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },

    /// The dry-run Secret could not be rendered as YAML.
    #[error("registry {registry}: render dry-run Secret: {source}")]
    RenderDryRunYaml {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        source: serde_yaml::Error,
    },

    /// The dry-run Secret could not be written to stdout.
    #[error("registry {registry}: print dry-run Secret: {source}")]
    PrintDryRun {
        /// Registry name.
        registry: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Whether this is a bad-settings error (exit 2) rather than a run-time failure (exit 1).
    pub fn is_settings(&self) -> bool {
        matches!(
            self,
            Error::MissingSetting { .. } | Error::InvalidSetting { .. }
        )
    }
}

/// An error and its sources as one line, `a: b: c`, skipping a source whose text its parent
/// already contains (many errors repeat their source in their own message).
/// Line breaks inside a message become `; ` so the result stays one line.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
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
    fn wrong_type_says_what_to_do() {
        let err = Error::WrongSecretType {
            registry: "primary".into(),
            namespace: "apps".into(),
            name: "regcred-primary".into(),
            found: "Opaque".into(),
        };
        let msg = err.to_string();
        assert!(msg.starts_with("registry primary: apply Secret apps/regcred-primary:"));
        assert!(msg.contains("\"Opaque\""), "{msg}");
        assert!(
            msg.contains("kubectl delete secret -n apps regcred-primary"),
            "{msg}"
        );
        assert!(!err.is_settings());
    }
}
