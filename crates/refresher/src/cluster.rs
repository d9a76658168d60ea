//! Cluster-wide reads for namespace selectors: the live namespaces (one list) and the run's
//! target namespaces resolved from them, and one pull Secret in every namespace (one list with a
//! `metadata.name` field selector, which RBAC authorises against a ClusterRole's
//! `resourceNames`).

use ecr_contract::names::{FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_REGISTRY};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::ListParams;
use kube::core::SelectorExt as _;

use crate::cause;
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::selection::{self, Selection};
use crate::settings::Target;

/// A registry's target namespaces for one run, as resolved from the live namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The explicit namespaces first, in order, then the selected ones by name.
    pub namespaces: Vec<String>,
    /// Namespaces the selector matched.
    pub matched: usize,
    /// Of those, being deleted (skipped).
    pub terminating: usize,
    /// Of those, excluded by `EXCLUDE_NAMESPACES` (skipped).
    pub excluded: usize,
}

impl Found {
    /// `target` with these namespaces as its targets.
    pub fn target(&self, target: &Target) -> Target {
        Target {
            namespaces: self.namespaces.clone(),
            ..target.clone()
        }
    }

    /// Counts what `selection` did with `live` (the namespaces the selector's list returned).
    pub fn of(explicit: &[String], selection: &Selection, live: &[Namespace]) -> Self {
        let name = |ns: &Namespace| ns.metadata.name.clone().unwrap_or_default();
        let matched: Vec<&Namespace> = live
            .iter()
            .filter(|ns| {
                let empty = Default::default();
                selection
                    .selector
                    .matches(ns.metadata.labels.as_ref().unwrap_or(&empty))
            })
            .collect();
        let terminating = matched
            .iter()
            .filter(|ns| selection::terminating(ns))
            .count();
        let excluded = matched
            .iter()
            .filter(|ns| !selection::terminating(ns) && selection.exclude.contains(&name(ns)))
            .count();
        Found {
            namespaces: selection::targets(explicit, selection, live),
            matched: matched.len(),
            terminating,
            excluded,
        }
    }
}

/// The run's target namespaces: without a selector, the explicit ones; with one, one list of
/// the namespaces it matches ([`namespaces`]) resolved by [`selection::targets`], logged with
/// how many were selected and skipped (being deleted, excluded).
pub async fn targets(
    target: &Target,
    retry: &RetryPolicy,
    kube: &kube::Client,
) -> Result<Found, Error> {
    let Some(selection) = &target.selection else {
        return Ok(Found {
            namespaces: target.namespaces.clone(),
            matched: 0,
            terminating: 0,
            excluded: 0,
        });
    };
    let live = namespaces(kube, &selection.query(), retry).await?;
    let found = Found::of(&target.namespaces, selection, &live);
    tracing::info!(
        selector = %selection.query(),
        matched = found.matched,
        skipped_terminating = found.terminating,
        skipped_excluded = found.excluded,
        explicit = target.namespaces.len(),
        targets = %found.namespaces.join(","),
        "namespaces selected"
    );
    Ok(found)
}

/// Every namespace, or those `selector` (the `labelSelector` query syntax) matches, retried
/// on transient errors. Namespaces being deleted are included (see
/// [`crate::selection::terminating`]).
pub async fn namespaces(
    kube: &kube::Client,
    selector: &str,
    retry: &RetryPolicy,
) -> Result<Vec<Namespace>, Error> {
    let api: Api<Namespace> = Api::all(kube.clone());
    let params = if selector.is_empty() {
        ListParams::default()
    } else {
        ListParams::default().labels(selector)
    };
    let describe = |err: &kube::Error| cause::cluster(err, "list", "namespaces");
    retry
        .run(
            "list namespaces",
            cause::kube_is_transient,
            describe,
            || api.list(&params),
        )
        .await
        .map(|list| list.items)
        .map_err(|source| Error::ListNamespaces {
            selector: selector.to_owned(),
            source: Box::new(source),
        })
}

/// Secret `name` in every namespace where it exists; with `registry`, only those labelled as
/// the refresher's for that registry (`app.kubernetes.io/managed-by: ecr-refresher`,
/// `ecr-registry-helper/registry: <registry>`). Retried on transient errors.
pub async fn secrets_named(
    kube: &kube::Client,
    name: &str,
    registry: Option<&str>,
    retry: &RetryPolicy,
) -> Result<Vec<Secret>, Error> {
    let api: Api<Secret> = Api::all(kube.clone());
    let mut params = ListParams::default().fields(&format!("metadata.name={name}"));
    if let Some(registry) = registry {
        params = params.labels(&format!(
            "{LABEL_MANAGED_BY}={FIELD_MANAGER},{LABEL_REGISTRY}={registry}"
        ));
    }
    let describe = |err: &kube::Error| cause::cluster(err, "list", "secrets");
    let step = format!("list Secret {name} in every namespace");
    retry
        .run(&step, cause::kube_is_transient, describe, || {
            api.list(&params)
        })
        .await
        .map(|list| list.items)
        .map_err(|source| Error::ListSecrets {
            name: name.to_owned(),
            source: Box::new(source),
        })
}
