//! `--check-plan FILE`: the chart's `helm test` Pod, its plan read from the file the Pod mounts
//! from the ConfigMap [`ecr_contract::names::CHECK`] ([`plan_file::read`], shared with the
//! uninstall plan). For each plan entry (a registry's pull Secret in one target namespace) the
//! Secret is read (only `get` by name, which the chart's Role already grants) and judged
//! ([`judge`], pure): it exists, has type `kubernetes.io/dockerconfigjson`, its `auths` name
//! exactly the expected registry hosts, and its `ecr-registry-helper/expires-at` annotation
//! lies in the future. One line per Secret on
//! stdout, its verdict first; the run fails (exit 1) if any is not `OK`. Only host names and
//! times are printed, never a credential. No AWS access.
//!
//! An entry whose namespace is `*` ([`EVERY_NAMESPACE`], a registry with a namespace selector)
//! checks the Secret in every namespace where it is found with our labels (one cluster-wide
//! list, [`cluster::secrets_named`]), one line each, skipping namespaces the plan names
//! explicitly for that registry (they have their own line). Finding none fails the line
//! (`MISSING */<secret>`: the refresh has not run, or the selector matches no namespace) unless
//! the plan also has explicit lines for that registry: then the selector simply matches nothing
//! more yet, and an `OK` line says so.

use std::io::Write;

use ecr_contract::check::{self, Entry};
use ecr_contract::names::ANNOTATION_EXPIRES_AT;
use ecr_contract::plan::EVERY_NAMESPACE;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use tracing::Instrument as _;

use crate::cause;
use crate::cluster;
use crate::dockerconfig::{DATA_KEY, SECRET_TYPE};
use crate::error::Error;
use crate::plan_file;
use crate::retry::RetryPolicy;
use crate::settings::CheckSettings;

/// What is true of one pull Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Ready to pull with: type, hosts and expiry as they should be.
    Ok {
        /// When its token expires.
        expires_at: Timestamp,
    },
    /// No Secret of that name.
    Missing,
    /// Another type than `kubernetes.io/dockerconfigjson`.
    WrongType(String),
    /// Its `auths` do not name the expected hosts.
    WrongHosts {
        /// Expected hosts (or patterns) no `auths` entry names.
        missing: Vec<String>,
        /// `auths` entries no expected host names.
        unexpected: Vec<String>,
    },
    /// Its `.dockerconfigjson` is not a docker config with `auths`.
    Unreadable,
    /// Its token expired.
    Expired(Timestamp),
    /// No (or no valid) expires-at annotation: whether it expired cannot be told.
    NoExpiry,
    /// The Secret could not be read (why, in words).
    Inaccessible(String),
    /// A `*` line: no Secret with our labels in any namespace (beyond the explicit ones).
    NoneFound,
    /// A `*` line of a registry with explicit namespaces: none found beyond those (not a failure).
    NoneBeyondExplicit,
}

impl Verdict {
    /// The verdict's word, first on its line.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Ok { .. } | Verdict::NoneBeyondExplicit => "OK",
            Verdict::Missing | Verdict::NoneFound => "MISSING",
            Verdict::WrongType(_) => "WRONG TYPE",
            Verdict::WrongHosts { .. } | Verdict::Unreadable => "WRONG HOSTS",
            Verdict::Expired(_) => "EXPIRED",
            Verdict::NoExpiry => "NO EXPIRY",
            Verdict::Inaccessible(_) => "UNREADABLE",
        }
    }

    /// Whether the line passes.
    pub fn passes(&self) -> bool {
        matches!(self, Verdict::Ok { .. } | Verdict::NoneBeyondExplicit)
    }

    /// The verdict's line for `entry`: `<VERDICT> <namespace>/<secret> (registry <name>): …`.
    pub fn line(&self, entry: &Entry) -> String {
        let what = match self {
            Verdict::Ok { expires_at } => format!("expires at {expires_at}"),
            Verdict::Missing => {
                "no such Secret — has the registry's refresh Job run and succeeded?".to_owned()
            }
            Verdict::WrongType(found) => {
                format!("type {found:?}, expected {SECRET_TYPE:?}")
            }
            Verdict::WrongHosts {
                missing,
                unexpected,
            } => {
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!("no auths entry for {}", missing.join(", ")));
                }
                if !unexpected.is_empty() {
                    parts.push(format!("unexpected auths entry {}", unexpected.join(", ")));
                }
                parts.join("; ")
            }
            Verdict::Unreadable => format!("{DATA_KEY} is not a docker config with auths"),
            Verdict::Expired(at) => format!("expired at {at} — its refresh is late or failing"),
            Verdict::NoExpiry => format!("no valid {ANNOTATION_EXPIRES_AT} annotation"),
            Verdict::Inaccessible(why) => why.clone(),
            Verdict::NoneFound => "no such Secret in any namespace — has the registry's refresh Job run and succeeded, and does its namespace selector match a namespace?".to_owned(),
            Verdict::NoneBeyondExplicit => {
                "no selected namespace beyond the explicit ones yet".to_owned()
            }
        };
        format!(
            "{} {}/{} (registry {}): {what}",
            self.word(),
            entry.namespace,
            entry.secret,
            entry.registry
        )
    }
}

