//! The keys of a registry's ConfigMap (the refresher's environment) and of its credentials
//! Secret.

/// One setting the chart writes into a registry's ConfigMap and the refresher reads from its
/// environment (`envFrom`), with whether the refresher needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    /// The ConfigMap key and environment variable.
    pub name: &'static str,
    /// The refresher refuses to start without it.
    pub required: bool,
}

/// `ECR_REGISTRY_NAME`: the registry's name.
pub const REGISTRY_NAME: &str = "ECR_REGISTRY_NAME";
/// `AWS_REGION`: the registry's region (also read by the AWS SDK).
pub const AWS_REGION: &str = "AWS_REGION";
/// `SECRET_NAME`: the pull Secret to write.
pub const SECRET_NAME: &str = "SECRET_NAME";
/// `TARGET_NAMESPACES`: comma-separated namespaces to write it into. A registry has this,
/// [`NAMESPACE_SELECTOR`], or both; the refresher refuses to start with neither.
pub const TARGET_NAMESPACES: &str = "TARGET_NAMESPACES";
/// `NAMESPACE_SELECTOR`: the namespaces to write it into, chosen at every run among the live
/// namespaces: a Kubernetes `LabelSelector` (`matchLabels`, `matchExpressions`) as compact JSON,
/// e.g. `{"matchLabels":{"team":"a"}}`; `{}` selects every namespace. Namespaces being deleted
/// are skipped.
pub const NAMESPACE_SELECTOR: &str = "NAMESPACE_SELECTOR";
/// `EXCLUDE_NAMESPACES`: comma-separated namespaces the selector never writes into.
pub const EXCLUDE_NAMESPACES: &str = "EXCLUDE_NAMESPACES";
/// `PRUNE`: `true` to delete this registry's Secrets in namespaces the selector no longer
/// matches (only Secrets with the refresher's managed-by label and field manager).
pub const PRUNE: &str = "PRUNE";
/// `AWS_ACCOUNT`: the registry's account (also a credentials key).
pub const AWS_ACCOUNT: &str = "AWS_ACCOUNT";
/// `REGISTRY_IDS`: comma-separated extra accounts.
pub const REGISTRY_IDS: &str = "REGISTRY_IDS";
/// `ROLE_ARN`: the IAM role to assume first.
pub const ROLE_ARN: &str = "ROLE_ARN";
/// `IMAGE_PULL_SECRET_FOR`: comma-separated ServiceAccounts to patch.
pub const IMAGE_PULL_SECRET_FOR: &str = "IMAGE_PULL_SECRET_FOR";
/// `LOG_FORMAT`: `json` or `plain`.
pub const LOG_FORMAT: &str = "LOG_FORMAT";

/// Environment only (never in the ConfigMap): print instead of apply.
pub const DRY_RUN: &str = "DRY_RUN";
/// Environment only: the format of the dry-run output.
pub const DRY_RUN_OUTPUT: &str = "DRY_RUN_OUTPUT";
/// Environment only: the timeout of each request.
pub const REQUEST_TIMEOUT: &str = "REQUEST_TIMEOUT";
/// Environment only: the retry budget of each step.
pub const RETRY_TIMEOUT: &str = "RETRY_TIMEOUT";

/// Environment only: the uninstall plan to carry out instead of a refresh
/// ([`crate::uninstall`]).
pub const UNINSTALL_PLAN: &str = "UNINSTALL_PLAN";

/// `AWS_ACCESS_KEY_ID` in a credentials Secret (read by the AWS SDK).
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// `AWS_SECRET_ACCESS_KEY` in a credentials Secret (read by the AWS SDK).
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";

/// Every key a registry's ConfigMap may hold, in the order the chart writes them.
pub const CONFIG_KEYS: [ConfigKey; 12] = [
    ConfigKey {
        name: REGISTRY_NAME,
        required: true,
    },
    ConfigKey {
        name: AWS_REGION,
        required: true,
    },
    ConfigKey {
        name: SECRET_NAME,
        required: false,
    },
    ConfigKey {
        name: TARGET_NAMESPACES,
        required: false,
    },
    ConfigKey {
        name: NAMESPACE_SELECTOR,
        required: false,
    },
    ConfigKey {
        name: EXCLUDE_NAMESPACES,
        required: false,
    },
    ConfigKey {
        name: PRUNE,
        required: false,
    },
    ConfigKey {
        name: AWS_ACCOUNT,
        required: false,
    },
    ConfigKey {
        name: REGISTRY_IDS,
        required: false,
    },
    ConfigKey {
        name: ROLE_ARN,
        required: false,
    },
    ConfigKey {
        name: IMAGE_PULL_SECRET_FOR,
        required: false,
    },
    ConfigKey {
        name: LOG_FORMAT,
        required: false,
    },
];

/// The keys of a credentials Secret, in the order an ExternalSecret lists them. A Secret's
/// `AWS_ACCOUNT` overrides the ConfigMap's (it comes later in `envFrom`).
pub const CREDENTIAL_KEYS: [&str; 3] = [AWS_ACCOUNT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY];

/// The ConfigMap key named `name`, if it is one.
pub fn config_key(name: &str) -> Option<ConfigKey> {
    CONFIG_KEYS.iter().copied().find(|k| k.name == name)
}

/// Environment only (the pod's downward API): the pod's name, the Events' `reportingInstance`.
pub const POD_NAME: &str = "POD_NAME";
/// Environment only (downward API): the pod's namespace, that of its Job.
pub const POD_NAMESPACE: &str = "POD_NAMESPACE";
/// Environment only (downward API, the pod's [`crate::names::LABEL_JOB_NAME`] label): the run's
/// Job, which a failure Event is about.
pub const JOB_NAME: &str = "JOB_NAME";
/// Environment only (downward API, the pod's [`crate::names::LABEL_JOB_UID`] label): the Job's
/// UID, so `kubectl describe job` finds the Event.
pub const JOB_UID: &str = "JOB_UID";

/// Environment only: the sync run ([`crate::names::SYNC`]) instead of a refresh — the directory
/// holding one sub-directory per registry, named after it, with that registry's ConfigMap
/// mounted (one file per key of [`CONFIG_KEYS`]).
pub const SYNC_DIR: &str = "SYNC_DIR";
/// Environment only (sync run): the directory holding, for each registry whose AWS access is a
/// credentials Secret, a sub-directory named after it with that Secret mounted (one file per
/// key of [`CREDENTIAL_KEYS`], and `AWS_SESSION_TOKEN` if the Secret has it). A registry
/// without a sub-directory here uses the pod's own AWS identity.
pub const SYNC_CREDENTIALS_DIR: &str = "SYNC_CREDENTIALS_DIR";
/// `AWS_SESSION_TOKEN` in a credentials Secret (optional; read by the AWS SDK).
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";

/// Environment only: the check plan file ([`crate::check`]) to verify instead of a refresh
/// (the chart's `helm test` Pod mounts it from the ConfigMap [`crate::names::CHECK`]).
pub const CHECK_PLAN: &str = "CHECK_PLAN";
