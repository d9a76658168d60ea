//! The `regcred-<name>` Secret: building it (pure), its redacted view, and server-side apply.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, Patch, PatchParams};

use crate::dockerconfig::{self, DockerConfigJson};
use crate::error::Error;
use crate::retry;
use crate::settings::Settings;

/// Field manager of every apply.
pub const FIELD_MANAGER: &str = "ecr-refresher";
/// The only Secret type the refresher writes.
pub const SECRET_TYPE: &str = "kubernetes.io/dockerconfigjson";
/// Data key of the docker config.
pub const DATA_KEY: &str = ".dockerconfigjson";
/// Label naming the tool that manages the Secret.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Label naming the registry.
pub const LABEL_REGISTRY: &str = "ecr-registry-helper/registry";
/// Annotation: when the Secret was last refreshed (RFC 3339).
pub const ANNOTATION_REFRESHED_AT: &str = "ecr-registry-helper/refreshed-at";
/// Annotation: when the token in the Secret expires (RFC 3339).
pub const ANNOTATION_EXPIRES_AT: &str = "ecr-registry-helper/expires-at";
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

/// Reads the Secret, refuses one of another type (leaving it untouched), then server-side-applies
/// `desired` with field manager `ecr-refresher` and `force` (taking only the fields in the patch).
/// Transient API errors (409, 429, 5xx, connection failures, timeouts) are retried.
pub async fn apply(
    api: &Api<Secret>,
    desired: &DesiredSecret,
    settings: &Settings,
    namespace: &str,
) -> Result<Applied, Error> {
    let name = desired.name();
    let registry = settings.registry.as_str();
    let describe_here = |err: &kube::Error| describe(err, namespace);

    let step = format!("read Secret {namespace}/{name}");
    let existing = retry::transient(settings, &step, is_transient, describe_here, || {
        api.get_opt(name)
    })
    .await
    .map_err(|source| Error::ReadSecret {
        registry: registry.to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        source: Box::new(source),
    })?;
    if let Some(existing) = &existing {
        let found = existing.type_.as_deref().unwrap_or("Opaque");
        if found != SECRET_TYPE {
            return Err(wrong_type(settings, namespace, name, found));
        }
    }

    let params = PatchParams::apply(FIELD_MANAGER).force();
    let patch = Patch::Apply(desired.expose());
    let step = format!("apply Secret {namespace}/{name}");
    let applied = retry::transient(settings, &step, is_transient, describe_here, || {
        api.patch(name, &params, &patch)
    })
    .await;
    match applied {
        Ok(_) if existing.is_some() => Ok(Applied::Updated),
        Ok(_) => Ok(Applied::Created),
        Err(kube::Error::Api(status)) if is_type_change(&status) => {
            // Another writer created a Secret of another type between our read and our apply.
            let found = match api.get_opt(name).await {
                Ok(Some(s)) => s.type_.unwrap_or_else(|| "Opaque".into()),
                _ => "another type".into(),
            };
            Err(wrong_type(settings, namespace, name, &found))
        }
        Err(source) => Err(Error::ApplySecret {
            registry: registry.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source: Box::new(source),
        }),
    }
}

fn wrong_type(settings: &Settings, namespace: &str, name: &str, found: &str) -> Error {
    Error::WrongSecretType {
        registry: settings.registry.clone(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        found: found.to_owned(),
    }
}

/// The API server's answer to a changed `type`: 422 Invalid, "field is immutable" on `type`.
fn is_type_change(status: &kube::core::Status) -> bool {
    status.code == 422
        && status.message.contains("immutable")
        && (status.message.contains("type")
            || status
                .details
                .as_ref()
                .is_some_and(|d| d.causes.iter().any(|c| c.field == "type")))
}

/// Whether a failed Kubernetes call is worth repeating: 409 conflicts, 429, 5xx, and
/// connection failures or timeouts. 401, 403, 404 and 422 are permanent.
pub fn is_transient(err: &kube::Error) -> bool {
    match err {
        kube::Error::Api(status) => status.code == 409 || status.code == 429 || status.code >= 500,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// The cause of a failed Kubernetes call in words, with what to do where that is known.
pub fn describe(err: &kube::Error, namespace: &str) -> String {
    match err {
        kube::Error::Api(status) => {
            let message = &status.message;
            match status.code {
                401 => format!(
                    "unauthorized ({message}) — the service account token or kubeconfig credentials were rejected"
                ),
                403 => format!(
                    "forbidden ({message}) — the ServiceAccount needs get, create and patch on secrets in namespace {namespace}"
                ),
                404 => format!("not found ({message}) — does namespace {namespace} exist?"),
                409 => format!("conflict ({message})"),
                422 => format!("rejected as invalid ({message})"),
                code if code == 429 || code >= 500 => {
                    format!("API server error {code} ({message})")
                }
                code => format!("API error {code} ({message})"),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            format!("Kubernetes API unreachable: {}", crate::error::chain(err))
        }
        other => crate::error::chain(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecr::{Password, RegistryLogin};

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

    fn api_error(code: u16, message: &str) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure(message, "Test")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn conflicts_and_server_errors_are_transient_but_forbidden_and_invalid_are_not() {
        for code in [409, 429, 500, 503] {
            assert!(is_transient(&api_error(code, "x")), "{code}");
        }
        for code in [401, 403, 404, 422] {
            assert!(!is_transient(&api_error(code, "x")), "{code}");
        }
    }

    #[test]
    fn a_forbidden_error_says_which_permissions_are_needed() {
        let msg = describe(&api_error(403, "secrets is forbidden"), "apps");
        assert!(
            msg.contains("get, create and patch on secrets in namespace apps"),
            "{msg}"
        );
    }

    #[test]
    fn an_immutable_type_is_recognised() {
        let status = kube::core::Status::failure(
            "Secret \"regcred-primary\" is invalid: type: Invalid value: \"kubernetes.io/dockerconfigjson\": field is immutable",
            "Invalid",
        )
        .with_code(422);
        assert!(is_type_change(&status));
        let other = kube::core::Status::failure("data: too long", "Invalid").with_code(422);
        assert!(!is_type_change(&other));
    }
}
