//! The `regcred-<name>` Secret: building it (pure), its redacted view, and server-side apply.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};

use ecr_contract::names::{
    ANNOTATION_EXPIRES_AT, ANNOTATION_REFRESHED_AT, FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_REGISTRY,
};

use crate::cause;
use crate::dockerconfig::{self, DockerConfigJson};
pub use crate::dockerconfig::{DATA_KEY, SECRET_TYPE};
use crate::error::Error;
use crate::retry::RetryPolicy;

/// What replaces every data value in redacted output.
pub const REDACTED: &str = "<redacted>";

/// The Secret to apply: only the fields the refresher owns. Debug hides the data.
#[derive(Clone, PartialEq)]
pub struct DesiredSecret(Secret);

impl DesiredSecret {
    /// The Secret itself, for the apply patch only (its Debug would print the credentials).
    pub fn expose(&self) -> &Secret {
        &self.0
    }

    /// Name of the Secret.
    pub fn name(&self) -> &str {
        self.0.metadata.name.as_deref().unwrap_or_default()
    }

    /// The Secret as JSON with every credential replaced by `<redacted>`: `.dockerconfigjson`
    /// becomes its decoded document with each registry host and user name kept and every
    /// `password` and `auth` redacted; any other data value is redacted as a whole.
    pub fn redacted(&self) -> Result<serde_json::Value, serde_json::Error> {
        let mut value = serde_json::to_value(&self.0)?;
        let data = self.0.data.as_ref();
        if let Some(shown) = value.get_mut("data").and_then(|d| d.as_object_mut()) {
            for (key, item) in shown.iter_mut() {
                let text = match data.and_then(|d| d.get(key)) {
                    Some(bytes) if key == DATA_KEY => dockerconfig::redact(&bytes.0, REDACTED),
                    _ => REDACTED.to_owned(),
                };
                *item = serde_json::Value::String(text);
            }
        }
        Ok(value)
    }
}

impl fmt::Debug for DesiredSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let meta = &self.0.metadata;
        f.debug_struct("DesiredSecret")
            .field("namespace", &meta.namespace)
            .field("name", &meta.name)
            .field("labels", &meta.labels)
            .field("annotations", &meta.annotations)
            .field("data", &REDACTED)
            .finish()
    }
}

/// Builds the Secret with only the fields the refresher owns: type, data, its two labels and
/// two annotations. Timestamps are written as RFC 3339 in UTC, whole seconds.
pub fn build(
    namespace: &str,
    name: &str,
    registry: &str,
    config: &DockerConfigJson,
    refreshed_at: Timestamp,
    expires_at: Option<Timestamp>,
) -> DesiredSecret {
    let labels = BTreeMap::from([
        (LABEL_MANAGED_BY.to_owned(), FIELD_MANAGER.to_owned()),
        (LABEL_REGISTRY.to_owned(), registry.to_owned()),
    ]);
    let mut annotations =
        BTreeMap::from([(ANNOTATION_REFRESHED_AT.to_owned(), rfc3339(refreshed_at))]);
    if let Some(expires_at) = expires_at {
        annotations.insert(ANNOTATION_EXPIRES_AT.to_owned(), rfc3339(expires_at));
    }
    DesiredSecret(Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        type_: Some(SECRET_TYPE.to_owned()),
        data: Some(BTreeMap::from([(
            DATA_KEY.to_owned(),
            ByteString(config.expose().to_vec()),
        )])),
        ..Secret::default()
    })
}

fn rfc3339(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

/// What an apply did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// There was no Secret of that name.
    Created,
    /// The Secret existed and was updated in place.
    Updated,
}

impl Applied {
    /// `created` or `updated`.
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Updated => "updated",
        }
    }
}

/// Reads the Secret, then [`apply_over`] what was read: refuses one of another type (leaving it
/// untouched), else server-side-applies `desired` with field manager `ecr-refresher` and `force`
/// (taking only the fields in the patch). Transient API errors (409, 429, 5xx, connection
/// failures, timeouts) are retried. Returns what it did and the Secret's UID as the API answered.
pub async fn apply(
    api: &Api<Secret>,
    desired: &DesiredSecret,
    retry: &RetryPolicy,
    namespace: &str,
) -> Result<(Applied, Option<String>), Error> {
    let name = desired.name();
    let describe_here = |err: &kube::Error| cause::kube(err, namespace);
    let step = format!("read Secret {namespace}/{name}");
    let existing = retry
        .run(&step, cause::kube_is_transient, describe_here, || {
            api.get_opt(name)
        })
        .await
        .map_err(|source| Error::ReadSecret {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source: Box::new(source),
        })?;
    apply_over(api, desired, retry, namespace, existing.as_ref()).await
}

