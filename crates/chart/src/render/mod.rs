//! Values → manifests: the view model the templates see, each kind's template rendered once,
//! and the documents written in Helm's install order.

pub mod alerts;
pub mod env;
pub mod labels;
pub mod pod;
pub mod settings_hash;

use std::collections::BTreeMap;

use ecr_contract::{check, keys, names, uninstall};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use self::labels::Labels;
use self::pod::PodShape;
use self::settings_hash::SettingsHash;
use crate::Error;
use crate::values::Values;
use crate::values::model::{AccessMode, Registry};

pub use ecr_contract::names::CHART_NAME;
/// The version of ecr-chart, of the chart it writes and the default image tag.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The manifest templates, one per kind, each looping over the registries (or the target
/// namespaces) itself, in the order `helm template` prints their objects: Helm's install order
/// by kind (`InstallOrder` in Helm's `releaseutil/kind_sorter.go`: ServiceAccount, ConfigMap,
/// ClusterRole, ClusterRoleBinding, Role, RoleBinding, …, Job, CronJob; kinds it does not know
/// after the known ones, by kind name: ExternalSecret, then PrometheusRule), then the hooks
/// (the uninstall Job, a pre-delete hook), and the `helm test` Pod (a test hook, only with
/// `helmTest.enabled`). The sync CronJob follows the registries' CronJobs.
pub const MANIFEST_TEMPLATES: [&str; 13] = [
    "serviceaccount.yaml",
    "configmap.yaml",
    "clusterrole.yaml",
    "clusterrolebinding.yaml",
    "role.yaml",
    "rolebinding.yaml",
    "job.yaml",
    "cronjob.yaml",
    "sync.yaml",
    "externalsecret.yaml",
    "prometheusrule.yaml",
    "uninstall.yaml",
    "test.yaml",
];

/// The Helm release the manifests belong to.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}

/// A namespace the refresher writes pull secrets to, the secrets it may touch there, and the
/// ServiceAccounts whose `imagePullSecrets` it may patch there.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    namespace: String,
    secret_names: Vec<String>,
    service_accounts: Vec<String>,
}

/// The names the release gives its shared objects (from `ecr_contract::names`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseNames {
    /// The Role and RoleBinding in each target namespace.
    target_role: String,
    /// The refresher container of every pod.
    container: &'static str,
    /// The uninstall hook's ConfigMap and Job.
    uninstall: &'static str,
    /// The Role and RoleBinding in the release namespace for the Jobs' failure Events.
    job_events_role: String,
    /// The ClusterRole and ClusterRoleBinding of the registries with a namespace selector.
    cluster_role: String,
}

/// One environment variable of a refresher pod from its downward API: the pod and its Job,
/// for the run's Events.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DownwardEnv {
    name: &'static str,
    field_path: String,
}

/// The refresher pods' downward-API environment (`POD_NAME`, `POD_NAMESPACE`, `JOB_NAME`,
/// `JOB_UID`; the Job's name and UID from the labels the Job controller puts on its pods).
fn downward_env() -> Vec<DownwardEnv> {
    let label = |key: &str| format!("metadata.labels['{key}']");
    vec![
        DownwardEnv {
            name: keys::POD_NAME,
            field_path: "metadata.name".to_owned(),
        },
        DownwardEnv {
            name: keys::POD_NAMESPACE,
            field_path: "metadata.namespace".to_owned(),
        },
        DownwardEnv {
            name: keys::JOB_NAME,
            field_path: label(names::LABEL_JOB_NAME),
        },
        DownwardEnv {
            name: keys::JOB_UID,
            field_path: label(names::LABEL_JOB_UID),
        },
    ]
}

/// The names of one registry's objects (from `ecr_contract::names`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistryNames {
    pull_secret: String,
    config_map: String,
    cron_job: String,
    /// `ecr-registry-helper-immediate-<name>-<settings hash>` ([`settings_hash`]).
    immediate_job: String,
    external_secret: String,
}

impl RegistryNames {
    fn new(registry: &str, settings_hash: u32) -> Self {
        Self {
            pull_secret: names::pull_secret(registry),
            config_map: names::config_map(registry),
            cron_job: names::cron_job(registry),
            immediate_job: names::immediate_job_for(registry, settings_hash),
            external_secret: names::external_secret(registry),
        }
    }
}

