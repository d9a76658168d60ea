//! The sync run (`SYNC_DIR`, the chart's sync CronJob): each registry's current token copied
//! into its target namespaces that lack it or hold an older one, ECR asked only when no valid
//! token is left.
//!
//! One run reads every registry's settings from its directory (`<SYNC_DIR>/<registry>/<KEY>`,
//! [`Args::from_dir`]), lists the namespaces once (if any registry has a selector) and picks
//! each registry's targets locally ([`selection::targets`]), then per registry lists its Secret
//! in every namespace once ([`cluster::secrets_named`]) and takes as the source our newest one
//! valid for 10 more minutes ([`plan::source`]). The copy keeps the source's data and its
//! refreshed-at/expires-at annotations, and is written ([`crate::write_namespace_over`]:
//! server-side apply over the Secret as listed, not read again, then `IMAGE_PULL_SECRET_FOR`)
//! only where the Secret is missing or holds other data refreshed earlier ([`plan::writes`]).
//! Without a valid source, one ECR call with the registry's credentials
//! (`<SYNC_CREDENTIALS_DIR>/<registry>/`, [`credentials`]) gives a new token, written everywhere
//! it differs. Where the Secret was already current, each `IMAGE_PULL_SECRET_FOR`
//! ServiceAccount is listed in every namespace once ([`cluster::service_accounts_named`]) and
//! patched only where it exists without the entry ([`plan::accounts_lacking`]).
//! Registries fail independently: each logs one summary
//! line (`selected`, `present`, `copied`, `ecr_calls`) and records its Events; the run fails if
//! any registry did.

pub mod credentials;
pub mod plan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use kube::Api;
use tracing::Instrument as _;

use crate::dockerconfig::{self, DockerConfigJson};
use crate::error::Error;
use crate::events::{self, Written};
use crate::retry::RetryPolicy;
use crate::settings::{self, Args, Settings, SyncSettings, Target};
use crate::{cluster, ecr, kube_client, selection, service_account};

/// The clients of a sync run. ECR clients are built per registry (each has its own region and
/// credentials), only when one is needed.
#[derive(Clone)]
pub struct SyncContext {
    /// Kubernetes API client.
    pub kube: kube::Client,
    /// The ECR endpoint instead of AWS's (tests: moto); `None` in a pod (where
    /// `AWS_ENDPOINT_URL` is still honoured).
    pub ecr_endpoint: Option<String>,
}

impl std::fmt::Debug for SyncContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncContext")
            .field("ecr_endpoint", &self.ecr_endpoint)
            .finish_non_exhaustive()
    }
}

/// What a sync run did for one registry (the figures of its summary line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Target namespaces: the explicit ones and those the selector picked.
    pub selected: usize,
    /// Targets whose Secret was already current.
    pub present: usize,
    /// Targets written.
    pub copied: usize,
    /// ECR `GetAuthorizationToken` calls (0 or 1).
    pub ecr_calls: usize,
}

/// One registry of a sync run.
#[derive(Debug)]
pub struct RegistrySync {
    /// Its name (its directory's).
    pub registry: String,
    /// What was done.
    pub counts: Counts,
    /// Its outcome (logged already).
    pub outcome: Result<(), Error>,
}

/// A sync run as the binary does it: the Kubernetes client from the pod's service account or
/// `KUBECONFIG`, then [`sync`]; fails with [`Error::Sync`] if any registry failed.
pub async fn run(settings: &SyncSettings) -> Result<(), Error> {
    let kube = kube_client(settings.request_timeout).await?;
    let ctx = SyncContext {
        kube,
        ecr_endpoint: None,
    };
    outcome(&sync(settings, &ctx).await?)
}

/// Ok if every registry was synced, else [`Error::Sync`] naming those that failed.
pub fn outcome(synced: &[RegistrySync]) -> Result<(), Error> {
    let registries: Vec<String> = synced
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.registry.clone())
        .collect();
    if registries.is_empty() {
        return Ok(());
    }
    Err(Error::Sync {
        total: synced.len(),
        failed: registries.len(),
        registries,
    })
}

/// A registry's settings, read from its directory.
struct Loaded {
    args: Args,
    settings: Settings,
}

