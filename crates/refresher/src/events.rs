//! The Kubernetes Events of a run (`events.k8s.io/v1`, reporting controller `ecr-refresher`):
//! building them (pure) and recording them, never failing the refresh.
//!
//! On success one `Normal` Event `Refreshed` per written Secret, regarding it, in its namespace,
//! its note naming the expiry time; on failure one `Warning` Event `RefreshFailed` regarding the
//! run's Job (known from the pod's downward API: `POD_NAMESPACE`, `JOB_NAME`, `JOB_UID`), its note
//! the run's last log line (`registry <name>: <error>`). Secrets written before a run failed
//! elsewhere still get their `Refreshed` Event. An Event the API refuses is logged as one
//! warning for the whole run, and the refresh keeps its outcome.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use ecr_contract::{keys, names};

use crate::cause;
use crate::error::Error;

/// events.k8s.io/v1's limit on `note`, in bytes.
pub const NOTE_LIMIT: usize = 1024;
/// events.k8s.io/v1's limit on `reportingInstance`, `action` and `reason`.
pub const FIELD_LIMIT: usize = 128;
/// How many Events are written at the same time.
pub const EVENT_CONCURRENCY: usize = 4;
/// The `action` of every Event of a run.
pub const ACTION: &str = "Refresh";
/// The `reason` of a Secret's Event after a successful write.
pub const REASON_REFRESHED: &str = "Refreshed";
/// The `reason` of the Job's Event after a failed run.
pub const REASON_FAILED: &str = "RefreshFailed";

/// Where the run's pod is, from its downward API (data only; [`Reporter::from_args`] checks it).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EventArgs {
    /// The pod's name (downward API `metadata.name`): the Events' `reportingInstance`.
    #[arg(long, env = keys::POD_NAME)]
    pub pod_name: Option<String>,
    /// The pod's namespace (downward API `metadata.namespace`): its Job's.
    #[arg(long, env = keys::POD_NAMESPACE)]
    pub pod_namespace: Option<String>,
    /// The run's Job (downward API, the `batch.kubernetes.io/job-name` label): a failure Event is
    /// about it.
    #[arg(long, env = keys::JOB_NAME)]
    pub job_name: Option<String>,
    /// The Job's UID (downward API, the `batch.kubernetes.io/controller-uid` label).
    #[arg(long, env = keys::JOB_UID)]
    pub job_uid: Option<String>,
}

/// Who reports the Events, and the Job a failure is about (if the run is a Job's pod).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reporter {
    /// `reportingInstance`: the pod name, else `ecr-refresher` (run by hand).
    pub instance: String,
    /// The run's Job.
    pub job: Option<JobRef>,
}

/// The Job a pod of the chart runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRef {
    /// Its namespace (the pod's).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its UID, if the pod knows it.
    pub uid: Option<String>,
}

impl Reporter {
    /// From the downward-API settings: blank values count as unset; a Job needs both its name
    /// and the pod's namespace.
    pub fn from_args(args: &EventArgs) -> Self {
        let set = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let instance = set(&args.pod_name)
            .map(|name| truncate(&name, FIELD_LIMIT))
            .unwrap_or_else(|| names::REPORTING_CONTROLLER.to_owned());
        let job = match (set(&args.pod_namespace), set(&args.job_name)) {
            (Some(namespace), Some(name)) => Some(JobRef {
                namespace,
                name,
                uid: set(&args.job_uid),
            }),
            _ => None,
        };
        Self { instance, job }
    }
}

/// A Secret a run wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its UID, as the API answered the apply.
    pub uid: Option<String>,
}

/// The `Refreshed` Event of a written Secret: in its namespace, regarding it.
pub fn refreshed(
    reporter: &Reporter,
    registry: &str,
    secret: &Written,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Event {
    let expiry = expires_at.map_or_else(
        || "ECR did not say when it expires".to_owned(),
        |t| format!("expires at {}", whole_seconds(t)),
    );
    let note = format!(
        "registry {registry}: wrote Secret {}/{}; {expiry}",
        secret.namespace, secret.name
    );
    let regarding = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Secret".into()),
        namespace: Some(secret.namespace.clone()),
        name: Some(secret.name.clone()),
        uid: secret.uid.clone(),
        ..ObjectReference::default()
    };
    event(reporter, regarding, "Normal", REASON_REFRESHED, &note, now)
}

/// The `RefreshFailed` Event of the run's Job: `line` is the run's last log line.
pub fn failed(reporter: &Reporter, job: &JobRef, line: &str, now: Timestamp) -> Event {
    let regarding = ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        namespace: Some(job.namespace.clone()),
        name: Some(job.name.clone()),
        uid: job.uid.clone(),
        ..ObjectReference::default()
    };
    event(reporter, regarding, "Warning", REASON_FAILED, line, now)
}

/// An Event regarding `regarding`, in its namespace, named like client-go names them
/// (`<name>.<time in hex nanoseconds>`).
fn event(
    reporter: &Reporter,
    regarding: ObjectReference,
    type_: &str,
    reason: &str,
    note: &str,
    now: Timestamp,
) -> Event {
    let name = format!(
        "{}.{:x}",
        regarding.name.as_deref().unwrap_or_default(),
        now.as_nanosecond()
    );
    Event {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: regarding.namespace.clone(),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(now)),
        reporting_controller: Some(names::REPORTING_CONTROLLER.into()),
        reporting_instance: Some(reporter.instance.clone()),
        action: Some(ACTION.into()),
        reason: Some(reason.into()),
        type_: Some(type_.into()),
        note: Some(truncate(note, NOTE_LIMIT)),
        regarding: Some(regarding),
        ..Event::default()
    }
}

