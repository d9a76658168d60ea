//! The JSON Schema of the values: the strict one `load` validates with (custom `format`s for
//! the field formats), the public one (`ecr-chart schema`, the chart's values.schema.json) with
//! those formats as patterns that also accepts `null` wherever a key may be deleted to get its
//! default, and lookups of a field's schema by path.

use std::sync::OnceLock;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::checks::{self, Finding};
use super::model::Values;
use super::path::{FieldPath, Segment};
use super::report::Problem;

/// The whole schema of the values, as the model states it: custom `format`s for the field
/// formats (each a check of [`checks::FORMATS`]), plus the keywords the cross-field rules
/// also check (`uniqueItems`, a registry's `namespace` or `namespaces`).
pub fn strict() -> &'static Value {
    static STRICT: OnceLock<Value> = OnceLock::new();
    STRICT.get_or_init(|| {
        let generator = SchemaSettings::draft07().into_generator();
        let mut schema = generator.into_root_schema_for::<Values>().to_value();
        add_kubernetes_definitions(&mut schema);
        walk(&mut schema, &mut |node| {
            // Values above u32::MAX would pass `"format": "uint32"`, which validators ignore.
            if node.get("format").and_then(Value::as_str) == Some("uint32") {
                node.insert("maximum".to_owned(), json!(u32::MAX));
            }
        });
        schema
    })
}

/// The Kubernetes schemas of `affinity` and `tolerations` (strict `Affinity`, `Toleration` and
/// what they reference), extracted from kubernetes-validate by
/// `scripts/extract-kubernetes-schemas`; their `$ref`s point into the root's `definitions`.
const KUBERNETES_POD_SCHEDULING: &str =
    include_str!("../../schemas/kubernetes-pod-scheduling.json");

/// Add the Kubernetes definitions the model's `affinity` and `tolerations` refer to.
fn add_kubernetes_definitions(schema: &mut Value) {
    #[allow(clippy::expect_used)]
    let extracted: Value = serde_json::from_str(KUBERNETES_POD_SCHEDULING)
        .expect("the embedded Kubernetes schemas are JSON");
    let (Some(Value::Object(ours)), Some(Value::Object(theirs))) = (
        schema
            .as_object_mut()
            .map(|root| root.entry("definitions").or_insert_with(|| json!({}))),
        extracted.get("definitions"),
    ) else {
        return;
    };
    for (name, definition) in theirs {
        ours.insert(name.clone(), definition.clone());
    }
}

/// The schema `load` validates with: [`strict`] without the keywords the cross-field rules
/// (`values::rules`) check and explain themselves (`uniqueItems`, required alternatives,
/// `if`/`then` conditions), so each problem is found once.
fn for_validation() -> Value {
    let mut schema = strict().clone();
    walk(&mut schema, &mut |node| {
        node.remove("uniqueItems");
        let alternatives_require = node
            .get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|options| options.iter().all(|o| o.get("required").is_some()));
        if alternatives_require {
            node.remove("anyOf");
        }
        let conditions_only = node
            .get("allOf")
            .and_then(Value::as_array)
            .is_some_and(|parts| parts.iter().all(|p| p.get("if").is_some()));
        if conditions_only {
            node.remove("allOf");
        }
    });
    schema
}

/// Put each custom `format` the way Helm can check it: its pattern and lengths, or nothing
/// when a regular expression cannot say it (those values are refused by `load` only).
fn formats_as_patterns(node: &mut Map<String, Value>) {
    if let Some(Value::Object(names)) = node.get("propertyNames") {
        let custom = names
            .get("format")
            .and_then(Value::as_str)
            .and_then(checks::format);
        match custom {
            Some(f) if !f.not_one_of.is_empty() => {
                node.insert(
                    "propertyNames".to_owned(),
                    json!({"not": {"enum": f.not_one_of}}),
                );
            }
            Some(f) if f.pattern.is_none() => {
                node.remove("propertyNames");
            }
            _ => {}
        }
    }
    let Some(format) = node
        .get("format")
        .and_then(Value::as_str)
        .and_then(checks::format)
    else {
        return;
    };
    node.remove("format");
    if let Some(pattern) = format.pattern {
        node.insert("pattern".to_owned(), json!(pattern));
    }
    if let Some(max) = format.max_length {
        node.insert("maxLength".to_owned(), json!(max));
    }
    if let Some(min) = format.min_length {
        node.insert("minLength".to_owned(), json!(min));
    }
}

