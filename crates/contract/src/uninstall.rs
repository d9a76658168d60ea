//! The uninstall plan: what the chart's pre-delete hook tells `ecr-refresher --uninstall` to
//! remove, one line per registry and target namespace, written by `ecr-chart` and read by the
//! refresher with the same functions.
//!
//! A line is `<registry> <namespace> <secret> <service accounts>`: the pull Secret the
//! registry writes into that namespace and the ServiceAccounts there whose `imagePullSecrets`
//! list it (comma-separated, `-` for none). Every field is a DNS name, so none holds a space
//! or a comma; lines starting with `#` and blank lines are ignored.

use crate::plan;
use crate::rules;

/// The uninstall ConfigMap's key, and the file name of the plan in the Job's volume.
pub use crate::plan::PLAN_KEY;

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The registry the Secret belongs to (its `ecr-registry-helper/registry` label).
    pub registry: String,
    /// A target namespace of the registry.
    pub namespace: String,
    /// The pull Secret there.
    pub secret: String,
    /// The ServiceAccounts there that list it in `imagePullSecrets`.
    pub service_accounts: Vec<String>,
}

impl Entry {
    /// The entry as one plan line, without its newline.
    pub fn line(&self) -> String {
        let accounts = if self.service_accounts.is_empty() {
            "-".to_owned()
        } else {
            self.service_accounts.join(",")
        };
        format!(
            "{} {} {} {accounts}",
            self.registry, self.namespace, self.secret
        )
    }
}

pub use crate::plan::{PlanError, PlanFault};

/// The shape of a line, for errors.
const SHAPE: &str = "<registry> <namespace> <secret> <service accounts or ->";

/// Reads a plan: every entry in order, each field checked with the contract's rules.
pub fn parse(text: &str) -> Result<Vec<Entry>, PlanError> {
    plan::lines(text, SHAPE)
        .map(|line| {
            let line = line?;
            let service_accounts: Vec<String> = if line.last == "-" {
                Vec::new()
            } else {
                line.last.split(',').map(str::to_owned).collect()
            };
            for account in &service_accounts {
                line.check("service account", account, rules::dns_subdomain)?;
            }
            Ok(Entry {
                registry: line.registry.to_owned(),
                namespace: line.namespace.to_owned(),
                secret: line.secret.to_owned(),
                service_accounts,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(accounts: &[&str]) -> Entry {
        Entry {
            registry: "primary".into(),
            namespace: "apps".into(),
            secret: "regcred-primary".into(),
            service_accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
        }
    }

    #[test]
    fn a_written_line_reads_back_as_the_same_entry() {
        for e in [entry(&[]), entry(&["default", "builder"])] {
            assert_eq!(parse(&e.line()), Ok(vec![e.clone()]));
        }
        assert_eq!(entry(&[]).line(), "primary apps regcred-primary -");
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_bad_lines_name_their_number() {
        let text = "# plan\n\nprimary apps regcred-primary -\nprimary Apps regcred-primary -\n";
        let err = parse(text).expect_err("uppercase namespace");
        assert_eq!(err.line, 4);
        assert_eq!(err.field, "namespace");
        let err = parse("primary apps").expect_err("two fields");
        assert_eq!(err.fault, PlanFault::FieldCount(2));
        assert!(err.to_string().starts_with("line 1: 2 fields"), "{err}");
    }
}
