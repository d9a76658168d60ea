//! Command-line flags and environment variables, and their check into typed [`Settings`]:
//! the [`Target`] (what to write), the [`RetryPolicy`] and the [`Mode`].
//!
//! Every flag also reads an environment variable; the variable names are the keys of the
//! per-registry ConfigMap that `ecr-chart` renders ([`ecr_contract::keys`]), and every value is
//! checked with the contract's rules ([`ecr_contract::rules`]), as the chart checks them.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgAction, CommandFactory as _, FromArgMatches as _, Parser, ValueEnum};
use ecr_contract::rules::{self, Fault, Partition};
use ecr_contract::{keys, names};

use crate::error::Error;
use crate::events::{EventArgs, Reporter};
use crate::retry::RetryPolicy;
use crate::selection::{self, Selection};

/// Raw flags and environment, as clap parsed them. Data only: [`Settings::from_args`] checks it.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "ecr-refresher",
    version,
    about = "Turns AWS credentials into a fresh regcred-<name> docker-registry Secret",
    long_about = "Calls ECR GetAuthorizationToken with the standard AWS credential chain \
                  (env, profile, web identity/IRSA, EKS Pod Identity, IMDS) — assuming ROLE_ARN \
                  with STS first if set — and server-side-applies a kubernetes.io/dockerconfigjson \
                  Secret (one auths entry per registry account) into each target namespace, in \
                  place; then adds it to the imagePullSecrets of the IMAGE_PULL_SECRET_FOR \
                  ServiceAccounts there.\n\n\
                  Exit codes: 0 ok, 1 failure at run time, 2 bad settings.",
    after_help = "Subcommand: `ecr-refresher status [--release R] [-n NS] [--context C] [-o table|json]` \
                  shows whether each pull Secret of a release is present, fresh and refreshed on \
                  time (see `ecr-refresher status --help`)."
)]
pub struct Args {
    /// Name of the registry, used in logs, errors and the `ecr-registry-helper/registry` label.
    #[arg(long, env = keys::REGISTRY_NAME)]
    pub registry_name: Option<String>,

    /// AWS region of the registry, e.g. `eu-west-1` (`cn-*` regions use `amazonaws.com.cn`).
    #[arg(long, env = keys::AWS_REGION)]
    pub region: Option<String>,

    /// Name of the Secret to write [default: regcred-<registry name>].
    #[arg(long, env = keys::SECRET_NAME)]
    pub secret_name: Option<String>,

    /// Comma-separated namespaces to write the Secret into.
    #[arg(long, env = keys::TARGET_NAMESPACES, value_name = "NS[,NS...]")]
    pub namespaces: Option<String>,

    /// The namespaces to write the Secret into besides `--namespaces`, chosen at every run
    /// among the live ones: a Kubernetes label selector as JSON, e.g.
    /// `{"matchLabels":{"team":"a"}}` (`{}`: every namespace). Namespaces being deleted are
    /// skipped.
    #[arg(long, env = keys::NAMESPACE_SELECTOR, value_name = "JSON")]
    pub namespace_selector: Option<String>,

    /// Comma-separated namespaces the selector never writes into.
    #[arg(long, env = keys::EXCLUDE_NAMESPACES, value_name = "NS[,NS...]")]
    pub exclude_namespaces: Option<String>,

    /// With a selector: delete this registry's Secrets in namespaces that no longer match —
    /// only Secrets with the refresher's managed-by label and field manager.
    #[arg(
        long,
        env = keys::PRUNE,
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub prune: bool,

    /// AWS account (12 digits) that owns the registry; sent as `registryIds` (from the
    /// credentials Secret or, with IRSA / Pod Identity, the ConfigMap).
    /// [default: the account of the credentials]
    #[arg(long, env = keys::AWS_ACCOUNT)]
    pub account: Option<String>,

    /// Comma-separated extra AWS accounts (12 digits each): one more `auths` entry
    /// `<id>.dkr.ecr.<region>.<suffix>` per account in the same Secret, with the same token.
    #[arg(long, env = keys::REGISTRY_IDS, value_name = "ID[,ID...]")]
    pub registry_ids: Option<String>,

    /// IAM role to assume with STS (session `ecr-refresher-<registry>`) before asking ECR,
    /// using the default credential chain as the source (cross-account pulls).
    #[arg(long, env = keys::ROLE_ARN, value_name = "ARN")]
    pub role_arn: Option<String>,

    /// Comma-separated ServiceAccounts: in each target namespace, add the Secret to their
    /// `imagePullSecrets` if missing (entries others put there are kept).
    #[arg(long, env = keys::IMAGE_PULL_SECRET_FOR, value_name = "SA[,SA...]")]
    pub image_pull_secret_for: Option<String>,

    /// Log line format on stderr.
    #[arg(long, env = keys::LOG_FORMAT, value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Fetch a token (proving the AWS credentials work) and print the Secret that would be
    /// applied, with every credential redacted; Kubernetes is not contacted — except with a
    /// namespace selector, whose namespaces are listed (a read; the run fails if it cannot list).
    /// Prune is not evaluated.
    #[arg(
        long,
        env = keys::DRY_RUN,
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub dry_run: bool,

    /// Format of the `--dry-run` output on stdout.
    #[arg(long, env = keys::DRY_RUN_OUTPUT, value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,

    /// Timeout of each single request to AWS or Kubernetes (e.g. `10s`, `500ms`, `1m`).
    #[arg(long, env = keys::REQUEST_TIMEOUT, default_value = "10s")]
    pub request_timeout: String,