/// The public schema: the strict one with each custom format turned into its pattern, where
/// every optional key and every map entry may also be `null` (Helm and `load` both delete such
/// keys, so the default applies).
pub fn public() -> Value {
    let mut schema = strict().clone();
    walk(&mut schema, &mut |node| {
        formats_as_patterns(node);
        let required: Vec<String> = node
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(Value::Object(properties)) = node.get_mut("properties") {
            for (name, property) in properties.iter_mut() {
                if !required.contains(name) {
                    make_nullable(property);
                }
            }
        }
        if let Some(additional @ Value::Object(_)) = node.get_mut("additionalProperties") {
            make_nullable(additional);
        }
    });
    schema
}

/// Apply `f` to every schema object in `schema`, depth first.
fn walk(schema: &mut Value, f: &mut impl FnMut(&mut Map<String, Value>)) {
    match schema {
        Value::Object(map) => {
            f(map);
            for value in map.values_mut() {
                walk(value, f);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, f)),
        _ => {}
    }
}

fn make_nullable(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    match map.get_mut("type") {
        Some(Value::String(kind)) if kind != "null" => {
            let kind = std::mem::take(kind);
            map.insert("type".to_owned(), json!([kind, "null"]));
        }
        Some(Value::Array(kinds)) if !kinds.contains(&json!("null")) => kinds.push(json!("null")),
        Some(_) => {}
        None => {
            // A `$ref` (or an `allOf` around one): offer null as an alternative, keeping the
            // annotations outside.
            let mut inner = Map::new();
            for key in ["$ref", "allOf", "anyOf", "oneOf", "enum", "const"] {
                if let Some(value) = map.remove(key) {
                    inner.insert(key.to_owned(), value);
                }
            }
            if !inner.is_empty() {
                map.insert(
                    "anyOf".to_owned(),
                    json!([Value::Object(inner), {"type": "null"}]),
                );
            }
            return;
        }
    }
    if let Some(Value::Array(options)) = map.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
}

/// The validator `load` uses, built once: the schema without the rules' keywords, every
/// custom format checked by its check.
pub fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let mut options = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true);
        for format in checks::FORMATS {
            let check = format.check;
            options = options.with_format(format.name, move |s: &str| check(s).is_ok());
        }
        #[allow(clippy::expect_used)]
        options
            .build(&for_validation())
            .expect("the generated values schema is a valid JSON Schema")
    })
}

/// The schema of one field and the nearest description on the way to it.
#[derive(Debug, Clone, Copy)]
pub struct Field<'s> {
    pub schema: &'s Map<String, Value>,
    pub description: Option<&'s str>,
}

impl<'s> Field<'s> {
    /// Names of the keys this (object) field allows, in schema order.
    pub fn keys(&self) -> Vec<&'s str> {
        self.schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The description of one property of this (object) field.
    pub fn property_description(&self, name: &str) -> Option<&'s str> {
        let root = strict();
        let property = self.schema.get("properties")?.get(name)?;
        resolve(root, property).1
    }

    /// The JSON types the field allows.
    pub fn types(&self) -> Vec<&'s str> {
        match self.schema.get("type") {
            Some(Value::String(kind)) => vec![kind.as_str()],
            Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The values an enum field allows.
    pub fn options(&self) -> Vec<&'s str> {
        self.schema
            .get("enum")
            .and_then(Value::as_array)
            .map(|o| o.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// Follow `$ref` and single-entry `allOf` to the schema that holds the keywords, keeping the
/// first description seen.
fn resolve<'s>(root: &'s Value, mut schema: &'s Value) -> (&'s Value, Option<&'s str>) {
    let mut description = None;
    for _ in 0..32 {
        if description.is_none() {
            description = schema.get("description").and_then(Value::as_str);
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match reference
                .strip_prefix('#')
                .and_then(|pointer| root.pointer(pointer))
            {
                Some(target) => schema = target,
                None => break,
            }
        } else if let Some([only]) = schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            schema = only;
        } else {
            break;
        }
    }
    (schema, description)
}

/// The schema of the field at `path` in the strict schema.
pub fn field(path: &FieldPath) -> Option<Field<'static>> {
    let root = strict();
    let (mut schema, mut description) = resolve(root, root);
    for segment in path.segments() {
        let next = match segment {
            Segment::Key(key) => schema
                .get("properties")
                .and_then(|p| p.get(key))
                .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object())),
            Segment::Index(_) => schema.get("items"),
        }?;
        let (resolved, own) = resolve(root, next);
        schema = resolved;
        description = own.or(description);
    }
    Some(Field {
        schema: schema.as_object()?,
        description,
    })
}

