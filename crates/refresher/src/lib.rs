//! ecr-refresher: turns AWS credentials into a fresh `regcred-<name>` Secret.
//!
//! [`run`] checks the settings, builds a [`Context`] (ECR and Kubernetes clients) once — assuming
//! `ROLE_ARN` with STS first if set — and calls [`refresh`]: one ECR `GetAuthorizationToken`,
//! then a server-side apply of the `kubernetes.io/dockerconfigjson` Secret into each target
//! namespace, and the Secret added to the `imagePullSecrets` of the ServiceAccounts of
//! `IMAGE_PULL_SECRET_FOR` there. Tests build the [`Context`] against local servers and call
//! [`refresh`] or [`dry_run`] directly.

pub mod dockerconfig;
pub mod ecr;
pub mod error;
pub mod retry;
pub mod secret;
pub mod service_account;
pub mod settings;
pub mod sts;
pub mod telemetry;

use std::fmt;
use std::io::Write;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use tokio::task::JoinSet;

pub use error::Error;
pub use settings::{Args, Settings};

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

/// Checks the flags and runs once: [`dry_run`] to stdout with `--dry-run`, else [`refresh`].
pub async fn run(args: &Args) -> Result<(), Error> {
    let settings = Settings::from_args(args)?;
    tracing::info!(
        registry = %settings.registry,
        region = %settings.region.name,
        secret = %settings.secret_name,
        namespaces = %settings.namespaces.join(","),
        account = settings.account.as_deref().unwrap_or("(from credentials)"),
        registry_ids = %settings.registry_ids.join(","),
        role_arn = settings.role_arn.as_deref().unwrap_or("(none)"),
        image_pull_secret_for = %settings.image_pull_secret_for.join(","),
        dry_run = settings.dry_run,
        "starting"
    );
    let sdk_config = ecr::config_loader(&settings).load().await;
    let ecr = ecr_client(&settings, &sdk_config).await?;
    if settings.dry_run {
        return dry_run(&settings, &ecr, &mut std::io::stdout().lock()).await;
    }
    let kube = kube_client(&settings).await?;
    refresh(&settings, &Context { kube, ecr }).await
}

/// The ECR client: with `sdk_config`'s credentials (the default chain: env, profile, web
/// identity/IRSA, EKS Pod Identity, IMDS), or, with `ROLE_ARN`, with the credentials of that role
/// assumed through STS using them as the source ([`sts::assume_role`]).
pub async fn ecr_client(
    settings: &Settings,
    sdk_config: &aws_config::SdkConfig,
) -> Result<aws_sdk_ecr::Client, Error> {
    let Some(role_arn) = &settings.role_arn else {
        return Ok(aws_sdk_ecr::Client::new(sdk_config));
    };
    let credentials = sts::assume_role(settings, role_arn, sdk_config).await?;
    let config = aws_sdk_ecr::config::Builder::from(sdk_config)
        .credentials_provider(credentials)
        .build();
    Ok(aws_sdk_ecr::Client::from_conf(config))
}

/// A Kubernetes client from in-cluster config or `KUBECONFIG`; see [`kube_client_with`].
pub async fn kube_client(settings: &Settings) -> Result<kube::Client, Error> {
    let config = kube::Config::infer()
        .await
        .map_err(|source| Error::KubeConfig {
            registry: settings.registry.clone(),
            source: Box::new(source),
        })?;
    kube_client_with(config, settings)
}

/// A Kubernetes client from `config` with `REQUEST_TIMEOUT` as connect, read and write timeout,
/// and kube's own retry layer off: it retries 429/503/504 up to 15 times with delays growing
/// to 1000 s, which would break the bounded retry budget; [`retry`] retries instead.
pub fn kube_client_with(
    mut config: kube::Config,
    settings: &Settings,
) -> Result<kube::Client, Error> {
    config.connect_timeout = Some(settings.request_timeout);
    config.read_timeout = Some(settings.request_timeout);
    config.write_timeout = Some(settings.request_timeout);
    config.default_retry = false;
    kube::Client::try_from(config).map_err(|source| Error::KubeClient {
        registry: settings.registry.clone(),
        source: Box::new(source),
    })
}