/// [`apply`] without its read, for a caller that already holds the Secret as it is (`existing`,
/// e.g. from a list of it in every namespace; `None`: there was none): one of another type is
/// refused (left untouched), else `desired` is server-side-applied. A Secret of another type
/// created since `existing` was read is still refused: the API server answers the apply 422
/// (`type` is immutable), read once more to name the type found. What it did (created or
/// updated) is as of `existing`.
pub async fn apply_over(
    api: &Api<Secret>,
    desired: &DesiredSecret,
    retry: &RetryPolicy,
    namespace: &str,
    existing: Option<&Secret>,
) -> Result<(Applied, Option<String>), Error> {
    let name = desired.name();
    let describe_here = |err: &kube::Error| cause::kube(err, namespace);
    if let Some(existing) = existing {
        let found = existing.type_.as_deref().unwrap_or("Opaque");
        if found != SECRET_TYPE {
            return Err(wrong_type(namespace, name, found));
        }
    }

    let params = PatchParams::apply(FIELD_MANAGER).force();
    let patch = Patch::Apply(desired.expose());
    let step = format!("apply Secret {namespace}/{name}");
    let applied = retry
        .run(&step, cause::kube_is_transient, describe_here, || {
            api.patch(name, &params, &patch)
        })
        .await;
    match applied {
        Ok(secret) if existing.is_some() => Ok((Applied::Updated, secret.metadata.uid)),
        Ok(secret) => Ok((Applied::Created, secret.metadata.uid)),
        Err(kube::Error::Api(status)) if cause::is_type_change(&status) => {
            // Another writer created a Secret of another type since it was read.
            let found = match api.get_opt(name).await {
                Ok(Some(s)) => s.type_.unwrap_or_else(|| "Opaque".into()),
                _ => "another type".into(),
            };
            Err(wrong_type(namespace, name, &found))
        }
        Err(source) => Err(Error::ApplySecret {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source: Box::new(source),
        }),
    }
}

/// What [`delete_if_ours`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The Secret was ours and is gone.
    Deleted,
    /// There was no Secret of that name.
    Absent,
    /// The Secret is not one the refresher wrote for this registry; it was left alone. Why.
    NotOurs(&'static str),
}

impl Deleted {
    /// `deleted`, `absent` or `kept`.
    pub fn as_str(self) -> &'static str {
        match self {
            Deleted::Deleted => "deleted",
            Deleted::Absent => "absent",
            Deleted::NotOurs(_) => "kept",
        }
    }
}

/// Whether `secret` is one the refresher wrote for `registry`: labelled
/// `app.kubernetes.io/managed-by: ecr-refresher` and `ecr-registry-helper/registry:
/// <registry>`, with fields owned by the field manager `ecr-refresher`. `Err` says why not.
pub fn ours(secret: &Secret, registry: &str) -> Result<(), &'static str> {
    let labels = secret.metadata.labels.as_ref();
    let label = |key: &str| labels.and_then(|l| l.get(key)).map(String::as_str);
    if label(LABEL_MANAGED_BY) != Some(FIELD_MANAGER) {
        return Err("it does not carry the label app.kubernetes.io/managed-by: ecr-refresher");
    }
    if label(LABEL_REGISTRY) != Some(registry) {
        return Err("its ecr-registry-helper/registry label names another registry");
    }
    let managers = secret
        .metadata
        .managed_fields
        .as_deref()
        .unwrap_or_default();
    if !managers
        .iter()
        .any(|m| m.manager.as_deref() == Some(FIELD_MANAGER))
    {
        return Err("no field of it is owned by the field manager ecr-refresher");
    }
    Ok(())
}

/// Whether `secret` is [`ours`] for `registry` and the refresher's server-side apply wrote it:
/// its `managedFields` hold an `Apply` entry of the field manager `ecr-refresher` (prune's
/// stricter test: a Secret the refresher only ever touched with another operation is not
/// pruned). `Err` says why not.
pub fn applied_by_us(secret: &Secret, registry: &str) -> Result<(), &'static str> {
    ours(secret, registry)?;
    let managers = secret
        .metadata
        .managed_fields
        .as_deref()
        .unwrap_or_default();
    if !managers.iter().any(|m| {
        m.manager.as_deref() == Some(FIELD_MANAGER) && m.operation.as_deref() == Some("Apply")
    }) {
        return Err("no server-side apply of the field manager ecr-refresher wrote it");
    }
    Ok(())
}

/// Deletes Secret `name` if it is [`ours`] for `registry`, guarded by the uid and
/// resourceVersion read (a Secret changed or replaced since is read and judged again).
/// Transient API errors and a failed precondition (409) are retried.
pub async fn delete_if_ours(
    api: &Api<Secret>,
    name: &str,
    registry: &str,
    retry: &RetryPolicy,
    namespace: &str,
) -> Result<Deleted, Error> {
    delete_if(api, name, registry, ours, retry, namespace).await
}

