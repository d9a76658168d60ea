//! The flags of `ecr-refresher status` and their check, and the Kubernetes client it builds
//! from the person's kubeconfig.

use std::time::Duration;

use clap::{Parser, ValueEnum};
use ecr_contract::{names, rules};

use crate::error::Error;

/// Raw flags of `ecr-refresher status`. Data only: [`StatusSettings::from_args`] checks it.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "ecr-refresher status",
    bin_name = "ecr-refresher status",
    version,
    about = "Shows whether each pull Secret of a release is present, fresh and refreshed on time",
    long_about = "Run with your kubeconfig: finds the registries of a release by the chart's \
                  labels (app.kubernetes.io/instance=<release> and ecr-registry-helper/registry on \
                  its CronJobs and ConfigMaps) and prints one row per registry and target \
                  namespace: whether regcred-<name> is there and of type \
                  kubernetes.io/dockerconfigjson, its registry hosts, when it was refreshed and \
                  when its token expires (the ecr-registry-helper/refreshed-at and expires-at \
                  annotations), the time left, the last successful and last failed run of the \
                  registry's Jobs and the next run of its CronJob (robfig/cron, as the CronJob \
                  controller computes it, in spec.timeZone, else UTC).\n\n\
                  Verdicts, the first that holds wins:\n  \
                  MISSING                  the Secret is absent or not of type kubernetes.io/dockerconfigjson, or the registry has no CronJob or ConfigMap\n  \
                  UNKNOWN                  a namespace selector's Secrets could not be listed (no list on secrets in every namespace)\n  \
                  EXPIRED                  its token expired: pods pulling now fail\n  \
                  EXPIRES BEFORE NEXT RUN  its token expires before the CronJob runs next\n  \
                  SUSPENDED                the CronJob is suspended: nothing refreshes it\n  \
                  LAST RUN FAILED          the registry's latest Job failed\n  \
                  OK                       none of these\n\n\
                  A registry with a namespace selector also gets a row for each namespace where \
                  its Secret is found (namespace * when that cannot be listed).\n\n\
                  Needs get on secrets in the target namespaces (and list on secrets in every \
                  namespace for a selector) and list on configmaps, cronjobs and jobs in the \
                  release namespace. No token is printed.\n\n\
                  Exit codes: 0 every row OK, 1 a row not OK (or no registry found), 2 bad flags, \
                  3 the Kubernetes API could not be asked."
)]
pub struct StatusArgs {
    /// The kubeconfig context to use [default: the current context].
    #[arg(long)]
    pub context: Option<String>,

    /// The release's namespace (where its CronJobs run) [default: the context's namespace].
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,

    /// The Helm release (its `app.kubernetes.io/instance` label).
    #[arg(long, default_value = names::CHART_NAME)]
    pub release: String,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = StatusOutput::Table)]
    pub output: StatusOutput,

    /// Timeout of each request to Kubernetes (e.g. `10s`, `500ms`).
    #[arg(long, default_value = "10s")]
    pub request_timeout: String,
}

/// Output format of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusOutput {
    /// A kubectl-style table.
    Table,
    /// JSON for scripts (stable field names).
    Json,
}

/// Checked flags of `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusSettings {
    /// Kubeconfig context, if not the current one.
    pub context: Option<String>,
    /// Release namespace, if not the context's.
    pub namespace: Option<String>,
    /// Helm release.
    pub release: String,
    /// Output format.
    pub output: StatusOutput,
    /// Timeout of each request.
    pub request_timeout: Duration,
}

impl StatusSettings {
    /// Checks the flags: the namespace is a DNS-1123 label, the release a Helm release name,
    /// the timeout a positive duration.
    pub fn from_args(args: &StatusArgs) -> Result<Self, Error> {
        let invalid = |flag: &'static str, value: &str, reason: &str| Error::StatusFlag {
            flag,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(ns) = &args.namespace
            && rules::namespace(ns).is_err()
        {
            return Err(invalid(
                "--namespace",
                ns,
                "expected a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit",
            ));
        }
        if rules::release_name(&args.release).is_err() {
            return Err(invalid(
                "--release",
                &args.release,
                "expected a Helm release name: at most 53 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit",
            ));
        }
        let request_timeout = crate::settings::parse_duration(&args.request_timeout)
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                invalid(
                    "--request-timeout",
                    &args.request_timeout,
                    "expected a positive duration like 10s, 500ms or 1m",
                )
            })?;
        Ok(Self {
            context: args.context.clone(),
            namespace: args.namespace.clone(),
            release: args.release.clone(),
            output: args.output,
            request_timeout,
        })
    }
}

/// The client of the person's kubeconfig (`KUBECONFIG` or `~/.kube/config`; with `--context`,
/// that context; without, kube's `Config::infer`, which also works in a pod) and the namespace
/// to look in: `--namespace`, else the context's.
pub async fn client(settings: &StatusSettings) -> Result<(kube::Client, String), Error> {
    let config = match &settings.context {
        Some(context) => {
            let options = kube::config::KubeConfigOptions {
                context: Some(context.clone()),
                ..Default::default()
            };
            kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|source| Error::StatusKubeconfig {
                    context: context.clone(),
                    source: Box::new(source),
                })?
        }
        None => kube::Config::infer()
            .await
            .map_err(|source| Error::KubeConfig {
                source: Box::new(source),
            })?,
    };
    let namespace = settings
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let client = crate::kube_client_with(config, settings.request_timeout)?;
    Ok((client, namespace))
}
