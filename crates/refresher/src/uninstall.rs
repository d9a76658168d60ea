//! `--uninstall-plan`: the chart's pre-delete hook. For each plan entry (a registry and a
//! target namespace) the Secret is first removed from the ServiceAccounts' `imagePullSecrets`
//! (only that entry; others' entries stay), then deleted if the refresher wrote it
//! ([`secret::ours`]: managed-by label, registry label, fields of our field manager); a Secret
//! someone else wrote is kept. No AWS access. Entries are worked on up to
//! [`UNINSTALL_CONCURRENCY`] at a time; one failing does not stop the others, and the run then
//! fails naming every failure.
//!
//! An entry whose namespace is `*` ([`EVERY_NAMESPACE`], a registry with a namespace selector)
//! means the Secret in every namespace where it is found: one cluster-wide list
//! ([`cluster::secrets_named`], name and our labels), then each found Secret is handled as an
//! entry of its own namespace — except in namespaces the plan names for that registry itself
//! (their own entries handle them).

use std::sync::Arc;

use ecr_contract::plan::EVERY_NAMESPACE;
use ecr_contract::uninstall::{self, Entry};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::cluster;
use crate::error::Error;
use crate::plan_file;
use crate::retry::RetryPolicy;
use crate::secret::{self, Deleted};
use crate::service_account::{self, Removed};
use crate::settings::UninstallSettings;

/// How many plan entries are worked on at the same time.
pub const UNINSTALL_CONCURRENCY: usize = 8;

/// What an uninstall did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Secrets deleted.
    pub deleted: usize,
    /// Secrets kept because the refresher did not write them.
    pub kept: usize,
    /// Secrets that were not there.
    pub absent: usize,
    /// `imagePullSecrets` entries removed.
    pub removed_entries: usize,
}

/// Reads the plan, builds the Kubernetes client and carries the plan out.
pub async fn run(settings: &UninstallSettings) -> Result<Summary, Error> {
    let plan = plan_file::read(plan_file::UNINSTALL, &settings.plan, uninstall::parse)?;
    let span = tracing::info_span!("uninstall", entries = plan.len());
    async {
        let kube = crate::kube_client(settings.request_timeout).await?;
        carry_out(&plan, &settings.retry, &kube).await
    }
    .instrument(span)
    .await
}

/// Carries out `plan` (see the module doc).
pub async fn carry_out(
    plan: &[Entry],
    retry: &RetryPolicy,
    kube: &kube::Client,
) -> Result<Summary, Error> {
    let shared = Arc::new(*retry);
    let mut queue = plan.iter().cloned();
    let mut running = JoinSet::new();
    let spawn = |running: &mut JoinSet<_>, entry: Entry| {
        let retry = Arc::clone(&shared);
        let kube = kube.clone();
        let explicit: Vec<String> = plan
            .iter()
            .filter(|e| e.registry == entry.registry && e.secret == entry.secret)
            .map(|e| e.namespace.clone())
            .filter(|ns| ns != EVERY_NAMESPACE)
            .collect();
        running.spawn(
            async move { one(&entry, &explicit, &retry, kube).await }
                .instrument(tracing::Span::current()),
        );
    };
    for entry in queue.by_ref().take(UNINSTALL_CONCURRENCY) {
        spawn(&mut running, entry);
    }
    let mut summary = Summary::default();
    let mut failures = Vec::new();
    let mut failed = 0;
    while let Some(joined) = running.join_next().await {
        let (done, errors) =
            joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        summary.deleted += done.deleted;
        summary.kept += done.kept;
        summary.absent += done.absent;
        summary.removed_entries += done.removed_entries;
        if !errors.is_empty() {
            failed += 1;
            for err in &errors {
                tracing::error!("{err}");
            }
            failures.extend(errors);
        }
        if let Some(entry) = queue.next() {
            spawn(&mut running, entry);
        }
    }
    if failures.is_empty() {
        tracing::info!(
            deleted = summary.deleted,
            kept = summary.kept,
            absent = summary.absent,
            removed_entries = summary.removed_entries,
            "uninstall complete"
        );
        return Ok(summary);
    }
    Err(Error::Uninstall {
        total: plan.len(),
        failed,
        failures,
    })
}