/// One registry as the templates see it: its values, its object names, and everything derived
/// from its access mode, resolved once here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistryView<'v> {
    name: &'v str,
    region: &'v str,
    schedule: &'v str,
    names: RegistryNames,
    /// The label lines of the registry's objects and of its pods (safe: built from the
    /// contract's keys and quoted values in `labels.rs`).
    labels: Value,
    pod_labels: Value,
    /// `namespace` then `namespaces`, each once.
    target_namespaces: Vec<&'v str>,
    /// The registry has a namespace selector (own or the top-level one).
    selects: bool,
    /// Its selector as a label selector string (`kubectl get -l`), empty for every namespace.
    label_selector: Option<String>,
    /// The ConfigMap's data lines (safe: see [`config_data`]).
    config: Value,
    /// The Secret the pod reads AWS credentials from (`envFrom.secretRef`); none for
    /// `serviceAccount` access.
    credentials_secret: Option<String>,
    /// Render the ExternalSecret that fills `credentials_secret`.
    external_secret: bool,
    /// `(secretKey, remote key)` of the ExternalSecret.
    remote_keys: Vec<(&'static str, String)>,
    /// The pod of its CronJob, at the CronJob's depth (safe: `_helpers.yaml`'s pod macro,
    /// filled in by [`PodShape::fill`]); none when the macro is to run per registry.
    cron_job_pod: Option<Value>,
}

impl<'v> RegistryView<'v> {
    fn new(registry: &'v Registry, values: &Values, labels: &Labels, hash: SettingsHash) -> Self {
        let access_mode = registry.access_mode(values.access_mode);
        let credentials_secret = match access_mode {
            AccessMode::ExternalSecret => Some(names::credentials_secret(&registry.name)),
            AccessMode::ExistingSecret => registry.existing_secret.clone(),
            AccessMode::ServiceAccount => None,
        };
        let external_secret =
            access_mode == AccessMode::ExternalSecret && values.external_secret.enabled;
        let remote_keys = if external_secret {
            keys::CREDENTIAL_KEYS
                .iter()
                .map(|key| (*key, values.external_secret.remote_key(&registry.name, key)))
                .collect()
        } else {
            Vec::new()
        };
        let target_namespaces = registry.target_namespaces();
        let selects = registry.selector(values).is_some();
        let config = config_data(registry, &target_namespaces, values);
        let pod_labels = labels.pod(&registry.name);
        // Not the release's name or namespace: `ecr-chart chart` renders with stand-ins for
        // them, and Helm must compute the same Job names as `ecr-chart render`.
        let settings_hash = hash.registry(&[
            &registry.name,
            &config,
            credentials_secret.as_deref().unwrap_or_default(),
        ]);
        Self {
            name: &registry.name,
            region: &registry.region,
            schedule: &registry.schedule,
            names: RegistryNames::new(&registry.name, settings_hash),
            labels: Value::from_safe_string(labels.registry(&registry.name)),
            pod_labels: Value::from_safe_string(pod_labels),
            config: Value::from_safe_string(config),
            target_namespaces,
            selects,
            label_selector: registry.selector(values).map(|s| s.label_selector()),
            credentials_secret,
            external_secret,
            remote_keys,
            cron_job_pod: None,
        }
    }
}

