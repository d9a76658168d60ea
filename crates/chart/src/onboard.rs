//! `ecr-chart onboard`: what to add, where the credentials come from and which IAM policies to
//! grant for a new registry, per access mode — checked by the same rules as a values file, the
//! text in `chart-templates/onboard.txt`.

use ecr_contract::{CREDENTIAL_KEYS, names};
use serde::Serialize;

use crate::Error;
use crate::values::model::AccessMode;
use crate::values::{self, FieldPath, Values};

/// A registry to onboard, as given on the command line (the arguments of `ecr-chart onboard`,
/// less its `-f` files).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NewRegistry {
    /// Name of the new registry (a DNS-1123 label of at most 32 characters).
    pub name: String,
    /// AWS region of the registry.
    #[arg(long)]
    pub region: String,
    /// Namespace `regcred-<name>` is written to (give this, --namespaces,
    /// --namespace-selector, or several).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// More namespaces `regcred-<name>` is written to, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub namespaces: Vec<String>,
    /// Also every namespace with these labels (`matchLabels`), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "K=V,...")]
    pub namespace_selector: Vec<String>,
    /// Namespaces the selector never writes into, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub exclude_namespaces: Vec<String>,
    /// Cron schedule of the refresh.
    #[arg(long, default_value = "0 */10 * * *")]
    pub schedule: String,
    /// How the refresher gets AWS access; default: the values' `accessMode`.
    #[arg(long, value_parser = ["externalSecret", "existingSecret", "serviceAccount"])]
    pub access_mode: Option<String>,
    /// The Secret holding the keys, for `--access-mode existingSecret`.
    #[arg(long, value_name = "SECRET")]
    pub existing_secret: Option<String>,
    /// IAM role to assume before asking ECR (cross-account).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// 12-digit AWS account ID of the registry.
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// More account IDs whose registries go into the same secret, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub registry_ids: Vec<String>,
    /// ServiceAccounts whose imagePullSecrets get `regcred-<name>`, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "SA,...")]
    pub image_pull_secret_for: Vec<String>,
}

/// What `onboard` prints: the instructions (stdout) and warnings about them (stderr).
#[derive(Debug, Clone)]
pub struct Onboarding {
    pub text: String,
    pub warnings: values::Warnings,
}

/// A value of the entry as YAML text: a string, or a flow list of strings, each quoted like
/// every rendered value (`render::env::quote`), so no character of it can end its line.
trait EntryValue {
    fn yaml(&self) -> String;
}

impl EntryValue for String {
    fn yaml(&self) -> String {
        let mut out = String::with_capacity(self.len() + 2);
        crate::render::env::quote(&mut out, self);
        out
    }
}

impl EntryValue for Vec<String> {
    fn yaml(&self) -> String {
        let items: Vec<String> = self.iter().map(EntryValue::yaml).collect();
        format!("[{}]", items.join(","))
    }
}

fn yaml(value: &impl EntryValue) -> String {
    value.yaml()
}

/// Whether `text` can be printed bare among the instructions: only characters that cannot end
/// a line, start a comment, separate words or close a quote (`[A-Za-z0-9/_.:@+,{}<>-]`).
fn plain(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/_.:@+,{}<>-".contains(&b))
}

/// Text from the values (a store name, a store path) as printed in the instructions: bare when
/// [`plain`], else as a quoted string whose escapes show every character, so a value can add
/// no line of its own (such as a forged "grant this policy" step).
fn shown(text: &str) -> String {
    if plain(text) {
        text.to_owned()
    } else {
        let mut out = String::with_capacity(text.len() + 2);
        crate::render::env::quote(&mut out, text);
        out
    }
}

