//! ecr-refresher: turns AWS credentials into a fresh `regcred-<name>` Secret.
//!
//! [`run`] takes checked [`Settings`], builds a [`Context`] (ECR and Kubernetes clients) once —
//! assuming `ROLE_ARN` with STS first if set — and calls [`refresh`]: one ECR
//! `GetAuthorizationToken`, then a server-side apply of the `kubernetes.io/dockerconfigjson`
//! Secret into each target namespace, and the Secret added to the `imagePullSecrets` of the
//! ServiceAccounts of `IMAGE_PULL_SECRET_FOR` there. Everything it logs is inside one tracing
//! span carrying the registry name. Tests build the [`Context`] against local servers and call
//! [`refresh`] or [`dry_run`] directly. A run that applies records its Kubernetes Events
//! ([`events`]: one per written Secret, or one on its Job when it failed); an Event that cannot
//! be written is one warning and never changes the outcome. With `--uninstall-plan` it instead
//! carries out the chart's uninstall plan ([`uninstall`]); with `--check-plan` it checks the
//! release's pull Secrets (`helm test`, [`check`]).
//!
//! With a namespace selector (`NAMESPACE_SELECTOR`) the target namespaces are resolved at run
//! time ([`cluster::targets`]: one namespaces list, read in pages), before the token is fetched,
//! minus `EXCLUDE_NAMESPACES` and namespaces being deleted; with `PRUNE` the run ends by removing
//! its Secrets from namespaces no longer selected ([`prune`]). With `SYNC_DIR` it is instead the
//! sync run ([`sync`]): every registry's settings read from its directory, the current token
//! copied into its targets that lack it ([`write_namespace_over`], over the Secret as listed),
//! ECR asked only when no valid token is left, with that registry's keys from
//! `SYNC_CREDENTIALS_DIR` (or the pod's identity).

pub mod cause;
pub mod check;
pub mod cluster;
pub mod dockerconfig;
pub mod ecr;
pub mod error;
pub mod events;
pub mod kube_client;
pub mod plan_file;
pub mod prune;
pub mod retry;
pub mod secret;
pub mod selection;
pub mod service_account;
pub mod settings;
pub mod status;
pub mod sts;
pub mod sync;
pub mod telemetry;
pub mod uninstall;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use tokio::task::JoinSet;
use tracing::Instrument as _;

pub use error::Error;
pub use kube_client::{kube_client, kube_client_with};
pub use retry::RetryPolicy;
pub use settings::{Args, CheckSettings, Mode, PlanSettings, Settings, Target, UninstallSettings};

use crate::dockerconfig::DockerConfigJson;
use crate::settings::OutputFormat;

/// How many namespaces are written at the same time.
pub const NAMESPACE_CONCURRENCY: usize = 4;

/// The clients of one run, built once.
#[derive(Clone)]
pub struct Context {
    /// Kubernetes API client.
    pub kube: kube::Client,
    /// ECR client.
    pub ecr: aws_sdk_ecr::Client,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}