/// The data of a registry's ConfigMap, as the YAML lines of the `data:` map: what the refresher
/// reads from its environment, every key from `ecr_contract::keys`, in the order of
/// `CONFIG_KEYS`, the optional ones only when set. Keys are the contract's constants (bare),
/// values JSON-quoted as `toyaml` quotes them.
///
/// A registry with a namespace selector gets `NAMESPACE_SELECTOR` (the selector as compact JSON
/// in the API's field names, `{}` for every namespace), `EXCLUDE_NAMESPACES` when it excludes
/// any and `PRUNE` when it prunes; `TARGET_NAMESPACES` is there only with explicit namespaces.
fn config_data(registry: &Registry, target_namespaces: &[&str], values: &Values) -> String {
    let joined = |items: &[String]| (!items.is_empty()).then(|| items.join(","));
    let selector = registry.selector(values);
    let excluded = selector.and_then(|_| joined(registry.exclude_namespaces(values)));
    let log_format = match values.log_format {
        crate::values::model::LogFormat::Json => "json",
        crate::values::model::LogFormat::Plain => "plain",
    };
    let entries = [
        (keys::REGISTRY_NAME, Some(registry.name.clone())),
        (keys::AWS_REGION, Some(registry.region.clone())),
        (keys::SECRET_NAME, Some(names::pull_secret(&registry.name))),
        (
            keys::TARGET_NAMESPACES,
            (!target_namespaces.is_empty()).then(|| target_namespaces.join(",")),
        ),
        (
            keys::NAMESPACE_SELECTOR,
            // Through a `serde_json::Value`: its keys come out sorted, as in the design's
            // example (`matchExpressions` before `matchLabels`); the refresher parses either.
            selector.map(|s| {
                serde_json::to_value(s)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            }),
        ),
        (keys::EXCLUDE_NAMESPACES, excluded),
        (
            keys::PRUNE,
            registry.prune(values).then(|| "true".to_owned()),
        ),
        (keys::AWS_ACCOUNT, registry.account.clone()),
        (keys::REGISTRY_IDS, joined(&registry.registry_ids)),
        (keys::ROLE_ARN, registry.role_arn.clone()),
        (
            keys::IMAGE_PULL_SECRET_FOR,
            joined(&registry.image_pull_secret_for),
        ),
        (keys::LOG_FORMAT, Some(log_format.to_owned())),
    ];
    let mut out = String::with_capacity(256);
    for (key, value) in entries {
        if let Some(value) = value {
            labels::line(&mut out, key, &value);
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Renders manifests and notes for one set of values and one release.
pub struct Renderer {
    env: &'static Environment<'static>,
    context: Value,
    /// The first plan that would not fit its ConfigMap: rendering refuses it.
    oversized: Option<Oversized>,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

impl Renderer {
    pub fn new(values: &Values, release: &Release) -> Self {
        let tag = if values.image.tag.is_empty() {
            VERSION
        } else {
            &values.image.tag
        };
        let labels = Labels::new(values, release);
        let image = format!("{}:{}", values.image.repository, tag);
        let hash = SettingsHash::new(values, &image);
        let mut registries: Vec<RegistryView<'_>> = values
            .ecr_registries
            .iter()
            .map(|r| RegistryView::new(r, values, &labels, hash))
            .collect();
        let names = ReleaseNames {
            target_role: names::target_role(&release.name),
            container: names::CONTAINER_NAME,
            uninstall: names::UNINSTALL,
            job_events_role: names::job_events_role(&release.name),
            cluster_role: names::cluster_role(&release.name, &release.namespace),
        };
        let uninstall = (!values.uninstall.keep_pull_secrets).then(|| UninstallView {
            plan_key: uninstall::PLAN_KEY,
            plan: uninstall_plan(values),
            plan_env: keys::UNINSTALL_PLAN,
            plan_path: format!("{}/{}", names::UNINSTALL_PLAN_DIR, uninstall::PLAN_KEY),
            plan_dir: names::UNINSTALL_PLAN_DIR,
            log_format_env: keys::LOG_FORMAT,
            labels: Value::from_safe_string(labels.uninstall_hook()),
            pod_labels: Value::from_safe_string(labels.uninstall_pod()),
        });
        let check = values.helm_test.enabled.then(|| {
            let mut own = labels.shared();
            own.push('\n');
            labels::line(&mut own, names::LABEL_HOOK, names::HOOK_TEST);
            own.truncate(own.trim_end().len());
            CheckView {
                name: names::CHECK,
                plan_key: check::PLAN_KEY,
                plan: check_plan(values),
                plan_env: keys::CHECK_PLAN,
                plan_path: format!("{}/{}", names::CHECK_PLAN_DIR, check::PLAN_KEY),
                plan_dir: names::CHECK_PLAN_DIR,
                log_format_env: keys::LOG_FORMAT,
                labels: Value::from_safe_string(own),
            }
        });
        let oversized = Oversized::first(uninstall.as_ref(), check.as_ref());
        let cluster_rbac = ClusterRbac::new(values);
        let sync = (cluster_rbac.is_some() && values.sync.enabled)
            .then(|| SyncView::new(values, &registries, &labels));
        let monitoring = alerts::AlertsView::new(values, release, &labels.shared());
        // Everything but the registries, each converted once: the pod shape is rendered with
        // these, then the manifests with these and the registries.
        let monitoring = Value::from(Serde(monitoring));
        let values_value = Value::from(Serde(values));
        let targets = Value::from(Serde(targets(values)));
        let cluster = Value::from(Serde(cluster_rbac));
        let sync = Value::from(Serde(sync));
        let release_value = Value::from(Serde(release));
        let names = Value::from(Serde(names));
        let shared_labels = Value::from_safe_string(labels.shared());
        let chart = context! { name => CHART_NAME, version => VERSION };
        let image = Value::from(image);
        let uninstall = Value::from(Serde(uninstall));
        let selectors = context! {
            pull_secrets => format!("{}={}", names::LABEL_MANAGED_BY, names::FIELD_MANAGER),
            release => format!("{}={}", names::LABEL_INSTANCE, release.name),
        };
        let downward = Value::from(Serde(downward_env()));
        let check = Value::from(Serde(check));
        let env = env::shared();
        let base = context! {
            monitoring => monitoring.clone(),
            values => values_value.clone(),
            targets => targets.clone(),
            cluster => cluster.clone(),
            sync => sync.clone(),
            release => release_value.clone(),
            names => names.clone(),
            labels => shared_labels.clone(),
            chart => chart.clone(),
            image => image.clone(),
            uninstall => uninstall.clone(),
            selectors => selectors.clone(),
            downward => downward.clone(),
            check => check.clone(),
        };
        // Should the stand-in's pod not render or not cut, every CronJob runs the macro
        // itself (`cronjob.yaml`), which then reports the template's error as it always did.
        if let Some(shape) = (!registries.is_empty())
            .then(|| PodShape::new(env, &base).ok())
            .flatten()
        {
            for registry in &mut registries {
                let pod = shape.fill(
                    registry.pod_labels.as_str().unwrap_or_default(),
                    &registry.names.config_map,
                    registry.credentials_secret.as_deref(),
                );
                registry.cron_job_pod = Some(Value::from_safe_string(pod));
            }
        }
        let context = context! {
            monitoring => monitoring,
            values => values_value,
            registries => Value::from(Serde(registries)),
            targets => targets,
            cluster => cluster,
            sync => sync,
            release => release_value,
            names => names,
            labels => shared_labels,
            chart => chart,
            image => image,
            uninstall => uninstall,
            selectors => selectors,
            downward => downward,
            check => check,
        };
        Self {
            env,
            context,
            oversized,
        }
    }

    fn one(&self, template: &str) -> Result<String, Error> {
        self.env
            .get_template(template)
            .and_then(|t| t.render(&self.context))
            .map_err(|source| Error::Render {
                template: template.to_owned(),
                source,
            })
    }

    /// Every manifest as one YAML stream, each document opened by `---`, in the order
    /// `helm template` prints them: by kind (Helm's install order), hooks last.
    pub fn manifests(&self, values: &Values) -> Result<String, Error> {
        let mut out = String::with_capacity(4096 * (1 + values.ecr_registries.len()));
        self.each_document(|_, document| {
            out.push_str("---\n");
            out.push_str(document);
            out.push('\n');
        })?;
        Ok(out)
    }

    /// Every manifest, in the order of [`Renderer::manifests`], with the template it came from.
    pub fn documents(&self) -> Result<Vec<Document>, Error> {
        let mut out = Vec::new();
        self.each_document(|template, document| {
            out.push(Document {
                template,
                text: document.to_owned(),
            });
        })?;
        Ok(out)
    }

    /// Render each manifest template once, in [`MANIFEST_TEMPLATES`] order, and hand each of
    /// its documents (without its `---` line and trailing blank lines) to `visit`.
    fn each_document(&self, mut visit: impl FnMut(&'static str, &str)) -> Result<(), Error> {
        if let Some(o) = &self.oversized {
            return Err(Error::PlanTooLarge {
                plan: o.plan,
                bytes: o.bytes,
                lines: o.lines,
                limit: ecr_contract::plan::MAX_CONFIG_MAP_BYTES,
                remedy: o.remedy,
            });
        }
        for template in MANIFEST_TEMPLATES {
            let text = self.one(template)?;
            let documents = split_documents(&text).ok_or_else(|| Error::Render {
                template: template.to_owned(),
                source: minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "the output does not open each document with a `---` line",
                ),
            })?;
            for document in documents {
                visit(template, document);
            }
        }
        Ok(())
    }

    /// The text Helm shows after an install (`NOTES.txt`).
    pub fn notes(&self) -> Result<String, Error> {
        self.one("notes.txt")
    }
}

/// One rendered object: its YAML (no `---` line, no trailing newline) and its template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub template: &'static str,
    pub text: String,
}

/// The documents of a template's output, each opened by a line `---` that the template writes
/// itself (no value can write one: every value is a JSON string, number or flow collection,
/// all on one line, or `toyaml` output whose lines start with a key, `- ` or spaces). Blank
/// output has none; other text before the first `---` is `None`. Each document is returned
/// without its trailing whitespace; empty documents are dropped.
pub fn split_documents(text: &str) -> Option<Vec<&str>> {
    let text = text.trim_start_matches(['\n', ' ']);
    if text.trim().is_empty() {
        return Some(Vec::new());
    }
    let mut rest = text.strip_prefix("---\n")?;
    let mut documents = Vec::new();
    loop {
        let (document, next) = match next_separator(rest) {
            Some(end) => (&rest[..end], Some(&rest[end + 5..])),
            None => (rest.strip_suffix("\n---").unwrap_or(rest), None),
        };
        let document = document.trim_end();
        if !document.is_empty() {
            documents.push(document);
        }
        match next {
            Some(next) => rest = next,
            None => return Some(documents),
        }
    }
}

/// Where `"\n---\n"` starts in `text`: a Boyer-Moore-Horspool search, which looks at about
/// one byte in five of YAML text (most bytes are neither `\n` nor `-`, so it skips five at a
/// time), several times cheaper than looking for every newline.
fn next_separator(text: &str) -> Option<usize> {
    const NEEDLE: &[u8; 5] = b"\n---\n";
    let bytes = text.as_bytes();
    let mut at = 0;
    while at + NEEDLE.len() <= bytes.len() {
        let last = bytes[at + NEEDLE.len() - 1];
        if last == b'\n' && &bytes[at..at + NEEDLE.len()] == NEEDLE {
            return Some(at);
        }
        // How far the needle may move so that `last` meets its own last earlier occurrence.
        at += match last {
            b'\n' => 4,
            b'-' => 1,
            _ => 5,
        };
    }
    None
}

/// The uninstall hook as the templates see it (none with `uninstall.keepPullSecrets`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UninstallView {
    /// The ConfigMap's key holding the plan.
    plan_key: &'static str,
    /// The plan ([`ecr_contract::uninstall`]): one line per registry and target namespace.
    plan: String,
    /// The refresher's environment variable naming the plan file, and the file.
    plan_env: &'static str,
    plan_path: String,
    /// Where the plan's volume is mounted.
    plan_dir: &'static str,
    log_format_env: &'static str,
    /// The labels of the hook Job (the chart's and the hook label) and of its pod (safe:
    /// built in `labels.rs`).
    labels: Value,
    pod_labels: Value,
}

/// The `helm test` Pod as the templates see it (none unless `helmTest.enabled`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckView {
    /// The Pod's name, also its plan's ConfigMap's.
    name: &'static str,
    /// The ConfigMap's key holding the plan.
    plan_key: &'static str,
    /// The check plan ([`ecr_contract::check`]): one line per registry and target namespace.
    plan: String,
    /// The refresher's environment variable naming the plan file, and the file.
    plan_env: &'static str,
    plan_path: String,
    /// Where the plan's volume is mounted (read-only).
    plan_dir: &'static str,
    log_format_env: &'static str,
    /// The Pod's labels: the chart's and the hook label (safe: built in `labels.rs`).
    labels: Value,
}

/// A plan longer than one ConfigMap holds ([`ecr_contract::plan::MAX_CONFIG_MAP_BYTES`]): the
/// API server would refuse its ConfigMap at install, so rendering refuses it first, naming the
/// value that turns the plan off (or splitting the registries over several releases).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Oversized {
    plan: &'static str,
    bytes: usize,
    lines: usize,
    remedy: &'static str,
}