/// Judges `secret` (as read; `None`: absent) against `entry` at `now`. Checks in order: type,
/// hosts, expiry; the first problem is the verdict.
pub fn judge(entry: &Entry, secret: Option<&Secret>, now: Timestamp) -> Verdict {
    let Some(secret) = secret else {
        return Verdict::Missing;
    };
    let found = secret.type_.as_deref().unwrap_or("Opaque");
    if found != SECRET_TYPE {
        return Verdict::WrongType(found.to_owned());
    }
    let Some(hosts) = auths_hosts(secret) else {
        return Verdict::Unreadable;
    };
    let missing: Vec<String> = entry
        .hosts
        .iter()
        .filter(|want| !hosts.iter().any(|h| check::host_matches(want, h)))
        .cloned()
        .collect();
    let unexpected: Vec<String> = hosts
        .iter()
        .filter(|h| !entry.hosts.iter().any(|want| check::host_matches(want, h)))
        .cloned()
        .collect();
    if !missing.is_empty() || !unexpected.is_empty() {
        return Verdict::WrongHosts {
            missing,
            unexpected,
        };
    }
    let expires_at = secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_EXPIRES_AT))
        .and_then(|t| t.parse::<Timestamp>().ok());
    match expires_at {
        None => Verdict::NoExpiry,
        Some(at) if at <= now => Verdict::Expired(at),
        Some(at) => Verdict::Ok { expires_at: at },
    }
}

/// The host names of the Secret's `auths` (only the keys; no value is kept).
fn auths_hosts(secret: &Secret) -> Option<Vec<String>> {
    let bytes = secret.data.as_ref()?.get(DATA_KEY)?;
    let document: serde_json::Value = serde_json::from_slice(&bytes.0).ok()?;
    let auths = document.get("auths")?.as_object()?;
    Some(auths.keys().cloned().collect())
}

/// Reads the plan file, builds the Kubernetes client and checks the plan, writing the lines to
/// `out`.
pub async fn run(settings: &CheckSettings, out: &mut impl Write) -> Result<(), Error> {
    let plan = plan_file::read(plan_file::CHECK, &settings.plan, check::parse)?;
    let span = tracing::info_span!("check", entries = plan.len());
    async {
        let kube = crate::kube_client(settings.request_timeout).await?;
        check(&plan, &settings.retry, &kube, Timestamp::now(), out).await
    }
    .instrument(span)
    .await
}

/// Reads and judges every entry of `plan` in order, writes one line each to `out`, and fails
/// with [`Error::Check`] if any is not `OK`.
pub async fn check(
    plan: &[Entry],
    retry: &RetryPolicy,
    kube: &kube::Client,
    now: Timestamp,
    out: &mut impl Write,
) -> Result<(), Error> {
    let mut failed = 0;
    let mut total = 0;
    let mut write = |verdict: &Verdict, entry: &Entry| {
        total += 1;
        if !verdict.passes() {
            failed += 1;
        }
        writeln!(out, "{}", verdict.line(entry)).map_err(Error::PrintCheck)
    };
    for entry in plan {
        if entry.namespace == EVERY_NAMESPACE {
            for (verdict, entry) in every_namespace(plan, entry, retry, kube, now).await {
                write(&verdict, &entry)?;
            }
            continue;
        }
        let namespace = entry.namespace.as_str();
        let api: Api<Secret> = Api::namespaced(kube.clone(), namespace);
        let step = format!("read Secret {namespace}/{}", entry.secret);
        let describe = |err: &kube::Error| cause::kube(err, namespace);
        let read = retry
            .run(&step, cause::kube_is_transient, describe, || {
                api.get_opt(&entry.secret)
            })
            .await;
        let verdict = match read {
            Ok(secret) => judge(entry, secret.as_ref(), now),
            Err(err) => Verdict::Inaccessible(format!("{step}: {}", read_cause(&err, namespace))),
        };
        write(&verdict, entry)?;
    }
    out.flush().map_err(Error::PrintCheck)?;
    if failed == 0 {
        tracing::info!(secrets = total, "check: every pull Secret is ready");
        return Ok(());
    }
    Err(Error::Check { total, failed })
}

/// A `*` entry's verdicts, each with the entry of the namespace it is about (see the module
/// doc). A failing list is one `UNREADABLE` line.
async fn every_namespace(
    plan: &[Entry],
    entry: &Entry,
    retry: &RetryPolicy,
    kube: &kube::Client,
    now: Timestamp,
) -> Vec<(Verdict, Entry)> {
    let explicit: Vec<&str> = plan
        .iter()
        .filter(|e| e.registry == entry.registry && e.secret == entry.secret)
        .map(|e| e.namespace.as_str())
        .filter(|ns| *ns != EVERY_NAMESPACE)
        .collect();
    let found =
        match cluster::secrets_named(kube, &entry.secret, Some(&entry.registry), retry).await {
            Ok(found) => found,
            Err(err) => return vec![(Verdict::Inaccessible(err.to_string()), entry.clone())],
        };
    let verdicts: Vec<(Verdict, Entry)> = found
        .iter()
        .filter_map(|secret| {
            let namespace = secret.metadata.namespace.clone()?;
            if explicit.contains(&namespace.as_str()) {
                return None;
            }
            let here = Entry {
                namespace,
                ..entry.clone()
            };
            Some((judge(&here, Some(secret), now), here))
        })
        .collect();
    if !verdicts.is_empty() {
        return verdicts;
    }
    let verdict = if explicit.is_empty() {
        Verdict::NoneFound
    } else {
        Verdict::NoneBeyondExplicit
    };
    vec![(verdict, entry.clone())]
}

/// Why a Secret could not be read; a 403 names the one grant the check needs.
fn read_cause(err: &kube::Error, namespace: &str) -> String {
    match err {
        kube::Error::Api(status) if status.code == 403 => format!(
            "forbidden ({}) — the ServiceAccount needs get on this Secret in namespace {namespace} (the chart's Role grants it)",
            status.message
        ),
        other => cause::kube(other, namespace),
    }
}