/// Runs once inside a `run{registry=…}` tracing span: [`dry_run`] to stdout with `--dry-run`,
/// else [`refresh`]. The caller prints the final error line (`registry <name>: <error>`).
pub async fn run(settings: &Settings) -> Result<(), Error> {
    let target = &settings.target;
    let span = tracing::info_span!("run", registry = %target.registry);
    async {
        tracing::info!(
            region = %target.region.name,
            secret = %target.secret_name,
            namespaces = %target.namespaces.join(","),
            account = target.account.as_deref().unwrap_or("(from credentials)"),
            registry_ids = %target.registry_ids.join(","),
            role_arn = target.role_arn.as_deref().unwrap_or("(none)"),
            image_pull_secret_for = %target.image_pull_secret_for.join(","),
            dry_run = settings.mode.dry_run,
            "starting"
        );
        if let Some(selection) = &target.selection {
            tracing::info!(
                selector = %selection.query(),
                exclude = %selection.exclude.join(","),
                prune = selection.prune,
                "namespace selector: targets are listed at run time"
            );
        }
        let sdk_config = ecr::config_loader(&target.region, settings.request_timeout)
            .load()
            .await;
        let ecr = match ecr_client(target, &settings.retry, &sdk_config).await {
            Ok(ecr) => ecr,
            Err(err) if settings.mode.dry_run => return Err(err),
            Err(err) => {
                // Still say so on the Job (if the run is a Job's pod and Kubernetes is there).
                if settings.reporter.job.is_some()
                    && let Ok(kube) = kube_client(settings.request_timeout).await
                {
                    let reporter = &settings.reporter;
                    events::record(&kube, reporter, &target.registry, &[], None, Err(&err)).await;
                }
                return Err(err);
            }
        };
        if settings.mode.dry_run {
            // A selector's namespaces are only known from the cluster: list them (a read), or fail.
            let resolved = match &target.selection {
                None => target.clone(),
                Some(_) => {
                    let kube = kube_client(settings.request_timeout).await?;
                    let found = cluster::targets(target, &settings.retry, &kube).await?;
                    found.target(target)
                }
            };
            let out = &mut std::io::stdout().lock();
            return dry_run(&resolved, &settings.retry, settings.mode.output, &ecr, out).await;
        }
        let kube = kube_client(settings.request_timeout).await?;
        let ctx = Context { kube, ecr };
        let run = refresh_written(target, &settings.retry, &ctx).await;
        let outcome = run.outcome.as_ref().copied();
        events::record(
            &ctx.kube,
            &settings.reporter,
            &target.registry,
            &run.written,
            run.expires_at,
            outcome,
        )
        .await;
        run.outcome
    }
    .instrument(span)
    .await
}

/// The ECR client: with `sdk_config`'s credentials (the default chain: env, profile, web
/// identity/IRSA, EKS Pod Identity, IMDS), or, with `ROLE_ARN`, with the credentials of that role
/// assumed through STS using them as the source ([`sts::assume_role`]).
pub async fn ecr_client(
    target: &Target,
    retry: &RetryPolicy,
    sdk_config: &aws_config::SdkConfig,
) -> Result<aws_sdk_ecr::Client, Error> {
    let Some(role_arn) = &target.role_arn else {
        return Ok(aws_sdk_ecr::Client::new(sdk_config));
    };
    let credentials = sts::assume_role(&target.registry, role_arn, sdk_config, retry).await?;
    let config = aws_sdk_ecr::config::Builder::from(sdk_config)
        .credentials_provider(credentials)
        .build();
    Ok(aws_sdk_ecr::Client::from_conf(config))
}

/// Fetches an ECR token and applies the Secret into every target namespace, up to
/// [`NAMESPACE_CONCURRENCY`] at a time, then adds it to the `imagePullSecrets` of the
/// ServiceAccounts of `IMAGE_PULL_SECRET_FOR` there. Nothing is written unless the token was
/// obtained. A failing namespace does not stop the others; the run then fails with every failure.
pub async fn refresh(target: &Target, retry: &RetryPolicy, ctx: &Context) -> Result<(), Error> {
    refresh_written(target, retry, ctx).await.outcome
}

/// What a [`refresh`] did: its outcome, and the Secrets it wrote (also when it failed
/// elsewhere), for the run's Events.
#[derive(Debug)]
pub struct RefreshRun {
    /// The refresh's result.
    pub outcome: Result<(), Error>,
    /// The Secrets applied, in the order they were done.
    pub written: Vec<events::Written>,
    /// When the token they hold expires.
    pub expires_at: Option<Timestamp>,
}

