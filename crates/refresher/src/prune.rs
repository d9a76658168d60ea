//! `PRUNE`: after a refresh, the registry's Secret is removed from namespaces its selector no
//! longer picks — only a Secret the refresher wrote there by server-side apply.
//!
//! One cluster-wide list of the Secret (its name and our two labels, [`cluster::secrets_named`]).
//! A found Secret in a namespace that is not a target of this run ([`pick`], pure) and passes
//! [`crate::secret::applied_by_us`] (our managed-by and registry labels, an `Apply` entry of the field
//! manager `ecr-refresher` in `managedFields`) is removed as the uninstall removes one: first
//! from the `imagePullSecrets` of the `IMAGE_PULL_SECRET_FOR` ServiceAccounts there, then deleted
//! with the uid and resourceVersion as preconditions (judged again right before). Anything else
//! is left alone and logged. Explicit namespaces are always targets, so never pruned. The
//! caller prunes only after every target was written and only when the selector selected at
//! least one namespace ([`crate::refresh_written`]).

use ecr_contract::uninstall::Entry;
use k8s_openapi::api::core::v1::Secret;

use crate::cluster;
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::secret::applied_by_us;
use crate::settings::Target;
use crate::uninstall;

/// What a prune did, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Secrets deleted.
    pub pruned: usize,
    /// Secrets outside the targets left alone because the refresher did not apply them.
    pub kept: usize,
    /// `imagePullSecrets` entries removed.
    pub removed_entries: usize,
}

/// A found Secret's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// In a target namespace: stays.
    Target,
    /// Outside the targets and ours: to be pruned.
    Prune,
    /// Outside the targets but not ours: left alone, for this reason.
    NotOurs(&'static str),
}

/// Whether the listed Secret `found` is pruned, given this run's `targets`.
pub fn pick(found: &Secret, registry: &str, targets: &[String]) -> Pick {
    let namespace = found.metadata.namespace.as_deref().unwrap_or_default();
    if targets.iter().any(|t| t == namespace) {
        return Pick::Target;
    }
    match applied_by_us(found, registry) {
        Ok(()) => Pick::Prune,
        Err(why) => Pick::NotOurs(why),
    }
}

/// Prunes `target`'s Secret outside `targets` (the namespaces this run wrote). Each pruned
/// Secret is one log line (namespace, name), then a summary; one failing does not stop the
/// others, and the prune then fails with every failure.
pub async fn prune(
    target: &Target,
    targets: &[String],
    retry: &RetryPolicy,
    kube: &kube::Client,
) -> Result<Summary, Error> {
    let name = target.secret_name.as_str();
    let found = cluster::secrets_named(kube, name, Some(&target.registry), retry).await?;
    let mut summary = Summary::default();
    let mut failures = Vec::new();
    let mut failed = 0;
    for secret in &found {
        let Some(namespace) = secret.metadata.namespace.clone() else {
            continue;
        };
        match pick(secret, &target.registry, targets) {
            Pick::Target => continue,
            Pick::NotOurs(why) => {
                summary.kept += 1;
                tracing::warn!(namespace = %namespace, secret = %name, "prune: kept Secret: {why}");
                continue;
            }
            Pick::Prune => {}
        }
        let entry = Entry {
            registry: target.registry.clone(),
            namespace,
            secret: name.to_owned(),
            service_accounts: target.image_pull_secret_for.clone(),
        };
        let (done, errors) =
            uninstall::remove(&entry, applied_by_us, "prune", retry, kube.clone()).await;
        summary.pruned += done.deleted;
        summary.kept += done.kept;
        summary.removed_entries += done.removed_entries;
        if done.deleted > 0 {
            tracing::info!(
                namespace = %entry.namespace,
                secret = %name,
                "pruned Secret: its namespace is no longer selected"
            );
        }
        if !errors.is_empty() {
            failed += 1;
            for err in &errors {
                tracing::error!(namespace = %entry.namespace, "{err}");
            }
            failures.extend(errors);
        }
    }
    tracing::info!(
        found = found.len(),
        pruned = summary.pruned,
        kept = summary.kept,
        removed_entries = summary.removed_entries,
        "prune complete"
    );
    if failures.is_empty() {
        return Ok(summary);
    }
    Err(Error::Prune { failed, failures })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecr_contract::names::{FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_REGISTRY};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};

    fn found(namespace: &str, registry: &str, manager: &str, operation: &str) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("regcred-primary".into()),
                namespace: Some(namespace.into()),
                labels: Some(
                    [
                        (LABEL_MANAGED_BY.to_owned(), FIELD_MANAGER.to_owned()),
                        (LABEL_REGISTRY.to_owned(), registry.to_owned()),
                    ]
                    .into(),
                ),
                managed_fields: Some(vec![ManagedFieldsEntry {
                    manager: Some(manager.into()),
                    operation: Some(operation.into()),
                    ..ManagedFieldsEntry::default()
                }]),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        }
    }

    #[test]
    fn only_our_applied_secrets_outside_the_targets_are_pruned() {
        let targets = ["apps".to_owned()];
        let pick = |s: &Secret| pick(s, "primary", &targets);
        assert_eq!(
            pick(&found("apps", "primary", FIELD_MANAGER, "Apply")),
            Pick::Target
        );
        assert_eq!(
            pick(&found("old", "primary", FIELD_MANAGER, "Apply")),
            Pick::Prune
        );
        assert!(matches!(
            pick(&found("old", "primary", FIELD_MANAGER, "Update")),
            Pick::NotOurs(why) if why.contains("server-side apply")
        ));
        assert!(matches!(
            pick(&found("old", "primary", "kubectl", "Apply")),
            Pick::NotOurs(_)
        ));
        assert!(matches!(
            pick(&found("old", "other", FIELD_MANAGER, "Apply")),
            Pick::NotOurs(_)
        ));
    }
}
