//! Validation of the merged values before they are typed: the JSON Schema (every error, each
//! turned into a sentence that quotes the field's documentation as "allowed"), the field format
//! checks, and what a schema cannot say (duplicate registry names, access modes, target
//! namespaces, the longest gap of each schedule). Schedules close to the token's lifetime give
//! warnings, which are problems with `warning` set.

use std::collections::{HashMap, HashSet};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::checks::{self, Finding};
use super::load::{describe, quote};
use super::path::FieldPath;
use super::report::Problem;
use super::schedule::{self, GapCache, NoGap};
use super::schema;

/// Every problem with the merged values (null keys already deleted), in no particular order.
pub fn validate(values: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut gaps = GapCache::default();
    let mut checked = field_checks(values, &mut problems, &mut gaps);
    registry_rules(values, &mut problems, &mut checked, &mut gaps);
    for error in schema::validator().iter_errors(values) {
        let path = FieldPath::from_pointer(error.instance_path().as_str(), Some(values));
        let explained_by_check = matches!(
            error.kind(),
            ValidationErrorKind::Pattern { .. }
                | ValidationErrorKind::MaxLength { .. }
                | ValidationErrorKind::MinLength { .. }
                | ValidationErrorKind::Minimum { .. }
                | ValidationErrorKind::UniqueItems
                | ValidationErrorKind::MinItems { .. }
                | ValidationErrorKind::AnyOf { .. }
        ) && checked.contains(&path);
        if !explained_by_check {
            problems.extend(translate(values, &path, error.kind(), || error.to_string()));
        }
    }
    duplicates(values, &mut problems);
    problems
}