/// Fetches an ECR token and applies the Secret into every target namespace, up to
/// [`NAMESPACE_CONCURRENCY`] at a time, then adds it to the `imagePullSecrets` of the
/// ServiceAccounts of `IMAGE_PULL_SECRET_FOR` there. Nothing is written unless the token was
/// obtained. A failing namespace does not stop the others; the run then fails with every failure.
pub async fn refresh(settings: &Settings, ctx: &Context) -> Result<(), Error> {
    let (config, expires_at) = fetch_docker_config(settings, &ctx.ecr).await?;
    let refreshed_at = Timestamp::now();

    let shared = Arc::new((settings.clone(), config));
    let mut queue = settings.namespaces.iter().cloned();
    let mut running = JoinSet::new();
    let spawn = |running: &mut JoinSet<_>, namespace: String| {
        let shared = Arc::clone(&shared);
        let kube = ctx.kube.clone();
        running.spawn(async move {
            let (settings, config) = &*shared;
            let errors =
                write_namespace(settings, config, kube, &namespace, refreshed_at, expires_at).await;
            (namespace, errors)
        });
    };
    for namespace in queue.by_ref().take(NAMESPACE_CONCURRENCY) {
        spawn(&mut running, namespace);
    }

    let mut failures = Vec::new();
    while let Some(joined) = running.join_next().await {
        let (namespace, errors) =
            joined.unwrap_or_else(|join| std::panic::resume_unwind(join.into_panic()));
        for err in errors {
            if settings.namespaces.len() > 1 {
                tracing::error!(registry = %settings.registry, namespace = %namespace, "{err}");
            }
            failures.push((namespace.clone(), err));
        }
        if let Some(namespace) = queue.next() {
            spawn(&mut running, namespace);
        }
    }

    if failures.is_empty() {
        tracing::info!(
            registry = %settings.registry,
            namespaces = settings.namespaces.len(),
            "refresh complete"
        );
        return Ok(());
    }
    if failures.len() == 1 && settings.namespaces.len() == 1 {
        return Err(failures.remove(0).1);
    }
    let order = |ns: &String| settings.namespaces.iter().position(|n| n == ns);
    // Stable: a namespace's failures keep the order of IMAGE_PULL_SECRET_FOR.
    failures.sort_by_key(|(ns, _)| order(ns));
    let mut failed: Vec<&String> = failures.iter().map(|(ns, _)| ns).collect();
    failed.dedup();
    Err(Error::Namespaces {
        registry: settings.registry.clone(),
        total: settings.namespaces.len(),
        failed: failed.len(),
        failures: failures.into_iter().map(|(_, err)| err).collect(),
    })
}

/// One namespace: apply the Secret, then (only if that worked) make every ServiceAccount of
/// `IMAGE_PULL_SECRET_FOR` list it. Returns every failure; one ServiceAccount failing does not
/// stop the next.
async fn write_namespace(
    settings: &Settings,
    config: &DockerConfigJson,
    kube: kube::Client,
    namespace: &str,
    refreshed_at: Timestamp,
    expires_at: Option<Timestamp>,
) -> Vec<Error> {
    let desired = secret::build(
        namespace,
        &settings.secret_name,
        &settings.registry,
        config,
        refreshed_at,
        expires_at,
    );
    let secrets: Api<Secret> = Api::namespaced(kube.clone(), namespace);
    match secret::apply(&secrets, &desired, settings, namespace).await {
        Ok(applied) => tracing::info!(
            registry = %settings.registry,
            namespace = %namespace,
            secret = %settings.secret_name,
            action = applied.as_str(),
            "applied Secret"
        ),
        Err(err) => return vec![err],
    }
    let accounts: Api<ServiceAccount> = Api::namespaced(kube, namespace);
    let mut errors = Vec::new();
    for name in &settings.image_pull_secret_for {
        match service_account::ensure_pull_secret(&accounts, name, settings, namespace).await {
            Ok(patched) => tracing::info!(
                registry = %settings.registry,
                namespace = %namespace,
                service_account = %name,
                secret = %settings.secret_name,
                action = patched.as_str(),
                "ServiceAccount imagePullSecrets"
            ),
            Err(err) => errors.push(err),
        }
    }
    errors
}