impl Oversized {
    /// The first plan (uninstall, then check) that does not fit its ConfigMap.
    fn first(uninstall: Option<&UninstallView>, check: Option<&CheckView>) -> Option<Self> {
        let plans = [
            uninstall.map(|u| (
                "uninstall",
                u.plan.as_str(),
                "set uninstall.keepPullSecrets: true (the pull Secrets then stay after an uninstall), or split the registries over several releases",
            )),
            check.map(|c| (
                "check",
                c.plan.as_str(),
                "set helmTest.enabled: false, or split the registries over several releases",
            )),
        ];
        plans
            .into_iter()
            .flatten()
            .find(|(_, plan, _)| !ecr_contract::plan::fits_config_map(plan))
            .map(|(plan, text, remedy)| Oversized {
                plan,
                bytes: text.len(),
                lines: text.lines().count(),
                remedy,
            })
    }
}

/// The namespace fields of a registry's plan lines: its explicit namespaces, then, with a
/// namespace selector, [`plan::EVERY_NAMESPACE`](ecr_contract::plan::EVERY_NAMESPACE) (the
/// refresher finds that Secret in every namespace).
fn plan_namespaces<'v>(registry: &'v Registry, values: &Values) -> Vec<&'v str> {
    let mut namespaces = registry.target_namespaces();
    if registry.selector(values).is_some() {
        namespaces.push(ecr_contract::plan::EVERY_NAMESPACE);
    }
    namespaces
}