/// Syncs every registry of `settings.config_dir`, in the order of their names. Fails as a
/// whole only if the directory cannot be listed or the namespaces cannot be listed; every
/// other failure is that registry's, in its [`RegistrySync`].
pub async fn sync(settings: &SyncSettings, ctx: &SyncContext) -> Result<Vec<RegistrySync>, Error> {
    let names = registry_names(&settings.config_dir)?;
    let loaded: Vec<(String, Result<Loaded, Error>)> = names
        .into_iter()
        .map(|name| {
            let loaded = load(&settings.config_dir.join(&name), &name);
            (name, loaded)
        })
        .collect();
    let selects = loaded.iter().any(|(_, l)| {
        l.as_ref()
            .is_ok_and(|l| l.settings.target.selection.is_some())
    });
    let live = if selects {
        cluster::namespaces(&ctx.kube, "", &settings.retry).await?
    } else {
        Vec::new()
    };
    tracing::info!(
        registries = loaded.len(),
        namespaces = live.len(),
        "sync starting"
    );

    let mut synced = Vec::with_capacity(loaded.len());
    for (registry, loaded) in loaded {
        let span = tracing::info_span!("run", registry = %registry);
        let one = async {
            let (counts, written, expires_at, outcome) = match loaded {
                Ok(loaded) => sync_registry(&registry, &loaded, &live, settings, ctx).await,
                Err(err) => (Counts::default(), Vec::new(), None, Err(err)),
            };
            events::record(
                &ctx.kube,
                &settings.reporter,
                &registry,
                &written,
                expires_at,
                outcome.as_ref().copied(),
            )
            .await;
            let Counts {
                selected,
                present,
                copied,
                ecr_calls,
            } = counts;
            match &outcome {
                Ok(()) => tracing::info!(selected, present, copied, ecr_calls, "sync complete"),
                Err(err) => tracing::error!(
                    selected,
                    present,
                    copied,
                    ecr_calls,
                    "registry {registry}: {err}"
                ),
            }
            RegistrySync {
                registry: registry.clone(),
                counts,
                outcome,
            }
        };
        synced.push(one.instrument(span).await);
    }
    Ok(synced)
}