/// Fetches an ECR token (proving the AWS credentials work) and writes the Secret it would apply
/// to each target namespace to `out`, every credential replaced by `<redacted>` (the
/// `.dockerconfigjson` is shown decoded, naming every registry host). Kubernetes is
/// not contacted. YAML output is one document per namespace; JSON is a Secret, or a `List` of them.
pub async fn dry_run(
    settings: &Settings,
    ecr: &aws_sdk_ecr::Client,
    out: &mut impl Write,
) -> Result<(), Error> {
    let (config, expires_at) = fetch_docker_config(settings, ecr).await?;
    let refreshed_at = Timestamp::now();
    let render_err = |source| Error::RenderDryRun {
        registry: settings.registry.clone(),
        source,
    };
    let secrets = settings
        .namespaces
        .iter()
        .map(|ns| {
            secret::build(
                ns,
                &settings.secret_name,
                &settings.registry,
                &config,
                refreshed_at,
                expires_at,
            )
            .redacted()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(render_err)?;

    let text = match settings.output {
        OutputFormat::Yaml => {
            let mut text = String::new();
            for secret in &secrets {
                text.push_str("---\n");
                text.push_str(&serde_yaml::to_string(secret).map_err(|source| {
                    Error::RenderDryRunYaml {
                        registry: settings.registry.clone(),
                        source,
                    }
                })?);
            }
            text
        }
        OutputFormat::Json => {
            let document = match secrets.as_slice() {
                [one] => one.clone(),
                _ => serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": secrets }),
            };
            let mut text = serde_json::to_string_pretty(&document).map_err(render_err)?;
            text.push('\n');
            text
        }
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|source| Error::PrintDryRun {
            registry: settings.registry.clone(),
            source,
        })?;
    if !settings.image_pull_secret_for.is_empty() {
        tracing::info!(
            registry = %settings.registry,
            service_accounts = %settings.image_pull_secret_for.join(","),
            secret = %settings.secret_name,
            "dry run: would add the Secret to these ServiceAccounts' imagePullSecrets in each namespace"
        );
    }
    tracing::info!(
        registry = %settings.registry,
        namespaces = settings.namespaces.len(),
        "dry run: printed the Secret, nothing applied"
    );
    Ok(())
}

/// The step shared by [`refresh`] and [`dry_run`]: token → dockerconfigjson, logged.
async fn fetch_docker_config(
    settings: &Settings,
    ecr: &aws_sdk_ecr::Client,
) -> Result<(DockerConfigJson, Option<Timestamp>), Error> {
    let login = ecr::fetch_login(ecr, settings).await?;
    let expires = login
        .expires_at
        .map_or_else(|| "unknown".to_owned(), |t| t.to_string());
    tracing::info!(
        registry = %settings.registry,
        hosts = %login.hosts.join(","),
        expires_at = %expires,
        "got ECR token"
    );
    match login.expires_at {
        Some(at) if at <= Timestamp::now() => tracing::warn!(
            registry = %settings.registry,
            expires_at = %at,
            "the ECR token is already expired (a local test server?); using it anyway"
        ),
        None => tracing::warn!(
            registry = %settings.registry,
            "ECR did not say when the token expires; no expires-at annotation"
        ),
        Some(_) => {}
    }
    Ok((dockerconfig::render(&login), login.expires_at))
}
