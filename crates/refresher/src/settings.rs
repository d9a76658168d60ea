//! Command-line flags and environment variables, and their check into typed [`Settings`].
//!
//! Every flag also reads an environment variable; the variable names are the keys of the
//! per-registry ConfigMap that `ecr-chart` renders (see the settings contract in the README).

use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::error::Error;

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
                  Exit codes: 0 ok, 1 failure at run time, 2 bad settings."
)]
pub struct Args {
    /// Name of the registry, used in logs, errors and the `ecr-registry-helper/registry` label.
    #[arg(long, env = "ECR_REGISTRY_NAME")]
    pub registry_name: Option<String>,

    /// AWS region of the registry, e.g. `eu-west-1` (`cn-*` regions use `amazonaws.com.cn`).
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,

    /// Name of the Secret to write [default: regcred-<registry name>].
    #[arg(long, env = "SECRET_NAME")]
    pub secret_name: Option<String>,

    /// Comma-separated namespaces to write the Secret into.
    #[arg(long, env = "TARGET_NAMESPACES", value_name = "NS[,NS...]")]
    pub namespaces: Option<String>,

    /// AWS account (12 digits) that owns the registry; sent as `registryIds` (from the
    /// credentials Secret or, with IRSA / Pod Identity, the ConfigMap).
    /// [default: the account of the credentials]
    #[arg(long, env = "AWS_ACCOUNT")]
    pub account: Option<String>,

    /// Comma-separated extra AWS accounts (12 digits each): one more `auths` entry
    /// `<id>.dkr.ecr.<region>.<suffix>` per account in the same Secret, with the same token.
    #[arg(long, env = "REGISTRY_IDS", value_name = "ID[,ID...]")]
    pub registry_ids: Option<String>,

    /// IAM role to assume with STS (session `ecr-refresher-<registry>`) before asking ECR,
    /// using the default credential chain as the source (cross-account pulls).
    #[arg(long, env = "ROLE_ARN", value_name = "ARN")]
    pub role_arn: Option<String>,

    /// Comma-separated ServiceAccounts: in each target namespace, add the Secret to their
    /// `imagePullSecrets` if missing (entries others put there are kept).
    #[arg(long, env = "IMAGE_PULL_SECRET_FOR", value_name = "SA[,SA...]")]
    pub image_pull_secret_for: Option<String>,

    /// Log line format on stderr.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,

    /// Fetch a token (proving the AWS credentials work) and print the Secret that would be
    /// applied, with every credential redacted; Kubernetes is not contacted.
    #[arg(
        long,
        env = "DRY_RUN",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub dry_run: bool,

    /// Format of the `--dry-run` output on stdout.
    #[arg(long, env = "DRY_RUN_OUTPUT", value_enum, default_value_t = OutputFormat::Yaml)]
    pub output: OutputFormat,

    /// Timeout of each single request to AWS or Kubernetes (e.g. `10s`, `500ms`, `1m`).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value = "10s")]
    pub request_timeout: String,

    /// Longest time spent retrying transient failures of one step (`0s` = no retries).
    #[arg(long, env = "RETRY_TIMEOUT", default_value = "60s")]
    pub retry_timeout: String,
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
    /// Registry name (a valid label value).
    pub registry: String,
    /// AWS region and its partition.
    pub region: Region,
    /// Name of the Secret to write (a DNS-1123 subdomain).
    pub secret_name: String,
    /// Target namespaces, deduplicated, in the given order.
    pub namespaces: Vec<String>,
    /// Registry account, if pinned.
    pub account: Option<String>,
    /// Extra registry accounts, deduplicated, in the given order.
    pub registry_ids: Vec<String>,
    /// Role to assume before asking ECR.
    pub role_arn: Option<String>,
    /// ServiceAccounts whose `imagePullSecrets` get the Secret, deduplicated.
    pub image_pull_secret_for: Vec<String>,
    /// Log format.
    pub log_format: LogFormat,
    /// Print instead of apply.
    pub dry_run: bool,
    /// Dry-run output format.
    pub output: OutputFormat,
    /// Timeout of each request.
    pub request_timeout: Duration,
    /// Retry budget of each step.
    pub retry_timeout: Duration,
}

/// An AWS region with the DNS suffix of its partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// Region code, e.g. `eu-west-1`.
    pub name: String,
    /// DNS suffix of the partition, e.g. `amazonaws.com`.
    pub dns_suffix: &'static str,
}

impl Region {
    /// Checks a region code and derives its partition's DNS suffix.
    pub fn parse(name: &str) -> Result<Self, String> {
        let parts: Vec<&str> = name.split('-').collect();
        let well_formed = parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty();
        if !well_formed {
            return Err("expected an AWS region code like eu-west-1 or cn-north-1".into());
        }
        let dns_suffix = if name.starts_with("cn-") {
            "amazonaws.com.cn"
        } else if name.starts_with("us-isob-") {
            "sc2s.sgov.gov"
        } else if name.starts_with("us-iso-") {
            "c2s.ic.gov"
        } else {
            "amazonaws.com"
        };
        Ok(Self {
            name: name.to_owned(),
            dns_suffix,
        })
    }
}