/// `text` cut to at most `limit` bytes, on a character boundary.
fn truncate(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// Records the Events of a run: one per Secret in `written`, and, if `outcome` failed and the
/// run is a Job's pod, one regarding the Job. Never fails: every Event that could not be
/// written is counted into one warning naming the first cause.
pub async fn record(
    kube: &kube::Client,
    reporter: &Reporter,
    registry: &str,
    written: &[Written],
    expires_at: Option<Timestamp>,
    outcome: Result<(), &Error>,
) {
    let now = Timestamp::now();
    let mut events: Vec<Event> = written
        .iter()
        .map(|secret| refreshed(reporter, registry, secret, expires_at, now))
        .collect();
    if let Err(err) = outcome {
        match &reporter.job {
            Some(job) => events.push(failed(reporter, job, &last_line(registry, err), now)),
            None => {
                tracing::debug!("not a Job's pod (no JOB_NAME/POD_NAMESPACE): no failure Event")
            }
        }
    }
    let total = events.len();
    let mut queue = events.into_iter().enumerate();
    let mut running = JoinSet::new();
    let spawn = |running: &mut JoinSet<_>, (index, event): (usize, Event)| {
        let kube = kube.clone();
        let task = async move {
            let namespace = event.metadata.namespace.clone().unwrap_or_default();
            let api: Api<Event> = Api::namespaced(kube, &namespace);
            let created = api.create(&PostParams::default(), &event).await;
            (index, created.err().map(|err| describe(&err, &namespace)))
        };
        running.spawn(task.instrument(tracing::Span::current()));
    };
    for item in queue.by_ref().take(EVENT_CONCURRENCY) {
        spawn(&mut running, item);
    }
    // The first failure in the Events' order names the cause, whichever finished first.
    let mut causes = Vec::new();
    while let Some(joined) = running.join_next().await {
        let (index, cause) =
            joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        causes.extend(cause.map(|c| (index, c)));
        if let Some(item) = queue.next() {
            spawn(&mut running, item);
        }
    }
    let failures = causes.len();
    let first_cause = causes
        .into_iter()
        .min_by_key(|(index, _)| *index)
        .map(|(_, c)| c);
    if let Some(cause) = first_cause {
        tracing::warn!(
            failed = failures,
            events = total,
            "could not record {failures} of {total} Events (the refresh is not affected): {cause}"
        );
    }
}

/// The cause of a refused Event in words: for a 403, the one grant it needs.
fn describe(err: &kube::Error, namespace: &str) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden ({}) — the ServiceAccount needs create on events (API group events.k8s.io) in namespace {namespace}",
            status.message
        ),
        other => cause::kube(other, namespace),
    }
}

/// The run's last log line (`main` prints it as the final ERROR): `registry <name>: <error>`.
pub fn last_line(registry: &str, err: &Error) -> String {
    format!("registry {registry}: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reporter() -> Reporter {
        Reporter::from_args(&EventArgs {
            pod_name: Some("ecr-registry-helper-primary-29000000-abcde".into()),
            pod_namespace: Some("tools".into()),
            job_name: Some("ecr-registry-helper-primary-29000000".into()),
            job_uid: Some("0b7c-uid".into()),
        })
    }

    #[test]
    fn a_refreshed_event_is_about_the_secret_in_its_namespace_and_names_the_expiry() {
        let now = Timestamp::from_second(1_800_000_000).expect("time");
        let secret = Written {
            namespace: "apps".into(),
            name: "regcred-primary".into(),
            uid: Some("uid-1".into()),
        };
        let expires = Timestamp::from_second(1_800_043_200).expect("time");
        let e = refreshed(&reporter(), "primary", &secret, Some(expires), now);
        assert_eq!(e.metadata.namespace.as_deref(), Some("apps"));
        let regarding = e.regarding.expect("regarding");
        assert_eq!(regarding.namespace.as_deref(), Some("apps"));
        assert_eq!(regarding.kind.as_deref(), Some("Secret"));
        assert_eq!(regarding.uid.as_deref(), Some("uid-1"));
        assert_eq!(
            e.note.as_deref(),
            Some(
                "registry primary: wrote Secret apps/regcred-primary; expires at 2027-01-15T20:00:00Z"
            )
        );
        assert_eq!(e.reason.as_deref(), Some(REASON_REFRESHED));
        assert_eq!(
            e.reporting_instance.as_deref(),
            Some("ecr-registry-helper-primary-29000000-abcde")
        );
        let json = serde_json::to_value(&e.event_time).expect("json");
        assert_eq!(json, "2027-01-15T08:00:00.000000Z");
    }

    #[test]
    fn a_long_failure_note_is_cut_to_the_api_limit_on_a_character_boundary() {
        let job = reporter().job.expect("a Job");
        let line = "é".repeat(NOTE_LIMIT);
        let e = failed(&reporter(), &job, &line, Timestamp::UNIX_EPOCH);
        let note = e.note.expect("note");
        assert!(
            note.len() <= NOTE_LIMIT && note.len() > NOTE_LIMIT - 2,
            "{}",
            note.len()
        );
        assert_eq!(e.type_.as_deref(), Some("Warning"));
        assert_eq!(e.metadata.namespace.as_deref(), Some("tools"));
    }

    #[test]
    fn without_the_downward_api_there_is_no_job_and_the_controller_reports_itself() {
        let r = Reporter::from_args(&EventArgs {
            job_name: Some("j".into()),
            pod_name: Some("  ".into()),
            ..EventArgs::default()
        });
        assert_eq!(r.job, None);
        assert_eq!(r.instance, names::REPORTING_CONTROLLER);
    }
}
