//! Drift checks: the hand-written copies of the values model agree with the model.
//!
//! The model (`crates/chart/src/values/model.rs`: its `Default`s and doc comments, as
//! `ecr_chart::values::schema()` publishes them) is the one source. Checked against it:
//!
//! - `values.example.yaml`: its settings outside `ecrRegistries`, as written (comments
//!   ignored), equal `Values::default()` key for key and value for value, nested maps included —
//!   no key missing, none extra, none different. Keys without a default
//!   (`cronJob.startingDeadlineSeconds`, `cronJob.timeZone`) are absent from the default, so
//!   the example may only show them commented out. The `ecrRegistries` entries are examples,
//!   but every key they set that has a default (`schedule`) is set to that default. Every key
//!   of the schema is mentioned in the example, set or commented out (`# key:`).
//! - `values.schema.json`: exactly what `ecr-chart schema` prints (scripts/test also
//!   regenerates it and diffs it with git).
//! - The README's values table, between its `values-table` markers: generated from the
//!   schema, one row per key, and compared; `UPDATE_GENERATED=1` rewrites it (and
//!   `values.schema.json`).

use std::path::{Path, PathBuf};

use ecr_chart::values::{self, Source, Values};
use serde_json::{Map, Value, json};

const UPDATE: &str = "UPDATE_GENERATED=1 cargo test -p ecr-chart --test drift";
const TABLE_START: &str = "<!-- values-table:start: generated from the values model by tests/drift.rs; do not edit by hand -->\n";
const TABLE_END: &str = "<!-- values-table:end -->\n";

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(repo_file(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GENERATED").is_some_and(|v| v == "1")
}

/// `values.example.yaml` as written: no defaults filled in.
fn example_as_written() -> Map<String, Value> {
    let loaded = values::load_checked(&[Source {
        name: "values.example.yaml".into(),
        text: read("values.example.yaml"),
    }])
    .unwrap_or_else(|e| panic!("values.example.yaml is not valid values:\n{e}"));
    match loaded.as_given {
        Value::Object(map) => map,
        other => panic!("values.example.yaml is not a mapping: {other}"),
    }
}

/// Every difference between `example` and `model`, as `path: what`.
fn differences(path: &str, example: &Value, model: &Value, out: &mut Vec<String>) {
    match (example, model) {
        (Value::Object(e), Value::Object(m)) => {
            for (key, value) in m {
                let at = format!("{path}.{key}");
                match e.get(key) {
                    Some(shown) => differences(&at, shown, value, out),
                    None => out.push(format!("{at}: missing; the model's default is {value}")),
                }
            }
            for key in e.keys().filter(|k| !m.contains_key(*k)) {
                out.push(format!(
                    "{path}.{key}: set in the example, but the model has no default for it (show it commented out, or give it a default in the model)"
                ));
            }
        }
        _ if example == model => {}
        _ => out.push(format!(
            "{path}: the example has {example}, the model's default is {model}"
        )),
    }
}

#[test]
fn the_example_values_hold_the_model_defaults() {
    let mut example = example_as_written();
    example.remove("ecrRegistries");
    let mut model = match serde_json::to_value(Values::default()).expect("serialises") {
        Value::Object(map) => map,
        other => panic!("Values::default() is not a map: {other}"),
    };
    model.remove("ecrRegistries");
    let mut found = Vec::new();
    differences(
        "",
        &Value::Object(example),
        &Value::Object(model),
        &mut found,
    );
    let found: Vec<String> = found.iter().map(|d| d[1..].to_owned()).collect();
    assert!(
        found.is_empty(),
        "values.example.yaml and the model's defaults (Values::default() in \
         crates/chart/src/values/model.rs) differ; change one to match the other:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_example_registries_set_defaulted_keys_to_their_defaults() {
    let schema = values::schema();
    let registry = resolve(&schema, &schema["properties"]["ecrRegistries"]["items"]);
    let example = example_as_written();
    let registries = example["ecrRegistries"].as_array().expect("a list");
    assert!(!registries.is_empty(), "the example shows registries");
    let mut found = Vec::new();
    for (i, entry) in registries.iter().enumerate() {
        for (key, value) in entry.as_object().expect("a mapping") {
            let default = &registry["properties"][key]["default"];
            if !default.is_null() && value != default {
                found.push(format!(
                    "ecrRegistries[{i}].{key}: the example has {value}, the model's default is {default}"
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "values.example.yaml shows every key with its default; change the example or the \
         model (crates/chart/src/values/model.rs):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn every_key_of_the_schema_is_mentioned_in_the_example() {
    let example = read("values.example.yaml");
    let mentioned = |key: &str| {
        example.lines().any(|line| {
            let line = line.trim_start().trim_start_matches('#').trim_start();
            line.trim_start_matches("- ")
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        })
    };
    let missing: Vec<String> = rows(&values::schema())
        .into_iter()
        .filter(|row| !mentioned(row.key.rsplit(['.', ']']).next().unwrap_or(&row.key)))
        .map(|row| row.key)
        .collect();
    assert!(
        missing.is_empty(),
        "values.example.yaml documents every key, set or commented out (`# key: value`); add \
         these with a comment saying what they do:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn the_committed_values_schema_is_what_ecr_chart_schema_prints() {
    let want = serde_json::to_string_pretty(&values::schema()).expect("serialises") + "\n";
    if updating() {
        std::fs::write(repo_file("values.schema.json"), &want).expect("write values.schema.json");
    }
    let have = std::fs::read_to_string(repo_file("values.schema.json")).unwrap_or_default();
    assert!(
        have == want,
        "values.schema.json is not what `ecr-chart schema` prints; regenerate it with \
         `cargo run -q -p ecr-chart -- schema > values.schema.json` (or {UPDATE}) and commit it"
    );
}

#[test]
fn the_readme_values_table_is_generated_from_the_schema() {
    let readme = read("README.md");
    let (Some(start), Some(end)) = (readme.find(TABLE_START), readme.find(TABLE_END)) else {
        panic!("README.md has lost its values-table markers:\n{TABLE_START}{TABLE_END}");
    };
    let start = start + TABLE_START.len();
    assert!(
        start <= end,
        "README.md: the values-table markers are out of order"
    );
    let want = table(&values::schema());
    if updating() && readme[start..end] != want {
        let updated = format!("{}{want}{}", &readme[..start], &readme[end..]);
        std::fs::write(repo_file("README.md"), updated).expect("write README.md");
        return;
    }
    assert!(
        readme[start..end] == want,
        "the README's values table differs from the values model (keys, defaults or doc \
         comments in crates/chart/src/values/model.rs); regenerate it with {UPDATE} and commit \
         README.md. Expected:\n{want}"
    );
}

#[test]
fn the_values_table_has_a_row_for_every_key_and_none_other() {
    let schema = json!({
        "definitions": {"Inner": {"type": "object", "properties": {
            "leaf": {"type": "string", "default": "x", "description": "A leaf\nof `Inner`."}}}},
        "properties": {
            "inner": {"anyOf": [{"allOf": [{"$ref": "#/definitions/Inner"}]}, {"type": "null"}],
                      "default": {"leaf": "x"}, "description": "Ignored: it has keys."},
            "list": {"type": "array", "items": {"type": "object", "required": ["name"],
                     "properties": {"name": {"type": "string", "description": "Name | id."},
                                    "opt": {"type": "string"}}}},
            "map": {"type": "object", "additionalProperties": {"type": "string"}, "default": {}}
        }
    });
    assert_eq!(
        table(&schema),
        "| key | default | what |\n|---|---|---|\n\
         | `inner.leaf` | `\"x\"` | A leaf of `Inner`. |\n\
         | `list[].name` | required | Name \\| id. |\n\
         | `list[].opt` | unset |  |\n\
         | `map` | `{}` |  |\n"
    );
}

/// One key of the values: its path, default and description.
struct Row {
    key: String,
    default: String,
    what: String,
}

/// `node` with its `$ref` (also inside `anyOf`/`allOf`, as schemars writes `Option<T>`) followed.
fn resolve<'a>(schema: &'a Value, node: &'a Value) -> &'a Value {
    if node.get("properties").is_some() {
        return node;
    }
    if let Some(reference) = node["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or(reference);
        // Kubernetes' own types (`affinity`, `tolerations`) are one row each: Kubernetes
        // documents their keys.
        if name.starts_with("io.k8s.") {
            return node;
        }
        return resolve(schema, &schema["definitions"][name]);
    }
    for combinator in ["allOf", "anyOf"] {
        if let Some(target) = node[combinator]
            .as_array()
            .into_iter()
            .flatten()
            .map(|branch| resolve(schema, branch))
            .find(|target| target.get("properties").is_some())
        {
            return target;
        }
    }
    node
}

/// Every key of the schema, `ecrRegistries[]` first, then depth first in the schema's
/// (alphabetical) order: objects with properties are opened (lists of them as `key[]`),
/// everything else is one row.
fn rows(schema: &Value) -> Vec<Row> {
    fn walk(schema: &Value, node: &Value, prefix: &str, out: &mut Vec<Row>) {
        let required: Vec<&str> = node["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let Some(properties) = node["properties"].as_object() else {
            return;
        };
        for (name, property) in properties {
            let key = format!("{prefix}{name}");
            let target = resolve(schema, property);
            let items = resolve(schema, &property["items"]);
            if target.get("properties").is_some() {
                walk(schema, target, &format!("{key}."), out);
            } else if items.get("properties").is_some() {
                walk(schema, items, &format!("{key}[]."), out);
            } else {
                let default = match property.get("default") {
                    Some(value) => format!("`{value}`"),
                    None if required.contains(&name.as_str()) => "required".to_owned(),
                    None => "unset".to_owned(),
                };
                let what = property["description"]
                    .as_str()
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                out.push(Row { key, default, what });
            }
        }
    }
    let mut out = Vec::new();
    walk(schema, schema, "", &mut out);
    // The registries first: they are what a values file is about.
    out.sort_by_key(|row| !row.key.starts_with("ecrRegistries"));
    out
}

/// The README's values table: a Markdown table of [`rows`].
fn table(schema: &Value) -> String {
    let cell = |s: &str| s.replace('|', "\\|");
    let mut out = String::from("| key | default | what |\n|---|---|---|\n");
    for row in rows(schema) {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            row.key,
            cell(&row.default),
            cell(&row.what)
        ));
    }
    out
}