/// The check plan: for each registry in values order, each target namespace with the
/// registry's pull Secret and the hosts it must name: the registry's own account (`*` unless
/// the values are its only source: `serviceAccount` access with `account` set; a credentials
/// Secret's `AWS_ACCOUNT` wins over the values) and each of `registryIds`.
fn check_plan(values: &Values) -> String {
    let mut out = String::with_capacity(128 * values.ecr_registries.len());
    for registry in &values.ecr_registries {
        let Ok(partition) = ecr_contract::rules::region(&registry.region) else {
            continue; // refused by the values' checks before rendering
        };
        let known = registry.access_mode(values.access_mode) == AccessMode::ServiceAccount;
        let account = registry.account.as_deref().filter(|_| known);
        let mut hosts = vec![check::host(account, &registry.region, partition)];
        for id in &registry.registry_ids {
            let host = check::host(Some(id), &registry.region, partition);
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        for namespace in plan_namespaces(registry, values) {
            let entry = check::Entry {
                registry: registry.name.clone(),
                namespace: namespace.to_owned(),
                secret: names::pull_secret(&registry.name),
                hosts: hosts.clone(),
            };
            out.push_str(&entry.line());
            out.push('\n');
        }
    }
    out
}

/// The uninstall plan: for each registry in values order, each target namespace with the
/// registry's pull Secret and its `imagePullSecretFor` ServiceAccounts.
fn uninstall_plan(values: &Values) -> String {
    let mut out = String::with_capacity(64 * values.ecr_registries.len());
    for registry in &values.ecr_registries {
        for namespace in plan_namespaces(registry, values) {
            let entry = uninstall::Entry {
                registry: registry.name.clone(),
                namespace: namespace.to_owned(),
                secret: names::pull_secret(&registry.name),
                service_accounts: registry.image_pull_secret_for.clone(),
            };
            out.push_str(&entry.line());
            out.push('\n');
        }
    }
    out
}

/// Target namespaces in name order, each with the secrets written there and the
/// ServiceAccounts patched there, in values order, each once.
fn targets(values: &Values) -> Vec<Target> {
    let mut by_namespace: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for registry in &values.ecr_registries {
        for namespace in registry.target_namespaces() {
            let (secrets, accounts) = by_namespace.entry(namespace).or_default();
            secrets.push(names::pull_secret(&registry.name));
            for account in &registry.image_pull_secret_for {
                if !accounts.contains(account) {
                    accounts.push(account.clone());
                }
            }
        }
    }
    by_namespace
        .into_iter()
        .map(|(namespace, (secret_names, service_accounts))| Target {
            namespace: namespace.to_owned(),
            secret_names,
            service_accounts,
        })
        .collect()
}

/// The ClusterRole of the registries with a namespace selector, whose target namespaces are
/// only known at run time (none without such a registry). Every rule on Secrets and
/// ServiceAccounts is limited by `resourceNames`; a ClusterRole's rule holds in every namespace.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterRbac {
    /// The selecting registries' pull Secrets, in values order.
    secret_names: Vec<String>,
    /// `delete` beside `get`, `list`, `create`, `patch`: when a selecting registry prunes or
    /// the uninstall hook deletes the pull Secrets.
    delete: bool,
    /// Their `imagePullSecretFor` ServiceAccounts, each once.
    service_accounts: Vec<String>,
}