/// One entry: [`remove`] in its namespace, or, for `*`, in each namespace where the Secret is
/// found with our labels, but not in the registry's `explicit` namespaces of the plan.
async fn one(
    entry: &Entry,
    explicit: &[String],
    retry: &RetryPolicy,
    kube: kube::Client,
) -> (Summary, Vec<Error>) {
    if entry.namespace != EVERY_NAMESPACE {
        return remove(entry, secret::ours, "uninstall", retry, kube).await;
    }
    let found =
        match cluster::secrets_named(&kube, &entry.secret, Some(&entry.registry), retry).await {
            Ok(found) => found,
            Err(err) => return (Summary::default(), vec![err]),
        };
    tracing::info!(
        registry = %entry.registry,
        secret = %entry.secret,
        found = found.len(),
        "uninstall: Secret found in every namespace"
    );
    let mut summary = Summary::default();
    let mut errors = Vec::new();
    let namespaces = found
        .iter()
        .filter_map(|s| s.metadata.namespace.clone())
        .filter(|ns| !explicit.contains(ns));
    for namespace in namespaces {
        let here = Entry {
            namespace,
            ..entry.clone()
        };
        let (done, failed) = remove(&here, secret::ours, "uninstall", retry, kube.clone()).await;
        summary.deleted += done.deleted;
        summary.kept += done.kept;
        summary.absent += done.absent;
        summary.removed_entries += done.removed_entries;
        errors.extend(failed);
    }
    (summary, errors)
}

/// The Secret of `entry` in its namespace: removed from the ServiceAccounts first (so no
/// ServiceAccount names a Secret that is gone), then deleted if `judge` finds it ours, only if
/// every ServiceAccount worked. Also prune's removal ([`crate::prune`]).
pub(crate) async fn remove(
    entry: &Entry,
    judge: fn(&Secret, &str) -> Result<(), &'static str>,
    what: &str,
    retry: &RetryPolicy,
    kube: kube::Client,
) -> (Summary, Vec<Error>) {
    let namespace = entry.namespace.as_str();
    let mut summary = Summary::default();
    let mut errors = Vec::new();
    let accounts: Api<ServiceAccount> = Api::namespaced(kube.clone(), namespace);
    for name in &entry.service_accounts {
        match service_account::remove_pull_secret(&accounts, name, &entry.secret, retry, namespace)
            .await
        {
            Ok(removed) => {
                if removed == Removed::Removed {
                    summary.removed_entries += 1;
                }
                tracing::info!(
                    registry = %entry.registry,
                    namespace = %namespace,
                    service_account = %name,
                    secret = %entry.secret,
                    action = removed.as_str(),
                    "ServiceAccount imagePullSecrets"
                );
            }
            Err(err) => errors.push(err),
        }
    }
    if !errors.is_empty() {
        return (summary, errors);
    }
    let secrets: Api<Secret> = Api::namespaced(kube, namespace);
    match secret::delete_if(
        &secrets,
        &entry.secret,
        &entry.registry,
        judge,
        retry,
        namespace,
    )
    .await
    {
        Ok(deleted) => {
            match deleted {
                Deleted::Deleted => summary.deleted += 1,
                Deleted::Absent => summary.absent += 1,
                Deleted::NotOurs(why) => {
                    summary.kept += 1;
                    tracing::warn!(
                        registry = %entry.registry,
                        namespace = %namespace,
                        secret = %entry.secret,
                        "kept Secret: {why}"
                    );
                }
            }
            tracing::info!(
                registry = %entry.registry,
                namespace = %namespace,
                secret = %entry.secret,
                action = deleted.as_str(),
                "{what} Secret"
            );
        }
        Err(err) => errors.push(err),
    }
    (summary, errors)
}
