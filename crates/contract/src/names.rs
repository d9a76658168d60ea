//! Names derived from a registry's name, and the fixed names of the chart and the refresher.

/// The chart's name, its `app.kubernetes.io/name` and `part-of`, and the prefix of every
/// per-registry object.
pub const CHART_NAME: &str = "ecr-registry-helper";
/// The ServiceAccount the refresher pods run as, unless the values name another.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "sa-argocd";
/// The field manager of every write of the refresher, and the `managed-by` label value of the
/// Secrets it writes.
pub const FIELD_MANAGER: &str = "ecr-refresher";
/// The refresher container's name in every pod.
pub const CONTAINER_NAME: &str = "refresher";

/// `app.kubernetes.io/name`.
pub const LABEL_NAME: &str = "app.kubernetes.io/name";
/// `app.kubernetes.io/instance`: the Helm release.
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
/// `app.kubernetes.io/version`.
pub const LABEL_VERSION: &str = "app.kubernetes.io/version";
/// `app.kubernetes.io/managed-by`: `Helm` on the chart's objects, [`FIELD_MANAGER`] on the
/// Secrets the refresher writes.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// `app.kubernetes.io/part-of`.
pub const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
/// `helm.sh/chart`: `<chart>-<version>`.
pub const LABEL_HELM_CHART: &str = "helm.sh/chart";
/// The registry an object belongs to (its name).
pub const LABEL_REGISTRY: &str = "ecr-registry-helper/registry";
/// When the refresher last wrote a Secret (RFC 3339).
pub const ANNOTATION_REFRESHED_AT: &str = "ecr-registry-helper/refreshed-at";
/// When the token in a Secret expires (RFC 3339).
pub const ANNOTATION_EXPIRES_AT: &str = "ecr-registry-helper/expires-at";

/// Label keys the chart sets itself: values may not set them again.
pub const CHART_LABEL_KEYS: [&str; 7] = [
    LABEL_NAME,
    LABEL_INSTANCE,
    LABEL_VERSION,
    LABEL_MANAGED_BY,
    LABEL_PART_OF,
    LABEL_HELM_CHART,
    LABEL_REGISTRY,
];

/// The `kubernetes.io/dockerconfigjson` pull Secret: `regcred-<name>`.
pub fn pull_secret(registry: &str) -> String {
    format!("regcred-{registry}")
}

/// The Secret holding a registry's AWS credentials (filled by its ExternalSecret):
/// `ecr-registry-helper-secrets-<name>`.
pub fn credentials_secret(registry: &str) -> String {
    format!("{CHART_NAME}-secrets-{registry}")
}

/// The ConfigMap of a registry's settings, read by the refresher: `ecr-registry-helper-cm-<name>`.
pub fn config_map(registry: &str) -> String {
    format!("{CHART_NAME}-cm-{registry}")
}

/// The CronJob of a registry: `ecr-registry-helper-<name>`.
pub fn cron_job(registry: &str) -> String {
    format!("{CHART_NAME}-{registry}")
}

/// The Job that creates the pull secret at install: `ecr-registry-helper-immediate-<name>`.
pub fn immediate_job(registry: &str) -> String {
    format!("{CHART_NAME}-immediate-{registry}")
}

/// The ExternalSecret of a registry: named like the Secret it fills.
pub fn external_secret(registry: &str) -> String {
    credentials_secret(registry)
}

/// The Role and RoleBinding in each target namespace: `<release>-regcred`.
pub fn target_role(release: &str) -> String {
    format!("{release}-regcred")
}

/// The release's PrometheusRule (alerts on every registry's refresh):
/// `<release>-regcred-alerts`.
pub fn prometheus_rule(release: &str) -> String {
    format!("{release}-regcred-alerts")
}

/// Part `part` (2, 3, …) of the release's PrometheusRule, when its registries need more than
/// one object: `<release>-regcred-alerts-<part>`.
pub fn prometheus_rule_part(release: &str, part: usize) -> String {
    format!("{}-{part}", prometheus_rule(release))
}

/// The STS session name of a refresher assuming a role: `ecr-refresher-<name>`.
pub fn role_session(registry: &str) -> String {
    format!("{FIELD_MANAGER}-{registry}")
}

/// Kubernetes' longest CronJob name (its Jobs get an 11-character suffix within 63).
pub const MAX_CRON_JOB_NAME: usize = 52;
/// Longest registry name: the CronJob `ecr-registry-helper-<name>` must fit
/// [`MAX_CRON_JOB_NAME`].
pub const MAX_REGISTRY_NAME: usize = MAX_CRON_JOB_NAME - CHART_NAME.len() - 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed_chart() {
        assert_eq!(pull_secret("prod"), "regcred-prod");
        assert_eq!(
            credentials_secret("prod"),
            "ecr-registry-helper-secrets-prod"
        );
        assert_eq!(config_map("prod"), "ecr-registry-helper-cm-prod");
        assert_eq!(cron_job("prod"), "ecr-registry-helper-prod");
        assert_eq!(immediate_job("prod"), "ecr-registry-helper-immediate-prod");
        assert_eq!(target_role("rel"), "rel-regcred");
        assert_eq!(prometheus_rule("rel"), "rel-regcred-alerts");
        assert_eq!(prometheus_rule_part("rel", 2), "rel-regcred-alerts-2");
        assert_eq!(MAX_REGISTRY_NAME, 32);
    }

    #[test]
    fn the_longest_registry_name_gives_names_kubernetes_accepts() {
        let name = "a".repeat(MAX_REGISTRY_NAME);
        assert_eq!(cron_job(&name).len(), MAX_CRON_JOB_NAME);
        assert!(immediate_job(&name).len() <= 63, "a Job name is a label");
        assert!(credentials_secret(&name).len() <= 253);
    }
}
