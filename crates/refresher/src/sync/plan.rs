//! The sync run's choices (pure): which Secret of a registry is the source to copy, which
//! target namespaces need a write, and which ServiceAccounts still lack the Secret.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};

use ecr_contract::names::{ANNOTATION_EXPIRES_AT, ANNOTATION_REFRESHED_AT};

use crate::dockerconfig::{DATA_KEY, DockerConfigJson, SECRET_TYPE};
use crate::secret;

/// How long a source's token must still be valid: a copy made now must outlive the next
/// sync runs (every 5 minutes by default) with some margin.
pub const MIN_VALIDITY: SignedDuration = SignedDuration::from_mins(10);

/// The Secret a sync run copies: its docker config and its two annotations, kept as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// Where it was found.
    pub namespace: String,
    /// Its `.dockerconfigjson` (Debug prints `<redacted>`).
    pub config: DockerConfigJson,
    /// Its `refreshed-at` annotation.
    pub refreshed_at: Timestamp,
    /// Its `expires-at` annotation.
    pub expires_at: Timestamp,
}

/// The source among `secrets` (the registry's Secret in every namespace): of those the
/// refresher wrote for `registry` ([`secret::ours`]), of type `kubernetes.io/dockerconfigjson`,
/// holding a docker config and an `expires-at` more than [`MIN_VALIDITY`] after `now`, the one
/// refreshed last (on a tie, the first by namespace). None if there is none.
pub fn source(secrets: &[Secret], registry: &str, now: Timestamp) -> Option<Source> {
    let valid_until = now.checked_add(MIN_VALIDITY).ok()?;
    let mut best: Option<Source> = None;
    for candidate in secrets {
        if secret::ours(candidate, registry).is_err()
            || candidate.type_.as_deref() != Some(SECRET_TYPE)
        {
            continue;
        }
        let (Some(refreshed_at), Some(expires_at)) = (
            stamp(candidate, ANNOTATION_REFRESHED_AT),
            stamp(candidate, ANNOTATION_EXPIRES_AT),
        ) else {
            continue;
        };
        if expires_at <= valid_until {
            continue;
        }
        let Some(config) = data(candidate).and_then(DockerConfigJson::from_existing) else {
            continue;
        };
        let namespace = candidate.metadata.namespace.clone().unwrap_or_default();
        let better = match &best {
            None => true,
            Some(b) => {
                refreshed_at > b.refreshed_at
                    || (refreshed_at == b.refreshed_at && namespace < b.namespace)
            }
        };
        if better {
            best = Some(Source {
                namespace,
                config,
                refreshed_at,
                expires_at,
            });
        }
    }
    best
}

/// The target namespaces split into those to write and those already current.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Writes {
    /// Namespaces to write, in the order of the targets.
    pub write: Vec<String>,
    /// Namespaces whose Secret already holds `config` (or a newer token): left alone.
    pub present: Vec<String>,
}

/// Which of `targets` need `config`, given the Secrets found (`secrets`, any namespace): a
/// namespace without the Secret is written; one whose Secret holds other data is written if
/// its `refreshed-at` is older than `refreshed_at` or unreadable (`refreshed_at` None: a token
/// ECR just gave, newer than any). A Secret holding the same data is current.
pub fn writes(
    targets: &[String],
    secrets: &[Secret],
    config: &DockerConfigJson,
    refreshed_at: Option<Timestamp>,
) -> Writes {
    let mut out = Writes::default();
    for namespace in targets {
        let found = secrets
            .iter()
            .find(|s| s.metadata.namespace.as_deref() == Some(namespace.as_str()));
        let write = match found {
            None => true,
            Some(existing) if data(existing) == Some(config.expose()) => false,
            Some(existing) => match (refreshed_at, stamp(existing, ANNOTATION_REFRESHED_AT)) {
                (None, _) | (_, None) => true,
                (Some(ours), Some(theirs)) => theirs < ours,
            },
        };
        if write {
            out.write.push(namespace.clone());
        } else {
            out.present.push(namespace.clone());
        }
    }
    out
}

/// The `.dockerconfigjson` bytes of a Secret, if it has them.
fn data(secret: &Secret) -> Option<&[u8]> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(DATA_KEY))
        .map(|b| b.0.as_slice())
}

/// An RFC 3339 annotation of a Secret, if it reads.
fn stamp(secret: &Secret, key: &str) -> Option<Timestamp> {
    secret
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .and_then(|v| v.parse().ok())
}

