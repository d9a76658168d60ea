//! Cluster-wide reads for namespace selectors: the live namespaces (one paged list) and the
//! run's target namespaces resolved from them, and one pull Secret in every namespace (one paged
//! list with a `metadata.name` field selector, which RBAC authorises against a ClusterRole's
//! `resourceNames`). Lists are read [`PAGE_SIZE`] objects at a time (`limit` and `continue`).

use ecr_contract::names::{FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_REGISTRY};
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::Api;
use kube::api::ListParams;
use kube::core::SelectorExt as _;
use serde::de::DeserializeOwned;

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

/// Every namespace, or those `selector` (the `labelSelector` query syntax) matches, in pages
/// ([`paged`]), retried on transient errors. Namespaces being deleted are included (see
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
    paged("list namespaces", describe, retry, &api, &params)
        .await
        .map_err(|source| Error::ListNamespaces {
            selector: selector.to_owned(),
            source: Box::new(source),
        })
}

/// Secret `name` in every namespace where it exists; with `registry`, only those labelled as
/// the refresher's for that registry (`app.kubernetes.io/managed-by: ecr-refresher`,
/// `ecr-registry-helper/registry: <registry>`). In pages ([`paged`]), retried on transient errors.
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
    paged(&step, describe, retry, &api, &params)
        .await
        .map_err(|source| Error::ListSecrets {
            name: name.to_owned(),
            source: Box::new(source),
        })
}

/// ServiceAccount `name` in every namespace where it exists (one paged list with a
/// `metadata.name` field selector, which RBAC authorises against `resourceNames` like the
/// Secrets'), retried on transient errors.
pub async fn service_accounts_named(
    kube: &kube::Client,
    name: &str,
    retry: &RetryPolicy,
) -> Result<Vec<ServiceAccount>, Error> {
    let api: Api<ServiceAccount> = Api::all(kube.clone());
    let params = ListParams::default().fields(&format!("metadata.name={name}"));
    let describe = |err: &kube::Error| cause::cluster(err, "list", "serviceaccounts");
    let step = format!("list ServiceAccount {name} in every namespace");
    paged(&step, describe, retry, &api, &params)
        .await
        .map_err(|source| Error::ListServiceAccounts {
            name: name.to_owned(),
            source: Box::new(source),
        })
}

/// Objects asked for per page of a list (kubectl's chunk size): 10 000 namespaces are read as
/// 20 requests of at most 500 objects, never one response holding them all.
pub const PAGE_SIZE: u32 = 500;

/// Every item of the list `params` asks for, [`PAGE_SIZE`] at a time: `limit`, then `continue`
/// with the token of the page before, until a page's `metadata.continue` is empty (each page is
/// one request, retried on transient errors). The API server serves every page from the
/// snapshot the first was read at; when that snapshot was compacted meanwhile it answers 410
/// Gone, and, as client-go's pager does, the list is then read again whole in one request.
pub async fn paged<K>(
    step: &str,
    describe: impl Fn(&kube::Error) -> String,
    retry: &RetryPolicy,
    api: &Api<K>,
    params: &ListParams,
) -> Result<Vec<K>, kube::Error>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut page = params.clone().limit(PAGE_SIZE);
        if let Some(token) = &token {
            page = page.continue_token(token);
        }
        let answered = retry
            .run(step, cause::kube_is_transient, &describe, || {
                api.list(&page)
            })
            .await;
        let answered = match answered {
            Err(kube::Error::Api(status)) if status.code == 410 && token.is_some() => {
                tracing::warn!(
                    step,
                    "the list's continue token expired (410 Gone): listing again in one request"
                );
                let whole = retry
                    .run(step, cause::kube_is_transient, &describe, || {
                        api.list(params)
                    })
                    .await?;
                return Ok(whole.items);
            }
            other => other?,
        };
        items.extend(answered.items);
        match answered.metadata.continue_ {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(items),
        }
    }
}
