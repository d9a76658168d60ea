//! Cluster-wide reads for namespace selectors: the live namespaces (one list), and one pull
//! Secret in every namespace (one list with a `metadata.name` field selector, which RBAC
//! authorises against a ClusterRole's `resourceNames`).

use ecr_contract::names::{FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_REGISTRY};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::ListParams;

use crate::cause;
use crate::error::Error;
use crate::retry::RetryPolicy;

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
