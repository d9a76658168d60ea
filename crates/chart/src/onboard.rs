//! `ecr-chart onboard`: what to add, where the credentials come from and which IAM policies to
//! grant for a new registry, per access mode — checked by the same rules as a values file.

use std::fmt::Write as _;

use crate::Error;
use crate::values::model::AccessMode;
use crate::values::{self, Source, Values};
use ecr_contract::CREDENTIAL_KEYS;

/// A registry to onboard, as given on the command line (the arguments of `ecr-chart onboard`,
/// less its `-f` files).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NewRegistry {
    /// Name of the new registry (a DNS-1123 label of at most 32 characters).
    pub name: String,
    /// AWS region of the registry.
    #[arg(long)]
    pub region: String,
    /// Namespace `regcred-<name>` is written to (give this, --namespaces, or both).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// More namespaces `regcred-<name>` is written to, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NS,...")]
    pub namespaces: Vec<String>,
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
    pub warnings: String,
}

fn quoted(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn list(items: &[String]) -> String {
    serde_json::Value::from(items.to_vec()).to_string()
}

/// The `ecrRegistries` entry for `new`, as YAML list item text (every scalar JSON-quoted).
fn entry(new: &NewRegistry) -> String {
    let mut out = format!(
        "  - name: {}\n    region: {}\n",
        quoted(&new.name),
        quoted(&new.region)
    );
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "    {key}: {value}");
    };
    if let Some(namespace) = &new.namespace {
        line("namespace", quoted(namespace));
    }
    if !new.namespaces.is_empty() {
        line("namespaces", list(&new.namespaces));
    }
    line("schedule", quoted(&new.schedule));
    for (key, value) in [
        ("accessMode", &new.access_mode),
        ("existingSecret", &new.existing_secret),
        ("roleArn", &new.role_arn),
        ("account", &new.account),
    ] {
        if let Some(value) = value {
            line(key, quoted(value));
        }
    }
    for (key, values) in [
        ("registryIds", &new.registry_ids),
        ("imagePullSecretFor", &new.image_pull_secret_for),
    ] {
        if !values.is_empty() {
            line(key, list(values));
        }
    }
    out
}

/// The settings of the existing values that decide how the entry is checked.
fn context(existing: &Values) -> String {
    let mut out = String::new();
    let mode = serde_json::to_value(existing.access_mode).unwrap_or_default();
    let _ = writeln!(out, "accessMode: {mode}");
    if let Some(zone) = &existing.cron_job.time_zone {
        let _ = writeln!(out, "cronJob:\n  timeZone: {}", quoted(zone));
    }
    out
}

/// Check `new` against the rules of a values file and against `existing` (name clashes, the
/// default access mode, the time zone), then return the onboarding instructions.
pub fn onboard(new: &NewRegistry, existing: &Values) -> Result<Onboarding, Error> {
    let entry = entry(new);
    let loaded = values::load_checked(&[Source {
        name: "onboard arguments".to_owned(),
        text: format!("{}ecrRegistries:\n{entry}", context(existing)),
    }])?;
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
    let partition = values::partition_of_region(&new.region);
    let account = new.account.as_deref().unwrap_or("<account>");
    let namespaces = registry.target_namespaces().join(", ");

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# 1. Add this entry to `ecrRegistries` in your values file:\n\necrRegistries:\n{entry}"
    );
    credentials(&mut out, new, existing, mode, partition);
    policies(&mut out, new, existing, mode, partition, account);
    let _ = writeln!(
        out,
        "# 5. Check and deploy; the immediate Job then creates regcred-{name} in {ns}:\n\n   \
         ecr-chart validate -f values.yaml\n   \
         ecr-chart chart -f values.yaml -o charts/ecr-registry-helper\n   \
         helm upgrade --install ecr-registry-helper charts/ecr-registry-helper -n <release namespace>",
        name = new.name,
        ns = namespaces
    );
    Ok(Onboarding {
        text: out,
        warnings: loaded.warnings,
    })
}

