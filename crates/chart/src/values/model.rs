//! The typed values: every key `values.yaml` may hold, its default and its documentation.
//!
//! Doc comments become the `description`s of the JSON Schema (`ecr-chart schema`,
//! `values.schema.json`), and validation errors quote them as "what is allowed".

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The values of the ECR registry helper chart.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[schemars(title = "ecr-registry-helper values")]
// Without a top-level `namespaceSelector`, each registry names its target namespaces or has a
// selector of its own (the top-level selector applies to a registry that sets none of the
// three).
#[schemars(extend(
    "if" = {"properties": {"namespaceSelector": {"type": "object"}}, "required": ["namespaceSelector"]},
    "else" = {"properties": {"ecrRegistries": {"items": {"anyOf": [
        {"required": ["namespace"]},
        {"required": ["namespaces"], "properties": {"namespaces": {"minItems": 1}}},
        {"required": ["namespaceSelector"]}
    ]}}}}
))]
pub struct Values {
    /// The refresher image run by every CronJob and immediate Job.
    pub image: Image,
    /// Secrets used to pull the refresher image itself: a list of `{name: <secret>}`.
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// The ServiceAccount shared by every refresher pod.
    pub service_account: ServiceAccount,
    /// How the refresher gets AWS access, unless a registry sets its own `accessMode`:
    /// `externalSecret` (static keys synced by External Secrets Operator), `existingSecret`
    /// (static keys in a Secret you manage, named by the registry's `existingSecret`) or
    /// `serviceAccount` (no static keys: IRSA or EKS Pod Identity on the ServiceAccount).
    pub access_mode: AccessMode,
    /// External Secrets Operator settings: where each registry's AWS credentials come from.
    pub external_secret: ExternalSecret,
    /// CPU and memory requests and limits of the refresher container.
    pub resources: Resources,
    /// Settings of every refresh CronJob.
    pub cron_job: CronJob,
    /// The Job that creates the pull secret at once, on install and whenever its inputs change.
    pub immediate_job: ImmediateJob,
    /// What `helm uninstall` (or deleting the ArgoCD Application) removes besides the
    /// release's own objects.
    pub uninstall: Uninstall,
    /// Node labels the refresher pods must run on.
    #[schemars(schema_with = "super::field_schemas::label_map")]
    pub node_selector: BTreeMap<String, String>,
    /// Tolerations of the refresher pods: a Kubernetes `tolerations` list of objects with
    /// `key`, `operator`, `value`, `effect` and `tolerationSeconds`, and no other keys.
    #[schemars(schema_with = "super::field_schemas::tolerations")]
    pub tolerations: Vec<serde_json::Value>,
    /// Affinity of the refresher pods: a Kubernetes `affinity` object (`nodeAffinity`,
    /// `podAffinity`, `podAntiAffinity`), checked against the Kubernetes schema, unknown keys
    /// refused at every depth.
    #[schemars(schema_with = "super::field_schemas::affinity")]
    pub affinity: serde_json::Map<String, serde_json::Value>,
    /// Extra annotations on the refresher pods: at most 256 KiB of keys and values in all.
    #[schemars(schema_with = "super::field_schemas::annotation_map")]
    pub pod_annotations: BTreeMap<String, String>,
    /// Extra labels on the refresher pods; not the chart's own label keys
    /// (`app.kubernetes.io/*`, `helm.sh/chart`, `ecr-registry-helper/registry`).
    #[schemars(schema_with = "super::field_schemas::user_label_map")]
    pub pod_labels: BTreeMap<String, String>,
    /// PriorityClass of the refresher pods (a DNS-1123 subdomain); empty for none.
    #[schemars(extend("format" = "optional-dns-subdomain"))]
    pub priority_class_name: String,
    /// Labels added to every object; not the chart's own label keys (`app.kubernetes.io/*`,
    /// `helm.sh/chart`, `ecr-registry-helper/registry`).
    #[schemars(schema_with = "super::field_schemas::user_label_map")]
    pub common_labels: BTreeMap<String, String>,
    /// Log format of the refresher: `json` or `plain`.
    pub log_format: LogFormat,
    /// The namespace selector of every registry that sets none of `namespace`, `namespaces`
    /// and `namespaceSelector`: a Kubernetes label selector (`matchLabels`,
    /// `matchExpressions`; `{}` selects every namespace); unset: none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "NamespaceSelector")]
    pub namespace_selector: Option<NamespaceSelector>,
    /// Namespaces a selector never writes into, for every registry with a selector that does
    /// not set its own `excludeNamespaces`: DNS-1123 labels, each once.
    #[schemars(schema_with = "super::field_schemas::namespace_list")]
    pub exclude_namespaces: Vec<String>,
    /// Delete a selecting registry's `regcred-<name>` from namespaces its selector no longer
    /// matches (only Secrets with the refresher's managed-by label and field manager), for
    /// every registry with a selector that does not set its own `prune`.
    pub prune: bool,
    /// The sync run of the registries with a namespace selector: a light CronJob that copies
    /// each one's current token into matching namespaces that lack it or hold an older one.
    pub sync: SyncRun,
    /// The ECR registries to keep a `regcred-<name>` pull secret for.
    pub ecr_registries: Vec<Registry>,
    /// Prometheus alerts on the refreshes, tied to each registry's schedule.
    pub monitoring: Monitoring,
    /// The `helm test` Pod checking every pull Secret of the release.
    pub helm_test: HelmTest,
}

