//! The rules about several fields at once, which a JSON Schema cannot state or states worse:
//! duplicate registry names, lists that hold each entry once, at least one target namespace,
//! `existingSecret` exactly with its access mode, a role of the region's partition, and the
//! longest gap of each schedule (refused at the token's lifetime, warned about just under it).

use std::collections::HashMap;

use serde_json::Value;

use super::checks::{self, Finding};
use super::load::quote;
use super::model;
use super::path::FieldPath;
use super::report::{Problem, Severity};
use super::schedule::{self, GapCache, NoGap};
use super::schema::from_finding;

/// Every problem the cross-field rules find in the merged values (null keys deleted).
pub fn check(values: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    registry_rules(values, &mut problems);
    duplicates(values, &mut problems);
    problems
}

/// The rules about one registry as a whole: lists without repeats, at least one target
/// namespace, `existingSecret` exactly with its access mode, a role of the region's partition,
/// and a schedule that parses and keeps the token alive.
fn registry_rules(values: &Value, problems: &mut Vec<Problem>) {
    let Some(Value::Array(registries)) = values.get("ecrRegistries") else {
        return;
    };
    let default_mode = match values.get("accessMode") {
        None => Some("externalSecret"),
        Some(mode) => mode.as_str(),
    };
    let zone_name = values
        .get("cronJob")
        .and_then(|c| c.get("timeZone"))
        .and_then(Value::as_str);
    // An unknown zone is reported by its format; the schedules are then judged in UTC.
    let zone = zone_name
        .and_then(schedule::time_zone)
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let zone_name = zone_name.filter(|n| schedule::time_zone(n).is_some());
    let default_schedule = model::default_schedule();
    // Parsing a cron schedule is the costliest check, and schedules repeat: once each.
    let mut schedules: HashMap<&str, Verdict> = HashMap::new();
    let mut gaps = GapCache::default();
    for (n, registry) in registries.iter().enumerate() {
        let at = FieldPath::root().key("ecrRegistries").index(n);
        for key in ["namespaces", "registryIds", "imagePullSecretFor"] {
            if let Some(Value::Array(items)) = registry.get(key) {
                repeats(&at.key(key), items, problems);
            }
        }
        target_namespaces(&at, registry, problems);
        let mode = match registry.get("accessMode") {
            None => default_mode,
            Some(mode) => mode.as_str(),
        };
        if let Some(mode) = mode {
            existing_secret(
                &at,
                registry,
                mode,
                registry.get("accessMode").is_none(),
                problems,
            );
        }
        role_partition(&at, registry, problems);
        let text = match registry.get("schedule") {
            None => default_schedule.as_str(),
            Some(Value::String(s)) => s.as_str(),
            Some(_) => continue, // a type error, reported by the schema
        };
        let verdict = schedules
            .entry(text)
            .or_insert_with(|| match checks::schedule(text) {
                Ok(Some(cron)) => {
                    gaps.remember(text, cron);
                    Verdict::Measure
                }
                Ok(None) => Verdict::Measure,
                // Reported by the schema's `cron-schedule` format.
                Err(_) if checks::schedule_shape(text).is_err() => Verdict::Reported,
                Err(finding) => Verdict::Refuse(finding),
            });
        match verdict {
            Verdict::Reported => {}
            Verdict::Refuse(finding) => {
                problems.push(from_finding(at.key("schedule"), finding.clone()));
            }
            Verdict::Measure => {
                let gap = gaps.longest_gap(text, zone_name.unwrap_or("UTC"), &zone);
                if let Some(problem) = schedule_gap(&at, text, zone_name, gap) {
                    problems.push(problem);
                }
            }
        }
    }
}

/// What a distinct schedule needs.
enum Verdict {
    /// It parses: measure its gap (per time zone).
    Measure,
    /// Its fields are wrong, which the schema's format reports.
    Reported,
    /// Its fields look right but it does not parse.
    Refuse(Finding),
}