    /// Longest time spent retrying transient failures of one step (`0s` = no retries).
    #[arg(long, env = keys::RETRY_TIMEOUT, default_value = "60s")]
    pub retry_timeout: String,

    /// Instead of a refresh: carry out this uninstall plan (the chart's pre-delete hook) —
    /// delete each pull Secret the refresher wrote and remove it from the ServiceAccounts'
    /// `imagePullSecrets`; Secrets others wrote are kept. No AWS access; no other setting
    /// but the log format and timeouts is read.
    #[arg(long, env = keys::UNINSTALL_PLAN, value_name = "FILE")]
    pub uninstall_plan: Option<std::path::PathBuf>,

    /// Instead of a refresh: check the pull Secrets of this check plan file (one
    /// `<registry> <namespace> <secret> <hosts>` line each; the chart's `helm test` Pod mounts
    /// it from its ConfigMap) — each exists, has type kubernetes.io/dockerconfigjson, names the
    /// expected registry hosts and has not expired; one line per Secret, exit 1 if any is
    /// wrong. No AWS access; no other setting but the log format and timeouts is read.
    #[arg(long, env = keys::CHECK_PLAN, value_name = "FILE")]
    pub check_plan: Option<std::path::PathBuf>,

    /// Where the pod runs (downward API), for the run's Events ([`crate::events`]).
    #[command(flatten)]
    pub events: EventArgs,

    /// The sync run's directories ([`crate::sync`]).
    #[command(flatten)]
    pub sync: SyncArgs,
}

/// The sync run's flags (the chart's sync CronJob sets them as environment). Data only:
/// [`SyncSettings::from_args`] checks them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SyncArgs {
    /// Instead of a refresh: the sync run — this directory holds one sub-directory per
    /// registry, named after it, with the files of its ConfigMap (one per key); each
    /// registry's Secret is copied from where the refresher wrote it into its target
    /// namespaces that lack it or hold an older token, asking ECR only when no Secret holds a
    /// token valid for 10 more minutes. No other setting but the log format, timeouts and the
    /// downward API is read from the environment.
    #[arg(long, env = keys::SYNC_DIR, value_name = "DIR")]
    pub sync_dir: Option<PathBuf>,

    /// Sync run: the directory holding, for each registry with a credentials Secret, a
    /// sub-directory named after it with that Secret's files (AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN and AWS_ACCOUNT), used only when ECR
    /// must be asked. A registry without one uses the pod's own AWS identity.
    #[arg(long, env = keys::SYNC_CREDENTIALS_DIR, value_name = "DIR")]
    pub sync_credentials_dir: Option<PathBuf>,
}

/// Format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Plain,
}

/// Format of the `--dry-run` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// YAML, as `kubectl get -o yaml` prints it.
    Yaml,
    /// Pretty-printed JSON.
    Json,
}

/// Checked settings of one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What to write, where, with which AWS identity.
    pub target: Target,
    /// How long each step may retry.
    pub retry: RetryPolicy,
    /// Timeout of each single request to AWS or Kubernetes.
    pub request_timeout: Duration,
    /// Apply or print, and the output formats.
    pub mode: Mode,
    /// Who reports the run's Events, and the Job a failure is about.
    pub reporter: Reporter,
}

/// What one run writes: the registry's Secret into its namespaces and ServiceAccounts, and the
/// AWS account, region and role it gets the token with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Registry name ([`rules::registry_name`]).
    pub registry: String,
    /// AWS region and its partition.
    pub region: Region,
    /// Name of the Secret to write (a DNS-1123 subdomain).
    pub secret_name: String,
    /// Explicit target namespaces, deduplicated, in the given order.
    pub namespaces: Vec<String>,
    /// The namespace selector, if any: more targets found at run time.
    pub selection: Option<Selection>,
    /// Registry account, if pinned.
    pub account: Option<String>,
    /// Extra registry accounts, deduplicated, in the given order.
    pub registry_ids: Vec<String>,
    /// Role to assume before asking ECR.
    pub role_arn: Option<String>,
    /// ServiceAccounts whose `imagePullSecrets` get the Secret, deduplicated.
    pub image_pull_secret_for: Vec<String>,
}

/// Whether the run applies or prints, and in which formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    /// Print instead of apply.
    pub dry_run: bool,
    /// Dry-run output format.
    pub output: OutputFormat,
    /// Log format.
    pub log_format: LogFormat,
}

/// An AWS region of a supported partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Region code, e.g. `eu-west-1`.
    pub name: String,
    /// Its partition (whose DNS suffix names the registry hosts).
    pub partition: Partition,
}

impl Region {
    /// Checks a region code ([`rules::region`]) and keeps its partition.
    pub fn parse(name: &str) -> Result<Self, Fault> {
        Ok(Self {
            name: name.to_owned(),
            partition: rules::region(name)?,
        })
    }
}

// What each rule allows, in the words of an error message (the `Fault` follows in parentheses).
const REGISTRY_NAME_RULE: &str = "expected a registry name: at most 32 lowercase letters, digits or '-', starting and ending with a letter or digit (the names derived from it must fit Kubernetes' limits)";
const REGION_RULE: &str = "expected an AWS region of the partitions aws, aws-cn or aws-us-gov, like eu-west-1, cn-north-1 or us-gov-west-1";
const DNS_LABEL_RULE: &str = "expected a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit";
const DNS_SUBDOMAIN_RULE: &str = "expected a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit";
const ACCOUNT_RULE: &str = "expected a 12-digit AWS account ID";
const ROLE_ARN_RULE: &str = "expected an IAM role ARN like arn:aws:iam::123456789012:role/ecr-reader (partition aws, aws-cn or aws-us-gov)";

