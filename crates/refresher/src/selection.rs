//! A registry's namespace selector (`NAMESPACE_SELECTOR`, `EXCLUDE_NAMESPACES`, `PRUNE`): its
//! check, and which live namespaces it picks (pure; the list request is the caller's).
//!
//! The selector is a Kubernetes `LabelSelector` as JSON, checked as the API server's
//! `ValidateLabelSelector` does with the contract's rules, and evaluated with kube-core's
//! [`Selector`] (the same string goes to the API as `labelSelector`, and matches locally).

use std::collections::BTreeMap;

use ecr_contract::rules::{self, Fault, SelectorOperator};
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Selector, SelectorExt as _};

/// How a registry picks namespaces at run time, besides its explicit ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// The label selector (empty: every namespace).
    pub selector: Selector,
    /// Namespaces never written into by the selector, deduplicated, in the given order.
    pub exclude: Vec<String>,
    /// Delete this registry's Secrets (ours only) in namespaces that no longer match.
    pub prune: bool,
}

impl Selection {
    /// The selector in the API's `labelSelector` query syntax (`team=a,env in (prod)`; empty
    /// for every namespace).
    pub fn query(&self) -> String {
        self.selector.to_string()
    }

    /// Whether `namespace` is one this selection writes into: its labels match, it is not
    /// excluded, and it is not being deleted.
    pub fn picks(&self, namespace: &Namespace) -> bool {
        let name = namespace.metadata.name.as_deref().unwrap_or_default();
        let empty = BTreeMap::new();
        let labels = namespace.metadata.labels.as_ref().unwrap_or(&empty);
        !name.is_empty()
            && !terminating(namespace)
            && !self.exclude.iter().any(|e| e == name)
            && self.selector.matches(labels)
    }
}

/// A namespace being deleted: `metadata.deletionTimestamp` set, or `status.phase: Terminating`
/// (nothing new may be created there).
pub fn terminating(namespace: &Namespace) -> bool {
    namespace.metadata.deletion_timestamp.is_some()
        || namespace
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .is_some_and(|phase| phase == "Terminating")
}

/// The target namespaces of one run: the explicit ones first, in order, then every namespace of
/// `live` the selection picks, by name, each once.
pub fn targets(explicit: &[String], selection: &Selection, live: &[Namespace]) -> Vec<String> {
    let mut picked: Vec<String> = live
        .iter()
        .filter(|ns| selection.picks(ns))
        .filter_map(|ns| ns.metadata.name.clone())
        .filter(|name| !explicit.contains(name))
        .collect();
    picked.sort();
    picked.dedup();
    explicit.iter().cloned().chain(picked).collect()
}

/// What is wrong with a `NAMESPACE_SELECTOR` value, in the words of an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError(pub String);