/// [`refresh`], also telling which Secrets were written. With a namespace selector the
/// namespaces are listed first ([`cluster::targets`]; a failing list fails the run, nothing
/// written); no target at all is a success with a warning, and no ECR call. With `PRUNE`, once
/// every target was written, [`prune::prune`] removes the Secret from namespaces no longer
/// selected — but not when the selector selected no namespace at all this run (a selector that
/// suddenly matches nothing, such as a mistyped label, never removes the Secret everywhere).
pub async fn refresh_written(target: &Target, retry: &RetryPolicy, ctx: &Context) -> RefreshRun {
    let failed = |err| RefreshRun {
        outcome: Err(err),
        written: Vec::new(),
        expires_at: None,
    };
    let resolved = match &target.selection {
        None => target.clone(),
        Some(_) => match cluster::targets(target, retry, &ctx.kube).await {
            Ok(found) => found.target(target),
            Err(err) => return failed(err),
        },
    };
    let (written, outcome, expires_at) = if resolved.namespaces.is_empty() {
        tracing::warn!(
            "no namespace matches the namespace selector and there is no explicit one: nothing to write (no ECR call)"
        );
        (Vec::new(), Ok(()), None)
    } else {
        let (config, expires_at) = match fetch_docker_config(target, retry, &ctx.ecr).await {
            Ok(got) => got,
            Err(err) => return failed(err),
        };
        let namespaces = &resolved.namespaces;
        let (written, outcome) =
            write_all(target, namespaces, retry, ctx, config, expires_at).await;
        (written, outcome, expires_at)
    };
    let selected = resolved.namespaces.len() - target.namespaces.len();
    let outcome = match (outcome, target.selection.as_ref()) {
        (Ok(()), Some(selection)) if selection.prune && selected == 0 => {
            tracing::warn!(
                "prune skipped: the selector selected no namespace this run (nothing is removed everywhere at once)"
            );
            Ok(())
        }
        (Ok(()), Some(selection)) if selection.prune => {
            prune::prune(target, &resolved.namespaces, retry, &ctx.kube)
                .await
                .map(|_| ())
        }
        (Err(err), Some(selection)) if selection.prune => {
            tracing::warn!("prune skipped: not every target namespace was written");
            Err(err)
        }
        (outcome, _) => outcome,
    };
    RefreshRun {
        outcome,
        written,
        expires_at,
    }
}

/// The writes of [`refresh`] once the token is there: into `namespaces` (the explicit ones of
/// `target` and those its selector picked this run), each Secret read before it is applied.
async fn write_all(
    target: &Target,
    namespaces: &[String],
    retry: &RetryPolicy,
    ctx: &Context,
    config: DockerConfigJson,
    expires_at: Option<Timestamp>,
) -> (Vec<events::Written>, Result<(), Error>) {
    let stamps = (Timestamp::now(), expires_at);
    let written = write_namespaces(target, namespaces, retry, &ctx.kube, config, stamps, None);
    let (written, outcome) = written.await;
    if outcome.is_ok() {
        tracing::info!(namespaces = namespaces.len(), "refresh complete");
    }
    (written, outcome)
}

/// Writes `config` into `namespaces`, up to [`NAMESPACE_CONCURRENCY`] at a time, with
/// [`write_namespace`], or, with `listed` (the registry's Secret as a list of it in every
/// namespace returned it; a namespace without an entry had none), [`write_namespace_over`]
/// without reading each Secret again (the sync run). A failing namespace does not stop the
/// others; the outcome then holds every failure, in the order of `namespaces` (one failure of
/// a single namespace: that error itself). The written Secrets come in that order too.
pub async fn write_namespaces(
    target: &Target,
    namespaces: &[String],
    retry: &RetryPolicy,
    kube: &kube::Client,
    config: DockerConfigJson,
    stamps: (Timestamp, Option<Timestamp>),
    listed: Option<&BTreeMap<String, Secret>>,
) -> (Vec<events::Written>, Result<(), Error>) {
    let shared = Arc::new((target.clone(), *retry, config));
    let mut queue = namespaces.iter().cloned();
    let mut running = JoinSet::new();
    let spawn = |running: &mut JoinSet<_>, namespace: String| {
        let shared = Arc::clone(&shared);
        let kube = kube.clone();
        let current = listed.map(|listed| listed.get(&namespace).cloned());
        let task = async move {
            let (target, retry, config) = &*shared;
            let done = match &current {
                None => write_namespace(target, retry, config, kube, &namespace, stamps).await,
                Some(current) => {
                    let current = current.as_ref();
                    write_namespace_over(target, retry, config, kube, &namespace, stamps, current)
                        .await
                }
            };
            (namespace, done)
        };
        running.spawn(task.instrument(tracing::Span::current()));
    };
    for namespace in queue.by_ref().take(NAMESPACE_CONCURRENCY) {
        spawn(&mut running, namespace);
    }

    let mut failures = Vec::new();
    let mut written = Vec::new();
    while let Some(joined) = running.join_next().await {
        let (namespace, (secret, errors)) =
            joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        written.extend(secret);
        for err in errors {
            if namespaces.len() > 1 {
                tracing::error!(namespace = %namespace, "{err}");
            }
            failures.push((namespace.clone(), err));
        }
        if let Some(namespace) = queue.next() {
            spawn(&mut running, namespace);
        }
    }

    let order = |ns: &String| namespaces.iter().position(|n| n == ns);
    written.sort_by_key(|w: &events::Written| order(&w.namespace));
    if failures.is_empty() {
        return (written, Ok(()));
    }
    if failures.len() == 1 && namespaces.len() == 1 {
        return (written, Err(failures.remove(0).1));
    }
    // Stable: a namespace's failures keep the order of IMAGE_PULL_SECRET_FOR.
    failures.sort_by_key(|(ns, _)| order(ns));
    let mut failed: Vec<&String> = failures.iter().map(|(ns, _)| ns).collect();
    failed.dedup();
    let err = Error::Namespaces {
        total: namespaces.len(),
        failed: failed.len(),
        failures: failures.into_iter().map(|(_, err)| err).collect(),
    };
    (written, Err(err))
}

