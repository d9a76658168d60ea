//! The rules about several fields at once, which a JSON Schema cannot state or states worse:
//! duplicate registry names, lists that hold each entry once, at least one target namespace
//! (explicit or by selector, with excludes and prune only beside a selector), the values count of
//! each selector operator, a sync schedule that parses,
//! `existingSecret` exactly with its access mode, a role of the region's partition, and the
//! longest gap of each schedule (refused at the token's lifetime, warned about just under it),
//! the annotations of each object within the API server's size limit, and tolerations as the
//! API server checks them.

use std::collections::HashMap;

use ecr_contract::{names, rules};
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
    selector(
        &FieldPath::root().key("namespaceSelector"),
        values.get("namespaceSelector"),
        &mut problems,
    );
    if let Some(Value::Array(items)) = values.get("excludeNamespaces") {
        repeats(
            &FieldPath::root().key("excludeNamespaces"),
            items,
            &mut problems,
        );
    }
    sync_schedule(values, &mut problems);
    sync_name(values, &mut problems);
    duplicates(values, &mut problems);
    annotation_sizes(values, &mut problems);
    tolerations(values, &mut problems);
    problems
}

/// The toleration operators: `Equal` (also when empty), `Exists`, and `Lt`/`Gt` (numeric,
/// behind the `TaintTolerationComparisonOperators` feature gate).
const TOLERATION_OPERATORS: &[&str] = &["Equal", "Exists", "Lt", "Gt"];
/// The taint effects a toleration may name (empty: every effect).
const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// Tolerations as the API server checks them (`pkg/apis/core/validation`
/// `ValidateTolerations`): a label-key `key`; an empty key only with `Exists`;
/// `tolerationSeconds` only with `NoExecute`; a known operator, with a label value for
/// `Equal`, none for `Exists`, an integer for `Lt`/`Gt`; a known effect. The schema has
/// already refused wrong types and unknown keys.
fn tolerations(values: &Value, problems: &mut Vec<Problem>) {
    let Some(Value::Array(items)) = values.get("tolerations") else {
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let Value::Object(toleration) = item else {
            continue;
        };
        let at = FieldPath::root().key("tolerations").index(i);
        let text = |key: &str| toleration.get(key).and_then(Value::as_str).unwrap_or("");
        let (key, operator, value, effect) =
            (text("key"), text("operator"), text("value"), text("effect"));
        // Where to point: the field itself, or the toleration when the field is not there.
        let field = |name: &str| {
            if toleration.contains_key(name) {
                at.key(name)
            } else {
                at.clone()
            }
        };
        let mut refuse = |path: FieldPath, message: String, label: String, hint: String| {
            problems.push(Problem::at_path(path, message, label).with_help(Some(hint)));
        };
        if !key.is_empty()
            && let Err(fault) = rules::qualified_key(key)
        {
            refuse(
                at.key("key"),
                format!("the toleration key {} is not a label key", quote(key)),
                fault.to_string(),
                "a taint key is `[prefix/]name`, e.g. `node-role.kubernetes.io/control-plane`"
                    .to_owned(),
            );
        }
        if key.is_empty() && operator != "Exists" {
            refuse(
                field("operator"),
                "a toleration without `key` must have `operator: Exists`".to_owned(),
                "no key: only `Exists` (tolerate every taint) is allowed".to_owned(),
                "write `operator: Exists` to tolerate every taint, or name the taint's `key`"
                    .to_owned(),
            );
        }
        if toleration.contains_key("tolerationSeconds") && effect != "NoExecute" {
            refuse(
                field("effect"),
                "`tolerationSeconds` is only allowed with `effect: NoExecute`".to_owned(),
                "tolerationSeconds needs effect NoExecute".to_owned(),
                "write `effect: NoExecute`, or remove `tolerationSeconds`".to_owned(),
            );
        }
        match operator {
            "" | "Equal" => {
                if let Err(fault) = rules::label_value(value) {
                    refuse(
                        field("value"),
                        format!("the toleration value {} is not a label value", quote(value)),
                        fault.to_string(),
                        "a taint value is empty or at most 63 letters, digits, '-', '_' and '.', \
                         starting and ending with a letter or digit"
                            .to_owned(),
                    );
                }
            }
            "Exists" if !value.is_empty() => refuse(
                at.key("value"),
                "a toleration with `operator: Exists` has no `value`".to_owned(),
                "Exists matches every value".to_owned(),
                "remove `value`, or write `operator: Equal` to match this value only".to_owned(),
            ),
            "Exists" => {}
            "Lt" | "Gt" if value.parse::<i64>().is_err() => refuse(
                field("value"),
                format!(
                    "a toleration with `operator: {operator}` compares numbers; {} is not one",
                    quote(value)
                ),
                "not an integer".to_owned(),
                "write the number the taint's value is compared with, e.g. `value: \"5\"`"
                    .to_owned(),
            ),
            "Lt" | "Gt" => {}
            other => refuse(
                at.key("operator"),
                format!("{} is not a toleration operator", quote(other)),
                checks::suggest(other, TOLERATION_OPERATORS.iter().copied(), 0.8).map_or_else(
                    || "unknown operator".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                ),
                format!("the operators are {}", TOLERATION_OPERATORS.join(", ")),
            ),
        }
        if !effect.is_empty() && !TAINT_EFFECTS.contains(&effect) {
            refuse(
                at.key("effect"),
                format!("{} is not a taint effect", quote(effect)),
                checks::suggest(effect, TAINT_EFFECTS.iter().copied(), 0.8).map_or_else(
                    || "unknown effect".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                ),
                format!(
                    "the effects are {}; leave `effect` out to tolerate every effect",
                    TAINT_EFFECTS.join(", ")
                ),
            );
        }
    }
}