/// Reads a `NAMESPACE_SELECTOR` value: JSON of a `LabelSelector` (`matchLabels`,
/// `matchExpressions` of `{key, operator, values}`), every key a qualified name, every value a
/// label value, operators `In`/`NotIn` with values and `Exists`/`DoesNotExist` without.
pub fn parse_selector(json: &str) -> Result<Selector, SelectorError> {
    let raw: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| SelectorError(format!("expected a label selector as JSON ({e})")))?;
    let Some(object) = raw.as_object() else {
        return Err(SelectorError(
            "expected a JSON object with matchLabels and/or matchExpressions".into(),
        ));
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "matchLabels" | "matchExpressions"))
    {
        return Err(SelectorError(format!(
            "unknown field {unknown:?} (a label selector has matchLabels and matchExpressions)"
        )));
    }
    let selector: LabelSelector = serde_json::from_value(raw)
        .map_err(|e| SelectorError(format!("expected a label selector ({e})")))?;
    let at = |what: String, fault: Fault| SelectorError(format!("{what}: {fault}"));
    for (key, value) in selector.match_labels.iter().flatten() {
        rules::qualified_key(key).map_err(|f| at(format!("matchLabels key {key:?}"), f))?;
        rules::label_value(value).map_err(|f| at(format!("matchLabels.{key} {value:?}"), f))?;
    }
    for (i, requirement) in selector.match_expressions.iter().flatten().enumerate() {
        let key = &requirement.key;
        rules::qualified_key(key)
            .map_err(|f| at(format!("matchExpressions[{i}].key {key:?}"), f))?;
        let operator = SelectorOperator::parse(&requirement.operator).map_err(|f| {
            at(
                format!("matchExpressions[{i}].operator {:?}", requirement.operator),
                f,
            )
        })?;
        let values = requirement.values.as_deref().unwrap_or_default();
        operator
            .check_values(values.len())
            .map_err(|f| at(format!("matchExpressions[{i}].values"), f))?;
        for value in values {
            rules::label_value(value)
                .map_err(|f| at(format!("matchExpressions[{i}].values {value:?}"), f))?;
        }
    }
    Selector::try_from(selector).map_err(|e| SelectorError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

    fn namespace(name: &str, labels: &[(&str, &str)]) -> Namespace {
        Namespace {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(
                    labels
                        .iter()
                        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                        .collect(),
                ),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        }
    }

    fn selection(json: &str, exclude: &[&str]) -> Selection {
        Selection {
            selector: parse_selector(json).expect("valid selector"),
            exclude: exclude.iter().map(|s| (*s).to_owned()).collect(),
            prune: false,
        }
    }

    #[test]
    fn every_operator_selects_as_the_api_server_does() {
        let live = [
            namespace("a", &[("team", "x"), ("env", "prod")]),
            namespace("b", &[("team", "y")]),
            namespace("c", &[]),
        ];
        let picked = |json: &str| targets(&[], &selection(json, &[]), &live);
        assert_eq!(picked(r#"{"matchLabels":{"team":"x"}}"#), ["a"]);
        let expr = |op: &str, values: &str| {
            picked(&format!(
                r#"{{"matchExpressions":[{{"key":"team","operator":"{op}"{values}}}]}}"#
            ))
        };
        assert_eq!(expr("In", r#","values":["x","y"]"#), ["a", "b"]);
        assert_eq!(expr("NotIn", r#","values":["x"]"#), ["b", "c"]);
        assert_eq!(expr("Exists", ""), ["a", "b"]);
        assert_eq!(expr("DoesNotExist", ""), ["c"]);
        assert_eq!(picked("{}"), ["a", "b", "c"]);
    }

    #[test]
    fn explicit_namespaces_come_first_and_excluded_or_terminating_ones_are_left_out() {
        let mut gone = namespace("gone", &[]);
        gone.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
        let live = [
            namespace("z", &[]),
            namespace("m", &[]),
            gone,
            namespace("kube-system", &[]),
        ];
        let explicit = vec!["apps".to_owned(), "z".to_owned()];
        assert_eq!(
            targets(&explicit, &selection("{}", &["kube-system"]), &live),
            ["apps", "z", "m"]
        );
    }

    #[test]
    fn the_selector_query_is_the_api_servers_syntax() {
        let s = selection(
            r#"{"matchLabels":{"team":"x"},"matchExpressions":[{"key":"env","operator":"NotIn","values":["dev"]},{"key":"legacy","operator":"DoesNotExist"}]}"#,
            &[],
        );
        assert_eq!(s.query(), "team=x,env notin (dev),!legacy");
    }

    #[test]
    fn selectors_the_api_server_refuses_are_refused_with_the_field() {
        let err = |json: &str| parse_selector(json).expect_err(json).0;
        assert!(err("[]").contains("JSON object"), "{}", err("[]"));
        assert!(err(r#"{"matchLabel":{}}"#).contains("unknown field \"matchLabel\""));
        assert!(err(r#"{"matchLabels":{"Team/x":"a"}}"#).contains("matchLabels key"));
        assert!(err(r#"{"matchLabels":{"team":"a b"}}"#).contains("matchLabels.team"));
        let e = err(r#"{"matchExpressions":[{"key":"t","operator":"in","values":["a"]}]}"#);
        assert!(e.contains("matchExpressions[0].operator"), "{e}");
        let e = err(r#"{"matchExpressions":[{"key":"t","operator":"In"}]}"#);
        assert!(e.contains("must be given"), "{e}");
        let e = err(r#"{"matchExpressions":[{"key":"t","operator":"Exists","values":["a"]}]}"#);
        assert!(e.contains("must be empty"), "{e}");
    }
}
