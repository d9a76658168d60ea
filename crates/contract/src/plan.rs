//! What the chart's plans (the uninstall plan, the check plan) share: lines of four
//! space-separated fields, the first three naming a registry's pull Secret in one of its target
//! namespaces, read line by line and checked with the contract's rules.
//!
//! Lines starting with `#` and blank lines are ignored; line numbers in errors are 1-based.

use std::fmt;

use crate::rules::{self, Fault};

/// The key of a plan's ConfigMap, and the plan's file name where the hook pod mounts it.
pub const PLAN_KEY: &str = "plan";

/// The most bytes a ConfigMap's data may hold: the API server refuses more (`ValidateConfigMap`
/// sums the values of `data` and `binaryData` against `core.MaxSecretSize`, 1 MiB). A plan
/// longer than this is refused when the chart renders, naming the value that turns it off.
pub const MAX_CONFIG_MAP_BYTES: usize = 1024 * 1024;

/// Whether `plan` fits the one key of its ConfigMap ([`MAX_CONFIG_MAP_BYTES`], counted in bytes
/// as the API server does).
pub fn fits_config_map(plan: &str) -> bool {
    plan.len() <= MAX_CONFIG_MAP_BYTES
}

/// A plan line that does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    /// 1-based line number.
    pub line: usize,
    /// Which field, or `fields`.
    pub field: &'static str,
    /// What is wrong.
    pub fault: PlanFault,
    /// The line's expected shape, e.g. `<registry> <namespace> <secret> <hosts>`.
    pub shape: &'static str,
}

/// What is wrong with a plan line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanFault {
    /// Not four space-separated fields.
    FieldCount(usize),
    /// A field a rule refused.
    Rule(Fault),
    /// A host that is not `<account or *>.dkr.ecr.<region>.<suffix>` (check plan only).
    Host(String),
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fault {
            PlanFault::FieldCount(n) => write!(
                f,
                "line {}: {n} fields, expected 4 ({})",
                self.line, self.shape
            ),
            PlanFault::Rule(fault) => write!(f, "line {}: {}: {fault}", self.line, self.field),
            PlanFault::Host(host) => write!(
                f,
                "line {}: host {host:?} is not <account or *>.dkr.ecr.<region>.<suffix>",
                self.line
            ),
        }
    }
}

impl std::error::Error for PlanError {}

/// One plan line whose first three fields passed their rules.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The line's expected shape, for errors.
    pub shape: &'static str,
    /// The registry the Secret belongs to.
    pub registry: &'a str,
    /// A target namespace of the registry.
    pub namespace: &'a str,
    /// The pull Secret there.
    pub secret: &'a str,
    /// The fourth field, for the plan to read.
    pub last: &'a str,
}

impl Line<'_> {
    /// An error about `field` of this line.
    pub fn error(&self, field: &'static str, fault: PlanFault) -> PlanError {
        PlanError {
            line: self.number,
            field,
            fault,
            shape: self.shape,
        }
    }

    /// `value` checked with `rule`, an error about `field` of this line if it is refused.
    pub fn check(
        &self,
        field: &'static str,
        value: &str,
        rule: fn(&str) -> Result<(), Fault>,
    ) -> Result<(), PlanError> {
        rule(value).map_err(|fault| self.error(field, PlanFault::Rule(fault)))
    }
}

/// The namespace field of a line about a registry with a namespace selector: the Secret in
/// every namespace where it is found (its namespaces are only known at run time).
pub const EVERY_NAMESPACE: &str = "*";

/// A plan line's namespace: a namespace, or [`EVERY_NAMESPACE`].
fn plan_namespace(s: &str) -> Result<(), Fault> {
    if s == EVERY_NAMESPACE {
        Ok(())
    } else {
        rules::namespace(s)
    }
}

/// The plan's lines of `shape` in order, comments and blank lines skipped, each with its
/// registry, namespace and secret checked; the first line that does not read ends it.
pub fn lines<'a>(
    text: &'a str,
    shape: &'static str,
) -> impl Iterator<Item = Result<Line<'a>, PlanError>> {
    text.lines()
        .enumerate()
        .map(|(index, raw)| (index + 1, raw.trim()))
        .filter(|(_, raw)| !raw.is_empty() && !raw.starts_with('#'))
        .map(move |(number, raw)| {
            let fields: Vec<&str> = raw.split_whitespace().collect();
            let [registry, namespace, secret, last] = fields[..] else {
                return Err(PlanError {
                    line: number,
                    field: "fields",
                    fault: PlanFault::FieldCount(fields.len()),
                    shape,
                });
            };
            let line = Line {
                number,
                shape,
                registry,
                namespace,
                secret,
                last,
            };
            line.check("registry", registry, rules::registry_name)?;
            line.check("namespace", namespace, plan_namespace)?;
            line.check("secret", secret, rules::dns_subdomain)?;
            Ok(line)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_of_exactly_one_mebibyte_fits_and_one_byte_more_does_not() {
        assert!(fits_config_map(&"a".repeat(MAX_CONFIG_MAP_BYTES)));
        assert!(!fits_config_map(&"a".repeat(MAX_CONFIG_MAP_BYTES + 1)));
        // Bytes, not characters: 'é' is two bytes in UTF-8.
        assert!(!fits_config_map(&"é".repeat(MAX_CONFIG_MAP_BYTES / 2 + 1)));
    }
}
