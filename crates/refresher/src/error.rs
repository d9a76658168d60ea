//! The crate's one error type: a variant per failed operation, each naming its step and cause.

use aws_sdk_ecr::error::SdkError;
use aws_sdk_ecr::operation::get_authorization_token::GetAuthorizationTokenError;
use aws_sdk_sts::operation::assume_role::AssumeRoleError;

use ecr_contract::keys;

use crate::cause;
use crate::dockerconfig::{SECRET_TYPE, TokenError};

/// ` with labelSelector <s>` when a selector was sent.
fn selector_note(selector: &str) -> String {
    if selector.is_empty() {
        String::new()
    } else {
        format!(" with labelSelector {selector:?}")
    }
}

/// Everything that can stop a run. [`Error::MissingSetting`] and [`Error::InvalidSetting`] are
/// bad settings (exit 2); every other variant is a failure at run time (exit 1).
///
/// Display is the step, the cause and, where one is known, what to do, on one line; the
/// registry is not repeated here: the run's tracing span carries it and the final error line
/// puts it in front once (`registry <name>: …`). No variant holds a token, password or secret key.
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
        /// What is allowed, and what is wrong with the value.
        reason: String,
    },

    /// Neither in-cluster config nor a kubeconfig could be loaded.
    #[error(
        "load Kubernetes config: {} — run in a pod with a service account or set KUBECONFIG",
        cause::chain(source)
    )]
    KubeConfig {
        /// Why.
        #[source]
        source: Box<kube::config::InferConfigError>,
    },

    /// The Kubernetes client could not be built from its config.
    #[error("build Kubernetes client: {}", cause::chain(source))]
    KubeClient {
        /// Why.
        #[source]
        source: Box<kube::Error>,
    },

    /// STS `AssumeRole` of `ROLE_ARN` failed (after retries, if the failure was transient).
    #[error("assume role {role_arn}: {}", cause::assume_role(source))]
    AssumeRole {
        /// The role.
        role_arn: String,
        /// The SDK error.
        #[source]
        source: Box<SdkError<AssumeRoleError>>,
    },

    /// STS answered `AssumeRole` without credentials.
    #[error("assume role {role_arn}: the response holds no credentials")]
    AssumeRoleResponse {
        /// The role.
        role_arn: String,
    },

    /// ECR `GetAuthorizationToken` failed (after retries, if the failure was transient).
    #[error("get ECR token: {}", cause::ecr_token(source, role_arn.as_deref()))]
    EcrToken {
        /// The role assumed first, if any.
        role_arn: Option<String>,
        /// The SDK error.
        #[source]
        source: Box<SdkError<GetAuthorizationTokenError>>,
    },

    /// ECR answered without usable authorization data.
    #[error("get ECR token: {problem}")]
    EcrResponse {
        /// What was missing.
        problem: &'static str,
    },

    /// The token ECR returned is not `base64("<user>:<password>")`.
    #[error("decode ECR token: {0}")]
    DecodeToken(#[source] TokenError),

    /// Reading the existing Secret failed.
    #[error("read Secret {namespace}/{name}: {}", cause::kube(source, namespace))]
    ReadSecret {
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
        "apply Secret {namespace}/{name}: a Secret of that name already exists with type {found:?}, not {SECRET_TYPE:?}, and the type of a Secret cannot change; it was left untouched — delete it (kubectl delete secret -n {namespace} {name}) or choose another {}",
        keys::SECRET_NAME
    )]
    WrongSecretType {
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// The type found (or what the API server reported).
        found: String,
    },

    /// The server-side apply failed.
    #[error("apply Secret {namespace}/{name}: {}", cause::kube(source, namespace))]
    ApplySecret {
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
        "patch ServiceAccount {namespace}/{name}: not found — create the ServiceAccount or remove it from {} (imagePullSecretFor); the refresher does not create ServiceAccounts",
        keys::IMAGE_PULL_SECRET_FOR
    )]
    ServiceAccountMissing {
        /// Namespace.
        namespace: String,
        /// ServiceAccount name.
        name: String,
    },

    /// Reading or patching a ServiceAccount named in `IMAGE_PULL_SECRET_FOR` failed.
    #[error(
        "{step} ServiceAccount {namespace}/{name}: {}",
        cause::service_account(source, namespace, name)
    )]
    ServiceAccount {
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

    /// Reading a Secret to delete, or deleting it, failed (uninstall).
    #[error("{step} Secret {namespace}/{name}: {}", cause::kube(source, namespace))]
    DeleteSecret {
        /// `read` or `delete`.
        step: &'static str,
        /// Namespace.
        namespace: String,
        /// Secret name.
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    /// A plan file (the uninstall or the check plan) could not be read.
    #[error("read {plan} plan {}: {source}", path.display())]
    ReadPlan {
        /// Which plan: `uninstall` or `check`.
        plan: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// A plan file is not a plan (bad settings: exit 2).
    #[error("{plan} plan {}: {source}", path.display())]
    Plan {
        /// Which plan: `uninstall` or `check`.
        plan: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The line and what is wrong with it.
        #[source]
        source: ecr_contract::plan::PlanError,
    },

    /// Some pull Secrets of the check plan are not as they should be (each named on its own
    /// line before).
    #[error("check: {failed} of {total} pull Secrets are not ready to pull with")]
    Check {
        /// Entries checked.
        total: usize,
        /// Entries with a problem.
        failed: usize,
    },

    /// Some steps of the uninstall failed (each was logged); the others were done.
    #[error(
        "uninstall: {failed} of {total} plan entries failed: {}",
        failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Uninstall {
        /// Number of plan entries.
        total: usize,
        /// Number of entries with a failure.
        failed: usize,
        /// Every failure.
        failures: Vec<Error>,
    },

    /// Some target namespaces failed (each was logged when it failed); the others were written.
    #[error(
        "{failed} of {total} target namespaces failed: {}",
        failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Namespaces {
        /// Number of target namespaces.
        total: usize,
        /// Number of failed namespaces.
        failed: usize,
        /// Every failure (a namespace may fail in more than one ServiceAccount).
        failures: Vec<Error>,
    },

    /// The dry-run Secret could not be rendered.
    #[error("render dry-run Secret: {0}")]
    RenderDryRun(#[source] serde_json::Error),

    /// The dry-run Secret could not be rendered as YAML.
    #[error("render dry-run Secret: {0}")]
    RenderDryRunYaml(#[source] serde_yaml::Error),

    /// The dry-run Secret could not be written to stdout.
    #[error("print dry-run Secret: {0}")]
    PrintDryRun(#[source] std::io::Error),

    // `ecr-refresher status` (crate::status).
    /// `status`: a flag has a value that cannot work.
    #[error("invalid {flag} {value:?}: {reason}")]
    StatusFlag {
        /// Command-line flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        reason: String,
    },

    /// `status --context`: the kubeconfig or that context could not be loaded.
    #[error("load kubeconfig context {context:?}: {}", cause::chain(source))]
    StatusKubeconfig {
        /// The context asked for.
        context: String,
        /// Why.
        #[source]
        source: Box<kube::config::KubeconfigError>,
    },

    /// Listing the cluster's namespaces (for a namespace selector) failed.
    #[error(
        "list namespaces{}: {}",
        selector_note(selector),
        cause::cluster(source, "list", "namespaces")
    )]
    ListNamespaces {
        /// The `labelSelector` sent, empty for all.
        selector: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    /// Listing a ServiceAccount of `IMAGE_PULL_SECRET_FOR` across every namespace (the sync
    /// run) failed.
    #[error(
        "list ServiceAccount {name} in every namespace: {}",
        cause::cluster(source, "list", "serviceaccounts")
    )]
    ListServiceAccounts {
        /// The ServiceAccount's name (the `metadata.name` field selector).
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    /// Listing a pull Secret across every namespace (sync, prune, plan lines `*`) failed.
    #[error(
        "list Secret {name} in every namespace: {}",
        cause::cluster(source, "list", "secrets")
    )]
    ListSecrets {
        /// The Secret's name (the `metadata.name` field selector).
        name: String,
        /// The API error.
        #[source]
        source: Box<kube::Error>,
    },

    // The sync run (crate::sync).
    /// The sync run could not read a directory or file of its settings or credentials
    /// (`SYNC_DIR`, `SYNC_CREDENTIALS_DIR`: mounted ConfigMaps and Secrets).
    #[error("sync: read {}: {source}", path.display())]
    SyncRead {
        /// The directory or file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// A registry's settings directory holds a setting the refresher refuses; `file` is the
    /// ConfigMap key's file (for a missing setting, the file that should be there).
    #[error("sync: settings file {}: {source}", file.display())]
    SyncSetting {
        /// The file.
        file: std::path::PathBuf,
        /// The setting's error, as the environment would give it.
        #[source]
        source: Box<Error>,
    },

    /// A file of a registry's settings or credentials directory cannot be a value: not UTF-8
    /// text, or a value the flag's parser refuses.
    #[error("sync: settings file {}: {reason}", file.display())]
    SyncSettingValue {
        /// The file.
        file: std::path::PathBuf,
        /// What is wrong, and what is allowed (never the value of a credential).
        reason: String,
    },

    /// A registry's sub-directory of `SYNC_DIR` holds the settings of another registry.
    #[error(
        "sync: {} holds the settings of registry {found:?} ({}), not of {expected:?}: each registry's ConfigMap is mounted at <SYNC_DIR>/<its name>",
        dir.display(),
        keys::REGISTRY_NAME
    )]
    SyncRegistryName {
        /// The directory.
        dir: std::path::PathBuf,
        /// The directory's name.
        expected: String,
        /// The registry name its files give.
        found: String,
    },

    /// A registry's credentials directory (its credentials Secret, mounted optional) has no
    /// usable keys, so no ECR token can be fetched for it.
    #[error("sync: credentials {}: {reason}", dir.display())]
    SyncCredentials {
        /// The directory.
        dir: std::path::PathBuf,
        /// What is missing, and what to do.
        reason: String,
    },

    /// Some registries of the sync run failed (each was logged with its cause); the others
    /// were synced.
    #[error("sync: {failed} of {total} registries failed: {}", registries.join(", "))]
    Sync {
        /// Registries in `SYNC_DIR`.
        total: usize,
        /// Registries that failed.
        failed: usize,
        /// Their names, in order.
        registries: Vec<String>,
    },

    /// `status`: listing or reading the release's objects failed.
    #[error(
        "{what} in namespace {namespace}: {}",
        crate::status::gather::cause(source, namespace)
    )]
    StatusRead {
        /// What was asked, e.g. `list cronjobs` or `get secret regcred-prod`.
        what: String,
        /// Where.
        namespace: String,
        /// The API's answer.
        #[source]
        source: Box<kube::Error>,
    },

    /// `status`: the table or JSON could not be written to stdout.
    #[error("print status: {0}")]
    PrintStatus(#[source] std::io::Error),

    /// The check's lines could not be written to stdout.
    #[error("print check: {0}")]
    PrintCheck(#[source] std::io::Error),

    // Namespace selectors: prune (issue 13).
    /// Pruning the Secret from namespaces no longer selected failed for some (each was logged);
    /// the others were pruned.
    #[error(
        "prune: {failed} namespaces failed: {}",
        failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Prune {
        /// Number of namespaces with a failure.
        failed: usize,
        /// Every failure.
        failures: Vec<Error>,
    },
}

impl Error {
    /// Whether this is a bad-settings error (exit 2) rather than a run-time failure (exit 1).
    pub fn is_settings(&self) -> bool {
        matches!(
            self,
            Error::MissingSetting { .. } | Error::InvalidSetting { .. } | Error::Plan { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_type_says_what_to_do() {
        let err = Error::WrongSecretType {
            namespace: "apps".into(),
            name: "regcred-primary".into(),
            found: "Opaque".into(),
        };
        let msg = err.to_string();
        assert!(msg.starts_with("apply Secret apps/regcred-primary:"));
        assert!(msg.contains("\"Opaque\""), "{msg}");
        assert!(
            msg.contains("kubectl delete secret -n apps regcred-primary"),
            "{msg}"
        );
        assert!(!err.is_settings());
    }
}