impl Settings {
    /// Checks raw flags. Every error is [`Error::MissingSetting`] or [`Error::InvalidSetting`].
    pub fn from_args(args: &Args) -> Result<Self, Error> {
        let registry = required(&args.registry_name, keys::REGISTRY_NAME, "--registry-name")?;
        check(
            &registry,
            keys::REGISTRY_NAME,
            "--registry-name",
            REGISTRY_NAME_RULE,
            rules::registry_name,
        )?;

        let region_raw = required(&args.region, keys::AWS_REGION, "--region")?;
        let region = Region::parse(&region_raw).map_err(|fault| {
            invalid(
                keys::AWS_REGION,
                "--region",
                &region_raw,
                REGION_RULE,
                &fault,
            )
        })?;

        let secret_name =
            non_empty(&args.secret_name).unwrap_or_else(|| names::pull_secret(&registry));
        check(
            &secret_name,
            keys::SECRET_NAME,
            "--secret-name",
            DNS_SUBDOMAIN_RULE,
            rules::dns_subdomain,
        )?;

        let selection = selection_of(args)?;
        let namespaces = list(
            args.namespaces.as_deref(),
            keys::TARGET_NAMESPACES,
            "--namespaces",
            DNS_LABEL_RULE,
            rules::namespace,
        )?;
        if namespaces.is_empty() && selection.is_none() {
            return Err(match non_empty(&args.namespaces) {
                None => Error::MissingSetting {
                    env: keys::TARGET_NAMESPACES,
                    flag: "--namespaces",
                },
                Some(raw) => Error::InvalidSetting {
                    env: keys::TARGET_NAMESPACES,
                    flag: "--namespaces",
                    value: raw,
                    reason: format!(
                        "expected at least one namespace (or a {} selector)",
                        keys::NAMESPACE_SELECTOR
                    ),
                },
            });
        }
        if let Some(excluded) = selection
            .as_ref()
            .and_then(|s| s.exclude.iter().find(|e| namespaces.contains(e)))
        {
            return Err(Error::InvalidSetting {
                env: keys::EXCLUDE_NAMESPACES,
                flag: "--exclude-namespaces",
                value: excluded.clone(),
                reason: format!(
                    "this namespace is also in {}: an explicit namespace is always written",
                    keys::TARGET_NAMESPACES
                ),
            });
        }

        let account = non_empty(&args.account);
        if let Some(account) = &account {
            check(
                account,
                keys::AWS_ACCOUNT,
                "--account",
                ACCOUNT_RULE,
                rules::account_id,
            )?;
        }
        let registry_ids = list(
            args.registry_ids.as_deref(),
            keys::REGISTRY_IDS,
            "--registry-ids",
            ACCOUNT_RULE,
            rules::account_id,
        )?;
        let role_arn = non_empty(&args.role_arn);
        if let Some(arn) = &role_arn {
            let partition = rules::role_arn(arn).map_err(|fault| {
                invalid(keys::ROLE_ARN, "--role-arn", arn, ROLE_ARN_RULE, &fault)
            })?;
            // STS in one partition cannot assume a role of another (the chart refuses it too).
            if partition != region.partition {
                return Err(Error::InvalidSetting {
                    env: keys::ROLE_ARN,
                    flag: "--role-arn",
                    value: arn.clone(),
                    reason: format!(
                        "expected a role of the partition {} of AWS_REGION {} (`arn:{}:iam::…`): STS there only knows roles of its partition",
                        region.partition, region.name, region.partition
                    ),
                });
            }
        }
        let image_pull_secret_for = list(
            args.image_pull_secret_for.as_deref(),
            keys::IMAGE_PULL_SECRET_FOR,
            "--image-pull-secret-for",
            DNS_SUBDOMAIN_RULE,
            rules::dns_subdomain,
        )?;

        let (request_timeout, retry) = timeouts(args)?;

        Ok(Self {
            target: Target {
                registry,
                region,
                secret_name,
                namespaces,
                selection,
                account,
                registry_ids,
                role_arn,
                image_pull_secret_for,
            },
            retry,
            request_timeout,
            mode: Mode {
                dry_run: args.dry_run,
                output: args.output,
                log_format: args.log_format,
            },
            reporter: Reporter::from_args(&args.events),
        })
    }
}

/// `NAMESPACE_SELECTOR`, `EXCLUDE_NAMESPACES` and `PRUNE`, checked: None without a selector
/// (excludes and prune then refused, as they would do nothing).
fn selection_of(args: &Args) -> Result<Option<Selection>, Error> {
    let exclude = list(
        args.exclude_namespaces.as_deref(),
        keys::EXCLUDE_NAMESPACES,
        "--exclude-namespaces",
        DNS_LABEL_RULE,
        rules::namespace,
    )?;
    let Some(raw) = non_empty(&args.namespace_selector) else {
        let without =
            |env: &'static str, flag: &'static str, value: String| Error::InvalidSetting {
                env,
                flag,
                value,
                reason: format!("only works with a {} selector", keys::NAMESPACE_SELECTOR),
            };
        if !exclude.is_empty() {
            return Err(without(
                keys::EXCLUDE_NAMESPACES,
                "--exclude-namespaces",
                exclude.join(","),
            ));
        }
        if args.prune {
            return Err(without(keys::PRUNE, "--prune", "true".into()));
        }
        return Ok(None);
    };
    let selector = selection::parse_selector(&raw).map_err(|why| Error::InvalidSetting {
        env: keys::NAMESPACE_SELECTOR,
        flag: "--namespace-selector",
        value: raw.clone(),
        reason: why.0,
    })?;
    Ok(Some(Selection {
        selector,
        exclude,
        prune: args.prune,
    }))
}