/// `text` as one shell word: bare when [`plain`], else single-quoted (a `'` written `'\''`).
/// Only names that passed their naming rule reach a command line, so no line break does.
fn shell_word(text: &str) -> String {
    if plain(text) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// The `ecrRegistries` entry for `new`, key by key in the order a values file lists them, each
/// value as JSON text.
fn entry(new: &NewRegistry) -> Vec<(&'static str, String)> {
    let mut out = vec![("name", yaml(&new.name)), ("region", yaml(&new.region))];
    if let Some(namespace) = &new.namespace {
        out.push(("namespace", yaml(namespace)));
    }
    if !new.namespaces.is_empty() {
        out.push(("namespaces", yaml(&new.namespaces)));
    }
    if let Some(labels) = match_labels(new) {
        out.push(("namespaceSelector", selector_yaml(&labels)));
    }
    if !new.exclude_namespaces.is_empty() {
        out.push(("excludeNamespaces", yaml(&new.exclude_namespaces)));
    }
    out.push(("schedule", yaml(&new.schedule)));
    for (key, value) in [
        ("accessMode", &new.access_mode),
        ("existingSecret", &new.existing_secret),
        ("roleArn", &new.role_arn),
        ("account", &new.account),
    ] {
        if let Some(value) = value {
            out.push((key, yaml(value)));
        }
    }
    for (key, values) in [
        ("registryIds", &new.registry_ids),
        ("imagePullSecretFor", &new.image_pull_secret_for),
    ] {
        if !values.is_empty() {
            out.push((key, yaml(values)));
        }
    }
    out
}

/// `--namespace-selector` as `matchLabels`: each `KEY=VALUE` split at its first `=` (an item
/// without one is a key with an empty value, which the label rules then judge); none without
/// the flag.
fn match_labels(new: &NewRegistry) -> Option<serde_json::Map<String, serde_json::Value>> {
    (!new.namespace_selector.is_empty()).then(|| {
        new.namespace_selector
            .iter()
            .map(|item| {
                let (key, value) = item.split_once('=').unwrap_or((item, ""));
                (key.to_owned(), value.into())
            })
            .collect()
    })
}

/// The entry's `namespaceSelector`: a flow map whose keys and values are quoted like every
/// other value of the entry.
fn selector_yaml(labels: &serde_json::Map<String, serde_json::Value>) -> String {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(key, value)| {
            let value = value.as_str().unwrap_or_default().to_owned();
            format!("{}: {}", key.to_owned().yaml(), value.yaml())
        })
        .collect();
    format!("{{matchLabels: {{{}}}}}", pairs.join(", "))
}

/// The values to check: `new` as the one registry, and the settings of the existing values
/// that decide how it is checked (the default access mode, the time zone).
fn to_check(new: &NewRegistry, existing: &Values) -> serde_json::Value {
    let mut registry = serde_json::Map::new();
    registry.insert("name".into(), new.name.clone().into());
    registry.insert("region".into(), new.region.clone().into());
    registry.insert("schedule".into(), new.schedule.clone().into());
    for (key, value) in [
        ("namespace", &new.namespace),
        ("accessMode", &new.access_mode),
        ("existingSecret", &new.existing_secret),
        ("roleArn", &new.role_arn),
        ("account", &new.account),
    ] {
        if let Some(value) = value {
            registry.insert(key.into(), value.clone().into());
        }
    }
    if let Some(labels) = match_labels(new) {
        registry.insert(
            "namespaceSelector".into(),
            serde_json::json!({ "matchLabels": labels }),
        );
    }
    for (key, values) in [
        ("namespaces", &new.namespaces),
        ("excludeNamespaces", &new.exclude_namespaces),
        ("registryIds", &new.registry_ids),
        ("imagePullSecretFor", &new.image_pull_secret_for),
    ] {
        if !values.is_empty() {
            registry.insert(key.into(), values.clone().into());
        }
    }
    let mut values = serde_json::json!({
        "accessMode": existing.access_mode,
        "ecrRegistries": [registry],
    });
    if let Some(zone) = &existing.cron_job.time_zone {
        values["cronJob"] = serde_json::json!({ "timeZone": zone });
    }
    // A registry naming no namespace inherits the values' top-level selector.
    if let Some(selector) = &existing.namespace_selector {
        values["namespaceSelector"] = serde_json::json!(selector);
    }
    values
}