/// [`delete_if_ours`] with another test of what is ours (`judge`, e.g. [`applied_by_us`]).
pub async fn delete_if(
    api: &Api<Secret>,
    name: &str,
    registry: &str,
    judge: fn(&Secret, &str) -> Result<(), &'static str>,
    retry: &RetryPolicy,
    namespace: &str,
) -> Result<Deleted, Error> {
    let failed = |step: &'static str| move |source: kube::Error| (step, source);
    let attempt = || async {
        let Some(secret) = api.get_opt(name).await.map_err(failed("read"))? else {
            return Ok(Deleted::Absent);
        };
        if let Err(why) = judge(&secret, registry) {
            return Ok(Deleted::NotOurs(why));
        }
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid: secret.metadata.uid.clone(),
                resource_version: secret.metadata.resource_version.clone(),
            }),
            ..DeleteParams::default()
        };
        match api.delete(name, &params).await {
            Ok(_) => Ok(Deleted::Deleted),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(Deleted::Absent),
            Err(source) => Err(("delete", source)),
        }
    };
    let step = format!("delete Secret {namespace}/{name}");
    retry
        .run(
            &step,
            |(_, source): &(&'static str, kube::Error)| cause::kube_is_transient(source),
            |(_, source): &(&'static str, kube::Error)| cause::kube(source, namespace),
            attempt,
        )
        .await
        .map_err(|(step, source)| Error::DeleteSecret {
            step,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source: Box::new(source),
        })
}

fn wrong_type(namespace: &str, name: &str, found: &str) -> Error {
    Error::WrongSecretType {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        found: found.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerconfig::{Password, RegistryLogin};

    fn written(labels: &[(&str, &str)], manager: Option<&str>) -> Secret {
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
        Secret {
            metadata: ObjectMeta {
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
                managed_fields: manager.map(|m| {
                    vec![ManagedFieldsEntry {
                        manager: Some(m.to_owned()),
                        ..ManagedFieldsEntry::default()
                    }]
                }),
                ..ObjectMeta::default()
            },
            ..Secret::default()
        }
    }

    #[test]
    fn a_secret_is_ours_only_with_both_labels_and_our_field_manager() {
        let labels = [
            (LABEL_MANAGED_BY, FIELD_MANAGER),
            (LABEL_REGISTRY, "primary"),
        ];
        assert_eq!(
            ours(&written(&labels, Some(FIELD_MANAGER)), "primary"),
            Ok(())
        );
        assert!(ours(&written(&labels, Some(FIELD_MANAGER)), "other").is_err());
        assert!(ours(&written(&labels, Some("kubectl")), "primary").is_err());
        assert!(ours(&written(&labels, None), "primary").is_err());
        let theirs = [(LABEL_MANAGED_BY, "Helm"), (LABEL_REGISTRY, "primary")];
        assert!(ours(&written(&theirs, Some(FIELD_MANAGER)), "primary").is_err());
    }

    fn desired(expires_at: Option<Timestamp>) -> DesiredSecret {
        let login = RegistryLogin {
            hosts: vec!["123456789012.dkr.ecr.eu-west-1.amazonaws.com".into()],
            username: "AWS".into(),
            password: Password::new("top-secret-password"),
            expires_at,
        };
        build(
            "apps",
            "regcred-primary",
            "primary",
            &dockerconfig::render(&login),
            "2025-06-01T10:00:00.123456Z".parse().expect("timestamp"),
            expires_at,
        )
    }

    #[test]
    fn the_secret_holds_only_the_fields_the_refresher_owns() {
        let expires = "2025-06-01T22:00:00Z".parse().expect("timestamp");
        let value = serde_json::to_value(desired(Some(expires)).expose()).expect("serialises");
        let data = value["data"][DATA_KEY]
            .as_str()
            .expect("data is base64 text");
        assert!(!data.is_empty());
        let mut value = value;
        value["data"][DATA_KEY] = serde_json::Value::Null;
        assert_eq!(
            value,
            serde_json::json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "regcred-primary",
                    "namespace": "apps",
                    "labels": {
                        "app.kubernetes.io/managed-by": "ecr-refresher",
                        "ecr-registry-helper/registry": "primary",
                    },
                    "annotations": {
                        "ecr-registry-helper/refreshed-at": "2025-06-01T10:00:00Z",
                        "ecr-registry-helper/expires-at": "2025-06-01T22:00:00Z",
                    },
                },
                "type": "kubernetes.io/dockerconfigjson",
                "data": { ".dockerconfigjson": null },
            })
        );
    }

    #[test]
    fn without_an_expiry_there_is_no_expires_at_annotation() {
        let secret = desired(None);
        let annotations = secret
            .expose()
            .metadata
            .annotations
            .as_ref()
            .expect("annotations");
        assert!(annotations.contains_key(ANNOTATION_REFRESHED_AT));
        assert!(!annotations.contains_key(ANNOTATION_EXPIRES_AT));
    }

    #[test]
    fn the_redacted_view_and_debug_hold_no_credential() {
        let secret = desired(None);
        let redacted = secret.redacted().expect("serialises").to_string();
        let debug = format!("{secret:?}");
        let encoded_data = serde_json::to_value(secret.expose()).expect("serialises")["data"]
            [DATA_KEY]
            .as_str()
            .expect("data")
            .to_owned();
        for shown in [&redacted, &debug] {
            assert!(!shown.contains("top-secret-password"), "{shown}");
            assert!(!shown.contains(&encoded_data), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
        assert!(!debug.contains("auths"), "{debug}");
        assert!(redacted.contains("regcred-primary"));
        assert!(
            redacted.contains("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            "the redacted view names the registry: {redacted}"
        );
    }
}