/// An object the values annotate: where its annotations are, what it is, and how many bytes
/// of annotations others add to it.
struct Annotated {
    path: &'static [&'static str],
    object: &'static str,
    added: usize,
    added_by: &'static str,
}

/// Helm's own annotations on every object it installs, at their longest (a release name of
/// 53 characters, a namespace of 63).
const HELM_ANNOTATIONS: usize = names::ANNOTATION_HELM_RELEASE_NAME.len()
    + rules::MAX_RELEASE_NAME
    + names::ANNOTATION_HELM_RELEASE_NAMESPACE.len()
    + rules::MAX_LABEL;

/// Every object whose annotations come from the values.
const ANNOTATED: &[Annotated] = &[
    Annotated {
        path: &["podAnnotations"],
        object: "each refresher pod",
        added: 0,
        added_by: "",
    },
    Annotated {
        path: &["serviceAccount", "annotations"],
        object: "the ServiceAccount",
        added: HELM_ANNOTATIONS,
        added_by: " plus the release name and namespace Helm adds as annotations",
    },
];

/// The API server refuses an object whose annotations (keys and values) total more than
/// 256 KiB.
fn annotation_sizes(values: &Value, problems: &mut Vec<Problem>) {
    for annotated in ANNOTATED {
        let Some(Value::Object(map)) = annotated.path.iter().try_fold(values, |v, key| v.get(key))
        else {
            continue;
        };
        let given = rules::annotations_size(
            map.iter()
                .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?))),
        );
        let total = given + annotated.added;
        if total <= rules::MAX_ANNOTATIONS_BYTES {
            continue;
        }
        let path = annotated
            .path
            .iter()
            .fold(FieldPath::root(), |path, key| path.key(key));
        problems.push(
            Problem::at_path(
                path,
                format!(
                    "the annotations of {} total {total} bytes{}; Kubernetes allows at most {} \
                     (256 KiB) per object",
                    annotated.object,
                    annotated.added_by,
                    rules::MAX_ANNOTATIONS_BYTES
                ),
                format!("{given} bytes of keys and values"),
            )
            .with_help(Some(format!(
                "the API server adds up the length of every annotation key and value of an \
                 object; keep these under {} bytes and put large data in a ConfigMap instead",
                rules::MAX_ANNOTATIONS_BYTES - annotated.added
            ))),
        );
    }
}

