//! Validation of the merged values before they are typed: the JSON Schema (every error, each
//! turned into a sentence that quotes the field's documentation as "allowed"; a failed custom
//! `format` becomes the finding of that format's check), then the cross-field rules
//! ([`rules`](super::rules)). Schedules close to the token's lifetime give warnings, which are
//! problems of [`Severity::Warning`](super::report::Severity).

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::checks::{self, Finding};
use super::load::{describe, quote};
use super::path::FieldPath;
use super::report::Problem;
use super::rules;
use super::schema::{self, allowed, from_finding, join_help};

/// Every problem with the merged values (null keys already deleted), in no particular order.
pub fn validate(values: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    for error in schema::validator().iter_errors(values) {
        let path = FieldPath::from_pointer(error.instance_path().as_str(), Some(values));
        problems.extend(translate(values, &path, error.kind(), || error.to_string()));
    }
    problems.extend(rules::check(values));
    problems
}

/// Why `text` fails the custom format `name`, if it is one of ours and `text` fails it.
fn format_finding(name: &str, text: &str) -> Option<Finding> {
    checks::format(name).and_then(|format| (format.check)(text).err())
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
        ValidationErrorKind::Format { format } => {
            if let Some(finding) = value.as_str().and_then(|s| format_finding(format, s)) {
                return vec![from_finding(path.clone(), finding)];
            }
        }
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance().as_str().unwrap_or_default();
            if let ValidationErrorKind::Format { format } = error.kind()
                && let Some(finding) = format_finding(format, key)
            {
                let mut problem = from_finding(path.key(key), finding);
                problem.on_key = true;
                return vec![problem];
            }
        }
        // A number where a formatted string also fits (`cpu: -1`): its check says why.
        ValidationErrorKind::Minimum { .. } => {
            let format = field.and_then(|f| f.schema.get("format")?.as_str());
            if let (Some(format), Value::Number(n)) = (format, value)
                && let Some(finding) = format_finding(format, &n.to_string())
            {
                return vec![from_finding(path.clone(), finding)];
            }
        }
        _ => {}
    }
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
            messages.contains(
                &"missing required key `namespace` (or `namespaces`, or `namespaceSelector`)"
            ),
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
                    "this registry has no `namespace`, `namespaces` or `namespaceSelector`"
                        .to_owned()
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
                .map(|p| {
                    (
                        if p.severity == crate::values::Severity::Warning {
                            "warning"
                        } else {
                            "error"
                        },
                        p.label,
                    )
                })
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
            one("error", "longest gap 12h between 00:30 and 12:30"),
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
                "longest gap 12h between 00:00 and 11:00 on 2026-10-25, when Europe/Berlin \
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

    #[test]
    fn a_schedule_kubernetes_refuses_is_reported_once_for_each_registry() {
        let values = json!({"ecrRegistries": [
            registry_with(json!({"schedule": "61 * * * *"})),
            registry_with(json!({"name": "b", "schedule": "61 * * * *"})),
        ]});
        let found = problems_of(&values);
        let paths: Vec<String> = found.iter().map(|p| p.path.to_string()).collect();
        assert_eq!(
            paths,
            ["ecrRegistries[0].schedule", "ecrRegistries[1].schedule"]
        );
        assert!(found[0].label.contains("outside 0-59"), "{found:?}");
    }
}