/// Checked settings of a plan run: the uninstall plan (`--uninstall-plan`, the chart's
/// pre-delete hook) or the check plan (`--check-plan`, its `helm test` Pod). Both read only
/// their plan file and the timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSettings {
    /// The plan file.
    pub plan: std::path::PathBuf,
    /// How long each step may retry.
    pub retry: RetryPolicy,
    /// Timeout of each single request to Kubernetes.
    pub request_timeout: Duration,
}

/// The uninstall run's settings.
pub type UninstallSettings = PlanSettings;
/// The check run's settings.
pub type CheckSettings = PlanSettings;

impl PlanSettings {
    /// `None` without `--uninstall-plan` (not an uninstall run), else the checked settings.
    pub fn uninstall(args: &Args) -> Result<Option<Self>, Error> {
        Self::of(args.uninstall_plan.as_ref(), args)
    }

    /// `None` without `--check-plan` (not a check run), else the checked settings.
    pub fn check(args: &Args) -> Result<Option<Self>, Error> {
        Self::of(args.check_plan.as_ref(), args)
    }

    fn of(plan: Option<&std::path::PathBuf>, args: &Args) -> Result<Option<Self>, Error> {
        let Some(plan) = plan else {
            return Ok(None);
        };
        let (request_timeout, retry) = timeouts(args)?;
        Ok(Some(Self {
            plan: plan.clone(),
            retry,
            request_timeout,
        }))
    }
}

/// Checked settings of a sync run (`SYNC_DIR`): where the registries' settings and
/// credentials are, and the run's own timeouts and reporter. Each registry's [`Settings`] are
/// read from its directory by the run ([`Args::from_dir`]), so one that does not read fails
/// alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSettings {
    /// `<dir>/<registry>/<KEY>`: each registry's ConfigMap.
    pub config_dir: PathBuf,
    /// `<dir>/<registry>/<KEY>`: the credentials Secrets, if any registry has one.
    pub credentials_dir: Option<PathBuf>,
    /// How long each step of the run's own requests may retry.
    pub retry: RetryPolicy,
    /// Timeout of each single request to Kubernetes.
    pub request_timeout: Duration,
    /// Who reports the run's Events, and the Job a failure is about.
    pub reporter: Reporter,
}

impl SyncSettings {
    /// `None` without `SYNC_DIR` (another kind of run), else the checked settings.
    pub fn from_args(args: &Args) -> Result<Option<Self>, Error> {
        let set = |dir: &Option<PathBuf>| dir.clone().filter(|d| !d.as_os_str().is_empty());
        let Some(config_dir) = set(&args.sync.sync_dir) else {
            return Ok(None);
        };
        let (request_timeout, retry) = timeouts(args)?;
        Ok(Some(Self {
            config_dir,
            credentials_dir: set(&args.sync.sync_credentials_dir),
            retry,
            request_timeout,
            reporter: Reporter::from_args(&args.events),
        }))
    }
}

