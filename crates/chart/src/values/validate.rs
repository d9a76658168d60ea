//! Validation of the merged values before they are typed: the JSON Schema (every error, each
//! turned into a sentence that quotes the field's documentation as "allowed"), the field format
//! checks, and what a schema cannot say (duplicate registry names, cron schedules).

use std::collections::{HashMap, HashSet};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::checks::{self, Finding};
use super::load::{describe, quote};
use super::path::FieldPath;
use super::report::Problem;
use super::schema;

/// Every problem with the merged values (null keys already deleted), in no particular order.
pub fn validate(values: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let checked = field_checks(values, &mut problems);
    for error in schema::validator().iter_errors(values) {
        let path = FieldPath::from_pointer(error.instance_path().as_str(), Some(values));
        let explained_by_check = matches!(
            error.kind(),
            ValidationErrorKind::Pattern { .. }
                | ValidationErrorKind::MaxLength { .. }
                | ValidationErrorKind::MinLength { .. }
                | ValidationErrorKind::Minimum { .. }
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

/// Run the format checks of the fields that have one; return the paths that failed.
fn field_checks(values: &Value, problems: &mut Vec<Problem>) -> HashSet<FieldPath> {
    type Check = fn(&str) -> Result<(), Finding>;
    let mut failed = HashSet::new();
    let mut run = |path: FieldPath, value: Option<&Value>, check: Check| {
        let finding = match value {
            Some(Value::String(s)) => check(s).err(),
            _ => None,
        };
        if let Some(finding) = finding {
            problems.push(from_finding(path.clone(), finding));
            failed.insert(path);
        }
    };
    let root = FieldPath::root();
    if let Some(Value::Array(registries)) = values.get("ecrRegistries") {
        for (n, registry) in registries.iter().enumerate() {
            let at = root.key("ecrRegistries").index(n);
            let fields: [(&str, Check); 4] = [
                ("name", checks::registry_name),
                ("region", checks::region),
                ("namespace", checks::namespace),
                ("schedule", checks::schedule),
            ];
            for (key, check) in fields {
                run(at.key(key), registry.get(key), check);
            }
        }
    }
    let singles: [(&str, &str, Check); 3] = [
        ("serviceAccount", "name", checks::dns_subdomain),
        ("externalSecret", "refreshInterval", checks::go_duration),
        ("cronJob", "timeZone", checks::time_zone),
    ];
    for (parent, key, check) in singles {
        let value = values.get(parent).and_then(|p| p.get(key));
        run(root.key(parent).key(key), value, check);
    }
    for kind in ["requests", "limits"] {
        if let Some(Value::Object(map)) = values.get("resources").and_then(|r| r.get(kind)) {
            for (name, quantity) in map {
                let path = root.key("resources").key(kind).key(name);
                match quantity {
                    // YAML reads `cpu: 1.5` as a number: fine unless negative.
                    Value::Number(n) if n.as_f64().is_some_and(|f| f < 0.0) => {
                        run(path, Some(&Value::String(n.to_string())), checks::quantity);
                    }
                    _ => run(path, Some(quantity), checks::quantity),
                }
            }
        }
    }
    failed
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
            messages.contains(&"missing required key `namespace`"),
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