impl ClusterRbac {
    fn new(values: &Values) -> Option<Self> {
        let selecting: Vec<&Registry> = values
            .ecr_registries
            .iter()
            .filter(|r| r.selector(values).is_some())
            .collect();
        if selecting.is_empty() {
            return None;
        }
        let mut service_accounts: Vec<String> = Vec::new();
        for registry in &selecting {
            for account in &registry.image_pull_secret_for {
                if !service_accounts.contains(account) {
                    service_accounts.push(account.clone());
                }
            }
        }
        let delete =
            !values.uninstall.keep_pull_secrets || selecting.iter().any(|r| r.prune(values));
        Some(Self {
            secret_names: selecting
                .iter()
                .map(|r| names::pull_secret(&r.name))
                .collect(),
            delete,
            service_accounts,
        })
    }
}

/// One volume of the sync pod: a selecting registry's ConfigMap or its credentials Secret.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncVolume {
    name: String,
    mount_path: String,
    config_map: Option<String>,
    secret: Option<String>,
}

/// The sync CronJob as the templates see it (with a selecting registry and `sync.enabled`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct SyncView {
    name: &'static str,
    /// Its labels and its pod's (safe: built in `labels.rs`).
    labels: Value,
    pod_labels: Value,
    /// `SYNC_DIR`, `SYNC_CREDENTIALS_DIR` and `LOG_FORMAT`, as `(name, value)`.
    env: Vec<(&'static str, String)>,
    /// Per selecting registry its ConfigMap, then its credentials Secret (if any).
    volumes: Vec<SyncVolume>,
}

