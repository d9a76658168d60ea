//! The only I/O of `status`: the release's ConfigMaps, CronJobs and Jobs listed by the chart's
//! labels, and each registry's pull Secret read by name in its target namespaces, turned into
//! plain [`Facts`] (no token: a Secret's `.dockerconfigjson` is decoded only to read its hosts).
//! A registry with a namespace selector also gets its Secret in every other namespace where it
//! is found: one cluster-wide list, the query of [`crate::cluster::secrets_named`] (name and our
//! labels), read into the same token-free view; a forbidden list is a fact (one row says so).

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use ecr_contract::{keys, names};
use jiff::Timestamp;
use kube::api::{GetParams, ListParams};
use serde::Deserialize;

use crate::dockerconfig::SECRET_TYPE;
use crate::error::Error;

/// What the cluster says about one registry of the release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryFacts {
    /// Its ConfigMap's settings, if it has one.
    pub config: Option<ConfigFacts>,
    /// Its CronJob, if it has one.
    pub cron_job: Option<CronJobFacts>,
    /// Its Jobs (the CronJob's and the immediate one).
    pub jobs: Vec<JobFacts>,
    /// Its pull Secret in each target namespace, in the ConfigMap's order.
    pub secrets: Vec<SecretFacts>,
}

/// The registries of a release, by name.
pub type Facts = BTreeMap<String, RegistryFacts>;

/// The settings of a registry's ConfigMap that say where its Secret is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFacts {
    /// `SECRET_NAME` (default `regcred-<name>`).
    pub secret_name: String,
    /// `TARGET_NAMESPACES`.
    pub namespaces: Vec<String>,
    /// `NAMESPACE_SELECTOR`, as set (the Secret is then looked for in every namespace).
    pub selector: Option<String>,
}

/// A registry's CronJob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronJobFacts {
    /// `spec.schedule`.
    pub schedule: String,
    /// `spec.timeZone`.
    pub time_zone: Option<String>,
    /// `spec.suspend`.
    pub suspend: bool,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// `status.lastScheduleTime`.
    pub last_schedule: Option<Timestamp>,
    /// `status.lastSuccessfulTime`.
    pub last_successful: Option<Timestamp>,
}

/// One Job of a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFacts {
    /// Its name.
    pub name: String,
    /// `metadata.creationTimestamp`.
    pub created: Option<Timestamp>,
    /// How it ended, so far.
    pub outcome: JobOutcome,
}

/// A Job's state, from its `Complete` and `Failed` conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    /// Neither condition is true yet.
    Running,
    /// `Complete` is true, since this time.
    Succeeded(Option<Timestamp>),
    /// `Failed` is true, since this time.
    Failed(Option<Timestamp>),
}

/// A registry's pull Secret in one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFacts {
    /// The namespace.
    pub namespace: String,
    /// The Secret's name.
    pub name: String,
    /// What is there.
    pub state: SecretState,
}

/// What a Secret read found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretState {
    /// No Secret of that name.
    Missing,
    /// A Secret of another type (its type).
    WrongType(String),
    /// The registry selects namespaces, and listing its Secret in every namespace was
    /// forbidden (why, in words); the row's namespace is `*`.
    Unlisted(String),
    /// A `kubernetes.io/dockerconfigjson` Secret.
    Present {
        /// The `auths` keys of its `.dockerconfigjson`, sorted.
        hosts: Vec<String>,
        /// The `refreshed-at` annotation, if there and valid.
        refreshed_at: Option<Timestamp>,
        /// The `expires-at` annotation, if there and valid.
        expires_at: Option<Timestamp>,
    },
}

/// The label selector of the release's per-registry objects:
/// `app.kubernetes.io/instance=<release>,ecr-registry-helper/registry`.
pub fn selector(release: &str) -> String {
    format!(
        "{}={release},{}",
        names::LABEL_INSTANCE,
        names::LABEL_REGISTRY
    )
}

