//! The schemas of the model's fields that schemars cannot derive from their types (maps and
//! lists whose items carry a custom `format`), named in the model's `schema_with` attributes.

use schemars::{Schema, SchemaGenerator, json_schema};

/// Schema of `resources.requests|limits`: names to quantities. YAML reads `1.5` or `2e3` as
/// numbers, so non-negative numbers are quantities too.
pub fn quantities(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "type": ["string", "number"],
            "format": "quantity",
            "minimum": 0
        }
    })
}

/// A list of unique strings of one format.
fn unique_strings(format: &str) -> Schema {
    json_schema!({
        "type": "array",
        "uniqueItems": true,
        "items": {"type": "string", "format": format}
    })
}

/// Schema of `ecrRegistries[].namespaces`: unique DNS-1123 labels.
pub fn namespace_list(_: &mut SchemaGenerator) -> Schema {
    unique_strings("dns-label")
}

/// Schema of a label selector's `values`: label values.
pub fn label_value_list(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {"type": "string", "format": "label-value"}
    })
}

/// Schema of a label selector requirement's `operator`: the API's four spellings.
pub fn selector_operator(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "enum": ecr_contract::rules::SelectorOperator::NAMES
    })
}

/// Schema of `ecrRegistries[].registryIds`: unique 12-digit account IDs.
pub fn account_id_list(_: &mut SchemaGenerator) -> Schema {
    unique_strings("account-id")
}

/// Schema of `ecrRegistries[].imagePullSecretFor`: unique ServiceAccount names.
pub fn service_account_list(_: &mut SchemaGenerator) -> Schema {
    unique_strings("dns-subdomain")
}

/// Schema of labels (`commonLabels`, `podLabels`, `nodeSelector`): label keys to label values.
pub fn label_map(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": {"format": "label-key"},
        "additionalProperties": {"type": "string", "format": "label-value"}
    })
}

/// Schema of annotations: label keys to any text.
pub fn annotation_map(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": {"format": "label-key"},
        "additionalProperties": {"type": "string"}
    })
}

/// Schema of `affinity`: the Kubernetes `Affinity` type, strict (no unknown keys at any depth).
pub fn affinity(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"$ref": "#/definitions/io.k8s.api.core.v1.Affinity"})
}

/// Schema of `tolerations`: a list of Kubernetes `Toleration`s, strict.
pub fn tolerations(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {"$ref": "#/definitions/io.k8s.api.core.v1.Toleration"}
    })
}

/// Schema of `commonLabels` and `podLabels`: like [`label_map`], but the chart's own label
/// keys (`ecr_contract::names::CHART_LABEL_KEYS`) are refused.
pub fn user_label_map(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "propertyNames": {"format": "user-label-key"},
        "additionalProperties": {"type": "string", "format": "label-value"}
    })
}