impl SyncView {
    fn new(values: &Values, registries: &[RegistryView<'_>], labels: &Labels) -> Self {
        let log_format = match values.log_format {
            crate::values::model::LogFormat::Json => "json",
            crate::values::model::LogFormat::Plain => "plain",
        };
        let mut volumes = Vec::new();
        for registry in registries.iter().filter(|r| r.selects) {
            volumes.push(SyncVolume {
                name: names::sync_config_volume(registry.name),
                mount_path: format!("{}/{}", names::SYNC_CONFIG_DIR, registry.name),
                config_map: Some(registry.names.config_map.clone()),
                secret: None,
            });
            if let Some(secret) = &registry.credentials_secret {
                volumes.push(SyncVolume {
                    name: names::sync_credentials_volume(registry.name),
                    mount_path: format!("{}/{}", names::SYNC_CREDENTIALS_DIR, registry.name),
                    config_map: None,
                    secret: Some(secret.clone()),
                });
            }
        }
        Self {
            name: names::SYNC,
            labels: Value::from_safe_string(labels.shared()),
            pod_labels: Value::from_safe_string(labels.sync_pod()),
            env: vec![
                (keys::SYNC_DIR, names::SYNC_CONFIG_DIR.to_owned()),
                (
                    keys::SYNC_CREDENTIALS_DIR,
                    names::SYNC_CREDENTIALS_DIR.to_owned(),
                ),
                (keys::LOG_FORMAT, log_format.to_owned()),
            ],
            volumes,
        }
    }
}

/// Render the manifests of `values` for `release`.
pub fn render(values: &Values, release: &Release) -> Result<String, Error> {
    Renderer::new(values, release).manifests(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_separator_search_finds_what_a_substring_search_finds() {
        let texts = [
            "",
            "\n---\n",
            "a\n---\nb",
            "a\n--\n---\nb",
            "a\n----\n---\n",
            "- x\n- y\n---\n",
            "--\n---",
            "key: \"a\n---b\"\nnext\n\n---\n",
            "\n\n\n---\n---\n",
            "ab-\n-\n---\nc",
        ];
        for text in texts {
            assert_eq!(next_separator(text), text.find("\n---\n"), "{text:?}");
        }
        // Every cut of a longer text, so the needle meets every alignment of the skips.
        let long = "apiVersion: v1\n- a-b-c\n--\n---x\n\n---\nkind: x\n---\n";
        for start in 0..long.len() {
            let text = &long[start..];
            assert_eq!(next_separator(text), text.find("\n---\n"), "{text:?}");
        }
    }
}