fn allowed(path: &FieldPath) -> Option<String> {
    schema::field(path).and_then(|f| f.description).map(|d| {
        format!(
            "allowed: {}",
            d.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    })
}

fn join_help(parts: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

fn from_finding(path: FieldPath, finding: Finding) -> Problem {
    let help = join_help([finding.hint, allowed(&path)]);
    Problem::at_path(path, finding.message, finding.label).with_help(help)
}

/// Run the format checks of the fields that have one; return the paths that failed. Schedules
/// that parse are kept in `gaps` for measuring.
fn field_checks(
    values: &Value,
    problems: &mut Vec<Problem>,
    gaps: &mut GapCache,
) -> HashSet<FieldPath> {
    type Check = fn(&str) -> Result<(), Finding>;
    let mut failed = HashSet::new();
    // The path is built only for a field that fails: most pass, thousands of times.
    let mut run = |path: &dyn Fn() -> FieldPath, value: Option<&Value>, check: Check| {
        let finding = match value {
            Some(Value::String(s)) => check(s).err(),
            _ => None,
        };
        if let Some(finding) = finding {
            let path = path();
            problems.push(from_finding(path.clone(), finding));
            failed.insert(path);
        }
    };
    let root = FieldPath::root();
    let mut schedules: HashMap<&str, Option<Finding>> = HashMap::new();
    let mut bad_schedules = Vec::new();
    if let Some(Value::Array(registries)) = values.get("ecrRegistries") {
        for (n, registry) in registries.iter().enumerate() {
            let at = root.key("ecrRegistries").index(n);
            let fields: [(&str, Check); 6] = [
                ("name", checks::registry_name),
                ("region", checks::region),
                ("namespace", checks::namespace),
                ("existingSecret", checks::dns_subdomain),
                ("roleArn", checks::role_arn),
                ("account", checks::account_id),
            ];
            for (key, check) in fields {
                run(&|| at.key(key), registry.get(key), check);
            }
            // Parsing a cron schedule is the costliest check, and schedules repeat: once each.
            if let Some(Value::String(schedule)) = registry.get("schedule") {
                let verdict = schedules.entry(schedule.as_str()).or_insert_with(|| {
                    match checks::schedule(schedule) {
                        Ok(Some(cron)) => {
                            gaps.remember(schedule, cron);
                            None
                        }
                        Ok(None) => None,
                        Err(finding) => Some(finding),
                    }
                });
                if let Some(finding) = verdict.clone() {
                    let path = at.key("schedule");
                    bad_schedules.push((path, finding));
                }
            }
            let lists: [(&str, Check); 3] = [
                ("namespaces", checks::namespace),
                ("registryIds", checks::account_id),
                ("imagePullSecretFor", checks::dns_subdomain),
            ];
            for (key, check) in lists {
                if let Some(Value::Array(items)) = registry.get(key) {
                    for (i, item) in items.iter().enumerate() {
                        run(&|| at.key(key).index(i), Some(item), check);
                    }
                }
            }
        }
    }
    let singles: [(&str, &str, Check); 4] = [
        ("serviceAccount", "name", checks::dns_subdomain),
        ("externalSecret", "refreshInterval", checks::go_duration),
        (
            "externalSecret",
            "remoteKeyTemplate",
            checks::remote_key_template,
        ),
        ("cronJob", "timeZone", checks::time_zone),
    ];
    for (parent, key, check) in singles {
        let value = values.get(parent).and_then(|p| p.get(key));
        run(&|| root.key(parent).key(key), value, check);
    }
    // Labels and annotations: the API server refuses what these checks refuse.
    let mut bad_keys = Vec::new();
    let metadata: [(&[&str], bool); 5] = [
        (&["commonLabels"], true),
        (&["podLabels"], true),
        (&["nodeSelector"], true),
        (&["podAnnotations"], false),
        (&["serviceAccount", "annotations"], false),
    ];
    for (keys, labels) in metadata {
        let mut at = root.clone();
        let mut map = Some(values);
        for key in keys {
            at = at.key(key);
            map = map.and_then(|m| m.get(*key));
        }
        let Some(Value::Object(map)) = map else {
            continue;
        };
        for (key, value) in map {
            let path = at.key(key);
            if let Err(finding) = checks::qualified_key(key) {
                bad_keys.push((path.clone(), finding));
            }
            if labels {
                run(&|| path.clone(), Some(value), checks::label_value);
            }
        }
    }
    for kind in ["requests", "limits"] {
        if let Some(Value::Object(map)) = values.get("resources").and_then(|r| r.get(kind)) {
            for (name, quantity) in map {
                let path = root.key("resources").key(kind).key(name);
                match quantity {
                    // YAML reads `cpu: 1.5` as a number: fine unless negative.
                    Value::Number(n) if n.as_f64().is_some_and(|f| f < 0.0) => {
                        run(
                            &|| path.clone(),
                            Some(&Value::String(n.to_string())),
                            checks::quantity,
                        );
                    }
                    _ => run(&|| path.clone(), Some(quantity), checks::quantity),
                }
            }
        }
    }
    for (path, finding) in bad_schedules {
        problems.push(from_finding(path.clone(), finding));
        failed.insert(path);
    }
    for (path, finding) in bad_keys {
        let mut problem = from_finding(path.clone(), finding);
        problem.on_key = true;
        problems.push(problem);
        failed.insert(path);
    }
    failed
}

/// The rules about one registry as a whole: lists without repeats, at least one target
/// namespace, `existingSecret` exactly with its access mode, a role of the region's partition,
/// and a schedule that keeps the token alive. Paths whose schema error a rule explains better
/// go into `checked`.
fn registry_rules(
    values: &Value,
    problems: &mut Vec<Problem>,
    checked: &mut HashSet<FieldPath>,
    gaps: &mut GapCache,
) {
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
    // An unknown zone is reported by its own check; the schedules are then judged in UTC.
    let zone = zone_name
        .and_then(schedule::time_zone)
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let zone_name = zone_name.filter(|n| schedule::time_zone(n).is_some());
    for (n, registry) in registries.iter().enumerate() {
        let at = FieldPath::root().key("ecrRegistries").index(n);
        for key in ["namespaces", "registryIds", "imagePullSecretFor"] {
            if let Some(Value::Array(items)) = registry.get(key)
                && repeats(&at.key(key), items, problems)
            {
                checked.insert(at.key(key));
            }
        }
        target_namespaces(&at, registry, problems, checked);
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
            None => Some(crate::values::model::default_schedule()),
            // A schedule the field check refused is not measured.
            Some(Value::String(s)) if !checked.contains(&at.key("schedule")) => Some(s.clone()),
            Some(_) => None,
        };
        if let Some(text) = text {
            let gap = gaps.longest_gap(&text, zone_name.unwrap_or("UTC"), &zone);
            if let Some(problem) = schedule_gap(&at, &text, zone_name, gap) {
                problems.push(problem);
            }
        }
    }
}

/// Report every repeated item of a list that must hold each value once; true if any.
fn repeats(path: &FieldPath, items: &[Value], problems: &mut Vec<Problem>) -> bool {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut found = false;
    for (i, item) in items.iter().enumerate() {
        let Some(text) = item.as_str() else { continue };
        match first.get(text) {
            None => {
                first.insert(text, i);
            }
            Some(&earlier) => {
                found = true;
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
    found
}

/// A registry writes its pull secret to `namespace`, `namespaces`, or both: at least one.
fn target_namespaces(
    at: &FieldPath,
    registry: &Value,
    problems: &mut Vec<Problem>,
    checked: &mut HashSet<FieldPath>,
) {
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
    checked.insert(at.clone());
    checked.insert(at.key("namespaces"));
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
    if checks::role_arn(arn).is_err() || checks::region(region).is_err() {
        return;
    }
    let want = checks::partition_of_region(region);
    if checks::partition_of_arn(arn) != Some(want) {
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
        Err(NoGap::Invalid) => return None, // reported by the field check
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
        Err(NoGap::Invalid) => return None, // reported by the field check
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
        problem.warning = true;
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

fn type_name(kind: &str) -> &'static str {
    match kind {
        "string" => "a string",
        "integer" => "a whole number",
        "number" => "a number",
        "boolean" => "a boolean (`true` or `false`)",
        "object" => "a mapping",
        "array" => "a list",
        "null" => "null",
        _ => "something else",
    }
}

fn one_of(options: &[&str]) -> String {
    let quoted: Vec<String> = options.iter().map(|o| format!("`{o}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Turn one schema error into problems (an unexpected-keys error gives one per key).
fn translate(
    values: &Value,
    path: &FieldPath,
    kind: &ValidationErrorKind,
    fallback: impl FnOnce() -> String,
) -> Vec<Problem> {
    let value = path.lookup(values).unwrap_or(&Value::Null);
    let field = schema::field(path);
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let keys = field.map(|f| f.keys()).unwrap_or_default();
            let place = if path.is_root() {
                "at the top level".to_owned()
            } else {
                format!("in `{path}`")
            };
            unexpected
                .iter()
                .map(|key| {
                    let suggestion = checks::suggest(key, keys.iter().copied(), 0.8);
                    let label = suggestion.map_or_else(
                        || "unknown key".to_owned(),
                        |s| format!("did you mean `{s}`?"),
                    );
                    let mut problem = Problem::at_path(
                        path.key(key),
                        format!("unknown key {}", quote(key)),
                        label,
                    )
                    .with_help(Some(format!("allowed keys {place}: {}", keys.join(", "))));
                    problem.on_key = true;
                    problem
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or("?");
            let what = if path.parent().last_key() == Some("ecrRegistries") {
                "this registry"
            } else {
                "this mapping"
            };
            let description = field.and_then(|f| f.property_description(name));
            vec![
                Problem::at_path(
                    path.clone(),
                    format!("missing required key `{name}`"),
                    format!("{what} has no `{name}`"),
                )
                .with_help(description.map(|d| {
                    format!(
                        "`{name}`: {}",
                        d.split_whitespace().collect::<Vec<_>>().join(" ")
                    )
                })),
            ]
        }
        ValidationErrorKind::Type { kind } => {
            let expected: Vec<&str> = match kind {
                TypeKind::Single(_) | TypeKind::Multiple(_) => field
                    .map(|f| f.types())
                    .filter(|t| !t.is_empty())
                    .unwrap_or_default(),
            };
            let names: Vec<&str> = expected.iter().map(|t| type_name(t)).collect();
            let wanted = if names.is_empty() {
                "another type".to_owned()
            } else {
                names.join(" or ")
            };
            let hint = match value {
                Value::Number(_) | Value::Bool(_) if expected.contains(&"string") => {
                    Some(format!("quote it to make it a string: `\"{value}\"`"))
                }
                Value::String(s)
                    if expected.contains(&"boolean")
                        && ["yes", "no", "on", "off", "true", "false", "y", "n"]
                            .contains(&s.to_ascii_lowercase().as_str()) =>
                {
                    Some("write `true` or `false`, without quotes".to_owned())
                }
                Value::String(s)
                    if (expected.contains(&"integer") || expected.contains(&"number"))
                        && s.trim().parse::<f64>().is_ok() =>
                {
                    Some("write the number without quotes".to_owned())
                }
                _ => None,
            };
            vec![
                Problem::at_path(
                    path.clone(),
                    format!("expected {wanted}, found {}", describe(value)),
                    format!("not {wanted}"),
                )
                .with_help(join_help([hint, allowed(path)])),
            ]
        }
        ValidationErrorKind::Enum { .. } => {
            let options = field.map(|f| f.options()).unwrap_or_default();
            let suggestion = value
                .as_str()
                .and_then(|s| checks::suggest(s, options.iter().copied(), 0.8));
            let label = suggestion.map_or_else(
                || format!("not one of {}", one_of(&options)),
                |s| format!("did you mean `{s}`?"),
            );
            vec![
                Problem::at_path(
                    path.clone(),
                    format!("{} is not one of {}", describe(value), one_of(&options)),
                    label,
                )
                .with_help(allowed(path)),
            ]
        }
        ValidationErrorKind::Minimum { limit } | ValidationErrorKind::Maximum { limit } => {
            let integer = field.is_some_and(|f| f.types().contains(&"integer"));
            let range = if integer {
                format!("a whole number from 0 to {}", u32::MAX)
            } else {
                format!("a number within the limit {limit}")
            };
            vec![
                Problem::at_path(
                    path.clone(),
                    format!("{} is out of range", describe(value)),
                    format!("expected {range}"),
                )
                .with_help(allowed(path)),
            ]
        }
        _ => {
            // Kinds our schema does not produce today; keep the validator's words, cut short
            // so no large value is echoed.
            let message: String = fallback().chars().take(200).collect();
            vec![Problem::at_path(path.clone(), message, "here").with_help(allowed(path))]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(values: Value) -> Vec<(String, String, String)> {
        let mut found: Vec<_> = validate(&values)
            .into_iter()
            .map(|p| (p.path.to_string(), p.message, p.label))
            .collect();
        found.sort();
        found
    }

    fn registry(name: &str) -> Value {
        json!({"name": name, "region": "eu-central-1", "namespace": "argocd"})
    }

    #[test]
    fn valid_values_have_no_problems() {
        let values = json!({
            "ecrRegistries": [registry("primary"), registry("secondary")],
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"cpu": 1.5}},
            "cronJob": {"successfulJobsHistoryLimit": 2, "suspend": false, "backoffLimit": 3}
        });
        assert_eq!(problems(values), vec![]);
    }

    #[test]
    fn unknown_keys_get_a_did_you_mean() {
        let mut bad = registry("a");
        bad["shedule"] = json!("0 * * * *");
        let found = problems(json!({"ecrRegistries": [bad], "imagee": {}}));
        assert_eq!(
            found,
            vec![
                (
                    "ecrRegistries[0].shedule".to_owned(),
                    "unknown key `shedule`".to_owned(),
                    "did you mean `schedule`?".to_owned()
                ),
                (
                    "imagee".to_owned(),
                    "unknown key `imagee`".to_owned(),
                    "did you mean `image`?".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn missing_required_keys_and_wrong_types_are_named() {
        let found = problems(json!({
            "ecrRegistries": [{"name": "a", "region": "eu-central-1"}],
            "cronJob": {"suspend": "yes", "backoffLimit": -1}
        }));
        let messages: Vec<&str> = found.iter().map(|f| f.1.as_str()).collect();
        assert!(
            messages.contains(&"missing required key `namespace` (or `namespaces`)"),
            "{found:?}"
        );
        assert!(
            messages.contains(&"expected a boolean (`true` or `false`), found the string `yes`"),
            "{found:?}"
        );
        assert!(
            messages.contains(&"the number `-1` is out of range"),
            "{found:?}"
        );
    }

    #[test]
    fn every_field_check_reports_once_per_field() {
        let found = problems(json!({
            "ecrRegistries": [{
                "name": "A".repeat(40), "region": "eu-centrl-1",
                "namespace": "Kube_System", "schedule": "0 0 */10 * * *"
            }],
            "resources": {"requests": {"memory": "64MB", "cpu": -1}},
            "serviceAccount": {"name": "SA"},
            "externalSecret": {"refreshInterval": "1 hour"},
            "cronJob": {"timeZone": ""},
            "image": {"pullPolicy": "always"}
        }));
        let paths: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            paths,
            [
                "cronJob.timeZone",
                "ecrRegistries[0].name",
                "ecrRegistries[0].namespace",
                "ecrRegistries[0].region",
                "ecrRegistries[0].schedule",
                "externalSecret.refreshInterval",
                "image.pullPolicy",
                "resources.requests.cpu",
                "resources.requests.memory",
                "serviceAccount.name",
            ],
            "{found:#?}"
        );
        let policy = found
            .iter()
            .find(|f| f.0 == "image.pullPolicy")
            .expect("enum");
        assert_eq!(policy.2, "did you mean `Always`?");
    }

    fn registry_with(extra: Value) -> Value {
        let mut registry = registry("a");
        if let (Value::Object(r), Value::Object(e)) = (&mut registry, extra) {
            r.extend(e);
        }
        registry
    }

    fn problems_of(values: &Value) -> Vec<Problem> {
        let mut found = validate(values);
        found.sort_by(|a, b| a.path.cmp(&b.path));
        found
    }

    #[test]
    fn existing_secret_goes_with_its_access_mode_only() {
        let ok = json!({"ecrRegistries": [
            registry_with(json!({"accessMode": "existingSecret", "existingSecret": "keys"})),
            registry_with(json!({"name": "b", "accessMode": "serviceAccount"})),
        ]});
        assert_eq!(problems(ok), vec![]);
        let inherited = json!({"accessMode": "existingSecret", "ecrRegistries": [registry("a")]});
        let found = problems_of(&inherited);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path.to_string(), "ecrRegistries[0]");
        assert!(
            found[0].message.contains("(the top-level `accessMode`)"),
            "{found:?}"
        );
        let stray = json!({"ecrRegistries": [
            registry_with(json!({"accessMode": "serviceAccount", "existingSecret": "keys"}))
        ]});
        let found = problems_of(&stray);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path.to_string(), "ecrRegistries[0].existingSecret");
    }

    #[test]
    fn lists_hold_each_entry_once_and_some_namespace_is_set() {
        let values = json!({"ecrRegistries": [
            registry_with(json!({
                "namespaces": ["a", "b", "a"],
                "registryIds": ["123456789012", "123456789012"],
                "imagePullSecretFor": ["default", "default"]
            })),
            {"name": "b", "region": "eu-central-1", "namespaces": []},
            {"name": "c", "region": "eu-central-1"},
            {"name": "d", "region": "eu-central-1", "namespaces": ["x"]}
        ]});
        let found: Vec<(String, String)> = problems_of(&values)
            .into_iter()
            .map(|p| (p.path.to_string(), p.label))
            .collect();
        assert_eq!(
            found,
            [
                (
                    "ecrRegistries[0].imagePullSecretFor[1]".to_owned(),
                    "already at ecrRegistries[0].imagePullSecretFor[0]".to_owned()
                ),
                (
                    "ecrRegistries[0].namespaces[2]".to_owned(),
                    "already at ecrRegistries[0].namespaces[0]".to_owned()
                ),
                (
                    "ecrRegistries[0].registryIds[1]".to_owned(),
                    "already at ecrRegistries[0].registryIds[0]".to_owned()
                ),
                (
                    "ecrRegistries[1].namespaces".to_owned(),
                    "an empty list".to_owned()
                ),
                (
                    "ecrRegistries[2]".to_owned(),
                    "this registry has no `namespace` or `namespaces`".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_role_must_be_of_the_region_partition() {
        let values = json!({"ecrRegistries": [
            registry_with(json!({"region": "cn-north-1", "roleArn": "arn:aws:iam::123456789012:role/x"})),
            registry_with(json!({"name": "b", "region": "cn-north-1", "roleArn": "arn:aws-cn:iam::123456789012:role/x"})),
        ]});
        let found = problems_of(&values);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path.to_string(), "ecrRegistries[0].roleArn");
        assert_eq!(found[0].label, "expected `arn:aws-cn:iam::…`");
    }

    #[test]
    fn schedules_are_refused_at_twelve_hours_and_warned_above_eleven() {
        let with = |schedule: &str, zone: Option<&str>| {
            let mut values =
                json!({"ecrRegistries": [registry_with(json!({"schedule": schedule}))]});
            if let Some(zone) = zone {
                values["cronJob"] = json!({"timeZone": zone});
            }
            validate(&values)
                .into_iter()
                .map(|p| (if p.warning { "warning" } else { "error" }, p.label))
                .collect::<Vec<_>>()
        };
        let one = |kind: &'static str, label: &str| vec![(kind, label.to_owned())];
        assert_eq!(with("0 */10 * * *", None), vec![]);
        assert_eq!(with("0 */11 * * *", None), vec![], "11h is not above 11h");
        assert_eq!(
            with("0 */13 * * *", None),
            one("error", "longest gap 13h between 00:00 and 13:00")
        );
        assert_eq!(
            with("0 3 * * *", None),
            one(
                "error",
                "longest gap 24h between 03:00 and 03:00 the next day"
            )
        );
        assert_eq!(
            with("30 0,12 * * *", None),
            one(
                "error",
                "longest gap 12h between 12:30 and 00:30 the next day"
            ),
            "12h exactly is refused"
        );
        assert_eq!(
            with("0,30 0,12 * * *", None),
            one("warning", "longest gap 11h30m between 00:30 and 12:00")
        );
        assert_eq!(
            with("0 */11 * * *", Some("Europe/Berlin")),
            one(
                "error",
                "longest gap 12h between 00:00 and 11:00 on 2025-10-26, when Europe/Berlin \
                 changes its clocks"
            ),
            "turning the clocks back makes the 11-hour step 12 real hours"
        );
        assert_eq!(
            with("30 */11 * * *", Some("America/New_York"))[0].0,
            "error"
        );
        assert_eq!(with("0 */10 * * *", Some("Europe/Berlin")), vec![]);
    }

    #[test]
    fn duplicate_names_point_at_the_second_and_mention_the_first() {
        let values = json!({"ecrRegistries": [registry("a"), registry("b"), registry("a")]});
        let found = validate(&values);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].path.to_string(), "ecrRegistries[2].name");
        assert_eq!(found[0].label, "already used by ecrRegistries[0]");
        assert_eq!(
            found[0].see.as_ref().map(ToString::to_string).as_deref(),
            Some("ecrRegistries[0].name")
        );
    }

    #[test]
    fn numbers_where_strings_belong_get_a_quoting_hint() {
        let values =
            json!({"ecrRegistries": [{"name": 123, "region": "eu-central-1", "namespace": "n"}]});
        let found = validate(&values);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].message,
            "expected a string, found the number `123`"
        );
        assert!(
            found[0]
                .help
                .as_deref()
                .unwrap_or("")
                .starts_with("quote it")
        );
    }
}