impl Default for Values {
    fn default() -> Self {
        Self {
            image: Image::default(),
            image_pull_secrets: Vec::new(),
            service_account: ServiceAccount::default(),
            access_mode: AccessMode::ExternalSecret,
            external_secret: ExternalSecret::default(),
            resources: Resources::default(),
            cron_job: CronJob::default(),
            immediate_job: ImmediateJob::default(),
            uninstall: Uninstall::default(),
            node_selector: BTreeMap::new(),
            tolerations: Vec::new(),
            affinity: serde_json::Map::new(),
            pod_annotations: BTreeMap::new(),
            pod_labels: BTreeMap::new(),
            priority_class_name: String::new(),
            common_labels: BTreeMap::new(),
            log_format: LogFormat::Json,
            namespace_selector: None,
            exclude_namespaces: Vec::new(),
            prune: false,
            sync: SyncRun::default(),
            ecr_registries: Vec::new(),
            monitoring: Monitoring::default(),
            helm_test: HelmTest::default(),
        }
    }
}

/// One ECR registry: a `regcred-<name>` docker-registry Secret kept fresh.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registry {
    /// Unique name of the registry: a DNS-1123 label (lowercase letters, digits and '-',
    /// starting and ending with a letter or digit) of at most 32 characters, so that every
    /// derived name fits its Kubernetes limit (`ecr-registry-helper-<name>` CronJob: 52).
    #[schemars(extend("format" = "registry-name"))]
    pub name: String,
    /// AWS region of the registry, e.g. `eu-central-1`, `us-gov-west-1`, `cn-north-1`.
    #[schemars(extend("format" = "aws-region"))]
    pub region: String,
    /// Namespace the `regcred-<name>` Secret is written to: a DNS-1123 label. Set this,
    /// `namespaces`, `namespaceSelector` (own or the top-level one), or several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "dns-label"))]
    pub namespace: Option<String>,
    /// More namespaces the `regcred-<name>` Secret is written to (after `namespace`): DNS-1123
    /// labels, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::field_schemas::namespace_list")]
    pub namespaces: Vec<String>,
    /// The namespaces the Secret is also written to, chosen at every run among the live
    /// namespaces (those being deleted skipped): a Kubernetes label selector (`matchLabels`,
    /// `matchExpressions`; `{}` selects every namespace); unset: the top-level
    /// `namespaceSelector` if this registry sets no `namespace` or `namespaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "NamespaceSelector")]
    pub namespace_selector: Option<NamespaceSelector>,
    /// Namespaces this registry's selector never writes into (DNS-1123 labels, each once; not
    /// its explicit ones); replaces the top-level `excludeNamespaces`. Only with a selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "super::field_schemas::namespace_list")]
    pub exclude_namespaces: Option<Vec<String>>,
    /// Delete this registry's Secret from namespaces its selector no longer matches (only
    /// Secrets with the refresher's managed-by label and field manager; explicit namespaces
    /// never); replaces the top-level `prune`. Only with a selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub prune: Option<bool>,
    /// Cron schedule of the refresh (5 fields: minute hour day-of-month month day-of-week),
    /// in `cronJob.timeZone`; at most 12 hours may pass between two runs.
    #[serde(default = "default_schedule")]
    #[schemars(extend("format" = "cron-schedule"))]
    pub schedule: String,
    /// How the refresher of this registry gets AWS access: `externalSecret`,
    /// `existingSecret` or `serviceAccount`; unset: the top-level `accessMode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "AccessMode")]
    pub access_mode: Option<AccessMode>,
    /// Name of the Secret (in the release namespace) holding `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` and optionally `AWS_SESSION_TOKEN` and `AWS_ACCOUNT`: required
    /// when, and only when, the registry's access mode is `existingSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "dns-subdomain"))]
    pub existing_secret: Option<String>,
    /// IAM role the refresher assumes (STS AssumeRole) before asking ECR for a token, e.g. for
    /// a registry in another account: `arn:aws:iam::<12-digit account>:role/<name>` (also
    /// `arn:aws-cn:` and `arn:aws-us-gov:`, matching the region's partition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "role-arn"))]
    pub role_arn: Option<String>,
    /// 12-digit AWS account ID of the registry. Credentials Secrets may carry their own
    /// `AWS_ACCOUNT`, which wins; with `serviceAccount` access this is the only source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "account-id"))]
    pub account: Option<String>,
    /// More 12-digit AWS account IDs whose registries (same region) get an `auths` entry in
    /// the same `regcred-<name>` Secret, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::field_schemas::account_id_list")]
    pub registry_ids: Vec<String>,
    /// ServiceAccounts (DNS-1123 subdomains, each once) in every target namespace whose
    /// `imagePullSecrets` get `regcred-<name>` added, e.g. `[default]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::field_schemas::service_account_list")]
    pub image_pull_secret_for: Vec<String>,
}