/// One namespace: apply the Secret, then (only if that worked) make every ServiceAccount of
/// `IMAGE_PULL_SECRET_FOR` list it. Returns the Secret if it was written, and every failure;
/// one ServiceAccount failing does not stop the next. A ServiceAccount missing in a namespace
/// that is not one of `target.namespaces` (the explicit ones: the selector picked it) is a
/// warning, not a failure. `stamps` are the refreshed-at and
/// expires-at annotations. Public (stable signature) for the sync run, which copies a token
/// into a namespace with the same data, stamps and field manager.
pub async fn write_namespace(
    target: &Target,
    retry: &RetryPolicy,
    config: &DockerConfigJson,
    kube: kube::Client,
    namespace: &str,
    stamps: (Timestamp, Option<Timestamp>),
) -> (Option<events::Written>, Vec<Error>) {
    write_namespace_with(target, retry, config, kube, namespace, stamps, None).await
}

/// [`write_namespace`] for a caller that already holds the namespace's Secret as it is
/// (`current`, e.g. from the sync run's list of it in every namespace; `None`: there was none):
/// the Secret is not read again before the apply ([`secret::apply_over`]: the type check is made
/// on `current`, and the apply's own 422 covers a Secret of another type created since).
pub async fn write_namespace_over(
    target: &Target,
    retry: &RetryPolicy,
    config: &DockerConfigJson,
    kube: kube::Client,
    namespace: &str,
    stamps: (Timestamp, Option<Timestamp>),
    current: Option<&Secret>,
) -> (Option<events::Written>, Vec<Error>) {
    write_namespace_with(
        target,
        retry,
        config,
        kube,
        namespace,
        stamps,
        Some(current),
    )
    .await
}

/// [`write_namespace`] (`known: None`, the Secret is read first) or [`write_namespace_over`]
/// (`known: Some(current)`).
async fn write_namespace_with(
    target: &Target,
    retry: &RetryPolicy,
    config: &DockerConfigJson,
    kube: kube::Client,
    namespace: &str,
    (refreshed_at, expires_at): (Timestamp, Option<Timestamp>),
    known: Option<Option<&Secret>>,
) -> (Option<events::Written>, Vec<Error>) {
    let secret_name = target.secret_name.as_str();
    let desired = secret::build(
        namespace,
        secret_name,
        &target.registry,
        config,
        refreshed_at,
        expires_at,
    );
    let secrets: Api<Secret> = Api::namespaced(kube.clone(), namespace);
    let applied = match known {
        None => secret::apply(&secrets, &desired, retry, namespace).await,
        Some(current) => secret::apply_over(&secrets, &desired, retry, namespace, current).await,
    };
    let written = match applied {
        Ok((applied, uid)) => {
            tracing::info!(
                namespace = %namespace,
                secret = %secret_name,
                action = applied.as_str(),
                "applied Secret"
            );
            events::Written {
                namespace: namespace.to_owned(),
                name: secret_name.to_owned(),
                uid,
            }
        }
        Err(err) => return (None, vec![err]),
    };
    let accounts: Api<ServiceAccount> = Api::namespaced(kube, namespace);
    let mut errors = Vec::new();
    for name in &target.image_pull_secret_for {
        match service_account::ensure_pull_secret(&accounts, name, secret_name, retry, namespace)
            .await
        {
            Ok(_) => {}
            // A namespace the selector picked was not named by the user: that some of them lack
            // a ServiceAccount (e.g. `builder` only in build namespaces; `default` a moment after
            // the namespace was created) is normal there, and must not fail every run.
            Err(Error::ServiceAccountMissing { .. })
                if !target.namespaces.contains(&namespace.to_owned()) =>
            {
                tracing::warn!(
                    namespace = %namespace,
                    service_account = %name,
                    secret = %secret_name,
                    "ServiceAccount not found in this selected namespace; its imagePullSecrets are left to the next run"
                );
            }
            Err(err) => errors.push(err),
        }
    }
    (Some(written), errors)
}