/// The namespaces of `namespaces` whose ServiceAccount (of `accounts`, one name listed in
/// every namespace) does not list `secret_name` in `imagePullSecrets`, in the order of
/// `namespaces`. A namespace without that ServiceAccount is not one (it is never created).
pub fn accounts_lacking(
    accounts: &[ServiceAccount],
    namespaces: &[String],
    secret_name: &str,
) -> Vec<String> {
    namespaces
        .iter()
        .filter(|namespace| {
            accounts.iter().any(|account| {
                account.metadata.namespace.as_deref() == Some(namespace.as_str())
                    && !account
                        .image_pull_secrets
                        .iter()
                        .flatten()
                        .any(|entry| entry.name == secret_name)
            })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta};

    use ecr_contract::names::{FIELD_MANAGER, LABEL_MANAGED_BY, LABEL_REGISTRY};

    use super::*;

    const NOW: &str = "2026-12-02T10:00:00Z";

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    fn config(token: &str) -> Vec<u8> {
        format!(r#"{{"auths":{{"h":{{"auth":"{token}"}}}}}}"#).into_bytes()
    }

    /// Our Secret for registry `primary` in `namespace`, with these annotations.
    fn ours(namespace: &str, token: &str, refreshed: &str, expires: Option<&str>) -> Secret {
        let mut annotations = BTreeMap::from([(ANNOTATION_REFRESHED_AT.into(), refreshed.into())]);
        if let Some(expires) = expires {
            annotations.insert(ANNOTATION_EXPIRES_AT.into(), expires.into());
        }
        Secret {
            metadata: ObjectMeta {
                namespace: Some(namespace.into()),
                name: Some("regcred-primary".into()),
                labels: Some(BTreeMap::from([
                    (LABEL_MANAGED_BY.into(), FIELD_MANAGER.into()),
                    (LABEL_REGISTRY.into(), "primary".into()),
                ])),
                annotations: Some(annotations),
                managed_fields: Some(vec![ManagedFieldsEntry {
                    manager: Some(FIELD_MANAGER.into()),
                    operation: Some("Apply".into()),
                    ..ManagedFieldsEntry::default()
                }]),
                ..ObjectMeta::default()
            },
            type_: Some(SECRET_TYPE.into()),
            data: Some(BTreeMap::from([(
                DATA_KEY.into(),
                ByteString(config(token)),
            )])),
            ..Secret::default()
        }
    }

    #[test]
    fn the_source_is_our_newest_secret_valid_for_ten_more_minutes() {
        let secrets = [
            ours(
                "a",
                "old",
                "2026-12-02T08:00:00Z",
                Some("2026-12-02T20:00:00Z"),
            ),
            ours(
                "b",
                "new",
                "2026-12-02T09:00:00Z",
                Some("2026-12-02T21:00:00Z"),
            ),
            // Newer, but expiring within 10 minutes.
            ours(
                "c",
                "soon",
                "2026-12-02T09:30:00Z",
                Some("2026-12-02T10:09:59Z"),
            ),
            // Newer, but without an expiry.
            ours("d", "unknown", "2026-12-02T09:40:00Z", None),
        ];
        let picked = source(&secrets, "primary", at(NOW)).expect("a source");
        assert_eq!(picked.namespace, "b");
        assert_eq!(picked.config.expose(), config("new"));
        assert_eq!(picked.refreshed_at, at("2026-12-02T09:00:00Z"));
        assert_eq!(picked.expires_at, at("2026-12-02T21:00:00Z"));
    }

    #[test]
    fn secrets_of_others_another_type_or_another_registry_are_never_a_source() {
        let valid = || {
            ours(
                "a",
                "t",
                "2026-12-02T09:00:00Z",
                Some("2026-12-02T21:00:00Z"),
            )
        };
        let mut theirs = valid();
        theirs.metadata.managed_fields = Some(vec![ManagedFieldsEntry {
            manager: Some("kubectl".into()),
            ..ManagedFieldsEntry::default()
        }]);
        let mut opaque = valid();
        opaque.type_ = Some("Opaque".into());
        let mut empty = valid();
        empty.data = Some(BTreeMap::from([(
            DATA_KEY.into(),
            ByteString(b"{}".to_vec()),
        )]));
        for bad in [theirs, opaque, empty] {
            assert_eq!(source(&[bad], "primary", at(NOW)), None);
        }
        assert_eq!(source(&[valid()], "other", at(NOW)), None);
        assert!(source(&[valid()], "primary", at(NOW)).is_some());
    }

    #[test]
    fn a_copy_goes_where_the_secret_is_missing_or_older_and_nowhere_else() {
        let current = config("new");
        let current = DockerConfigJson::from_existing(&current).expect("config");
        let secrets = [
            ours("same", "new", "2026-12-02T09:00:00Z", None),
            ours("older", "old", "2026-12-02T08:00:00Z", None),
            ours("newer", "newest", "2026-12-02T09:30:00Z", None),
        ];
        let targets: Vec<String> = ["same", "older", "newer", "missing"]
            .map(String::from)
            .to_vec();
        let copy = writes(
            &targets,
            &secrets,
            &current,
            Some(at("2026-12-02T09:00:00Z")),
        );
        assert_eq!(copy.write, ["older", "missing"]);
        assert_eq!(copy.present, ["same", "newer"]);
        // A token ECR just gave goes everywhere the data differs.
        let fresh = writes(&targets, &secrets, &current, None);
        assert_eq!(fresh.write, ["older", "newer", "missing"]);
        assert_eq!(fresh.present, ["same"]);
    }

    #[test]
    fn only_service_accounts_that_exist_and_lack_the_secret_are_to_be_patched() {
        use k8s_openapi::api::core::v1::LocalObjectReference;
        use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
        let account = |namespace: &str, entries: &[&str]| ServiceAccount {
            metadata: ObjectMeta {
                name: Some("default".into()),
                namespace: Some(namespace.into()),
                ..ObjectMeta::default()
            },
            image_pull_secrets: Some(
                entries
                    .iter()
                    .map(|e| LocalObjectReference { name: (*e).into() })
                    .collect(),
            ),
            ..ServiceAccount::default()
        };
        let accounts = [
            account("has", &["other", "regcred-a"]),
            account("lacks", &["other"]),
            account("empty", &[]),
            account("not-a-target", &[]),
        ];
        let namespaces: Vec<String> = ["lacks", "has", "missing", "empty"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(
            accounts_lacking(&accounts, &namespaces, "regcred-a"),
            ["lacks", "empty"]
        );
    }
}