/// Report every repeated item of a list that must hold each value once.
fn repeats(path: &FieldPath, items: &[Value], problems: &mut Vec<Problem>) {
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else { continue };
        match first.get(text) {
            None => {
                first.insert(text, i);
            }
            Some(&earlier) => {
                problems.push(
                    Problem::at_path(
                        path.index(i),
                        format!("{} is listed twice", quote(text)),
                        format!("already at {}", path.index(earlier)),
                    )
                    .with_help(Some(format!(
                        "each entry of `{}` is listed once: remove the copy",
                        path.last_key().unwrap_or("the list")
                    ))),
                );
            }
        }
    }
}

/// A registry writes its pull secret to `namespace`, `namespaces`, or both: at least one.
fn target_namespaces(at: &FieldPath, registry: &Value, problems: &mut Vec<Problem>) {
    if !registry.is_object() || registry.get("namespace").is_some() {
        return;
    }
    let (path, message, label) = match registry.get("namespaces") {
        Some(Value::Array(items)) if !items.is_empty() => return,
        Some(Value::Array(_)) => (
            at.key("namespaces"),
            "no target namespace: `namespaces` is empty and `namespace` is not set",
            "an empty list",
        ),
        Some(_) => return, // a type error, reported by the schema
        None => (
            at.clone(),
            "missing required key `namespace` (or `namespaces`)",
            "this registry has no `namespace` or `namespaces`",
        ),
    };
    problems.push(
        Problem::at_path(path, message.to_owned(), label).with_help(Some(
            "name where `regcred-<name>` is written: `namespace: apps`, `namespaces: [apps, web]`, \
             or both"
                .to_owned(),
        )),
    );
}

/// `existingSecret` names the Secret of the `existingSecret` access mode: required with that
/// mode, refused with any other.
fn existing_secret(
    at: &FieldPath,
    registry: &Value,
    mode: &str,
    inherited: bool,
    problems: &mut Vec<Problem>,
) {
    if !registry.is_object() {
        return;
    }
    let from = if inherited {
        " (the top-level `accessMode`)"
    } else {
        ""
    };
    match (mode, registry.get("existingSecret")) {
        ("existingSecret", None) => problems.push(
            Problem::at_path(
                at.clone(),
                format!("missing `existingSecret`: the access mode is `existingSecret`{from}"),
                "this registry has no `existingSecret`",
            )
            .with_help(Some(
                "name the Secret in the release namespace that holds AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY (`existingSecret: my-ecr-keys`), or choose `accessMode: \
                 externalSecret` or `serviceAccount` for this registry"
                    .to_owned(),
            )),
        ),
        ("externalSecret" | "serviceAccount", Some(_)) => problems.push(
            Problem::at_path(
                at.key("existingSecret"),
                format!(
                    "`existingSecret` is only used with the access mode `existingSecret`; this \
                     registry's access mode is `{mode}`{from}"
                ),
                "not used with this access mode",
            )
            .with_help(Some(
                "set `accessMode: existingSecret` on this registry to read this Secret, or \
                 remove `existingSecret`"
                    .to_owned(),
            )),
        ),
        _ => {}
    }
}

/// STS in one partition cannot assume a role of another: `cn-*` regions need `arn:aws-cn:`.
fn role_partition(at: &FieldPath, registry: &Value, problems: &mut Vec<Problem>) {
    let (Some(Value::String(arn)), Some(Value::String(region))) =
        (registry.get("roleArn"), registry.get("region"))
    else {
        return;
    };
    let (Ok(role), Ok(want)) = (
        ecr_contract::rules::role_arn(arn),
        ecr_contract::rules::region(region),
    ) else {
        return; // reported by the schema's formats
    };
    if role != want {
        problems.push(
            Problem::at_path(
                at.key("roleArn"),
                format!(
                    "the role {} is not in the partition of the region `{region}`",
                    quote(arn)
                ),
                format!("expected `arn:{want}:iam::…`"),
            )
            .with_help(Some(format!(
                "the refresher assumes the role through STS in `{region}`, which only knows \
                 roles of the `{want}` partition"
            ))),
        );
    }
}