/// What the user typed that a field of [`to_check`] came from: the argument or flag, or the
/// field of the given values files.
fn argument_of(path: &FieldPath) -> String {
    let path = path.to_string();
    let Some(field) = path.strip_prefix("ecrRegistries[0]") else {
        return format!("{path} (from the values files)");
    };
    let Some(field) = field.strip_prefix('.') else {
        return "the new registry".to_owned();
    };
    // The first key names the flag (`namespaceSelector.matchLabels.team` comes from
    // `--namespace-selector`); a list index names the item.
    let (key, rest) = field.split_at(field.find(['.', '[']).unwrap_or(field.len()));
    let item = rest
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|index| index.parse::<usize>().ok());
    let flag = match key {
        "name" => "NAME",
        "region" => "--region",
        "namespace" => "--namespace",
        "namespaces" => "--namespaces",
        "namespaceSelector" => "--namespace-selector",
        "excludeNamespaces" => "--exclude-namespaces",
        "schedule" => "--schedule",
        "accessMode" => "--access-mode",
        "existingSecret" => "--existing-secret",
        "roleArn" => "--role-arn",
        "account" => "--account",
        "registryIds" => "--registry-ids",
        "imagePullSecretFor" => "--image-pull-secret-for",
        other => return format!("the new registry's {other}"),
    };
    match item {
        Some(index) => format!("{flag} (item {})", index + 1),
        None => flag.to_owned(),
    }
}

/// The store of `externalSecret` access: where the credentials are put.
#[derive(Debug, Serialize)]
struct Store {
    kind: &'static str,
    name: String,
    /// `(remote key padded to 60 columns, what goes there)`, in the ExternalSecret's order.
    keys: Vec<(String, &'static str)>,
}

/// The IAM policy documents of steps 3 and 4, as pretty JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Policies {
    permissions: String,
    irsa: Option<String>,
    pod_identity: Option<String>,
    assume: Option<String>,
    trust: Option<String>,
}

