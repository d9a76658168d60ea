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

/// The annotation Helm adds to every object it installs: the release's name.
pub const ANNOTATION_HELM_RELEASE_NAME: &str = "meta.helm.sh/release-name";
/// The annotation Helm adds to every object it installs: the release's namespace.
pub const ANNOTATION_HELM_RELEASE_NAMESPACE: &str = "meta.helm.sh/release-namespace";

/// Label keys the chart sets itself: values may not set them again.
pub const CHART_LABEL_KEYS: [&str; 8] = [
    LABEL_NAME,
    LABEL_INSTANCE,
    LABEL_VERSION,
    LABEL_MANAGED_BY,
    LABEL_PART_OF,
    LABEL_HELM_CHART,
    LABEL_REGISTRY,
    LABEL_HOOK,
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

/// Longest Job name: Kubernetes writes it into the `batch.kubernetes.io/job-name` and
/// `job-name` labels of the Job's pods, and a label value has at most 63 characters.
pub const MAX_JOB_NAME: usize = 63;
/// Hex digits of the settings hash that ends an immediate Job's name.
pub const SETTINGS_HASH_LEN: usize = 8;

/// The immediate Job of a registry whose settings (everything its pod is made of) hash to
/// `settings_hash`: `ecr-registry-helper-immediate-<name>-<hash>`, 8 lowercase hex digits.
/// Changed settings give a new name, so the Job is replaced instead of updated (a Job's pod
/// template is immutable), and unchanged settings keep the name, so nothing reruns. Registry
/// names longer than 24 characters are cut to fit [`MAX_JOB_NAME`] (the hash covers the
/// whole name, so two such registries still get two names).
pub fn immediate_job_for(registry: &str, settings_hash: u32) -> String {
    let mut name = immediate_job(registry);
    let room = MAX_JOB_NAME - SETTINGS_HASH_LEN - 1;
    if name.len() > room {
        let mut end = room;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    format!("{name}-{settings_hash:08x}")
}

/// The uninstall hook's ConfigMap (its plan) and Job: `ecr-registry-helper-uninstall`.
pub const UNINSTALL: &str = "ecr-registry-helper-uninstall";
/// The label that marks the uninstall hook's objects, value [`HOOK_PRE_DELETE`]; `kubectl
/// apply -l 'ecr-registry-helper/hook!=pre-delete'` leaves them out.
pub const LABEL_HOOK: &str = "ecr-registry-helper/hook";
/// The value of [`LABEL_HOOK`] on the uninstall hook's objects.
pub const HOOK_PRE_DELETE: &str = "pre-delete";
/// The [`LABEL_HOOK`] value of the `helm test` Pod.
pub const HOOK_TEST: &str = "test";
/// The `helm test` Pod (with `helmTest.enabled`): checks every pull Secret of the release; also
/// its plan's ConfigMap (a plain release object, so it is there before any hook runs).
pub const CHECK: &str = "ecr-registry-helper-check";
/// Where the `helm test` Pod mounts its plan (the ConfigMap's key [`crate::check::PLAN_KEY`]).
pub const CHECK_PLAN_DIR: &str = "/etc/ecr-refresher";
/// Where the uninstall Job mounts its plan (the ConfigMap's key [`crate::uninstall::PLAN_KEY`]).
pub const UNINSTALL_PLAN_DIR: &str = "/etc/ecr-refresher";

/// The release's sync CronJob (with a namespace selector on any registry): every few minutes,
/// copies each selecting registry's current token into matching namespaces that lack it or
/// hold an older one, without asking ECR unless no valid token is left:
/// `ecr-registry-helper-sync`.
pub const SYNC: &str = "ecr-registry-helper-sync";
/// Where the sync pod mounts each selecting registry's ConfigMap: `<dir>/<registry>/<KEY>`
/// ([`crate::keys::SYNC_DIR`]).
pub const SYNC_CONFIG_DIR: &str = "/etc/ecr-refresher/sync";
/// Where the sync pod mounts the credentials Secret of each selecting registry that has one:
/// `<dir>/<registry>/<KEY>` ([`crate::keys::SYNC_CREDENTIALS_DIR`]).
pub const SYNC_CREDENTIALS_DIR: &str = "/etc/ecr-refresher/sync-credentials";
/// The sync pod's volume holding registry `registry`'s ConfigMap: `cm-<name>`.
pub fn sync_config_volume(registry: &str) -> String {
    format!("cm-{registry}")
}
/// The sync pod's volume holding registry `registry`'s credentials Secret: `aws-<name>`.
pub fn sync_credentials_volume(registry: &str) -> String {
    format!("aws-{registry}")
}

/// The ExternalSecret of a registry: named like the Secret it fills.
pub fn external_secret(registry: &str) -> String {
    credentials_secret(registry)
}

/// The Role and RoleBinding in each target namespace: `<release>-regcred`.
pub fn target_role(release: &str) -> String {
    format!("{release}-regcred")
}

/// The ClusterRole and ClusterRoleBinding of the registries with a namespace selector (their
/// target namespaces are only known at run time): `<release>-<release namespace>-regcred`, so
/// two releases of the same name in two namespaces do not share one. Its rules on Secrets and
/// ServiceAccounts are limited by `resourceNames`.
pub fn cluster_role(release: &str, release_namespace: &str) -> String {
    format!("{release}-{release_namespace}-regcred")
}

/// The Role and RoleBinding in the release namespace letting the refresher's Jobs record their
/// failure Events there (only `create` on events): `<release>-regcred-events`. Its own name, so
/// it never collides with [`target_role`] when the release namespace is also a target.
pub fn job_events_role(release: &str) -> String {
    format!("{}-events", target_role(release))
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

/// The Events' `reportingController` (a qualified name, as events.k8s.io/v1 requires).
pub const REPORTING_CONTROLLER: &str = "ecr-refresher";
/// The label the Job controller puts on a Job's pods naming the Job (Kubernetes ≥ 1.27; the
/// older `job-name` label is also set, for compatibility).
pub const LABEL_JOB_NAME: &str = "batch.kubernetes.io/job-name";
/// The label the Job controller puts on a Job's pods holding the Job's UID (Kubernetes ≥ 1.27).
pub const LABEL_JOB_UID: &str = "batch.kubernetes.io/controller-uid";

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
        assert_eq!(cluster_role("rel", "tools"), "rel-tools-regcred");
        assert!(SYNC.len() <= MAX_CRON_JOB_NAME);
        assert_eq!(prometheus_rule("rel"), "rel-regcred-alerts");
        assert_eq!(prometheus_rule_part("rel", 2), "rel-regcred-alerts-2");
        assert_eq!(MAX_REGISTRY_NAME, 32);
    }

    #[test]
    fn an_immediate_job_name_keeps_the_seed_name_as_its_prefix_and_ends_with_the_hash() {
        assert_eq!(
            immediate_job_for("prod", 0x00ab_cdef),
            "ecr-registry-helper-immediate-prod-00abcdef"
        );
        let long = "a".repeat(MAX_REGISTRY_NAME);
        let name = immediate_job_for(&long, u32::MAX);
        assert_eq!(name.len(), MAX_JOB_NAME);
        assert!(name.starts_with(&immediate_job(&long[..24])), "{name}");
        assert!(name.ends_with("-ffffffff"), "{name}");
    }

    #[test]
    fn the_longest_registry_name_gives_names_kubernetes_accepts() {
        let name = "a".repeat(MAX_REGISTRY_NAME);
        assert_eq!(cron_job(&name).len(), MAX_CRON_JOB_NAME);
        assert!(immediate_job(&name).len() <= 63, "a Job name is a label");
        assert!(credentials_secret(&name).len() <= 253);
    }
}
