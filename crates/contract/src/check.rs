//! The check plan: what the chart's `helm test` Pod tells `ecr-refresher --check-plan` to
//! verify, one line per registry and target namespace, written by `ecr-chart` into the
//! ConfigMap [`crate::names::CHECK`] (key [`PLAN_KEY`]), mounted as a file, and read by the
//! refresher with the same functions.
//!
//! A line is `<registry> <namespace> <secret> <hosts>`: the pull Secret the registry writes
//! into that namespace and the registry hosts its `.dockerconfigjson` must name
//! (comma-separated). A host is `<account>.dkr.ecr.<region>.<dns suffix>`, its account `*` when
//! the chart cannot know it (it comes from a credentials Secret or the credentials' own
//! account). Every field is free of spaces; lines starting with `#` and blank lines are ignored.

use crate::plan;
use crate::rules::{self, Partition};

/// What a host's account is when the chart does not know it.
pub const ANY_ACCOUNT: &str = "*";

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The registry the Secret belongs to.
    pub registry: String,
    /// A target namespace of the registry.
    pub namespace: String,
    /// The pull Secret there.
    pub secret: String,
    /// The hosts its `auths` must name, each a host or a pattern with [`ANY_ACCOUNT`].
    pub hosts: Vec<String>,
}

impl Entry {
    /// The entry as one plan line, without its newline.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {}",
            self.registry,
            self.namespace,
            self.secret,
            self.hosts.join(",")
        )
    }
}

/// The registry host of `account` (or [`ANY_ACCOUNT`]) in `region` of `partition`.
pub fn host(account: Option<&str>, region: &str, partition: Partition) -> String {
    format!(
        "{}.dkr.ecr.{region}.{}",
        account.unwrap_or(ANY_ACCOUNT),
        partition.dns_suffix()
    )
}

/// Whether `host` is `pattern` (a host, or one with [`ANY_ACCOUNT`] for a 12-digit account).
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.split_once('.') {
        Some((ANY_ACCOUNT, rest)) => host
            .split_once('.')
            .is_some_and(|(account, r)| r == rest && rules::account_id(account).is_ok()),
        _ => pattern == host,
    }
}

pub use crate::plan::{PLAN_KEY, PlanError, PlanFault};

/// The shape of a line, for errors.
const SHAPE: &str = "<registry> <namespace> <secret> <hosts>";

/// Whether `host` is `<12-digit account or *>.dkr.ecr.<region>.<that region's suffix>`.
fn is_host(host: &str) -> bool {
    let Some((account, rest)) = host.split_once(".dkr.ecr.") else {
        return false;
    };
    let Some((region, suffix)) = rest.split_once('.') else {
        return false;
    };
    (account == ANY_ACCOUNT || rules::account_id(account).is_ok())
        && rules::region(region).is_ok_and(|p| p.dns_suffix() == suffix)
}

/// Reads a plan: every entry in order, each field checked with the contract's rules.
pub fn parse(text: &str) -> Result<Vec<Entry>, PlanError> {
    plan::lines(text, SHAPE)
        .map(|line| {
            let line = line?;
            let hosts: Vec<String> = line.last.split(',').map(str::to_owned).collect();
            if let Some(bad) = hosts.iter().find(|h| !is_host(h)) {
                return Err(line.error("hosts", PlanFault::Host(bad.clone())));
            }
            Ok(Entry {
                registry: line.registry.to_owned(),
                namespace: line.namespace.to_owned(),
                secret: line.secret.to_owned(),
                hosts,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            registry: "primary".into(),
            namespace: "apps".into(),
            secret: "regcred-primary".into(),
            hosts: vec![
                host(None, "cn-north-1", Partition::AwsCn),
                host(Some("210987654321"), "cn-north-1", Partition::AwsCn),
            ],
        }
    }

    #[test]
    fn a_written_line_reads_back_as_the_same_entry() {
        assert_eq!(parse(&entry().line()), Ok(vec![entry()]));
        assert_eq!(
            entry().line(),
            "primary apps regcred-primary *.dkr.ecr.cn-north-1.amazonaws.com.cn,210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn an_unknown_account_matches_any_twelve_digit_account_of_that_region_only() {
        let any = host(None, "eu-west-1", Partition::Aws);
        assert!(host_matches(
            &any,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        ));
        assert!(!host_matches(
            &any,
            "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
        ));
        assert!(!host_matches(&any, "evil.dkr.ecr.eu-west-1.amazonaws.com"));
        let one = host(Some("123456789012"), "eu-west-1", Partition::Aws);
        assert!(host_matches(
            &one,
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        ));
        assert!(!host_matches(
            &one,
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
        ));
    }

    #[test]
    fn a_host_of_another_suffix_or_a_short_line_is_refused_naming_its_line() {
        let err = parse("# plan\nprimary apps regcred-primary 1.dkr.ecr.eu-west-1.amazonaws.com\n")
            .expect_err("bad account");
        assert_eq!((err.line, err.field), (2, "hosts"));
        let err = parse("primary apps regcred-primary *.dkr.ecr.cn-north-1.amazonaws.com")
            .expect_err("wrong suffix for cn");
        assert!(matches!(err.fault, PlanFault::Host(_)), "{err}");
        let err = parse("primary apps").expect_err("two fields");
        assert_eq!(err.fault, PlanFault::FieldCount(2));
    }
}