/// Everything `onboard.txt` shows, from the checked arguments and the existing values.
#[derive(Debug, Serialize)]
struct OnboardView<'a> {
    entry: Vec<(&'static str, String)>,
    mode: AccessMode,
    store: Option<Store>,
    credentials_secret: String,
    credential_keys: [&'static str; 3],
    /// A shell word (a command argument) and the name in the text.
    existing_secret: String,
    /// A shell word (a command argument) and the name in the text.
    service_account: String,
    refresher_role: String,
    who: String,
    caller: String,
    role_arn: Option<&'a str>,
    policies: Policies,
    pull_secret: String,
    namespaces: String,
    /// The registry's namespace selector (own or inherited) as a label selector string, one
    /// shell word (e.g. `team=apps,env=prod`), empty when it selects every namespace; none
    /// without a selector.
    selector: Option<String>,
    chart_name: &'static str,
}

/// Check `new` against the rules of a values file and against `existing` (name clashes, the
/// default access mode, the time zone), then return the onboarding instructions.
pub fn onboard(new: &NewRegistry, existing: &Values) -> Result<Onboarding, Error> {
    let loaded = values::check_value(to_check(new, existing), argument_of)?;
    if existing.ecr_registries.iter().any(|r| r.name == new.name) {
        return Err(Error::InvalidArgument {
            what: "registry name",
            value: new.name.clone(),
            allowed: "a name not yet used by ecrRegistries in the given values files",
        });
    }
    let Some(registry) = loaded.values.ecr_registries.first() else {
        unreachable!("the checked values hold the one entry")
    };
    let mode = registry.access_mode(existing.access_mode);
    let partition = ecr_contract::Partition::of_region(&new.region)
        .unwrap_or(ecr_contract::Partition::Aws)
        .id();
    let account = new.account.as_deref().unwrap_or("<account>");
    let es = &existing.external_secret;
    let store = (mode == AccessMode::ExternalSecret && es.enabled).then(|| Store {
        kind: es.secret_store_ref.kind_name(),
        name: shown(&es.secret_store_ref.name),
        keys: CREDENTIAL_KEYS
            .iter()
            .zip([
                "<12-digit AWS account ID of the registry>",
                "<access key ID>",
                "<secret access key>",
            ])
            .map(|(key, example)| {
                let path = shown(&es.remote_key(&new.name, key));
                (format!("{path:<60}"), example)
            })
            .collect(),
    });
    let who = match (mode, &new.role_arn) {
        (_, Some(role)) => format!("the role {role}"),
        (AccessMode::ServiceAccount, None) => "the refresher's role".to_owned(),
        _ => "the IAM user".to_owned(),
    };
    let refresher_role =
        format!("arn:{partition}:iam::<account of the role>:role/<refresher role>");
    let caller = match mode {
        AccessMode::ServiceAccount => refresher_role.clone(),
        _ => format!("arn:{partition}:iam::<account of the user>:user/<IAM user>"),
    };
    let view = OnboardView {
        entry: entry(new),
        mode,
        store,
        credentials_secret: names::credentials_secret(&new.name),
        credential_keys: CREDENTIAL_KEYS,
        existing_secret: new
            .existing_secret
            .as_deref()
            .map_or_else(|| "<existing secret>".to_owned(), shell_word),
        service_account: shell_word(&existing.service_account.name),
        refresher_role,
        who,
        policies: policies(new, existing, mode, partition, account, &caller),
        caller,
        role_arn: new.role_arn.as_deref(),
        pull_secret: names::pull_secret(&new.name),
        namespaces: registry.target_namespaces().join(", "),
        selector: registry.selector(&loaded.values).map(|selector| {
            let text = selector.label_selector();
            if text.is_empty() {
                text
            } else {
                shell_word(&text)
            }
        }),
        chart_name: names::CHART_NAME,
    };
    let text = crate::render::env::shared()
        .get_template("onboard.txt")
        .and_then(|t| t.render(minijinja::Value::from(minijinja::value::Serde(&view))))
        .map_err(|source| Error::Render {
            template: "onboard.txt".to_owned(),
            source,
        })?;
    Ok(Onboarding {
        text,
        warnings: loaded.warnings,
    })
}

/// A policy document with the given statements.
fn policy(statements: &[serde_json::Value]) -> String {
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    serde_json::to_string_pretty(&document).expect("a serde_json::Value always serialises")
}

/// The permission policy of the principal that asks ECR (step 3), and the trust policies that
/// let the refresher become it (step 4).
fn policies(
    new: &NewRegistry,
    existing: &Values,
    mode: AccessMode,
    partition: &str,
    account: &str,
    caller: &str,
) -> Policies {
    let mut repositories = vec![serde_json::Value::from(format!(
        "arn:{partition}:ecr:{}:{account}:repository/*",
        new.region
    ))];
    repositories.extend(new.registry_ids.iter().map(|id| {
        serde_json::Value::from(format!(
            "arn:{partition}:ecr:{}:{id}:repository/*",
            new.region
        ))
    }));
    let permissions = policy(&[
        serde_json::json!({
            "Sid": "RefreshPullToken",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*"
        }),
        serde_json::json!({
            "Sid": "PullImages",
            "Effect": "Allow",
            "Action": [
                "ecr:BatchCheckLayerAvailability",
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer"
            ],
            "Resource": repositories
        }),
    ]);
    let sa = &existing.service_account.name;
    let service_account = mode == AccessMode::ServiceAccount;
    let irsa = service_account.then(|| {
        policy(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {
                "Federated": format!("arn:{partition}:iam::<account of the role>:oidc-provider/<cluster OIDC issuer without https://>")
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "<cluster OIDC issuer without https://>:sub": format!("system:serviceaccount:<release namespace>:{sa}"),
                "<cluster OIDC issuer without https://>:aud": "sts.amazonaws.com"
            }}
        })])
    });
    let pod_identity = service_account.then(|| {
        policy(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        })])
    });
    let assume = new.role_arn.as_ref().map(|role| {
        policy(&[serde_json::json!({
            "Sid": "AssumeEcrRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": role
        })])
    });
    let trust = new.role_arn.as_ref().map(|_| {
        policy(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {"AWS": caller},
            "Action": "sts:AssumeRole"
        })])
    });
    Policies {
        permissions,
        irsa,
        pod_identity,
        assume,
        trust,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, region: &str) -> NewRegistry {
        NewRegistry {
            name: name.into(),
            region: region.into(),
            namespace: Some("apps".into()),
            schedule: "0 */10 * * *".into(),
            ..NewRegistry::default()
        }
    }

    fn onboard_text(new: &NewRegistry) -> String {
        onboard(new, &Values::default()).expect("valid").text
    }

    #[test]
    fn onboarding_prints_entry_store_paths_and_policy() {
        let text = onboard_text(&new("production", "us-east-1"));
        assert!(text.contains("  - name: \"production\"\n    region: \"us-east-1\""));
        assert!(text.contains("/ecr-registry-helper/aws/ecr/production/AWS_SECRET_ACCESS_KEY"));
        assert!(text.contains("\"Action\": \"ecr:GetAuthorizationToken\""));
        assert!(text.contains("arn:aws:ecr:us-east-1:<account>:repository/*"));
        assert!(text.contains("# 4. No role to assume"));
    }

    #[test]
    fn a_registry_without_namespaces_takes_the_values_top_level_selector() {
        let mut bare = new("teams", "eu-central-1");
        bare.namespace = None;
        assert!(
            onboard(&bare, &Values::default()).is_err(),
            "no target at all"
        );
        let existing = Values {
            namespace_selector: Some(Default::default()),
            ..Values::default()
        };
        let text = onboard(&bare, &existing)
            .expect("the top-level selector applies")
            .text;
        assert!(
            text.contains("creates regcred-teams in\n#    every namespace\n"),
            "{text}"
        );
        assert!(
            !text.contains("namespaceSelector:"),
            "inherited, not repeated: {text}"
        );
    }

    #[test]
    fn store_paths_follow_the_remote_key_template() {
        let mut existing = Values::default();
        existing.external_secret.remote_key_template = "ecr-{name}-{key}".into();
        let text = onboard(&new("production", "us-east-1"), &existing)
            .expect("valid")
            .text;
        assert!(
            text.contains("   ecr-production-AWS_ACCESS_KEY_ID "),
            "{text}"
        );
    }

    #[test]
    fn existing_secret_mode_names_the_secret_to_create_and_no_store_paths() {
        let mut registry = new("legacy", "eu-west-1");
        registry.access_mode = Some("existingSecret".into());
        registry.existing_secret = Some("legacy-keys".into());
        let text = onboard_text(&registry);
        assert!(
            text.contains(
                "    accessMode: \"existingSecret\"\n    existingSecret: \"legacy-keys\""
            )
        );
        assert!(text.contains("kubectl create secret generic legacy-keys"));
        assert!(!text.contains("/aws/ecr/legacy/"), "{text}");
    }

    #[test]
    fn service_account_mode_with_a_role_prints_the_trust_policies() {
        let mut registry = new("partner", "cn-north-1");
        registry.access_mode = Some("serviceAccount".into());
        registry.role_arn = Some("arn:aws-cn:iam::222222222222:role/ecr-pull".into());
        registry.account = Some("222222222222".into());
        registry.namespaces = vec!["web".into(), "jobs".into()];
        registry.registry_ids = vec!["333333333333".into()];
        registry.image_pull_secret_for = vec!["default".into()];
        let text = onboard_text(&registry);
        assert!(text.contains("eks.amazonaws.com/role-arn: arn:aws-cn:iam::"));
        assert!(text.contains("create-pod-identity-association"));
        assert!(text.contains("\"Action\": \"sts:AssumeRoleWithWebIdentity\""));
        assert!(text.contains("\"Service\": \"pods.eks.amazonaws.com\""));
        assert!(text.contains("\"Resource\": \"arn:aws-cn:iam::222222222222:role/ecr-pull\""));
        assert!(text.contains("arn:aws-cn:ecr:cn-north-1:333333333333:repository/*"));
        assert!(text.contains("regcred-partner in apps, web, jobs"));
        assert!(
            !text.contains("AWS_SECRET_ACCESS_KEY ="),
            "no store paths: {text}"
        );
    }

    #[test]
    fn onboarding_refuses_what_a_values_file_would_refuse() {
        let err =
            onboard(&new("production", "mars-east-1"), &Values::default()).expect_err("bad region");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("region"), "{err}");
        let mut daily = new("production", "us-east-1");
        daily.schedule = "0 3 * * *".into();
        let err = onboard(&daily, &Values::default()).expect_err("daily");
        assert!(err.to_string().contains("longest gap 24h"), "{err}");
        let mut missing = new("production", "us-east-1");
        missing.access_mode = Some("existingSecret".into());
        assert!(onboard(&missing, &Values::default()).is_err());
    }

    #[test]
    fn the_values_default_access_mode_and_time_zone_apply() {
        let mut existing = Values {
            access_mode: AccessMode::ServiceAccount,
            ..Values::default()
        };
        existing.cron_job.time_zone = Some("Europe/Berlin".into());
        let registry = new("production", "us-east-1");
        let text = onboard(&registry, &existing).expect("valid").text;
        assert!(text.contains("No store paths and no static keys"), "{text}");
        let mut eleven = registry;
        eleven.schedule = "0 */11 * * *".into();
        let err = onboard(&eleven, &existing).expect_err("12h in Berlin");
        assert!(err.to_string().contains("Europe/Berlin"), "{err}");
    }

    #[test]
    fn onboarding_errors_name_the_arguments_and_show_no_yaml() {
        let mut bad = new("production", "mars-east-1");
        bad.namespaces = vec!["web".into(), "Jobs".into()];
        let err = onboard(&bad, &Values::default())
            .expect_err("bad")
            .to_string();
        assert!(err.contains("--region: `mars-east-1`"), "{err}");
        assert!(
            err.contains("--namespaces (item 2): namespace `Jobs`"),
            "{err}"
        );
        for yaml in ["ecrRegistries", "region: \"", "─[", "onboard arguments"] {
            assert!(!err.contains(yaml), "{yaml} in {err}");
        }
    }

    #[test]
    fn onboarding_refuses_a_name_already_in_use() {
        let mut existing = Values::default();
        existing.ecr_registries.push(
            serde_json::from_value(serde_json::json!({
                "name": "production", "region": "us-east-1", "namespace": "apps"
            }))
            .expect("a registry"),
        );
        let err = onboard(&new("production", "us-east-1"), &existing).expect_err("clash");
        assert!(matches!(err, Error::InvalidArgument { .. }));
    }

    /// The forged step a hostile value tries to add to the instructions.
    const FORGED: &str = "\n\n# 3. Grant the IAM user this policy:\n\n{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}\n\n#";

    /// Every JSON document of the instructions (lines from `{` to `}` at column 0), parsed.
    fn documents(text: &str) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines() {
            if line == "{" {
                current = Some(String::new());
            }
            if let Some(doc) = current.as_mut() {
                doc.push_str(line);
                doc.push('\n');
            }
            if line == "}" {
                let doc = current.take().expect("a document was open");
                out.push(serde_json::from_str(&doc).expect("every document is JSON"));
            }
        }
        out
    }

    /// Every `Action` the policy documents grant.
    fn actions(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for doc in documents(text) {
            for statement in doc["Statement"].as_array().expect("statements") {
                match &statement["Action"] {
                    serde_json::Value::String(a) => out.push(a.clone()),
                    serde_json::Value::Array(a) => {
                        out.extend(a.iter().filter_map(|a| a.as_str().map(str::to_owned)));
                    }
                    other => panic!("unexpected action {other}"),
                }
            }
        }
        out
    }

    /// What a printed value shown by [`shown`] reads back as: the JSON string, or the bare text.
    fn read_back(shown: &str) -> String {
        if shown.starts_with('"') {
            serde_json::from_str(shown).expect("a quoted value is a JSON string")
        } else {
            shown.to_owned()
        }
    }

    #[test]
    fn a_store_name_from_the_values_cannot_add_a_step_or_a_policy() {
        let benign = onboard_text(&new("production", "us-east-1"));
        let mut existing = Values::default();
        let name = format!("vault`{FORGED}");
        existing.external_secret.secret_store_ref.name = name.clone();
        let text = onboard(&new("production", "us-east-1"), &existing)
            .expect("valid")
            .text;
        assert_eq!(text.lines().count(), benign.lines().count(), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with("# 3.")).count(),
            1,
            "{text}"
        );
        assert!(!actions(&text).contains(&"*".to_owned()), "{text}");
        let line = text
            .lines()
            .find(|l| l.starts_with("# 2. Store"))
            .expect("step 2");
        let start = line.find('"').expect("the name is quoted");
        let end = line.rfind("` (").expect("closing backtick");
        assert_eq!(read_back(&line[start..end]), name);
    }

    #[test]
    fn store_paths_from_the_key_prefix_and_template_are_quoted_unless_plain() {
        let benign = onboard_text(&new("production", "us-east-1"));
        let mut existing = Values::default();
        existing.external_secret.key_prefix = format!("/p{FORGED}");
        existing.external_secret.remote_key_template = "{prefix} = x\t\u{2028}{key}".into();
        let text = onboard(&new("production", "us-east-1"), &existing)
            .expect("valid")
            .text;
        assert_eq!(text.lines().count(), benign.lines().count(), "{text}");
        assert!(!actions(&text).contains(&"*".to_owned()), "{text}");
        assert!(!text.contains('\u{2028}') && !text.contains('\t'), "{text}");
        let paths: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("   \""))
            .map(|l| {
                let end = l.rfind("\" ").expect("closing quote") + 1;
                read_back(&format!("\"{}", &l[..end]))
            })
            .collect();
        let expected: Vec<String> = CREDENTIAL_KEYS
            .iter()
            .map(|key| existing.external_secret.remote_key("production", key))
            .collect();
        assert_eq!(paths, expected, "{text}");
        // A plain path stays bare, as before.
        assert!(benign.contains("   /ecr-registry-helper/aws/ecr/production/AWS_ACCOUNT "));
    }

    #[test]
    fn entry_values_are_quoted_so_each_reads_back_on_its_own_line() {
        let hostile = "a\"\n- name: evil\u{2028}\u{85}\u{7f}\\".to_owned();
        let mut registry = new(&hostile, &hostile);
        registry.namespaces = vec![hostile.clone(), "web".into()];
        for (key, value) in entry(&registry) {
            assert!(
                !value.contains(['\n', '\u{2028}', '\u{85}', '\u{7f}']),
                "{key}: {value}"
            );
            let read: serde_json::Value = serde_json::from_str(&value).expect("JSON text");
            match key {
                "namespaces" => assert_eq!(read, serde_json::json!([hostile, "web"])),
                "name" | "region" => assert_eq!(read, serde_json::json!(hostile)),
                _ => {}
            }
        }
    }

    #[test]
    fn shell_words_are_quoted_and_names_with_line_breaks_never_reach_a_command() {
        assert_eq!(shell_word("legacy-keys"), "legacy-keys");
        assert_eq!(shell_word("a b'c;$(x)"), "'a b'\\''c;$(x)'");
        let mut registry = new("legacy", "eu-west-1");
        registry.access_mode = Some("existingSecret".into());
        registry.existing_secret = Some("keys\n   kubectl delete ns prod".into());
        let err = onboard(&registry, &Values::default()).expect_err("not a name");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("--existing-secret"), "{err}");
        let source = values::Source {
            name: "values.yaml".into(),
            text: "serviceAccount:\n  name: \"sa\\n   aws iam delete-role\"\n".into(),
        };
        let err = values::load_checked(&[source]).expect_err("not a name");
        assert!(err.to_string().contains("serviceAccount.name"), "{err}");
    }

    #[test]
    fn policies_stay_json_documents_whatever_an_argument_holds() {
        let mut registry = new("partner", "us-east-1");
        registry.role_arn = Some("arn:aws:iam::123456789012:role/a+b=c,d.e@f-g_h/i".into());
        let text = onboard_text(&registry);
        assert_eq!(documents(&text).len(), 3, "{text}");
        assert!(!actions(&text).contains(&"*".to_owned()));
        // Even text no rule would let through stays one JSON string.
        let forged = "x\", \"Action\": \"*\", \"y\": \"".to_owned();
        registry.role_arn = Some(forged.clone());
        registry.region = forged.clone();
        registry.registry_ids = vec![forged.clone()];
        let policies = policies(
            &registry,
            &Values::default(),
            AccessMode::ServiceAccount,
            "aws",
            &forged,
            &forged,
        );
        let all = [
            Some(policies.permissions),
            policies.irsa,
            policies.pod_identity,
            policies.assume,
            policies.trust,
        ];
        let text: String = all.into_iter().flatten().map(|p| p + "\n").collect();
        assert_eq!(documents(&text).len(), 5);
        assert!(!actions(&text).contains(&"*".to_owned()), "{text}");
        let assume = &documents(&text)[3];
        assert_eq!(
            assume["Statement"][0]["Resource"],
            serde_json::json!(forged)
        );
    }
}