/// The refresher's flags as the files of a mounted ConfigMap set them: the environment is
/// not read (the sync pod's own variables are not a registry's), and a flag that takes no
/// value on the command line (`--prune`, `--dry-run`) takes its file's text through its own
/// parser, as it would take the variable's.
fn file_command() -> clap::Command {
    Args::command().mut_args(|arg| {
        let arg = arg.env(None::<&'static str>);
        if matches!(arg.get_action(), ArgAction::SetTrue) {
            arg.action(ArgAction::Set)
                .num_args(1)
                .default_value("false")
        } else {
            arg
        }
    })
}

impl Args {
    /// One registry's flags from `dir`, a directory of files named by the ConfigMap keys (a
    /// mounted ConfigMap): each file is the value of the flag whose environment variable has
    /// its name, so every check of the environment path applies unchanged. Files whose name is
    /// no flag's variable are ignored (as unknown variables are), so are hidden entries (the
    /// mount's `..data`) and empty files (as an empty variable is unset). A file that is not
    /// UTF-8 text, or whose value the flag's parser refuses, is an error naming it.
    pub fn from_dir(dir: &Path) -> Result<Self, Error> {
        // Each flag's variable, as declared (the file command has them reset).
        let declared = Args::command();
        let flag_of = |name: &OsStr| {
            declared
                .get_arguments()
                .find(|arg| arg.get_env() == Some(name))
                .and_then(|arg| arg.get_long())
                .map(str::to_owned)
        };
        let command = file_command();
        let read_failed = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::SyncRead { path, source }
        };
        let mut names: Vec<OsString> = std::fs::read_dir(dir)
            .map_err(read_failed(dir))?
            .map(|entry| entry.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .map_err(read_failed(dir))?;
        names.sort();
        let mut argv: Vec<OsString> = vec![OsString::from("ecr-refresher")];
        for name in names {
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let Some(long) = flag_of(&name) else {
                continue;
            };
            let file = dir.join(&name);
            let bytes = std::fs::read(&file).map_err(read_failed(&file))?;
            let value = String::from_utf8(bytes).map_err(|_| Error::SyncSettingValue {
                file: file.clone(),
                reason: "not UTF-8 text".into(),
            })?;
            if value.is_empty() {
                continue;
            }
            let flag = OsString::from(format!("--{long}={value}"));
            // Alone first, so that a value clap refuses names its file.
            command
                .clone()
                .try_get_matches_from([OsStr::new("ecr-refresher"), &flag])
                .map_err(|err| Error::SyncSettingValue {
                    file: file.clone(),
                    reason: clap_reason(&err),
                })?;
            argv.push(flag);
        }
        let parsed = command
            .try_get_matches_from(&argv)
            .and_then(|matches| Args::from_arg_matches(&matches))
            .map_err(|err| Error::SyncSettingValue {
                file: dir.to_path_buf(),
                reason: clap_reason(&err),
            })?;
        Ok(parsed)
    }
}

impl Settings {
    /// [`Settings::from_args`] of flags read from `dir` ([`Args::from_dir`]): a setting's
    /// error names its file in `dir`.
    pub fn from_dir_args(args: &Args, dir: &Path) -> Result<Self, Error> {
        Settings::from_args(args).map_err(|err| in_dir(err, dir))
    }
}

/// A setting's error as the error of its file in `dir`.
pub fn in_dir(err: Error, dir: &Path) -> Error {
    let file = match &err {
        Error::MissingSetting { env, .. } | Error::InvalidSetting { env, .. } => dir.join(env),
        _ => dir.to_path_buf(),
    };
    Error::SyncSetting {
        file,
        source: Box::new(err),
    }
}

/// A clap error on one line, without its `error:` prefix and usage tips.
fn clap_reason(err: &clap::Error) -> String {
    err.render()
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("For more information")
                && !line.starts_with("Usage:")
        })
        .map(|line| line.strip_prefix("error: ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `REQUEST_TIMEOUT` and `RETRY_TIMEOUT`, checked.
fn timeouts(args: &Args) -> Result<(Duration, RetryPolicy), Error> {
    let request_timeout = parse_duration(&args.request_timeout)
        .and_then(|d| within(d, Duration::from_millis(100), Duration::from_secs(300)))
        .map_err(|reason| Error::InvalidSetting {
            env: keys::REQUEST_TIMEOUT,
            flag: "--request-timeout",
            value: args.request_timeout.clone(),
            reason,
        })?;
    let retry_timeout = parse_duration(&args.retry_timeout)
        .and_then(|d| within(d, Duration::ZERO, Duration::from_secs(3600)))
        .map_err(|reason| Error::InvalidSetting {
            env: keys::RETRY_TIMEOUT,
            flag: "--retry-timeout",
            value: args.retry_timeout.clone(),
            reason,
        })?;
    Ok((request_timeout, RetryPolicy::within(retry_timeout)))
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn required(
    value: &Option<String>,
    env: &'static str,
    flag: &'static str,
) -> Result<String, Error> {
    non_empty(value).ok_or(Error::MissingSetting { env, flag })
}

/// The error of a value a rule refused: what the rule allows, then what is wrong with the
/// value, e.g. `expected a 12-digit AWS account ID (4 digits, not 12)`.
fn invalid(env: &'static str, flag: &'static str, value: &str, rule: &str, fault: &Fault) -> Error {
    Error::InvalidSetting {
        env,
        flag,
        value: value.to_owned(),
        reason: format!("{rule} ({fault})"),
    }
}

fn check(
    value: &str,
    env: &'static str,
    flag: &'static str,
    rule: &str,
    check: impl Fn(&str) -> Result<(), Fault>,
) -> Result<(), Error> {
    check(value).map_err(|fault| invalid(env, flag, value, rule, &fault))
}

/// A comma-separated list: items trimmed, empty items dropped, each checked, duplicates dropped.
fn list(
    value: Option<&str>,
    env: &'static str,
    flag: &'static str,
    rule: &str,
    check_item: impl Fn(&str) -> Result<(), Fault>,
) -> Result<Vec<String>, Error> {
    let mut items: Vec<String> = Vec::new();
    for item in value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        check(item, env, flag, rule, &check_item)?;
        if !items.iter().any(|i| i == item) {
            items.push(item.to_owned());
        }
    }
    Ok(items)
}

/// Parses `500ms`, `10s`, `2m` or a bare number of seconds.
pub(crate) fn parse_duration(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let err = || "expected a duration like 500ms, 10s or 2m".to_owned();
    let n: u64 = number.parse().map_err(|_| err())?;
    match unit.trim() {
        "ms" => Ok(Duration::from_millis(n)),
        "" | "s" => Ok(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs).ok_or_else(err),
        _ => Err(err()),
    }
}

fn within(d: Duration, min: Duration, max: Duration) -> Result<Duration, String> {
    if d < min || d > max {
        Err(format!("expected between {min:?} and {max:?}"))
    } else {
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Built directly, not parsed: clap would also read AWS_REGION etc. from the test's environment.
    fn base() -> Args {
        Args {
            registry_name: Some("primary".into()),
            region: Some("eu-west-1".into()),
            secret_name: None,
            namespaces: Some("apps".into()),
            namespace_selector: None,
            exclude_namespaces: None,
            prune: false,
            account: None,
            registry_ids: None,
            role_arn: None,
            image_pull_secret_for: None,
            log_format: LogFormat::Json,
            dry_run: false,
            output: OutputFormat::Yaml,
            request_timeout: "10s".into(),
            retry_timeout: "60s".into(),
            uninstall_plan: None,
            check_plan: None,
            events: EventArgs::default(),
            sync: SyncArgs::default(),
        }
    }

    #[test]
    fn every_flag_is_declared_consistently() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn minimal_settings_get_defaults() {
        let s = Settings::from_args(&base()).expect("valid");
        assert_eq!(s.target.registry, "primary");
        assert_eq!(s.target.secret_name, "regcred-primary");
        assert_eq!(s.target.region.partition.dns_suffix(), "amazonaws.com");
        assert_eq!(s.target.namespaces, vec!["apps"]);
        assert_eq!(s.target.account, None);
        assert!(s.target.registry_ids.is_empty());
        assert_eq!(s.target.role_arn, None);
        assert!(s.target.image_pull_secret_for.is_empty());
        assert_eq!(s.request_timeout, Duration::from_secs(10));
        assert_eq!(s.retry.budget, Duration::from_secs(60));
        assert!(!s.mode.dry_run);
    }

    #[test]
    fn namespaces_are_split_trimmed_and_deduplicated() {
        let a = Args {
            namespaces: Some(" apps, team-b,apps ,, ".into()),
            ..base()
        };
        let s = Settings::from_args(&a).expect("valid");
        assert_eq!(s.target.namespaces, vec!["apps", "team-b"]);
    }

    #[test]
    fn only_commas_is_not_a_namespace_list() {
        let a = Args {
            namespaces: Some(" , ,".into()),
            ..base()
        };
        let err = Settings::from_args(&a).expect_err("no namespace");
        assert!(err.to_string().contains("at least one namespace"), "{err}");
    }

    #[test]
    fn china_regions_use_the_china_dns_suffix() {
        assert_eq!(
            Region::parse("cn-north-1")
                .expect("valid")
                .partition
                .dns_suffix(),
            "amazonaws.com.cn"
        );
        assert_eq!(
            Region::parse("us-gov-west-1")
                .expect("valid")
                .partition
                .dns_suffix(),
            "amazonaws.com"
        );
    }

    #[test]
    fn malformed_regions_are_rejected() {
        for bad in [
            "",
            "eu",
            "eu-west",
            "EU-WEST-1",
            "eu-west-x",
            "europe-west-1",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_missing_region_names_the_variable_and_the_flag() {
        let a = Args {
            region: Some("  ".into()),
            ..base()
        };
        let err = Settings::from_args(&a).expect_err("region missing");
        assert!(matches!(
            err,
            Error::MissingSetting {
                env: "AWS_REGION",
                flag: "--region"
            }
        ));
        assert_eq!(err.to_string(), "missing setting AWS_REGION (--region)");
    }

    #[test]
    fn an_invalid_namespace_is_rejected_with_the_rule() {
        let a = Args {
            namespaces: Some("apps,Team_B".into()),
            ..base()
        };
        let msg = Settings::from_args(&a)
            .expect_err("invalid namespace")
            .to_string();
        assert!(msg.contains("TARGET_NAMESPACES"), "{msg}");
        assert!(msg.contains("\"Team_B\""), "{msg}");
        assert!(msg.contains("DNS-1123 label"), "{msg}");
    }

    #[test]
    fn an_account_must_have_twelve_digits() {
        let bad = Args {
            account: Some("12345".into()),
            ..base()
        };
        assert!(Settings::from_args(&bad).is_err());
        let good = Args {
            account: Some("123456789012".into()),
            ..base()
        };
        let s = Settings::from_args(&good).expect("valid");
        assert_eq!(s.target.account.as_deref(), Some("123456789012"));
    }

    #[test]
    fn durations_accept_units_and_respect_bounds() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_secs(7)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5h").is_err());
        let a = Args {
            request_timeout: "0s".into(),
            ..base()
        };
        assert!(Settings::from_args(&a).is_err());
    }

    #[test]
    fn secret_names_must_be_dns_subdomains() {
        let bad = Args {
            secret_name: Some("Regcred_primary".into()),
            ..base()
        };
        assert!(Settings::from_args(&bad).is_err());
        let good = Args {
            secret_name: Some("regcred.primary".into()),
            ..base()
        };
        assert_eq!(
            Settings::from_args(&good)
                .expect("valid")
                .target
                .secret_name,
            "regcred.primary"
        );
    }

    #[test]
    fn registry_names_must_be_label_values() {
        let bad = Args {
            registry_name: Some("-primary".into()),
            ..base()
        };
        let err = Settings::from_args(&bad).expect_err("invalid registry name");
        assert!(err.to_string().contains("ECR_REGISTRY_NAME"), "{err}");
    }

    #[test]
    fn registry_ids_are_split_trimmed_deduplicated_and_checked() {
        let a = Args {
            registry_ids: Some(" 111122223333, 444455556666,,111122223333 ".into()),
            ..base()
        };
        let s = Settings::from_args(&a).expect("valid");
        assert_eq!(s.target.registry_ids, vec!["111122223333", "444455556666"]);
        let bad = Args {
            registry_ids: Some("111122223333,4444".into()),
            ..base()
        };
        let msg = Settings::from_args(&bad).expect_err("short id").to_string();
        assert_eq!(
            msg,
            "invalid setting REGISTRY_IDS (--registry-ids) = \"4444\": expected a 12-digit AWS account ID (4 digits, not 12)"
        );
        let empty = Args {
            registry_ids: Some(" , ".into()),
            ..base()
        };
        assert!(
            Settings::from_args(&empty)
                .expect("valid")
                .target
                .registry_ids
                .is_empty()
        );
    }

    #[test]
    fn role_arns_must_name_an_iam_role() {
        // Each with a region of its partition.
        for (good, region) in [
            ("arn:aws:iam::123456789012:role/ecr-reader", "eu-west-1"),
            (
                "arn:aws-cn:iam::123456789012:role/path/to/ecr.reader@x",
                "cn-north-1",
            ),
            ("arn:aws-us-gov:iam::123456789012:role/r", "us-gov-west-1"),
        ] {
            let a = Args {
                role_arn: Some(good.into()),
                region: Some(region.into()),
                ..base()
            };
            assert_eq!(
                Settings::from_args(&a)
                    .expect(good)
                    .target
                    .role_arn
                    .as_deref(),
                Some(good)
            );
        }
        for bad in [
            "ecr-reader",
            "arn:aws:iam::123456789012:user/bob",
            "arn:aws:iam::12345:role/r",
            "arn:aws:sts::123456789012:role/r",
            "arn:aws:iam:eu-west-1:123456789012:role/r",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/has space",
        ] {
            let a = Args {
                role_arn: Some(bad.into()),
                ..base()
            };
            let msg = Settings::from_args(&a).expect_err(bad).to_string();
            assert!(msg.contains("ROLE_ARN (--role-arn)"), "{msg}");
            assert!(msg.contains("expected an IAM role ARN"), "{msg}");
        }
        let blank = Args {
            role_arn: Some("  ".into()),
            ..base()
        };
        assert_eq!(
            Settings::from_args(&blank).expect("valid").target.role_arn,
            None
        );
    }

    #[test]
    fn image_pull_secret_service_accounts_are_a_checked_list() {
        let a = Args {
            image_pull_secret_for: Some("default, builder,default".into()),
            ..base()
        };
        assert_eq!(
            Settings::from_args(&a)
                .expect("valid")
                .target
                .image_pull_secret_for,
            vec!["default", "builder"]
        );
        let bad = Args {
            image_pull_secret_for: Some("Default".into()),
            ..base()
        };
        let msg = Settings::from_args(&bad).expect_err("bad name").to_string();
        assert!(msg.contains("IMAGE_PULL_SECRET_FOR"), "{msg}");
    }

    #[test]
    fn iso_regions_and_unknown_partitions_are_refused_as_the_chart_refuses_them() {
        let iso = Args {
            region: Some("us-iso-east-1".into()),
            ..base()
        };
        let msg = Settings::from_args(&iso)
            .expect_err("iso region")
            .to_string();
        assert_eq!(
            msg,
            format!(
                "invalid setting AWS_REGION (--region) = \"us-iso-east-1\": {REGION_RULE} (unknown AWS region)"
            )
        );
        let arn = Args {
            role_arn: Some("arn:aws-iso:iam::123456789012:role/r".into()),
            ..base()
        };
        let msg = Settings::from_args(&arn)
            .expect_err("iso partition")
            .to_string();
        assert!(
            msg.ends_with("(the partition is `aws`, `aws-cn` or `aws-us-gov`)"),
            "{msg}"
        );
        let gov = Args {
            region: Some("us-gov-west-1".into()),
            ..base()
        };
        assert_eq!(
            Settings::from_args(&gov)
                .expect("valid")
                .target
                .region
                .partition,
            Partition::AwsUsGov
        );
    }

    #[test]
    fn every_config_map_key_is_read_and_the_required_ones_are_required() {
        use clap::CommandFactory;
        let command = Args::command();
        let envs: Vec<String> = command
            .get_arguments()
            .filter_map(|a| a.get_env())
            .map(|e| e.to_string_lossy().into_owned())
            .collect();
        for key in ecr_contract::CONFIG_KEYS {
            assert!(envs.iter().any(|e| e == key.name), "{} not read", key.name);
        }
        let required = |args: &Args| match Settings::from_args(args) {
            Err(Error::MissingSetting { env, .. }) => Some(env),
            _ => None,
        };
        let empty = Args {
            registry_name: None,
            region: None,
            namespaces: None,
            ..base()
        };
        assert_eq!(required(&empty), Some(keys::REGISTRY_NAME));
        for key in ecr_contract::CONFIG_KEYS.iter().filter(|k| k.required) {
            let mut args = base();
            match key.name {
                keys::REGISTRY_NAME => args.registry_name = None,
                keys::AWS_REGION => args.region = None,
                other => panic!("{other} is required by the contract but not here"),
            }
            assert_eq!(required(&args), Some(key.name));
        }
    }

    #[test]
    fn a_selector_stands_in_for_target_namespaces_and_excludes_need_one() {
        let without = Args {
            namespaces: None,
            ..base()
        };
        assert!(matches!(
            Settings::from_args(&without),
            Err(Error::MissingSetting {
                env: keys::TARGET_NAMESPACES,
                ..
            })
        ));
        let selecting = Args {
            namespace_selector: Some(r#"{"matchLabels":{"team":"a"}}"#.into()),
            exclude_namespaces: Some("kube-system, kube-system".into()),
            prune: true,
            ..without.clone()
        };
        let s = Settings::from_args(&selecting).expect("a selector is enough");
        let selection = s.target.selection.expect("selection");
        assert_eq!(selection.query(), "team=a");
        assert_eq!(selection.exclude, ["kube-system"]);
        assert!(selection.prune);
        assert!(s.target.namespaces.is_empty());

        let invalid_env = |args: &Args| match Settings::from_args(args) {
            Err(Error::InvalidSetting { env, reason, .. }) => (env, reason),
            other => panic!("{other:?}"),
        };
        let stray = Args {
            exclude_namespaces: Some("kube-system".into()),
            ..base()
        };
        assert_eq!(invalid_env(&stray).0, keys::EXCLUDE_NAMESPACES);
        let stray = Args {
            prune: true,
            ..base()
        };
        assert_eq!(invalid_env(&stray).0, keys::PRUNE);
        let both = Args {
            namespace_selector: Some("{}".into()),
            exclude_namespaces: Some("apps".into()),
            ..base()
        };
        let (env, reason) = invalid_env(&both);
        assert_eq!(env, keys::EXCLUDE_NAMESPACES);
        assert!(reason.contains("explicit namespace"), "{reason}");
        let bad = Args {
            namespace_selector: Some(r#"{"matchLabels":{"a b":"x"}}"#.into()),
            ..base()
        };
        let (env, reason) = invalid_env(&bad);
        assert_eq!(env, keys::NAMESPACE_SELECTOR);
        assert!(reason.contains("matchLabels key"), "{reason}");
    }

    #[test]
    fn a_role_of_another_partition_than_the_region_is_refused() {
        let a = Args {
            region: Some("cn-north-1".into()),
            role_arn: Some("arn:aws:iam::123456789012:role/r".into()),
            ..base()
        };
        let msg = Settings::from_args(&a)
            .expect_err("wrong partition")
            .to_string();
        assert_eq!(
            msg,
            "invalid setting ROLE_ARN (--role-arn) = \"arn:aws:iam::123456789012:role/r\": expected a role of the partition aws-cn of AWS_REGION cn-north-1 (`arn:aws-cn:iam::…`): STS there only knows roles of its partition"
        );
        let same = Args {
            role_arn: Some("arn:aws-cn:iam::123456789012:role/r".into()),
            ..a
        };
        assert!(Settings::from_args(&same).is_ok());
    }

    /// A directory holding these files (a mounted ConfigMap).
    fn dir_of(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, value) in files {
            std::fs::write(dir.path().join(name), value).expect("write");
        }
        dir
    }

    #[test]
    fn a_registry_directory_reads_as_its_variables_would() {
        let dir = dir_of(&[
            (keys::REGISTRY_NAME, b"primary"),
            (keys::AWS_REGION, b"eu-west-1"),
            (keys::NAMESPACE_SELECTOR, br#"{"matchLabels":{"team":"a"}}"#),
            (keys::EXCLUDE_NAMESPACES, b"kube-system"),
            (keys::PRUNE, b"true"),
            (keys::IMAGE_PULL_SECRET_FOR, b""),
            ("NOT_A_KEY", b"ignored"),
            ("..data", b"the mount's own entry"),
        ]);
        let args = Args::from_dir(dir.path()).expect("reads");
        assert_eq!(args.registry_name.as_deref(), Some("primary"));
        assert!(args.prune);
        assert_eq!(args.image_pull_secret_for, None, "an empty file is unset");
        assert_eq!(args.request_timeout, "10s", "defaults apply");
        let s = Settings::from_dir_args(&args, dir.path()).expect("valid");
        let selection = s.target.selection.expect("a selector");
        assert_eq!(selection.query(), "team=a");
        assert_eq!(selection.exclude, ["kube-system"]);
        assert!(s.target.namespaces.is_empty());

        let off = dir_of(&[(keys::PRUNE, b"off"), (keys::DRY_RUN, b"no")]);
        let args = Args::from_dir(off.path()).expect("reads");
        assert!(!args.prune && !args.dry_run);
    }

    #[test]
    fn a_bad_file_in_a_registry_directory_is_an_error_naming_it() {
        let message = |files: &[(&str, &[u8])]| {
            let dir = dir_of(files);
            let err = Args::from_dir(dir.path())
                .and_then(|args| Settings::from_dir_args(&args, dir.path()))
                .expect_err("refused");
            let shown = err
                .to_string()
                .replace(&dir.path().display().to_string(), "<dir>");
            (err, shown)
        };
        let (err, shown) = message(&[
            (keys::REGISTRY_NAME, b"primary"),
            (keys::AWS_REGION, b"mars-1"),
            (keys::TARGET_NAMESPACES, b"apps"),
        ]);
        assert!(matches!(err, Error::SyncSetting { .. }), "{err:?}");
        assert_eq!(
            shown,
            format!(
                "sync: settings file <dir>/AWS_REGION: invalid setting AWS_REGION (--region) = \"mars-1\": {REGION_RULE} (unknown AWS region)"
            )
        );
        let (_, shown) = message(&[(keys::AWS_REGION, b"eu-west-1")]);
        assert_eq!(
            shown,
            "sync: settings file <dir>/ECR_REGISTRY_NAME: missing setting ECR_REGISTRY_NAME (--registry-name)"
        );
        let (_, shown) = message(&[(keys::PRUNE, b"maybe")]);
        assert!(
            shown
                .starts_with("sync: settings file <dir>/PRUNE: invalid value 'maybe' for '--prune"),
            "{shown}"
        );
        let (_, shown) = message(&[(keys::LOG_FORMAT, b"xml")]);
        assert!(
            shown.starts_with("sync: settings file <dir>/LOG_FORMAT: invalid value 'xml'"),
            "{shown}"
        );
        let (_, shown) = message(&[(keys::TARGET_NAMESPACES, &[0xff, 0xfe])]);
        assert_eq!(
            shown,
            "sync: settings file <dir>/TARGET_NAMESPACES: not UTF-8 text"
        );
    }

    #[test]
    fn the_sync_run_is_chosen_by_sync_dir_alone() {
        assert_eq!(SyncSettings::from_args(&base()).expect("not a sync"), None);
        let args = Args {
            sync: SyncArgs {
                sync_dir: Some("/etc/ecr-refresher/sync".into()),
                sync_credentials_dir: None,
            },
            registry_name: None,
            region: None,
            ..base()
        };
        let s = SyncSettings::from_args(&args)
            .expect("valid")
            .expect("a sync run");
        assert_eq!(s.config_dir, Path::new(names::SYNC_CONFIG_DIR));
        assert_eq!(s.credentials_dir, None);
        assert_eq!(s.request_timeout, Duration::from_secs(10));
    }

    #[test]
    fn the_default_secret_name_is_the_contracts_pull_secret() {
        let s = Settings::from_args(&base()).expect("valid");
        assert_eq!(s.target.secret_name, names::pull_secret("primary"));
    }
}