/// The rules about one registry as a whole: lists without repeats, at least one target
/// namespace, `existingSecret` exactly with its access mode, a role of the region's partition,
/// and a schedule that parses and keeps the token alive.
fn registry_rules(values: &Value, problems: &mut Vec<Problem>) {
    let Some(Value::Array(registries)) = values.get("ecrRegistries") else {
        return;
    };
    let default_selector = values
        .get("namespaceSelector")
        .is_some_and(Value::is_object);
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
        for key in [
            "namespaces",
            "excludeNamespaces",
            "registryIds",
            "imagePullSecretFor",
        ] {
            if let Some(Value::Array(items)) = registry.get(key) {
                repeats(&at.key(key), items, problems);
            }
        }
        target_namespaces(
            &at,
            registry,
            default_selector,
            values.get("excludeNamespaces"),
            problems,
        );
        selector(
            &at.key("namespaceSelector"),
            registry.get("namespaceSelector"),
            problems,
        );
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

/// A registry writes its pull secret to `namespace`, `namespaces`, the namespaces its selector
/// (own or the top-level one) matches, or several: at least one of them. Its own
/// `excludeNamespaces` and `prune: true` need a selector; an excluded namespace is not also an
/// explicit one.
fn target_namespaces(
    at: &FieldPath,
    registry: &Value,
    default_selector: bool,
    top_excluded: Option<&Value>,
    problems: &mut Vec<Problem>,
) {
    let Some(object) = registry.as_object() else {
        return;
    };
    let explicit = object.contains_key("namespace")
        || matches!(object.get("namespaces"), Some(Value::Array(items)) if !items.is_empty());
    let selector = object.contains_key("namespaceSelector")
        || (default_selector
            && !object.contains_key("namespace")
            && !object.contains_key("namespaces"));
    if !explicit && !selector {
        let (path, message, label) = match object.get("namespaces") {
            Some(Value::Array(_)) => (
                at.key("namespaces"),
                "no target namespace: `namespaces` is empty and neither `namespace` nor \
                 `namespaceSelector` is set",
                "an empty list",
            ),
            Some(_) => return, // a type error, reported by the schema
            None => (
                at.clone(),
                "missing required key `namespace` (or `namespaces`, or `namespaceSelector`)",
                "this registry has no `namespace`, `namespaces` or `namespaceSelector`",
            ),
        };
        problems.push(
            Problem::at_path(path, message.to_owned(), label).with_help(Some(
                "name where `regcred-<name>` is written: `namespace: apps`, `namespaces: [apps, \
                 web]`, or choose namespaces by label: `namespaceSelector: {matchLabels: {team: \
                 apps}}` (here or at the top level)"
                    .to_owned(),
            )),
        );
    }
    if !selector {
        for key in ["excludeNamespaces", "prune"] {
            let Some(value) = object.get(key) else {
                continue;
            };
            if key == "prune" && value != &Value::Bool(true) {
                continue;
            }
            problems.push(
                Problem::at_path(
                    at.key(key),
                    format!("`{key}` is only used with a namespace selector"),
                    "this registry has no `namespaceSelector`",
                )
                .with_help(Some(format!(
                    "`{key}` applies to the namespaces a selector chooses: add \
                     `namespaceSelector` to this registry, or remove `{key}`"
                ))),
            );
        }
        return;
    }
    // The registry's own excludes, or the top-level ones it inherits.
    let (excluded_at, excluded) = match (object.get("excludeNamespaces"), top_excluded) {
        (Some(Value::Array(own)), _) => (at.key("excludeNamespaces"), own),
        (None, Some(Value::Array(top))) => (FieldPath::root().key("excludeNamespaces"), top),
        _ => return,
    };
    let named: Vec<(FieldPath, &str)> = object
        .get("namespace")
        .and_then(Value::as_str)
        .map(|n| (at.key("namespace"), n))
        .into_iter()
        .chain(
            object
                .get("namespaces")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(i, n)| Some((at.key("namespaces").index(i), n.as_str()?))),
        )
        .collect();
    for (i, item) in excluded.iter().enumerate() {
        let Some(text) = item.as_str() else { continue };
        if let Some((where_named, _)) = named.iter().find(|(_, n)| *n == text) {
            problems.push(
                Problem::at_path(
                    excluded_at.index(i),
                    format!(
                        "{} is excluded and also a target namespace of {at}",
                        quote(text)
                    ),
                    format!("named at {where_named}"),
                )
                .with_help(Some(
                    "explicit namespaces always get the Secret; `excludeNamespaces` only limits \
                     the selector: remove it from one of the two lists"
                        .to_owned(),
                )),
            );
        }
    }
}