/// Refuse a schedule whose longest gap reaches the token's lifetime; warn when under an hour
/// is left. `registry` is the path of the registry the schedule is of.
fn schedule_gap(
    registry: &FieldPath,
    text: &str,
    zone: Option<&str>,
    gap: &Result<schedule::Gap, NoGap>,
) -> Option<Problem> {
    // The usual case, for every registry: nothing to say, so nothing to put into words.
    match gap {
        Err(NoGap::Invalid) => return None, // refused by the schedule check
        Ok(gap) if gap.seconds <= schedule::WARN_ABOVE_SECS => return None,
        _ => {}
    }
    let path = registry.key("schedule");
    let lifetime = schedule::duration(schedule::TOKEN_LIFETIME_SECS);
    let zone_note = match zone {
        Some(zone) => format!("times are in {zone} (`cronJob.timeZone`)"),
        None => "times are in UTC, the usual zone of the CronJob controller when \
         `cronJob.timeZone` is not set"
            .to_owned(),
    };
    // On a line of its own, so wrapping never splits the example.
    let safe = format!(
        "run at least every 11 hours, e.g.\n`{}` (every 10 hours)",
        schedule::SAFE_EXAMPLE
    );
    let gap = match gap {
        Err(NoGap::Invalid) => return None, // refused by the schedule check
        Err(NoGap::Never) => {
            return Some(
                Problem::at_path(
                    path,
                    format!(
                        "{} runs less than once a year, if ever; an ECR token expires after \
                         {lifetime}",
                        quote(text)
                    ),
                    "(almost) never runs",
                )
                .with_help(Some(safe)),
            );
        }
        Err(NoGap::Stalls { at }) => {
            return Some(
                Problem::at_path(
                    path,
                    format!(
                        "{} makes the CronJob controller stop scheduling after the run at {}: \
                         robfig/cron's `Next` (the controller's parser) does not move past it",
                        quote(text),
                        at.strftime("%Y-%m-%d %H:%M %:z")
                    ),
                    "the controller stops scheduling",
                )
                .with_help(Some(format!("{safe}\n{zone_note}"))),
            );
        }
        Ok(gap) => gap,
    };
    let longest = schedule::duration(gap.seconds);
    let label = format!("longest gap {longest} {}", schedule::describe(gap));
    if gap.seconds >= schedule::TOKEN_LIFETIME_SECS {
        Some(
            Problem::at_path(
                path,
                format!(
                    "{} leaves up to {longest} between two refreshes, and an ECR token expires \
                     after {lifetime}",
                    quote(text)
                ),
                label,
            )
            .with_help(Some(format!(
                "a pull secret older than {lifetime} no longer works; {safe}\n{zone_note}"
            ))),
        )
    } else if gap.seconds > schedule::WARN_ABOVE_SECS {
        let mut problem = Problem::at_path(
            path,
            format!(
                "{} leaves up to {longest} between two refreshes, less than an hour short of the \
                 {lifetime} an ECR token lasts",
                quote(text)
            ),
            label,
        )
        .with_help(Some(format!(
            "one late or failed run lets the pull secret expire; {safe}\n{zone_note}"
        )));
        problem.severity = Severity::Warning;
        Some(problem)
    } else {
        None
    }
}

/// Registry names must be unique: they name the Secret, ConfigMap, CronJob and Job.
fn duplicates(values: &Value, problems: &mut Vec<Problem>) {
    let Some(Value::Array(registries)) = values.get("ecrRegistries") else {
        return;
    };
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (n, registry) in registries.iter().enumerate() {
        let Some(name) = registry.get("name").and_then(Value::as_str) else {
            continue;
        };
        match first.get(name) {
            None => {
                first.insert(name, n);
            }
            Some(&earlier) => {
                let earlier_path = FieldPath::root()
                    .key("ecrRegistries")
                    .index(earlier)
                    .key("name");
                let mut problem = Problem::at_path(
                    FieldPath::root().key("ecrRegistries").index(n).key("name"),
                    format!("duplicate registry name {}", quote(name)),
                    format!("already used by ecrRegistries[{earlier}]"),
                )
                .with_help(Some(
                    "each registry needs its own name: it names the Secret `regcred-<name>` and \
                     the CronJob `ecr-registry-helper-<name>`; rename one of them or remove the \
                     copy"
                        .to_owned(),
                ));
                problem.see = Some(earlier_path);
                problems.push(problem);
            }
        }
    }
}