/// What the schema documents of a field, as the "allowed" line of its problems.
pub fn allowed(path: &FieldPath) -> Option<String> {
    field(path).and_then(|f| f.description).map(|d| {
        format!(
            "allowed: {}",
            d.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    })
}

pub fn join_help(parts: impl IntoIterator<Item = Option<String>>) -> Option<String> {
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// The problem of a failed check: its wording, and the field's documentation as "allowed".
pub fn from_finding(path: FieldPath, finding: Finding) -> Problem {
    let help = join_help([finding.hint, allowed(&path)]);
    Problem::at_path(path, finding.message, finding.label).with_help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(keys: &[&str]) -> FieldPath {
        keys.iter().fold(FieldPath::root(), |p, k| match k.parse() {
            Ok(n) => p.index(n),
            Err(_) => p.key(k),
        })
    }

    #[test]
    fn the_schema_is_draft_07_and_strict() {
        let schema = strict();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        assert_eq!(schema["additionalProperties"], false);
        let registry = field(&path(&["ecrRegistries", "0"])).expect("registry");
        assert_eq!(registry.schema["additionalProperties"], false);
        assert_eq!(
            registry.keys(),
            [
                "accessMode",
                "account",
                "excludeNamespaces",
                "existingSecret",
                "imagePullSecretFor",
                "name",
                "namespace",
                "namespaceSelector",
                "namespaces",
                "prune",
                "region",
                "registryIds",
                "roleArn",
                "schedule"
            ]
        );
        assert_eq!(registry.schema["required"], json!(["name", "region"]));
        // `namespace`, `namespaces` or both.
        let validator = jsonschema::validator_for(strict()).expect("valid schema");
        let with = |extra: Value| {
            let mut registry = json!({"name": "a", "region": "eu-central-1"});
            if let (Value::Object(r), Value::Object(e)) = (&mut registry, extra) {
                r.extend(e);
            }
            validator.is_valid(&json!({ "ecrRegistries": [registry] }))
        };
        assert!(with(json!({"namespace": "n"})));
        assert!(with(json!({"namespaces": ["n"]})));
        assert!(with(json!({"namespace": "n", "namespaces": []})));
        assert!(!with(json!({})));
        assert!(!with(json!({"namespaces": []})));
        assert!(!with(json!({"namespace": "n", "namespaces": ["a", "a"]})));
        // A selector of its own, or the top-level one, also gives it target namespaces.
        assert!(with(json!({"namespaceSelector": {}})));
        let top = |selector: Value| {
            let registry = json!({"name": "a", "region": "eu-central-1"});
            validator.is_valid(&json!({"namespaceSelector": selector, "ecrRegistries": [registry]}))
        };
        assert!(top(json!({"matchLabels": {"team": "a"}})));
        assert!(!top(json!(null)));
        // Each operator takes its number of values.
        let requirement = |r: Value| with(json!({"namespaceSelector": {"matchExpressions": [r]}}));
        assert!(requirement(
            json!({"key": "a", "operator": "In", "values": ["x"]})
        ));
        assert!(!requirement(json!({"key": "a", "operator": "NotIn"})));
        assert!(requirement(json!({"key": "a", "operator": "Exists"})));
        assert!(!requirement(
            json!({"key": "a", "operator": "DoesNotExist", "values": ["x"]})
        ));
        assert!(!requirement(json!({"key": "a", "operator": "exists"})));
    }

    #[test]
    fn fields_are_found_by_path_with_their_description() {
        let name = field(&path(&["ecrRegistries", "3", "name"])).expect("name");
        assert_eq!(name.schema["format"], "registry-name");
        let public = public();
        let items = &public["properties"]["ecrRegistries"]["items"];
        let registry = &public["definitions"][items["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next())
            .unwrap_or("Registry")];
        assert_eq!(registry["properties"]["name"]["maxLength"], 32);
        assert_eq!(registry["properties"]["name"]["pattern"], checks::DNS_LABEL);
        assert!(name.description.unwrap_or("").contains("DNS-1123 label"));
        let policy = field(&path(&["image", "pullPolicy"])).expect("pullPolicy");
        assert_eq!(policy.options(), ["Always", "IfNotPresent", "Never"]);
        assert!(
            policy
                .description
                .unwrap_or("")
                .starts_with("Image pull policy")
        );
        let cpu = field(&path(&["resources", "limits", "cpu"])).expect("cpu");
        assert_eq!(cpu.types(), ["string", "number"]);
        assert!(cpu.description.unwrap_or("").contains("quantities"));
        assert!(field(&path(&["nope"])).is_none());
    }

    #[test]
    fn the_public_schema_accepts_null_for_optional_keys_only() {
        let public = public();
        let validator = jsonschema::validator_for(&public).expect("valid schema");
        let ok = json!({
            "image": {"tag": null, "pullPolicy": null},
            "cronJob": {"startingDeadlineSeconds": null, "timeZone": null},
            "nodeSelector": {"a": null},
            "resources": {"limits": {"cpu": null, "memory": 1.5}},
            "ecrRegistries": [{"name": "a", "region": "eu-central-1", "namespace": "n", "schedule": null}],
            "serviceAccount": null
        });
        let errors: Vec<String> = validator.iter_errors(&ok).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let bad =
            json!({"ecrRegistries": [{"name": null, "region": "eu-central-1", "namespace": "n"}]});
        assert!(!validator.is_valid(&bad));
        let bad = json!({"image": {"pullPolicy": "Sometimes"}});
        assert!(!validator.is_valid(&bad));
    }

    fn formats_in(schema: &Value) -> Vec<String> {
        let mut found = Vec::new();
        let mut copy = schema.clone();
        walk(&mut copy, &mut |node| {
            if let Some(Value::String(format)) = node.get("format") {
                found.push(format.clone());
            }
        });
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_format_of_the_strict_schema_has_its_check_and_none_reaches_helm() {
        let strict_formats = formats_in(strict());
        for format in &strict_formats {
            assert!(
                format == "uint32" || checks::format(format).is_some(),
                "`{format}` has no check"
            );
        }
        for format in checks::FORMATS {
            assert!(
                strict_formats.iter().any(|f| f == format.name),
                "`{}` is used by no field",
                format.name
            );
        }
        assert_eq!(formats_in(&public()), ["uint32"]);
        let validator = jsonschema::validator_for(&public()).expect("public schema");
        let labels = json!({"commonLabels": {"Bad Key": "{{ x }}"}});
        assert!(
            validator.is_valid(&labels),
            "Helm does not check label keys"
        );
        assert!(!validator.is_valid(&json!({"serviceAccount": {"name": "SA"}})));
    }

    #[test]
    fn affinity_and_tolerations_follow_the_strict_kubernetes_schema_in_both_schemas() {
        let helm = jsonschema::validator_for(&public()).expect("public schema");
        let good = json!({
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "infra",
                             "effect": "NoSchedule", "tolerationSeconds": 30}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}]}}}
        });
        assert!(validator().is_valid(&good));
        assert!(helm.is_valid(&good));
        for bad in [
            json!({"tolerations": ["node-role.kubernetes.io/control-plane"]}),
            json!({"tolerations": [{"key": "a", "effects": "NoSchedule"}]}),
            json!({"affinity": {"nodeAfinity": {}}}),
            json!({"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 1, "podAffinityTerm": {"topologyKey": "x", "labelSelector": {"matchLabel": {}}}}]}}}),
        ] {
            assert!(!validator().is_valid(&bad), "{bad}");
            assert!(!helm.is_valid(&bad), "{bad}");
        }
    }

    #[test]
    fn the_public_schema_refuses_the_chart_label_keys_in_user_labels() {
        let helm = jsonschema::validator_for(&public()).expect("public schema");
        assert!(!helm.is_valid(&json!({"commonLabels": {"app.kubernetes.io/instance": "x"}})));
        assert!(!helm.is_valid(&json!({"podLabels": {"helm.sh/chart": "x"}})));
        assert!(helm.is_valid(&json!({"podLabels": {"team": "x"}})));
        assert!(helm.is_valid(&json!({"nodeSelector": {"app.kubernetes.io/name": "x"}})));
    }

    #[test]
    fn load_leaves_uniqueness_and_target_namespaces_to_the_rules() {
        let registry = json!({"name": "a", "region": "eu-central-1", "namespaces": ["n", "n"]});
        let values = json!({ "ecrRegistries": [registry] });
        assert!(validator().is_valid(&values));
        let helm = jsonschema::validator_for(&public()).expect("public schema");
        assert!(!helm.is_valid(&values));
    }
}