/// A label selector as the API server checks it (`ValidateLabelSelector`): the schema checks
/// the keys, values and operator; here, the number of `values` each operator takes.
fn selector(at: &FieldPath, selector: Option<&Value>, problems: &mut Vec<Problem>) {
    let Some(Value::Array(expressions)) = selector.and_then(|s| s.get("matchExpressions")) else {
        return;
    };
    for (i, expression) in expressions.iter().enumerate() {
        let Some(Ok(operator)) = expression
            .get("operator")
            .and_then(Value::as_str)
            .map(rules::SelectorOperator::parse)
        else {
            continue; // reported by the schema
        };
        let count = match expression.get("values") {
            None => 0,
            Some(Value::Array(items)) => items.len(),
            Some(_) => continue, // a type error, reported by the schema
        };
        if let Err(fault) = operator.check_values(count) {
            let path = at.key("matchExpressions").index(i);
            let path = if expression.get("values").is_some() {
                path.key("values")
            } else {
                path
            };
            problems.push(
                Problem::at_path(
                    path,
                    fault.to_string(),
                    match count {
                        1 => "1 value".to_owned(),
                        n => format!("{n} values"),
                    },
                )
                .with_help(Some(
                    "`In`/`NotIn` need the label values to compare with (`values: [a, b]`); \
                         `Exists`/`DoesNotExist` only look at the key (no `values`)"
                        .to_owned(),
                )),
            );
        }
    }
}

/// With the sync CronJob rendered (a registry selects, `sync.enabled`), no registry's CronJob may
/// take its name: `ecr-registry-helper-<name>` is `ecr-registry-helper-sync` for `sync`.
fn sync_name(values: &Value, problems: &mut Vec<Problem>) {
    let Some(Value::Array(registries)) = values.get("ecrRegistries") else {
        return;
    };
    let enabled = values.get("sync").and_then(|s| s.get("enabled")) != Some(&Value::Bool(false));
    let default_selector = values
        .get("namespaceSelector")
        .is_some_and(Value::is_object);
    let selects = |registry: &Value| {
        registry.get("namespaceSelector").is_some()
            || (default_selector
                && registry.get("namespace").is_none()
                && registry.get("namespaces").is_none())
    };
    if !enabled || !registries.iter().any(selects) {
        return;
    }
    for (n, registry) in registries.iter().enumerate() {
        let Some(name) = registry.get("name").and_then(Value::as_str) else {
            continue;
        };
        if names::cron_job(name) == names::SYNC {
            problems.push(
                Problem::at_path(
                    FieldPath::root().key("ecrRegistries").index(n).key("name"),
                    format!(
                        "the registry name {} gives the CronJob `{}`, the name of the sync run",
                        quote(name),
                        names::SYNC
                    ),
                    "reserved while the sync run is rendered".to_owned(),
                )
                .with_help(Some(
                    "rename this registry, or set `sync.enabled: false`".to_owned(),
                )),
            );
        }
    }
}