impl Registry {
    /// Every namespace the pull secret is written to: `namespace` first, then `namespaces`,
    /// each once, in order.
    pub fn target_namespaces(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::with_capacity(1 + self.namespaces.len());
        for namespace in self.namespace.iter().chain(&self.namespaces) {
            if !out.contains(&namespace.as_str()) {
                out.push(namespace);
            }
        }
        out
    }

    /// The registry's namespace selector: its own, or the top-level one when it sets no
    /// `namespace`, `namespaces` or `namespaceSelector`.
    pub fn selector<'a>(&'a self, values: &'a Values) -> Option<&'a NamespaceSelector> {
        match &self.namespace_selector {
            Some(own) => Some(own),
            None if self.namespace.is_none() && self.namespaces.is_empty() => {
                values.namespace_selector.as_ref()
            }
            None => None,
        }
    }

    /// The namespaces the registry's selector skips (its own list, or the top-level one).
    pub fn exclude_namespaces<'a>(&'a self, values: &'a Values) -> &'a [String] {
        self.exclude_namespaces
            .as_deref()
            .unwrap_or(&values.exclude_namespaces)
    }

    /// Whether the registry prunes (its own `prune`, or the top-level one); only with a
    /// selector.
    pub fn prune(&self, values: &Values) -> bool {
        self.selector(values).is_some() && self.prune.unwrap_or(values.prune)
    }

    /// The registry's access mode, given the top-level default.
    pub fn access_mode(&self, default: AccessMode) -> AccessMode {
        self.access_mode.unwrap_or(default)
    }
}

/// A Kubernetes label selector of namespaces (`LabelSelector`); `{}` selects every one.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct NamespaceSelector {
    /// Labels a namespace must have, each with this value: label keys to label values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "super::field_schemas::label_map")]
    pub match_labels: BTreeMap<String, String>,
    /// Requirements a namespace's labels must all meet: `{key, operator, values}`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<SelectorRequirement>,
}

impl NamespaceSelector {
    /// The selector as a Kubernetes label selector string, as `kubectl get -l` takes it:
    /// `team=apps,env in (prod,staging),legacy,!old`; empty when it selects every namespace.
    pub fn label_selector(&self) -> String {
        let mut parts: Vec<String> = self
            .match_labels
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        for requirement in &self.match_expressions {
            let (key, values) = (&requirement.key, requirement.values.join(","));
            parts.push(match requirement.operator.as_str() {
                "In" => format!("{key} in ({values})"),
                "NotIn" => format!("{key} notin ({values})"),
                "Exists" => key.clone(),
                _ => format!("!{key}"),
            });
        }
        parts.join(",")
    }
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
// The number of values each operator takes (also `values::rules`, which explains it).
#[schemars(extend("allOf" = [
    {"if": {"properties": {"operator": {"enum": ["In", "NotIn"]}}},
     "then": {"required": ["values"], "properties": {"values": {"minItems": 1}}}},
    {"if": {"properties": {"operator": {"enum": ["Exists", "DoesNotExist"]}}},
     "then": {"properties": {"values": {"maxItems": 0}}}}
]))]
pub struct SelectorRequirement {
    /// The label key: `[prefix/]name`, as a label key is written.
    #[schemars(extend("format" = "label-key"))]
    pub key: String,
    /// `In`, `NotIn` (with at least one value), `Exists` or `DoesNotExist` (with none).
    #[schemars(schema_with = "super::field_schemas::selector_operator")]
    pub operator: String,
    /// The label values of `In` and `NotIn`: label values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(schema_with = "super::field_schemas::label_value_list")]
    pub values: Vec<String>,
}

