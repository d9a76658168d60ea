//! ServiceAccounts of `IMAGE_PULL_SECRET_FOR`: adding the Secret to their `imagePullSecrets`,
//! and removing it again on uninstall.
//!
//! `imagePullSecrets` is an atomic list for server-side apply (`+listType=atomic`), so an apply
//! would take over the whole list and drop entries others put there. Instead each ServiceAccount
//! is read and, only if the entry is missing, changed with a JSON Patch that `test`s the
//! resourceVersion it read and `add`s one entry. A concurrent change fails the `test` (422) or
//! conflicts (409); the read and patch are then repeated within the retry budget.

use k8s_openapi::api::core::v1::ServiceAccount;
use kube::api::{Api, Patch, PatchParams};

use ecr_contract::names::FIELD_MANAGER;

use crate::cause;
use crate::error::Error;
use crate::retry::RetryPolicy;

/// What [`ensure_pull_secret`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Patched {
    /// The entry was added.
    Added,
    /// The entry was there already; nothing was sent.
    AlreadyListed,
}

impl Patched {
    /// `added` or `already listed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Patched::Added => "added",
            Patched::AlreadyListed => "already listed",
        }
    }
}

/// The JSON Patch that adds `{name: secret}` to `account`'s `imagePullSecrets`, guarded by a
/// `test` of the resourceVersion read; `None` when the entry is already there.
pub fn pull_secret_patch(account: &ServiceAccount, secret: &str) -> Option<serde_json::Value> {
    let listed = account.image_pull_secrets.as_deref();
    if listed.is_some_and(|list| list.iter().any(|r| r.name == secret)) {
        return None;
    }
    let mut ops = Vec::new();
    if let Some(version) = &account.metadata.resource_version {
        ops.push(serde_json::json!({
            "op": "test", "path": "/metadata/resourceVersion", "value": version
        }));
    }
    ops.push(match listed {
        Some(_) => serde_json::json!({
            "op": "add", "path": "/imagePullSecrets/-", "value": {"name": secret}
        }),
        None => serde_json::json!({
            "op": "add", "path": "/imagePullSecrets", "value": [{"name": secret}]
        }),
    });
    Some(serde_json::Value::Array(ops))
}

/// A failed attempt: which call and why.
#[derive(Debug)]
struct Failed {
    step: &'static str,
    source: kube::Error,
}

impl Failed {
    fn reading(source: kube::Error) -> Self {
        Failed {
            step: "read",
            source,
        }
    }

    fn patching(source: kube::Error) -> Self {
        Failed {
            step: "patch",
            source,
        }
    }

    /// The error of a ServiceAccount change that failed at this step.
    fn into_error(self, namespace: &str, name: &str) -> Error {
        Error::ServiceAccount {
            step: self.step,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            source: Box::new(self.source),
        }
    }
}

/// Makes sure ServiceAccount `name` lists the Secret `secret_name` in `imagePullSecrets`,
/// keeping every entry others put there and their order, and logs what it did. Never creates
/// a ServiceAccount: a missing one is [`Error::ServiceAccountMissing`].
pub async fn ensure_pull_secret(
    api: &Api<ServiceAccount>,
    name: &str,
    secret_name: &str,
    retry: &RetryPolicy,
    namespace: &str,
) -> Result<Patched, Error> {
    let attempt = || async {
        let account = api.get(name).await.map_err(Failed::reading)?;
        let Some(ops) = pull_secret_patch(&account, secret_name) else {
            return Ok(Patched::AlreadyListed);
        };
        json_patch(api, name, ops).await.map_err(Failed::patching)?;
        Ok(Patched::Added)
    };
    match read_and_patch(retry, namespace, name, attempt).await {
        Ok(patched) => {
            tracing::info!(
                namespace = %namespace,
                service_account = %name,
                secret = %secret_name,
                action = patched.as_str(),
                "ServiceAccount imagePullSecrets"
            );
            Ok(patched)
        }
        Err(Failed {
            source: kube::Error::Api(status),
            ..
        }) if status.code == 404 => Err(Error::ServiceAccountMissing {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }),
        Err(failed) => Err(failed.into_error(namespace, name)),
    }
}

/// What [`remove_pull_secret`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removed {
    /// The entry was removed.
    Removed,
    /// The ServiceAccount does not list the Secret; nothing was sent.
    NotListed,
    /// There is no such ServiceAccount.
    NoServiceAccount,
}

impl Removed {
    /// `removed`, `not listed` or `no ServiceAccount`.
    pub fn as_str(self) -> &'static str {
        match self {
            Removed::Removed => "removed",
            Removed::NotListed => "not listed",
            Removed::NoServiceAccount => "no ServiceAccount",
        }
    }
}