/// The sync run's schedule: any schedule Kubernetes runs (no token-lifetime rule: the refresh
/// CronJobs keep the tokens alive).
fn sync_schedule(values: &Value, problems: &mut Vec<Problem>) {
    let Some(Value::String(text)) = values.get("sync").and_then(|s| s.get("schedule")) else {
        return;
    };
    if checks::schedule_shape(text).is_err() {
        return; // reported by the schema's `cron-schedule` format
    }
    if let Err(finding) = checks::schedule(text) {
        problems.push(from_finding(
            FieldPath::root().key("sync").key("schedule"),
            finding,
        ));
    }
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
    let (example, every) = schedule::safe_example(
        &zone
            .and_then(schedule::time_zone)
            .unwrap_or(jiff::tz::TimeZone::UTC),
    );
    let safe = format!("run at least every 11 hours, e.g.\n`{example}` ({every})");
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sizes(values: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        annotation_sizes(values, &mut problems);
        problems.iter().map(|p| p.path.to_string()).collect()
    }

    #[test]
    fn annotations_count_keys_and_values_up_to_256_kib_per_object() {
        let limit = rules::MAX_ANNOTATIONS_BYTES;
        // One key of 1 byte: the value may have the rest.
        let fits = json!({"podAnnotations": {"k": "v".repeat(limit - 1)}});
        assert!(sizes(&fits).is_empty());
        let over = json!({"podAnnotations": {"k": "v".repeat(limit)}});
        assert_eq!(sizes(&over), ["podAnnotations"]);
        // Each object on its own: half the limit on the pods and on the ServiceAccount is fine.
        let half = "v".repeat(limit / 2);
        let both =
            json!({"podAnnotations": {"k": half}, "serviceAccount": {"annotations": {"k": half}}});
        assert!(sizes(&both).is_empty());
    }

    fn toleration_problems(toleration: Value) -> Vec<String> {
        let mut problems = Vec::new();
        tolerations(&json!({ "tolerations": [toleration] }), &mut problems);
        problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect()
    }

    #[test]
    fn tolerations_follow_the_api_server_rules() {
        for good in [
            json!({"operator": "Exists"}),
            json!({"key": "dedicated", "value": "infra", "effect": "NoSchedule"}),
            json!({"key": "dedicated", "operator": "Equal", "value": ""}),
            json!({"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                   "effect": "NoExecute", "tolerationSeconds": 300}),
            json!({"key": "cores", "operator": "Gt", "value": "4"}),
        ] {
            assert_eq!(
                toleration_problems(good.clone()),
                Vec::<String>::new(),
                "{good}"
            );
        }
        let cases = [
            (
                json!({"key": "Bad Key", "operator": "Exists"}),
                "tolerations[0].key",
            ),
            (json!({"value": "x"}), "tolerations[0]"),
            (json!({"operator": "Equal"}), "tolerations[0].operator"),
            (
                json!({"operator": "Exists", "tolerationSeconds": 1}),
                "tolerations[0]",
            ),
            (
                json!({"key": "a", "value": "not a label value"}),
                "tolerations[0].value",
            ),
            (
                json!({"key": "a", "operator": "Exists", "value": "x"}),
                "tolerations[0].value",
            ),
            (
                json!({"key": "a", "operator": "Gt", "value": "x"}),
                "tolerations[0].value",
            ),
            (
                json!({"key": "a", "operator": "exists"}),
                "tolerations[0].operator",
            ),
            (
                json!({"operator": "Exists", "effect": "NoSchedul"}),
                "tolerations[0].effect",
            ),
        ];
        for (bad, path) in cases {
            let found = toleration_problems(bad.clone());
            assert_eq!(found.len(), 1, "{bad}: {found:?}");
            assert!(
                found[0].starts_with(&format!("{path}: ")),
                "{bad}: {found:?}"
            );
        }
    }

    #[test]
    fn the_service_account_leaves_room_for_the_annotations_helm_adds() {
        let limit = rules::MAX_ANNOTATIONS_BYTES;
        let value = "v".repeat(limit - 1 - HELM_ANNOTATIONS);
        let fits = json!({"serviceAccount": {"annotations": {"k": value}}});
        assert!(sizes(&fits).is_empty());
        let over = json!({"serviceAccount": {"annotations": {"k": format!("{value}v")}}});
        assert_eq!(sizes(&over), ["serviceAccount.annotations"]);
        let pods = json!({"podAnnotations": {"k": format!("{value}v")}});
        assert!(sizes(&pods).is_empty(), "Helm does not annotate the pods");
    }
}