/// Lists the release's ConfigMaps, CronJobs and Jobs in `namespace` and reads every pull
/// Secret they name. Registries come from ConfigMaps and CronJobs (one of them missing shows
/// as such); a Secret that is absent is a fact, any other failed call an error.
pub async fn gather(client: &kube::Client, namespace: &str, release: &str) -> Result<Facts, Error> {
    let params = ListParams::default().labels(&selector(release));
    let config_maps: List<ConfigMapView> =
        list(client, "/api/v1", "configmaps", namespace, &params).await?;
    let cron_jobs: List<CronJobView> =
        list(client, "/apis/batch/v1", "cronjobs", namespace, &params).await?;
    let jobs: List<JobView> = list(client, "/apis/batch/v1", "jobs", namespace, &params).await?;

    let mut facts = Facts::new();
    for cm in config_maps.items {
        let Some(registry) = cm.metadata.registry() else {
            continue;
        };
        // The uninstall plan and any other ConfigMap without the registry's settings are not
        // a registry's ConfigMap.
        if cm.metadata.name != names::config_map(&registry) {
            continue;
        }
        let secret_name = cm
            .data
            .get(keys::SECRET_NAME)
            .filter(|s| !s.is_empty())
            .cloned()
            .unwrap_or_else(|| names::pull_secret(&registry));
        let mut namespaces: Vec<String> = Vec::new();
        for ns in cm
            .data
            .get(keys::TARGET_NAMESPACES)
            .map(String::as_str)
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            if !namespaces.iter().any(|n| n == ns) {
                namespaces.push(ns.to_owned());
            }
        }
        let selector = cm
            .data
            .get(keys::NAMESPACE_SELECTOR)
            .filter(|s| !s.trim().is_empty())
            .cloned();
        facts.entry(registry).or_default().config = Some(ConfigFacts {
            secret_name,
            namespaces,
            selector,
        });
    }
    for cj in cron_jobs.items {
        let Some(registry) = cj.metadata.registry() else {
            continue;
        };
        facts.entry(registry).or_default().cron_job = Some(CronJobFacts {
            schedule: cj.spec.schedule,
            time_zone: cj.spec.time_zone,
            suspend: cj.spec.suspend.unwrap_or(false),
            created: stamp(cj.metadata.creation_timestamp.as_deref()),
            last_schedule: stamp(cj.status.last_schedule_time.as_deref()),
            last_successful: stamp(cj.status.last_successful_time.as_deref()),
        });
    }
    for job in jobs.items {
        let Some(registry) = job.metadata.registry() else {
            continue;
        };
        // Only registries the release still has (a ConfigMap or a CronJob) get rows.
        let Some(entry) = facts.get_mut(&registry) else {
            continue;
        };
        entry.jobs.push(JobFacts {
            created: stamp(job.metadata.creation_timestamp.as_deref()),
            outcome: job.status.outcome(),
            name: job.metadata.name,
        });
    }

    // Every (registry, namespace) Secret, up to SECRET_READS at a time, kept in order.
    let wanted: Vec<(String, String, String)> = facts
        .iter()
        .flat_map(|(registry, f)| {
            f.config.iter().flat_map(move |c| {
                c.namespaces
                    .iter()
                    .map(move |ns| (registry.clone(), ns.clone(), c.secret_name.clone()))
            })
        })
        .collect();
    let mut states: Vec<Option<SecretState>> = vec![None; wanted.len()];
    let mut queue = wanted.iter().cloned().enumerate();
    let mut running = tokio::task::JoinSet::new();
    let spawn = |running: &mut tokio::task::JoinSet<_>,
                 (n, (_, ns, name)): (usize, (String, String, String))| {
        let client = client.clone();
        running.spawn(async move { (n, read_secret(&client, &ns, &name).await) });
    };
    for item in queue.by_ref().take(SECRET_READS) {
        spawn(&mut running, item);
    }
    while let Some(joined) = running.join_next().await {
        let (n, state) = joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        states[n] = Some(state?);
        if let Some(item) = queue.next() {
            spawn(&mut running, item);
        }
    }
    for ((registry, namespace, name), state) in wanted.into_iter().zip(states) {
        if let (Some(entry), Some(state)) = (facts.get_mut(&registry), state) {
            entry.secrets.push(SecretFacts {
                namespace,
                name,
                state,
            });
        }
    }
    for (registry, entry) in &mut facts {
        let Some(config) = entry.config.as_ref().filter(|c| c.selector.is_some()) else {
            continue;
        };
        let found = selected_secrets(client, registry, &config.secret_name).await?;
        let explicit = config.namespaces.clone();
        entry.secrets.extend(
            found
                .into_iter()
                .filter(|s| !explicit.contains(&s.namespace)),
        );
    }
    Ok(facts)
}