/// The sync run of the registries with a namespace selector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SyncRun {
    /// Render the sync CronJob `ecr-registry-helper-sync` when any registry has a selector.
    /// Without it, a new matching namespace gets its Secret at the registry's next refresh.
    pub enabled: bool,
    /// Cron schedule of the sync run (5 fields), in `cronJob.timeZone`. It calls ECR only for
    /// a registry without a valid token left.
    #[schemars(extend("format" = "cron-schedule"))]
    pub schedule: String,
}

impl Default for SyncRun {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule: "*/5 * * * *".to_owned(),
        }
    }
}

/// How the refresher gets AWS access.
// Variants carry no doc comments: with them the schema would hold `oneOf` instead of `enum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum AccessMode {
    // Static keys in `ecr-registry-helper-secrets-<name>`, filled by an ExternalSecret.
    ExternalSecret,
    // Static keys in a Secret the team manages, named by `existingSecret`.
    ExistingSecret,
    // The pod's own identity: IRSA or EKS Pod Identity on the ServiceAccount.
    ServiceAccount,
}

/// The default refresh schedule: every 10 hours, well inside the 12-hour token lifetime.
pub fn default_schedule() -> String {
    "0 */10 * * *".to_owned()
}

/// The refresher image.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Image {
    /// Image repository, without tag: an optional registry host and `/`, then lowercase path
    /// parts, e.g. `ghcr.io/ecr-registry-helper/ecr-refresher`.
    #[schemars(extend("format" = "image-repository"))]
    pub repository: String,
    /// Image tag (at most 128 letters, digits, `_`, `.` and `-`); empty means the version of
    /// ecr-chart that rendered the chart.
    #[schemars(extend("format" = "image-tag"))]
    pub tag: String,
    /// Image pull policy: `Always`, `IfNotPresent` or `Never`.
    pub pull_policy: PullPolicy,
}

impl Default for Image {
    fn default() -> Self {
        Self {
            repository: "ghcr.io/ecr-registry-helper/ecr-refresher".to_owned(),
            tag: String::new(),
            pull_policy: PullPolicy::IfNotPresent,
        }
    }
}

/// Kubernetes image pull policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum PullPolicy {
    Always,
    IfNotPresent,
    Never,
}

/// A reference to a Secret in the same namespace.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocalObjectReference {
    /// Name of the Secret.
    pub name: String,
}

/// The shared ServiceAccount.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ServiceAccount {
    /// Create the ServiceAccount (`true`) or reuse an existing one of that name (`false`).
    pub create: bool,
    /// Name of the ServiceAccount: a DNS-1123 subdomain.
    #[schemars(extend("format" = "dns-subdomain"))]
    pub name: String,
    /// Annotations of the ServiceAccount, e.g. `eks.amazonaws.com/role-arn` for IRSA: at most
    /// 256 KiB of keys and values in all, with the two Helm adds.
    #[schemars(schema_with = "super::field_schemas::annotation_map")]
    pub annotations: BTreeMap<String, String>,
}

impl Default for ServiceAccount {
    fn default() -> Self {
        Self {
            create: true,
            name: "sa-argocd".to_owned(),
            annotations: BTreeMap::new(),
        }
    }
}

/// External Secrets Operator settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ExternalSecret {
    /// Render an ExternalSecret per registry that fills `ecr-registry-helper-secrets-<name>`.
    pub enabled: bool,
    /// API version of ExternalSecret: `external-secrets.io/v1` (ESO 2.x serves only this) or
    /// `external-secrets.io/v1beta1` (older ESO releases).
    #[schemars(extend("format" = "eso-api-version"))]
    pub api_version: String,
    /// How often ESO re-reads the store, as a Go duration (`1h`, `30m`, `90s`).
    #[schemars(extend("format" = "go-duration"))]
    pub refresh_interval: String,
    /// The SecretStore or ClusterSecretStore that holds the AWS credentials.
    pub secret_store_ref: SecretStoreRef,
    /// The `<akeyless-path>` prefix of the remote keys
    /// `<prefix>/aws/ecr/<name>/AWS_ACCOUNT|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY`.
    pub key_prefix: String,
    /// Layout of the remote keys in the store: `{prefix}` (the `keyPrefix`), `{name}` (the
    /// registry's name) and `{key}` (`AWS_ACCOUNT`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`; required), e.g. `ecr/{name}/{key}` or `{prefix}-{name}-{key}`.
    #[schemars(extend("format" = "remote-key-template"))]
    pub remote_key_template: String,
}