impl Settings {
    /// Checks raw flags. Every error is [`Error::MissingSetting`] or [`Error::InvalidSetting`].
    pub fn from_args(args: &Args) -> Result<Self, Error> {
        let registry = required(&args.registry_name, "ECR_REGISTRY_NAME", "--registry-name")?;
        check(
            &registry,
            "ECR_REGISTRY_NAME",
            "--registry-name",
            label_value,
        )?;

        let region_raw = required(&args.region, "AWS_REGION", "--region")?;
        let region = Region::parse(&region_raw)
            .map_err(|reason| invalid("AWS_REGION", "--region", &region_raw, reason))?;

        let secret_name = match non_empty(&args.secret_name) {
            Some(name) => name,
            None => format!("regcred-{registry}"),
        };
        check(&secret_name, "SECRET_NAME", "--secret-name", dns_subdomain)?;

        let ns_raw = required(&args.namespaces, "TARGET_NAMESPACES", "--namespaces")?;
        let mut namespaces: Vec<String> = Vec::new();
        for ns in ns_raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            check(ns, "TARGET_NAMESPACES", "--namespaces", dns_label)?;
            if !namespaces.iter().any(|n| n == ns) {
                namespaces.push(ns.to_owned());
            }
        }
        if namespaces.is_empty() {
            return Err(invalid(
                "TARGET_NAMESPACES",
                "--namespaces",
                &ns_raw,
                "expected at least one namespace".into(),
            ));
        }

        let account = non_empty(&args.account);
        if let Some(account) = &account {
            check(account, "AWS_ACCOUNT", "--account", account_id)?;
        }
        let registry_ids = list(
            &args.registry_ids,
            "REGISTRY_IDS",
            "--registry-ids",
            account_id,
        )?;
        let role_arn = non_empty(&args.role_arn);
        if let Some(arn) = &role_arn {
            check(arn, "ROLE_ARN", "--role-arn", role_arn_rule)?;
        }
        let image_pull_secret_for = list(
            &args.image_pull_secret_for,
            "IMAGE_PULL_SECRET_FOR",
            "--image-pull-secret-for",
            dns_subdomain,
        )?;

        let request_timeout = parse_duration(&args.request_timeout)
            .and_then(|d| within(d, Duration::from_millis(100), Duration::from_secs(300)))
            .map_err(|reason| {
                invalid(
                    "REQUEST_TIMEOUT",
                    "--request-timeout",
                    &args.request_timeout,
                    reason,
                )
            })?;
        let retry_timeout = parse_duration(&args.retry_timeout)
            .and_then(|d| within(d, Duration::ZERO, Duration::from_secs(3600)))
            .map_err(|reason| {
                invalid(
                    "RETRY_TIMEOUT",
                    "--retry-timeout",
                    &args.retry_timeout,
                    reason,
                )
            })?;

        Ok(Self {
            registry,
            region,
            secret_name,
            namespaces,
            account,
            registry_ids,
            role_arn,
            image_pull_secret_for,
            log_format: args.log_format,
            dry_run: args.dry_run,
            output: args.output,
            request_timeout,
            retry_timeout,
        })
    }
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

fn invalid(env: &'static str, flag: &'static str, value: &str, reason: String) -> Error {
    Error::InvalidSetting {
        env,
        flag,
        value: value.to_owned(),
        reason,
    }
}

fn check(
    value: &str,
    env: &'static str,
    flag: &'static str,
    rule: impl Fn(&str) -> Result<(), String>,
) -> Result<(), Error> {
    rule(value).map_err(|reason| invalid(env, flag, value, reason))
}

/// A comma-separated list: items trimmed, empty items dropped, each checked, duplicates dropped.
fn list(
    value: &Option<String>,
    env: &'static str,
    flag: &'static str,
    rule: impl Fn(&str) -> Result<(), String>,
) -> Result<Vec<String>, Error> {
    let mut items: Vec<String> = Vec::new();
    let raw = value.as_deref().unwrap_or_default();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        check(item, env, flag, &rule)?;
        if !items.iter().any(|i| i == item) {
            items.push(item.to_owned());
        }
    }
    Ok(items)
}

/// A 12-digit AWS account ID.
fn account_id(s: &str) -> Result<(), String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("expected a 12-digit AWS account ID".into())
    }
}

