//! The labels of every object and of every pod, keys from `ecr_contract::names`, as the YAML
//! lines of a `labels:` map (values JSON-quoted; no indentation: the templates indent them).

use std::collections::BTreeMap;

use ecr_contract::names;

use super::env::quote;
use super::{CHART_NAME, Release, VERSION};
use crate::values::Values;

/// The label lines of one render: built once, joined per object.
#[derive(Debug)]
pub struct Labels {
    /// The chart's own labels, the same on every object.
    chart: String,
    /// `commonLabels`, after the chart's (and the registry's) own.
    common: String,
    /// The pod labels before the registry's: name and instance (the selector labels).
    pod: String,
    /// `podLabels`, after the pod's own.
    pod_extra: String,
}

impl Labels {
    pub fn new(values: &Values, release: &Release) -> Self {
        let mut chart = String::with_capacity(256);
        for (key, value) in [
            (names::LABEL_NAME, CHART_NAME),
            (names::LABEL_INSTANCE, release.name.as_str()),
            (names::LABEL_VERSION, VERSION),
            (names::LABEL_MANAGED_BY, "Helm"),
            (names::LABEL_PART_OF, CHART_NAME),
        ] {
            line(&mut chart, key, value);
        }
        line(
            &mut chart,
            names::LABEL_HELM_CHART,
            &format!("{CHART_NAME}-{VERSION}"),
        );
        let mut pod = String::with_capacity(128);
        line(&mut pod, names::LABEL_NAME, CHART_NAME);
        line(&mut pod, names::LABEL_INSTANCE, &release.name);
        Self {
            chart,
            common: quoted_lines(&values.common_labels),
            pod,
            pod_extra: quoted_lines(&values.pod_labels),
        }
    }

    /// The labels of an object that belongs to no one registry.
    pub fn shared(&self) -> String {
        self.join(&self.chart, None, &self.common)
    }

    /// The labels of one registry's objects.
    pub fn registry(&self, registry: &str) -> String {
        self.join(&self.chart, Some(registry), &self.common)
    }

    /// The labels of the uninstall hook Job: the shared ones and the hook label.
    pub fn uninstall_hook(&self) -> String {
        let mut own = self.chart.clone();
        line(&mut own, names::LABEL_HOOK, names::HOOK_PRE_DELETE);
        self.join(&own, None, &self.common)
    }

    /// The labels of the uninstall hook's pod: the selector labels and `podLabels`.
    pub fn uninstall_pod(&self) -> String {
        self.join(&self.pod, None, &self.pod_extra)
    }

    /// The labels of the sync run's pod (every selecting registry): like the uninstall hook's.
    pub fn sync_pod(&self) -> String {
        self.join(&self.pod, None, &self.pod_extra)
    }

    /// The labels of one registry's pods.
    pub fn pod(&self, registry: &str) -> String {
        self.join(&self.pod, Some(registry), &self.pod_extra)
    }

    fn join(&self, own: &str, registry: Option<&str>, extra: &str) -> String {
        let mut out = String::with_capacity(own.len() + extra.len() + 64);
        out.push_str(own);
        if let Some(registry) = registry {
            line(&mut out, names::LABEL_REGISTRY, registry);
        }
        out.push_str(extra);
        out.truncate(out.trim_end().len());
        out
    }
}

/// `key: "value"`: the key is one of the contract's constants, written bare.
pub(crate) fn line(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(": ");
    quote(out, value);
    out.push('\n');
}

/// Labels from the values: key and value quoted, as `toyaml` writes them.
fn quoted_lines(labels: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (key, value) in labels {
        quote(&mut out, key);
        out.push_str(": ");
        quote(&mut out, value);
        out.push('\n');
    }
    out
}
