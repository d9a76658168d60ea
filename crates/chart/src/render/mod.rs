//! Values → manifests: renders the templates in Helm's install order.

pub mod env;

use std::collections::BTreeMap;

use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::Error;
use crate::values::Values;

/// The chart's name, also its `app.kubernetes.io/name`.
pub const CHART_NAME: &str = "ecr-registry-helper";
/// The version of ecr-chart, of the chart it writes and the default image tag.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Helm release the manifests belong to.
#[derive(Debug, Clone, Serialize)]
pub struct Release {
    pub name: String,
    pub namespace: String,
}

/// A namespace the refresher writes pull secrets to, and the secrets it may touch there.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    namespace: String,
    secret_names: Vec<String>,
}

/// Renders manifests and notes for one set of values and one release.
pub struct Renderer {
    env: Environment<'static>,
    base: Value,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer").finish_non_exhaustive()
    }
}

impl Renderer {
    pub fn new(values: &Values, release: &Release) -> Self {
        let tag = if values.image.tag.is_empty() {
            VERSION
        } else {
            &values.image.tag
        };
        let base = context! {
            values => Value::from(Serde(values)),
            release => Value::from(Serde(release)),
            chart => context! { name => CHART_NAME, version => VERSION },
            image => format!("{}:{}", values.image.repository, tag),
        };
        Self {
            env: env::environment(),
            base,
        }
    }

    fn one(&self, template: &str, extra: Value) -> Result<String, Error> {
        let ctx = context! { ..extra, ..self.base.clone() };
        self.env
            .get_template(template)
            .and_then(|t| t.render(ctx))
            .map_err(|source| Error::Render {
                template: template.to_owned(),
                source,
            })
    }

    /// Every manifest as one YAML stream, each document opened by `---`, in the order
    /// `helm template` prints them: by kind (Helm's install order), hooks last.
    pub fn manifests(&self, values: &Values) -> Result<String, Error> {
        let mut out = String::with_capacity(4096 * (1 + values.ecr_registries.len()));
        let mut push = |doc: String| {
            out.push_str("---\n");
            out.push_str(doc.trim());
            out.push('\n');
        };
        if values.service_account.create {
            push(self.one("serviceaccount.yaml", Value::UNDEFINED)?);
        }
        let registries: Vec<Value> = values
            .ecr_registries
            .iter()
            .map(|x| Value::from(Serde(x)))
            .collect();
        let each = |template: &str, push: &mut dyn FnMut(String)| -> Result<(), Error> {
            for registry in &registries {
                push(self.one(template, context! { registry => registry })?);
            }
            Ok(())
        };
        each("configmap.yaml", &mut push)?;
        let targets: Vec<Value> = targets(values)
            .iter()
            .map(|x| Value::from(Serde(x)))
            .collect();
        for template in ["role.yaml", "rolebinding.yaml"] {
            for target in &targets {
                push(self.one(template, context! { target => target })?);
            }
        }
        each("cronjob.yaml", &mut push)?;
        if values.external_secret.enabled {
            each("externalsecret.yaml", &mut push)?;
        }
        if values.immediate_job.enabled {
            each("job.yaml", &mut push)?;
        }
        Ok(out)
    }

    /// The text Helm shows after an install (`NOTES.txt`).
    pub fn notes(&self) -> Result<String, Error> {
        self.one("notes.txt", Value::UNDEFINED)
    }
}

/// Target namespaces in name order, each with the secrets written there in values order.
fn targets(values: &Values) -> Vec<Target> {
    let mut by_namespace: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for registry in &values.ecr_registries {
        by_namespace
            .entry(&registry.namespace)
            .or_default()
            .push(format!("regcred-{}", registry.name));
    }
    by_namespace
        .into_iter()
        .map(|(namespace, secret_names)| Target {
            namespace: namespace.to_owned(),
            secret_names,
        })
        .collect()
}

/// Render the manifests of `values` for `release`.
pub fn render(values: &Values, release: &Release) -> Result<String, Error> {
    Renderer::new(values, release).manifests(values)
}