/// A selecting registry's Secret `name` in every namespace where it is found with our labels,
/// by namespace; a forbidden list is one [`SecretState::Unlisted`] in namespace `*`.
async fn selected_secrets(
    client: &kube::Client,
    registry: &str,
    name: &str,
) -> Result<Vec<SecretFacts>, Error> {
    let params = ListParams::default()
        .fields(&format!("metadata.name={name}"))
        .labels(&format!(
            "{}={},{}={registry}",
            names::LABEL_MANAGED_BY,
            names::FIELD_MANAGER,
            names::LABEL_REGISTRY
        ));
    let read = |source| Error::StatusRead {
        what: format!("list secret {name} in every namespace"),
        namespace: ecr_contract::plan::EVERY_NAMESPACE.to_owned(),
        source: Box::new(source),
    };
    let request = kube::core::Request::new("/api/v1/secrets")
        .list(&params)
        .map_err(|source| read(kube::Error::BuildRequest(source)))?;
    let listed: List<ListedSecretView> = match client.request(request).await {
        Ok(listed) => listed,
        Err(kube::Error::Api(status)) if status.code == 403 => {
            return Ok(vec![SecretFacts {
                namespace: ecr_contract::plan::EVERY_NAMESPACE.to_owned(),
                name: name.to_owned(),
                state: SecretState::Unlisted(format!(
                    "forbidden ({}) — status needs list on secrets in every namespace to find a namespace selector's Secrets",
                    status.message
                )),
            }]);
        }
        Err(source) => return Err(read(source)),
    };
    let mut found: Vec<SecretFacts> = listed
        .items
        .into_iter()
        .map(|item| SecretFacts {
            namespace: item.metadata.namespace,
            name: name.to_owned(),
            state: state_of(item.secret),
        })
        .collect();
    found.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Ok(found)
}

/// An item of the cluster-wide Secret list: its namespace, and the token-free [`SecretView`].
#[derive(Deserialize)]
struct ListedSecretView {
    #[serde(default)]
    metadata: NamespaceView,
    #[serde(flatten)]
    secret: SecretView,
}

#[derive(Deserialize, Default)]
struct NamespaceView {
    #[serde(default)]
    namespace: String,
}

/// How many Secrets are read at the same time.
pub const SECRET_READS: usize = 8;

/// `GET <prefix>/namespaces/<namespace>/<plural>?labelSelector=…`, read into `T`'s few fields
/// (everything else in the answer, such as a Job's pod template, is skipped unread).
async fn list<T: serde::de::DeserializeOwned>(
    client: &kube::Client,
    prefix: &str,
    plural: &str,
    namespace: &str,
    params: &ListParams,
) -> Result<List<T>, Error> {
    let read = |source| Error::StatusRead {
        what: format!("list {plural}"),
        namespace: namespace.to_owned(),
        source: Box::new(source),
    };
    let request = kube::core::Request::new(format!("{prefix}/namespaces/{namespace}/{plural}"))
        .list(params)
        .map_err(|source| read(kube::Error::BuildRequest(source)))?;
    client.request(request).await.map_err(read)
}

fn stamp(text: Option<&str>) -> Option<Timestamp> {
    text.and_then(|t| t.parse().ok())
}

/// A list answer: only its items.
#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    items: Vec<T>,
}

/// The metadata `status` reads.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ObjectMetaView {
    #[serde(default)]
    name: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    creation_timestamp: Option<String>,
}

impl ObjectMetaView {
    fn registry(&self) -> Option<String> {
        self.labels.get(names::LABEL_REGISTRY).cloned()
    }
}