/// The registries of a sync run: the sub-directories of `dir` (hidden ones skipped), by name.
fn registry_names(dir: &Path) -> Result<Vec<String>, Error> {
    let failed = |path: PathBuf| move |source| Error::SyncRead { path, source };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(failed(dir.to_path_buf()))? {
        let entry = entry.map_err(failed(dir.to_path_buf()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // A mounted volume's own entries (`..data`) are hidden; a directory is followed.
        if name.starts_with('.') || !entry.path().is_dir() {
            continue;
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// A registry's settings from its directory, checked as the environment would be.
fn load(dir: &Path, name: &str) -> Result<Loaded, Error> {
    let args = Args::from_dir(dir)?;
    let settings = Settings::from_dir_args(&args, dir)?;
    if settings.target.registry != name {
        return Err(Error::SyncRegistryName {
            dir: dir.to_path_buf(),
            expected: name.to_owned(),
            found: settings.target.registry.clone(),
        });
    }
    Ok(Loaded { args, settings })
}

/// What [`sync_registry`] did: counts, the Secrets written, their expiry, the outcome.
type Synced = (Counts, Vec<Written>, Option<Timestamp>, Result<(), Error>);

/// One registry: targets, its Secret everywhere, the source (or ECR), the writes.
async fn sync_registry(
    registry: &str,
    loaded: &Loaded,
    live: &[Namespace],
    settings: &SyncSettings,
    ctx: &SyncContext,
) -> Synced {
    let target = &loaded.settings.target;
    let retry = &loaded.settings.retry;
    let targets = match &target.selection {
        Some(selection) => selection::targets(&target.namespaces, selection, live),
        None => target.namespaces.clone(),
    };
    let mut counts = Counts {
        selected: targets.len(),
        ..Counts::default()
    };
    let secrets = match cluster::secrets_named(&ctx.kube, &target.secret_name, None, retry).await {
        Ok(secrets) => secrets,
        Err(err) => return (counts, Vec::new(), None, Err(err)),
    };

    let now = Timestamp::now();
    let (config, stamps, writes) = match plan::source(&secrets, registry, now) {
        Some(source) => {
            tracing::info!(
                source_namespace = %source.namespace,
                refreshed_at = %source.refreshed_at,
                expires_at = %source.expires_at,
                "copying the newest valid Secret"
            );
            let writes = plan::writes(
                &targets,
                &secrets,
                &source.config,
                Some(source.refreshed_at),
            );
            let stamps = (source.refreshed_at, Some(source.expires_at));
            (source.config, stamps, writes)
        }
        None => {
            tracing::info!(
                found = secrets.len(),
                "no Secret holds a token valid for 10 more minutes: asking ECR"
            );
            let fetched = fetch(registry, loaded, settings, ctx, &mut counts).await;
            let (config, expires_at) = match fetched {
                Ok(got) => got,
                Err(err) => return (counts, Vec::new(), None, Err(err)),
            };
            let writes = plan::writes(&targets, &secrets, &config, None);
            (config, (now, expires_at), writes)
        }
    };
    counts.present = writes.present.len();
    let current = listed_in(&secrets, &writes.write);
    let (written, outcome) = crate::write_namespaces(
        target,
        &writes.write,
        retry,
        &ctx.kube,
        config,
        stamps,
        Some(&current),
    )
    .await;
    counts.copied = written.len();
    let accounts = service_accounts(target, retry, &ctx.kube, &writes.present).await;
    let outcome = match (outcome, accounts) {
        (Ok(()), accounts) => accounts,
        (Err(err), Ok(())) => Err(err),
        (Err(err), Err(also)) => {
            tracing::error!("{also}");
            Err(err)
        }
    };
    (counts, written, stamps.1, outcome)
}

/// In the target namespaces whose Secret was already current (`present`; those written got
/// theirs with the write), each ServiceAccount of `IMAGE_PULL_SECRET_FOR` that exists but does
/// not list the Secret yet gets it — e.g. `default`, created by the controller a moment after
/// the namespace, when the write came first. One list per ServiceAccount name in every
/// namespace; a patch only where the entry is missing.
async fn service_accounts(
    target: &Target,
    retry: &RetryPolicy,
    kube: &kube::Client,
    present: &[String],
) -> Result<(), Error> {
    if present.is_empty() {
        return Ok(());
    }
    let secret_name = target.secret_name.as_str();
    let mut failures = Vec::new();
    for name in &target.image_pull_secret_for {
        let listed = match cluster::service_accounts_named(kube, name, retry).await {
            Ok(listed) => listed,
            Err(err) => {
                failures.push(err);
                continue;
            }
        };
        for namespace in plan::accounts_lacking(&listed, present, secret_name) {
            let api: Api<ServiceAccount> = Api::namespaced(kube.clone(), &namespace);
            match service_account::ensure_pull_secret(&api, name, secret_name, retry, &namespace)
                .await
            {
                Ok(_) => {}
                // Deleted since the list: nothing to add the Secret to.
                Err(Error::ServiceAccountMissing { .. }) => {}
                Err(err) => failures.push(err),
            }
        }
    }
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0)),
        n => Err(Error::Namespaces {
            total: present.len(),
            failed: n,
            failures,
        }),
    }
}

/// A new token from ECR for the registry, with its credentials directory's keys (if it has
/// one; its `AWS_ACCOUNT` overriding the ConfigMap's) or the pod's identity. The call is
/// counted in `counts` once it is made (with `ROLE_ARN`, after the role was assumed).
async fn fetch(
    registry: &str,
    loaded: &Loaded,
    settings: &SyncSettings,
    ctx: &SyncContext,
    counts: &mut Counts,
) -> Result<(DockerConfigJson, Option<Timestamp>), Error> {
    let credentials_dir = settings.credentials_dir.as_ref().map(|d| d.join(registry));
    let keys = match &credentials_dir {
        Some(dir) => credentials::read(dir)?,
        None => None,
    };
    let mut target = loaded.settings.target.clone();
    if let (Some(dir), Some(account)) = (
        &credentials_dir,
        keys.as_ref().and_then(|k| k.account.clone()),
    ) {
        let args = Args {
            account: Some(account),
            ..loaded.args.clone()
        };
        target = Settings::from_args(&args)
            .map_err(|err| settings::in_dir(err, dir))?
            .target;
    }
    let retry = &loaded.settings.retry;
    let mut loader = ecr::config_loader(&target.region, loaded.settings.request_timeout);
    if let Some(endpoint) = &ctx.ecr_endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(keys) = &keys {
        loader = loader.credentials_provider(aws_credential_types::Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key().to_owned(),
            keys.session_token().map(str::to_owned),
            None,
            "sync-credentials-dir",
        ));
    }
    let sdk_config = loader.load().await;
    let client = crate::ecr_client(&target, retry, &sdk_config).await?;
    counts.ecr_calls = 1;
    let login = ecr::fetch_login(&client, &target, retry).await?;
    let expires = login
        .expires_at
        .map_or_else(|| "unknown".to_owned(), |t| t.to_string());
    tracing::info!(hosts = %login.hosts.join(","), expires_at = %expires, "got ECR token");
    Ok((dockerconfig::render(&login), login.expires_at))
}

/// The Secrets of `secrets` (the registry's Secret in every namespace, as listed) in
/// `namespaces`, by namespace; a namespace without one is absent.
fn listed_in(secrets: &[Secret], namespaces: &[String]) -> BTreeMap<String, Secret> {
    secrets
        .iter()
        .filter_map(|s| Some((s.metadata.namespace.clone()?, s)))
        .filter(|(ns, _)| namespaces.contains(ns))
        .map(|(ns, s)| (ns, s.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registries_are_the_visible_sub_directories_by_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["zeta", "alpha", "..2026_12_02_10_00_00.123", "..data"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        std::fs::write(dir.path().join("README"), "not a registry").expect("write");
        assert_eq!(
            registry_names(dir.path()).expect("lists"),
            ["alpha", "zeta"]
        );
        let err = registry_names(&dir.path().join("absent")).expect_err("no such dir");
        assert!(matches!(err, Error::SyncRead { .. }), "{err:?}");
        assert!(err.to_string().starts_with("sync: read "), "{err}");
    }
}