/// Step 2: where the refresher's AWS credentials come from in this access mode.
fn credentials(
    out: &mut String,
    new: &NewRegistry,
    existing: &Values,
    mode: AccessMode,
    partition: &str,
) {
    let es = &existing.external_secret;
    let sa = &existing.service_account.name;
    match mode {
        AccessMode::ExternalSecret if es.enabled => {
            let _ = writeln!(
                out,
                "# 2. Store the AWS credentials of an IAM user in your {} `{}` (External Secrets\n\
                 #    Operator syncs them into the Secret ecr-registry-helper-secrets-{}):\n",
                es.secret_store_ref.kind_name(),
                es.secret_store_ref.name,
                new.name
            );
            for (key, example) in CREDENTIAL_KEYS.iter().zip([
                "<12-digit AWS account ID of the registry>",
                "<access key ID>",
                "<secret access key>",
            ]) {
                let path = es.remote_key(&new.name, key);
                let _ = writeln!(out, "   {path:<60} = {example}");
            }
        }
        AccessMode::ExternalSecret => {
            let _ = writeln!(
                out,
                "# 2. Create the Secret ecr-registry-helper-secrets-{} in the release namespace with the\n\
                 #    keys AWS_ACCOUNT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (externalSecret.enabled\n\
                 #    is false, so no ExternalSecret fills it).",
                new.name
            );
        }
        AccessMode::ExistingSecret => {
            let secret = new
                .existing_secret
                .as_deref()
                .unwrap_or("<existing secret>");
            let _ = writeln!(
                out,
                "# 2. No store paths: create the Secret `{secret}` yourself, in the release namespace,\n\
                 #    with the keys of an IAM user (AWS_SESSION_TOKEN and AWS_ACCOUNT are optional):\n\n   \
                 kubectl create secret generic {secret} -n <release namespace> \\\n     \
                 --from-literal=AWS_ACCESS_KEY_ID=<access key ID> \\\n     \
                 --from-literal=AWS_SECRET_ACCESS_KEY=<secret access key>"
            );
        }
        AccessMode::ServiceAccount => {
            let _ = writeln!(
                out,
                "# 2. No store paths and no static keys: the refresher pods run as the ServiceAccount\n\
                 #    `{sa}` and take an IAM role from it. Either\n\
                 #    - IRSA: annotate the ServiceAccount in your values file\n\n   \
                 serviceAccount:\n     annotations:\n       \
                 eks.amazonaws.com/role-arn: arn:{partition}:iam::<account of the role>:role/<refresher role>\n\n\
                 #    - or EKS Pod Identity: associate the role with the ServiceAccount\n\n   \
                 aws eks create-pod-identity-association --cluster-name <cluster> \\\n     \
                 --namespace <release namespace> --service-account {sa} \\\n     \
                 --role-arn arn:{partition}:iam::<account of the role>:role/<refresher role>"
            );
        }
    }
    let _ = writeln!(out);
}

/// A policy document with the given statements.
fn policy(statements: &[serde_json::Value]) -> String {
    let document = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
    serde_json::to_string_pretty(&document).expect("a serde_json::Value always serialises")
}

/// Steps 3 and 4: the permission policy of the principal that asks ECR, and the trust
/// policies that let the refresher become it.
fn policies(
    out: &mut String,
    new: &NewRegistry,
    existing: &Values,
    mode: AccessMode,
    partition: &str,
    account: &str,
) {
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
    let who = match (mode, &new.role_arn) {
        (_, Some(role)) => format!("the role {role}"),
        (AccessMode::ServiceAccount, None) => "the refresher's role".to_owned(),
        _ => "the IAM user".to_owned(),
    };
    let _ = writeln!(
        out,
        "# 3. Grant {who} this policy.\n\
         #    The refresher only calls ecr:GetAuthorizationToken; the kubelet pulls with that token\n\
         #    as the same principal, so it also needs read access to the repositories (registries\n\
         #    of other accounts must also allow it in their repository policy):\n\n{permissions}\n"
    );
    let sa = &existing.service_account.name;
    let caller = match mode {
        AccessMode::ServiceAccount => {
            format!("arn:{partition}:iam::<account of the role>:role/<refresher role>")
        }
        _ => format!("arn:{partition}:iam::<account of the user>:user/<IAM user>"),
    };
    let mut step = String::new();
    if mode == AccessMode::ServiceAccount {
        let irsa = policy(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {
                "Federated": format!("arn:{partition}:iam::<account of the role>:oidc-provider/<cluster OIDC issuer without https://>")
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                "<cluster OIDC issuer without https://>:sub": format!("system:serviceaccount:<release namespace>:{sa}"),
                "<cluster OIDC issuer without https://>:aud": "sts.amazonaws.com"
            }}
        })]);
        let pod_identity = policy(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {"Service": "pods.eks.amazonaws.com"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]
        })]);
        let _ = writeln!(
            step,
            "#    Trust policy of the refresher role {caller},\n\
             #    for IRSA:\n\n{irsa}\n\n#    or for EKS Pod Identity:\n\n{pod_identity}\n"
        );
    }
    if let Some(role) = &new.role_arn {
        let assume = policy(&[serde_json::json!({
            "Sid": "AssumeEcrRole",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": role
        })]);
        let trust = policy(&[serde_json::json!({
            "Effect": "Allow",
            "Principal": {"AWS": caller},
            "Action": "sts:AssumeRole"
        })]);
        let _ = writeln!(
            step,
            "#    The refresher assumes {role} before asking ECR.\n#    Grant the caller\n\
             #    ({caller}) this policy:\n\n{assume}\n\n\
             #    and give {role} this trust policy (and the policy of step 3):\n\n{trust}\n"
        );
    }
    if step.is_empty() {
        let _ = writeln!(out, "# 4. No role to assume: nothing else to grant.\n");
    } else {
        let _ = write!(out, "# 4. Who may become whom:\n\n{step}");
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
}