/// The JSON Patch that removes every `{name: secret}` entry from `account`'s
/// `imagePullSecrets` (last first, so the indexes hold), guarded by a `test` of the
/// resourceVersion read; `None` when it lists no such entry. Other entries and their order stay.
pub fn pull_secret_removal(account: &ServiceAccount, secret: &str) -> Option<serde_json::Value> {
    let listed = account.image_pull_secrets.as_deref().unwrap_or_default();
    let at: Vec<usize> = listed
        .iter()
        .enumerate()
        .filter(|(_, r)| r.name == secret)
        .map(|(i, _)| i)
        .collect();
    if at.is_empty() {
        return None;
    }
    let mut ops = Vec::new();
    if let Some(version) = &account.metadata.resource_version {
        ops.push(serde_json::json!({
            "op": "test", "path": "/metadata/resourceVersion", "value": version
        }));
    }
    for i in at.iter().rev() {
        ops.push(serde_json::json!({"op": "remove", "path": format!("/imagePullSecrets/{i}")}));
    }
    Some(serde_json::Value::Array(ops))
}

/// Removes the Secret `secret_name` from ServiceAccount `name`'s `imagePullSecrets`, keeping
/// every other entry; a missing ServiceAccount or entry is not an error. A concurrent change
/// (409, or 422 from the failed `test`) is read again and retried.
pub async fn remove_pull_secret(
    api: &Api<ServiceAccount>,
    name: &str,
    secret_name: &str,
    retry: &RetryPolicy,
    namespace: &str,
) -> Result<Removed, Error> {
    let attempt = || async {
        let Some(account) = api.get_opt(name).await.map_err(Failed::reading)? else {
            return Ok(Removed::NoServiceAccount);
        };
        let Some(ops) = pull_secret_removal(&account, secret_name) else {
            return Ok(Removed::NotListed);
        };
        match json_patch(api, name, ops).await {
            Ok(_) => Ok(Removed::Removed),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(Removed::NoServiceAccount),
            Err(source) => Err(Failed::patching(source)),
        }
    };
    read_and_patch(retry, namespace, name, attempt)
        .await
        .map_err(|failed| failed.into_error(namespace, name))
}

/// Sends `ops` as a JSON Patch of ServiceAccount `name`, as our field manager.
async fn json_patch(
    api: &Api<ServiceAccount>,
    name: &str,
    ops: serde_json::Value,
) -> Result<ServiceAccount, kube::Error> {
    let params = PatchParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PatchParams::default()
    };
    let patch: Patch<()> =
        Patch::Json(serde_json::from_value(ops).map_err(kube::Error::SerdeError)?);
    api.patch(name, &params, &patch).await
}

/// Runs one read-and-patch `attempt` of ServiceAccount `namespace/name` within the retry
/// budget, again after a transient failure or a concurrent change (409, or the failed `test`).
async fn read_and_patch<T, F, Fut>(
    retry: &RetryPolicy,
    namespace: &str,
    name: &str,
    attempt: F,
) -> Result<T, Failed>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failed>>,
{
    retry
        .run(
            &format!("patch ServiceAccount {namespace}/{name}"),
            |failed: &Failed| {
                cause::kube_is_transient(&failed.source) || cause::is_test_failure(&failed.source)
            },
            |failed: &Failed| cause::service_account(&failed.source, namespace, name),
            attempt,
        )
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::LocalObjectReference;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn account(list: Option<&[&str]>) -> ServiceAccount {
        ServiceAccount {
            metadata: ObjectMeta {
                name: Some("default".into()),
                resource_version: Some("42".into()),
                ..ObjectMeta::default()
            },
            image_pull_secrets: list.map(|names| {
                names
                    .iter()
                    .map(|n| LocalObjectReference {
                        name: (*n).to_owned(),
                    })
                    .collect()
            }),
            ..ServiceAccount::default()
        }
    }

    #[test]
    fn a_missing_entry_is_appended_after_a_resource_version_test() {
        let patch = pull_secret_patch(&account(Some(&["theirs"])), "regcred-primary");
        assert_eq!(
            patch,
            Some(serde_json::json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
                {"op": "add", "path": "/imagePullSecrets/-", "value": {"name": "regcred-primary"}},
            ]))
        );
    }

    #[test]
    fn an_absent_list_is_created_with_the_one_entry() {
        let patch = pull_secret_patch(&account(None), "regcred-primary").expect("a patch");
        assert_eq!(
            patch[1],
            serde_json::json!({"op": "add", "path": "/imagePullSecrets", "value": [{"name": "regcred-primary"}]})
        );
    }

    #[test]
    fn only_our_entries_are_removed_last_first_after_a_resource_version_test() {
        let sa = account(Some(&["regcred-primary", "theirs", "regcred-primary"]));
        assert_eq!(
            pull_secret_removal(&sa, "regcred-primary"),
            Some(serde_json::json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": "42"},
                {"op": "remove", "path": "/imagePullSecrets/2"},
                {"op": "remove", "path": "/imagePullSecrets/0"},
            ]))
        );
        assert_eq!(
            pull_secret_removal(&account(Some(&["theirs"])), "regcred-primary"),
            None
        );
        assert_eq!(pull_secret_removal(&account(None), "regcred-primary"), None);
    }

    #[test]
    fn a_listed_entry_needs_no_patch() {
        let sa = account(Some(&["theirs", "regcred-primary"]));
        assert_eq!(pull_secret_patch(&sa, "regcred-primary"), None);
    }
}