/// Fetches an ECR token (proving the AWS credentials work) and writes the Secret it would apply
/// to each target namespace to `out`, every credential replaced by `<redacted>` (the
/// `.dockerconfigjson` is shown decoded, naming every registry host). Kubernetes is
/// not contacted. YAML output is one document per namespace; JSON is a Secret, or a `List` of them.
pub async fn dry_run(
    target: &Target,
    retry: &RetryPolicy,
    output: OutputFormat,
    ecr: &aws_sdk_ecr::Client,
    out: &mut impl Write,
) -> Result<(), Error> {
    let (config, expires_at) = fetch_docker_config(target, retry, ecr).await?;
    let refreshed_at = Timestamp::now();
    let secrets = target
        .namespaces
        .iter()
        .map(|ns| {
            secret::build(
                ns,
                &target.secret_name,
                &target.registry,
                &config,
                refreshed_at,
                expires_at,
            )
            .redacted()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::RenderDryRun)?;

    let text = match output {
        OutputFormat::Yaml => {
            let mut text = String::new();
            for secret in &secrets {
                text.push_str("---\n");
                text.push_str(&serde_yaml::to_string(secret).map_err(Error::RenderDryRunYaml)?);
            }
            text
        }
        OutputFormat::Json => {
            let document = match secrets.as_slice() {
                [one] => one.clone(),
                _ => serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": secrets }),
            };
            let mut text = serde_json::to_string_pretty(&document).map_err(Error::RenderDryRun)?;
            text.push('\n');
            text
        }
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(Error::PrintDryRun)?;
    if !target.image_pull_secret_for.is_empty() {
        tracing::info!(
            service_accounts = %target.image_pull_secret_for.join(","),
            secret = %target.secret_name,
            "dry run: would add the Secret to these ServiceAccounts' imagePullSecrets in each namespace"
        );
    }
    if target.selection.as_ref().is_some_and(|s| s.prune) {
        tracing::info!("dry run: prune is not evaluated (nothing is deleted)");
    }
    tracing::info!(
        namespaces = target.namespaces.len(),
        "dry run: printed the Secret, nothing applied"
    );
    Ok(())
}

/// The step shared by [`refresh`] and [`dry_run`]: token → dockerconfigjson, logged.
async fn fetch_docker_config(
    target: &Target,
    retry: &RetryPolicy,
    ecr: &aws_sdk_ecr::Client,
) -> Result<(DockerConfigJson, Option<Timestamp>), Error> {
    let login = ecr::fetch_login(ecr, target, retry).await?;
    let expires = login
        .expires_at
        .map_or_else(|| "unknown".to_owned(), |t| t.to_string());
    tracing::info!(
        hosts = %login.hosts.join(","),
        expires_at = %expires,
        "got ECR token"
    );
    match login.expires_at {
        Some(at) if at <= Timestamp::now() => tracing::warn!(
            expires_at = %at,
            "the ECR token is already expired (a local test server?); using it anyway"
        ),
        None => tracing::warn!("ECR did not say when the token expires; no expires-at annotation"),
        Some(_) => {}
    }
    Ok((dockerconfig::render(&login), login.expires_at))
}