/// An IAM role ARN: `arn:<partition>:iam::<account>:role/<optional path/><name>`.
fn role_arn_rule(s: &str) -> Result<(), String> {
    let err =
        || "expected an IAM role ARN like arn:aws:iam::123456789012:role/ecr-reader".to_owned();
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(err());
    };
    let name = resource.strip_prefix("role/").unwrap_or_default();
    let name_ok = !name.is_empty()
        && !name.ends_with('/')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-/".contains(&b));
    let ok = *arn == "arn"
        && partition.starts_with("aws")
        && *service == "iam"
        && region.is_empty()
        && account_id(account).is_ok()
        && name_ok;
    if ok { Ok(()) } else { Err(err()) }
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// A DNS-1123 label: a namespace name.
fn dns_label(s: &str) -> Result<(), String> {
    let bytes = s.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|&b| is_alnum_lower(b) || b == b'-')
        && is_alnum_lower(bytes[0])
        && is_alnum_lower(bytes[bytes.len() - 1]);
    if ok {
        Ok(())
    } else {
        Err("expected a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit".into())
    }
}

/// A DNS-1123 subdomain: a Secret name.
fn dns_subdomain(s: &str) -> Result<(), String> {
    let ok = !s.is_empty() && s.len() <= 253 && s.split('.').all(|part| dns_label(part).is_ok());
    if ok {
        Ok(())
    } else {
        Err("expected a DNS-1123 subdomain: at most 253 lowercase letters, digits, '-' or '.', starting and ending with a letter or digit".into())
    }
}

/// A Kubernetes label value (the registry name ends up in a label).
fn label_value(s: &str) -> Result<(), String> {
    let bytes = s.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err("expected a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into())
    }
}

/// Parses `500ms`, `10s`, `2m` or a bare number of seconds.
fn parse_duration(raw: &str) -> Result<Duration, String> {
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

/// Settings for unit tests elsewhere in the crate: registry `primary` in `region`, one
/// namespace `apps`, plain logs, 1 s request timeout and the given retry budget.
#[cfg(test)]
pub(crate) fn for_tests(region: &str, retry_timeout: Duration) -> Settings {
    Settings {
        registry: "primary".into(),
        region: Region::parse(region).expect("valid region"),
        secret_name: "regcred-primary".into(),
        namespaces: vec!["apps".into()],
        account: None,
        registry_ids: Vec::new(),
        role_arn: None,
        image_pull_secret_for: Vec::new(),
        log_format: LogFormat::Plain,
        dry_run: false,
        output: OutputFormat::Yaml,
        request_timeout: Duration::from_secs(1),
        retry_timeout,
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
            account: None,
            registry_ids: None,
            role_arn: None,
            image_pull_secret_for: None,
            log_format: LogFormat::Json,
            dry_run: false,
            output: OutputFormat::Yaml,
            request_timeout: "10s".into(),
            retry_timeout: "60s".into(),
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
        assert_eq!(s.registry, "primary");
        assert_eq!(s.secret_name, "regcred-primary");
        assert_eq!(s.region.dns_suffix, "amazonaws.com");
        assert_eq!(s.namespaces, vec!["apps"]);
        assert_eq!(s.account, None);
        assert!(s.registry_ids.is_empty());
        assert_eq!(s.role_arn, None);
        assert!(s.image_pull_secret_for.is_empty());
        assert_eq!(s.request_timeout, Duration::from_secs(10));
        assert_eq!(s.retry_timeout, Duration::from_secs(60));
        assert!(!s.dry_run);
    }

    #[test]
    fn namespaces_are_split_trimmed_and_deduplicated() {
        let a = Args {
            namespaces: Some(" apps, team-b,apps ,, ".into()),
            ..base()
        };
        let s = Settings::from_args(&a).expect("valid");
        assert_eq!(s.namespaces, vec!["apps", "team-b"]);
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
            Region::parse("cn-north-1").expect("valid").dns_suffix,
            "amazonaws.com.cn"
        );
        assert_eq!(
            Region::parse("us-gov-west-1").expect("valid").dns_suffix,
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
        assert_eq!(s.account.as_deref(), Some("123456789012"));
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
            Settings::from_args(&good).expect("valid").secret_name,
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
        assert_eq!(s.registry_ids, vec!["111122223333", "444455556666"]);
        let bad = Args {
            registry_ids: Some("111122223333,4444".into()),
            ..base()
        };
        let msg = Settings::from_args(&bad).expect_err("short id").to_string();
        assert_eq!(
            msg,
            "invalid setting REGISTRY_IDS (--registry-ids) = \"4444\": expected a 12-digit AWS account ID"
        );
        let empty = Args {
            registry_ids: Some(" , ".into()),
            ..base()
        };
        assert!(
            Settings::from_args(&empty)
                .expect("valid")
                .registry_ids
                .is_empty()
        );
    }

    #[test]
    fn role_arns_must_name_an_iam_role() {
        for good in [
            "arn:aws:iam::123456789012:role/ecr-reader",
            "arn:aws-cn:iam::123456789012:role/path/to/ecr.reader@x",
            "arn:aws-us-gov:iam::123456789012:role/r",
        ] {
            let a = Args {
                role_arn: Some(good.into()),
                ..base()
            };
            assert_eq!(
                Settings::from_args(&a).expect(good).role_arn.as_deref(),
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
        assert_eq!(Settings::from_args(&blank).expect("valid").role_arn, None);
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
}