impl ExternalSecret {
    /// The remote key of one credential of one registry: the template with its placeholders
    /// filled in one pass (so a prefix holding `{name}` stays as written).
    pub fn remote_key(&self, registry: &str, key: &str) -> String {
        let mut out = String::with_capacity(self.remote_key_template.len() + 64);
        let mut rest = self.remote_key_template.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            rest = &rest[open..];
            let filled = [
                ("{prefix}", self.key_prefix.as_str()),
                ("{name}", registry),
                ("{key}", key),
            ]
            .into_iter()
            .find(|(placeholder, _)| rest.starts_with(placeholder));
            match filled {
                Some((placeholder, value)) => {
                    out.push_str(value);
                    rest = &rest[placeholder.len()..];
                }
                None => {
                    out.push('{');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        out
    }
}

impl Default for ExternalSecret {
    fn default() -> Self {
        Self {
            enabled: true,
            api_version: "external-secrets.io/v1".to_owned(),
            refresh_interval: "1h".to_owned(),
            secret_store_ref: SecretStoreRef::default(),
            key_prefix: "/ecr-registry-helper".to_owned(),
            remote_key_template: DEFAULT_REMOTE_KEY_TEMPLATE.to_owned(),
        }
    }
}

/// The Akeyless layout of the remote keys, as the original chart has it.
pub const DEFAULT_REMOTE_KEY_TEMPLATE: &str = "{prefix}/aws/ecr/{name}/{key}";

/// Reference to the store ESO reads from.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct SecretStoreRef {
    /// `ClusterSecretStore` or `SecretStore`.
    pub kind: SecretStoreKind,
    /// Name of the store: a DNS-1123 subdomain of at most 253 characters, as the ESO CRD
    /// requires.
    #[schemars(extend("format" = "dns-subdomain"))]
    pub name: String,
}

impl Default for SecretStoreRef {
    fn default() -> Self {
        Self {
            kind: SecretStoreKind::ClusterSecretStore,
            name: "akeyless".to_owned(),
        }
    }
}

impl SecretStoreRef {
    /// The store's kind as Kubernetes spells it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            SecretStoreKind::ClusterSecretStore => "ClusterSecretStore",
            SecretStoreKind::SecretStore => "SecretStore",
        }
    }
}

/// Kind of an External Secrets store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum SecretStoreKind {
    ClusterSecretStore,
    SecretStore,
}

/// Container resources.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Resources {
    /// Requested resources: `cpu`, `memory`, `ephemeral-storage` as Kubernetes quantities.
    #[schemars(schema_with = "super::field_schemas::quantities")]
    pub requests: BTreeMap<String, String>,
    /// Resource limits: `cpu`, `memory`, `ephemeral-storage` as Kubernetes quantities.
    #[schemars(schema_with = "super::field_schemas::quantities")]
    pub limits: BTreeMap<String, String>,
}

impl Default for Resources {
    fn default() -> Self {
        let map = |memory: &str, cpu: &str| {
            BTreeMap::from([
                ("cpu".to_owned(), cpu.to_owned()),
                ("memory".to_owned(), memory.to_owned()),
            ])
        };
        Self {
            requests: map("64Mi", "100m"),
            limits: map("128Mi", "200m"),
        }
    }
}

/// CronJob settings shared by every registry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CronJob {
    /// How many successful runs to keep.
    pub successful_jobs_history_limit: u32,
    /// How many failed runs to keep.
    pub failed_jobs_history_limit: u32,
    /// Pause every CronJob (`true`) without deleting it.
    pub suspend: bool,
    /// How often a failed refresh pod is retried within one run.
    pub backoff_limit: u32,
    /// What to do when a run is due while the previous one still runs:
    /// `Forbid`, `Allow` or `Replace`.
    pub concurrency_policy: ConcurrencyPolicy,
    /// Seconds after the scheduled time within which a missed run may still start; null for no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub starting_deadline_seconds: Option<u32>,
    /// IANA time zone of the schedules (e.g. `Europe/Berlin`); null for the controller's zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "time-zone"))]
    pub time_zone: Option<String>,
}

