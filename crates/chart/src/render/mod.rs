//! Values → manifests: renders the templates in Helm's install order.

pub mod env;

use std::collections::BTreeMap;

use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use crate::Error;
use crate::values::Values;
use crate::values::model::{AccessMode, Registry};

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

/// A namespace the refresher writes pull secrets to, the secrets it may touch there, and the
/// ServiceAccounts whose `imagePullSecrets` it may patch there.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    namespace: String,
    secret_names: Vec<String>,
    service_accounts: Vec<String>,
}

/// The credentials a remote key holds, in the order the ExternalSecret lists them.
pub const CREDENTIAL_KEYS: [&str; 3] =
    ["AWS_ACCOUNT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];

/// One registry as the templates see it: its values, with the access mode and everything
/// derived from it resolved once here.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegistryView<'v> {
    name: &'v str,
    region: &'v str,
    schedule: &'v str,
    /// `namespace` then `namespaces`, each once.
    target_namespaces: Vec<&'v str>,
    access_mode: AccessMode,
    /// The Secret the pod reads AWS credentials from (`envFrom.secretRef`); none for
    /// `serviceAccount` access.
    credentials_secret: Option<String>,
    /// Render the ExternalSecret that fills `credentials_secret`.
    external_secret: bool,
    /// `(secretKey, remote key)` of the ExternalSecret.
    remote_keys: Vec<(&'static str, String)>,
    role_arn: Option<&'v str>,
    account: Option<&'v str>,
    registry_ids: &'v [String],
    image_pull_secret_for: &'v [String],
}

impl<'v> RegistryView<'v> {
    fn new(registry: &'v Registry, values: &Values) -> Self {
        let access_mode = registry.access_mode(values.access_mode);
        let credentials_secret = match access_mode {
            AccessMode::ExternalSecret => {
                Some(format!("ecr-registry-helper-secrets-{}", registry.name))
            }
            AccessMode::ExistingSecret => registry.existing_secret.clone(),
            AccessMode::ServiceAccount => None,
        };
        let external_secret =
            access_mode == AccessMode::ExternalSecret && values.external_secret.enabled;
        let remote_keys = if external_secret {
            CREDENTIAL_KEYS
                .iter()
                .map(|key| (*key, values.external_secret.remote_key(&registry.name, key)))
                .collect()
        } else {
            Vec::new()
        };
        Self {
            name: &registry.name,
            region: &registry.region,
            schedule: &registry.schedule,
            target_namespaces: registry.target_namespaces(),
            access_mode,
            credentials_secret,
            external_secret,
            remote_keys,
            role_arn: registry.role_arn.as_deref(),
            account: registry.account.as_deref(),
            registry_ids: &registry.registry_ids,
            image_pull_secret_for: &registry.image_pull_secret_for,
        }
    }
}

/// Renders manifests and notes for one set of values and one release.
pub struct Renderer {
    env: &'static Environment<'static>,
    context: Value,
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
        let registries: Vec<RegistryView<'_>> = values
            .ecr_registries
            .iter()
            .map(|r| RegistryView::new(r, values))
            .collect();
        let context = context! {
            values => Value::from(Serde(values)),
            registries => Value::from(Serde(registries)),
            targets => Value::from(Serde(targets(values))),
            release => Value::from(Serde(release)),
            chart => context! { name => CHART_NAME, version => VERSION },
            image => format!("{}:{}", values.image.repository, tag),
        };
        Self {
            env: env::shared(),
            context,
        }
    }

    fn one(&self, template: &str) -> Result<String, Error> {
        self.env
            .get_template(template)
            .and_then(|t| t.render(&self.context))
            .map_err(|source| Error::Render {
                template: template.to_owned(),
                source,
            })
    }

    /// Every manifest as one YAML stream, each document opened by `---`, in the order
    /// `helm template` prints them: by kind (Helm's install order), hooks last.
    pub fn manifests(&self, values: &Values) -> Result<String, Error> {
        let all = self.one("manifests.yaml")?;
        // Each object starts at a record separator and its place digit (see manifests.yaml);
        // what precedes the first is blank.
        let mut places: [Vec<&str>; 7] = Default::default();
        for object in all.split('\x1e').skip(1) {
            let place = object
                .bytes()
                .next()
                .map(|b| usize::from(b.wrapping_sub(b'0')));
            match place.and_then(|p| places.get_mut(p)) {
                Some(objects) => objects.push(object[1..].trim()),
                None => {
                    return Err(Error::Render {
                        template: "manifests.yaml".to_owned(),
                        source: minijinja::Error::new(
                            minijinja::ErrorKind::InvalidOperation,
                            "an object does not start with its place digit 0-6",
                        ),
                    });
                }
            }
        }
        let mut out = String::with_capacity(all.len() + 8 * values.ecr_registries.len());
        for object in places.iter().flatten() {
            out.push_str("---\n");
            out.push_str(object);
            out.push('\n');
        }
        Ok(out)
    }

    /// The text Helm shows after an install (`NOTES.txt`).
    pub fn notes(&self) -> Result<String, Error> {
        self.one("notes.txt")
    }
}

/// Target namespaces in name order, each with the secrets written there and the
/// ServiceAccounts patched there, in values order, each once.
fn targets(values: &Values) -> Vec<Target> {
    let mut by_namespace: BTreeMap<&str, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for registry in &values.ecr_registries {
        for namespace in registry.target_namespaces() {
            let (secrets, accounts) = by_namespace.entry(namespace).or_default();
            secrets.push(format!("regcred-{}", registry.name));
            for account in &registry.image_pull_secret_for {
                if !accounts.contains(account) {
                    accounts.push(account.clone());
                }
            }
        }
    }
    by_namespace
        .into_iter()
        .map(|(namespace, (secret_names, service_accounts))| Target {
            namespace: namespace.to_owned(),
            secret_names,
            service_accounts,
        })
        .collect()
}

/// Render the manifests of `values` for `release`.
pub fn render(values: &Values, release: &Release) -> Result<String, Error> {
    Renderer::new(values, release).manifests(values)
}