#[derive(Deserialize)]
struct ConfigMapView {
    #[serde(default)]
    metadata: ObjectMetaView,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct CronJobView {
    #[serde(default)]
    metadata: ObjectMetaView,
    #[serde(default)]
    spec: CronJobSpecView,
    #[serde(default)]
    status: CronJobStatusView,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CronJobSpecView {
    #[serde(default)]
    schedule: String,
    time_zone: Option<String>,
    suspend: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CronJobStatusView {
    last_schedule_time: Option<String>,
    last_successful_time: Option<String>,
}

#[derive(Deserialize)]
struct JobView {
    #[serde(default)]
    metadata: ObjectMetaView,
    #[serde(default)]
    status: JobStatusView,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct JobStatusView {
    #[serde(default)]
    conditions: Vec<ConditionView>,
    completion_time: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConditionView {
    #[serde(rename = "type", default)]
    type_: String,
    #[serde(default)]
    status: String,
    last_transition_time: Option<String>,
}

impl JobStatusView {
    /// `Failed` wins over `Complete` (a Job has at most one of them true).
    fn outcome(&self) -> JobOutcome {
        let holds = |kind: &str| {
            self.conditions
                .iter()
                .find(|c| c.type_ == kind && c.status == "True")
                .map(|c| stamp(c.last_transition_time.as_deref()))
        };
        if let Some(at) = holds("Failed") {
            return JobOutcome::Failed(at);
        }
        if let Some(at) = holds("Complete") {
            return JobOutcome::Succeeded(stamp(self.completion_time.as_deref()).or(at));
        }
        JobOutcome::Running
    }
}

/// A Secret as `status` reads it: the type, the two annotations and the registry hosts. The
/// `.dockerconfigjson` is decoded inside its deserializer and only the `auths` keys are kept.
#[derive(Deserialize)]
struct SecretView {
    #[serde(rename = "type", default)]
    type_: Option<String>,
    #[serde(default)]
    metadata: MetaView,
    #[serde(default)]
    data: DataView,
}

#[derive(Deserialize, Default)]
struct MetaView {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct DataView {
    // crate::dockerconfig::DATA_KEY
    #[serde(rename = ".dockerconfigjson", default, deserialize_with = "hosts_of")]
    hosts: Vec<String>,
}

// Keeps nothing of an entry but its key: the auth and password are skipped, never stored.
#[derive(Deserialize)]
struct AuthsView {
    #[serde(default)]
    auths: BTreeMap<String, serde::de::IgnoredAny>,
}

/// The registry hosts of a base64 `.dockerconfigjson`: the decoded bytes live only here.
fn hosts_of<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    let encoded = String::deserialize(de)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.as_bytes())
        .unwrap_or_default();
    let hosts = serde_json::from_slice::<AuthsView>(&decoded)
        .map(|view| view.auths.into_keys().collect())
        .unwrap_or_default();
    drop(decoded);
    Ok(hosts)
}

async fn read_secret(
    client: &kube::Client,
    namespace: &str,
    name: &str,
) -> Result<SecretState, Error> {
    let request = kube::core::Request::new(format!("/api/v1/namespaces/{namespace}/secrets"))
        .get(name, &GetParams::default())
        .map_err(|source| Error::StatusRead {
            what: format!("get secret {name}"),
            namespace: namespace.to_owned(),
            source: Box::new(kube::Error::BuildRequest(source)),
        })?;
    let view: SecretView = match client.request(request).await {
        Ok(view) => view,
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(SecretState::Missing),
        Err(source) => {
            return Err(Error::StatusRead {
                what: format!("get secret {name}"),
                namespace: namespace.to_owned(),
                source: Box::new(source),
            });
        }
    };
    Ok(state_of(view))
}

/// What a read Secret is.
fn state_of(view: SecretView) -> SecretState {
    let type_ = view.type_.unwrap_or_else(|| "Opaque".to_owned());
    if type_ != SECRET_TYPE {
        return SecretState::WrongType(type_);
    }
    let stamp = |key: &str| {
        view.metadata
            .annotations
            .get(key)
            .and_then(|t| t.parse::<Timestamp>().ok())
    };
    let hosts: BTreeSet<String> = view.data.hosts.into_iter().collect();
    SecretState::Present {
        hosts: hosts.into_iter().collect(),
        refreshed_at: stamp(names::ANNOTATION_REFRESHED_AT),
        expires_at: stamp(names::ANNOTATION_EXPIRES_AT),
    }
}

/// The cause of a failed read in words, for a person running `status` with their kubeconfig.
pub fn cause(err: &kube::Error, namespace: &str) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden ({}) — status needs list on configmaps, cronjobs and jobs in the release namespace and get on secrets in namespace {namespace}",
            status.message
        ),
        kube::Error::Api(status) if status.code == 401 => format!(
            "unauthorized ({}) — the kubeconfig credentials were rejected",
            status.message
        ),
        other => crate::cause::kube(other, namespace),
    }
}