impl Default for CronJob {
    fn default() -> Self {
        Self {
            successful_jobs_history_limit: 2,
            failed_jobs_history_limit: 1,
            suspend: false,
            backoff_limit: 3,
            concurrency_policy: ConcurrencyPolicy::Forbid,
            starting_deadline_seconds: None,
            time_zone: None,
        }
    }
}

/// CronJob concurrency policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum ConcurrencyPolicy {
    Allow,
    Forbid,
    Replace,
}

/// The immediate Job.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ImmediateJob {
    /// Render a Job per registry that refreshes at once on install and again whenever that
    /// registry's settings change (its name ends with a hash of them).
    pub enabled: bool,
}

impl Default for ImmediateJob {
    fn default() -> Self {
        Self { enabled: true }
    }
}

/// What an uninstall removes besides the release's own objects.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Uninstall {
    /// Keep every `regcred-<name>` Secret and its `imagePullSecrets` entries on uninstall (no
    /// pre-delete hook is rendered). By default a pre-delete hook deletes the pull Secrets the
    /// refresher wrote (managed-by label and field manager `ecr-refresher`) and removes only
    /// their entries from the ServiceAccounts of `imagePullSecretFor`. Kept Secrets are no
    /// longer refreshed: their token expires within 12 hours.
    pub keep_pull_secrets: bool,
}

/// `helm test <release>`: a Pod (a `helm.sh/hook: test` hook) running the refresher image in
/// check mode.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct HelmTest {
    /// Render the test Pod. It checks that every `regcred-<name>` of the release exists in
    /// each target namespace, has type `kubernetes.io/dockerconfigjson`, names the expected
    /// registry hosts and has not expired, and fails naming what is wrong (a registry with a
    /// namespace selector: wherever that Secret is found). It uses only the chart's own
    /// permissions (`get` on those Secrets, `list` by name). ArgoCD ignores Helm test hooks.
    pub enabled: bool,
}

/// Refresher log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Plain,
}

/// Monitoring of the refreshes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Monitoring {
    /// A Prometheus Operator `PrometheusRule` (`monitoring.coreos.com/v1`) with alerts built on
    /// kube-state-metrics: refresh late, pull secret about to expire, refresh failing, CronJob
    /// suspended.
    pub prometheus_rule: PrometheusRule,
}

/// The `PrometheusRule` of the release.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PrometheusRule {
    /// Render the `PrometheusRule` (needs the Prometheus Operator's CRDs and kube-state-metrics).
    pub enabled: bool,
    /// Namespace of the `PrometheusRule` (a DNS-1123 label); unset: the release namespace. The
    /// rules watch the CronJobs of the release namespace wherever they live.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", extend("format" = "dns-label"))]
    pub namespace: Option<String>,
    /// Labels of the `PrometheusRule` object, for the Prometheus' `ruleSelector`, e.g.
    /// `release: kube-prometheus-stack`.
    #[schemars(schema_with = "super::field_schemas::label_map")]
    pub labels: BTreeMap<String, String>,
    /// Slack added to each registry's longest gap between two scheduled runs before its refresh
    /// is late, and taken from the 12-hour token lifetime before its pull secret is about to
    /// expire: a Go duration under 12 hours (`30m`, `1h`, `0`).
    #[schemars(extend("format" = "alert-margin"))]
    pub margin: String,
    /// Labels added to every alert, e.g. `team: platform` for Alertmanager's routes: Prometheus
    /// label names (letters, digits, '_') to any text, none of the labels the alerts set
    /// themselves (`severity`, `namespace`, `cronjob`, `registry`, …).
    #[schemars(schema_with = "alert_label_map")]
    pub alert_labels: BTreeMap<String, String>,
    /// A `runbook_url` annotation on every alert; unset: none (each alert carries its
    /// `kubectl` commands in its `runbook` annotation either way). Prometheus expands its
    /// templates, e.g. `https://wiki.example.com/ecr/{{ $labels.registry }}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
}

/// Schema of `monitoring.prometheusRule.alertLabels`: Prometheus label names to text.
fn alert_label_map(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": {"format": "alert-label-name"},
        "additionalProperties": {"type": "string"}
    })
}

impl Default for PrometheusRule {
    fn default() -> Self {
        Self {
            enabled: false,
            namespace: None,
            labels: BTreeMap::new(),
            margin: "30m".to_owned(),
            alert_labels: BTreeMap::new(),
            runbook_url: None,
        }
    }
}
