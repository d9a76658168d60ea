//! `ecr-chart onboard`: what to add, where to store the credentials and which IAM policy to grant
//! for a new registry — checked by the same rules as a values file.

use std::fmt::Write as _;

use crate::Error;
use crate::values::{self, Source, Values};

/// The IAM policy the refresher's AWS principal needs.
pub const IAM_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ecr:GetAuthorizationToken",
      "Resource": "*"
    }
  ]
}"#;

/// A registry to onboard, as given on the command line.
#[derive(Debug, Clone)]
pub struct NewRegistry {
    pub name: String,
    pub region: String,
    pub namespace: String,
    pub schedule: String,
}

/// The `ecrRegistries` entry for `new`, as YAML list item text.
fn entry(new: &NewRegistry) -> String {
    let q = |s: &str| serde_json::Value::from(s).to_string();
    format!(
        "  - name: {}\n    region: {}\n    namespace: {}\n    schedule: {}\n",
        q(&new.name),
        q(&new.region),
        q(&new.namespace),
        q(&new.schedule)
    )
}

/// Check `new` against the rules of a values file and against `existing` (name clashes), then
/// return the onboarding instructions.
pub fn onboard(new: &NewRegistry, existing: &Values) -> Result<String, Error> {
    let entry = entry(new);
    values::load(&[Source {
        name: "onboard arguments".to_owned(),
        text: format!("ecrRegistries:\n{entry}"),
    }])?;
    if existing.ecr_registries.iter().any(|r| r.name == new.name) {
        return Err(Error::InvalidArgument {
            what: "registry name",
            value: new.name.clone(),
            allowed: "a name not yet used by ecrRegistries in the given values files",
        });
    }
    let es = &existing.external_secret;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# 1. Add this entry to `ecrRegistries` in your values file:\n"
    );
    let _ = writeln!(out, "ecrRegistries:\n{entry}");
    if es.enabled {
        let _ = writeln!(
            out,
            "# 2. Store the AWS credentials of an IAM user in your {} `{}` (External Secrets\n\
             #    Operator syncs them into the Secret ecr-registry-helper-secrets-{}):\n",
            es.secret_store_ref.kind_name(),
            es.secret_store_ref.name,
            new.name
        );
        for (key, example) in [
            ("AWS_ACCOUNT", "<12-digit AWS account ID of the registry>"),
            ("AWS_ACCESS_KEY_ID", "<access key ID>"),
            ("AWS_SECRET_ACCESS_KEY", "<secret access key>"),
        ] {
            let path = format!("{}/aws/ecr/{}/{key}", es.key_prefix, new.name);
            let _ = writeln!(out, "   {path:<60} = {example}");
        }
    } else {
        let _ = writeln!(
            out,
            "# 2. Create the Secret ecr-registry-helper-secrets-{} in the release namespace with the\n\
             #    keys AWS_ACCOUNT, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (externalSecret.enabled\n\
             #    is false, so no ExternalSecret fills it).",
            new.name
        );
    }
    let _ = writeln!(
        out,
        "\n# 3. Grant that IAM principal this policy (nothing else is needed):\n\n{IAM_POLICY}\n"
    );
    let _ = writeln!(
        out,
        "# 4. Check and deploy; the immediate Job then creates regcred-{name} in namespace {ns}:\n\n   \
         ecr-chart validate -f values.yaml\n   \
         ecr-chart chart -f values.yaml -o charts/ecr-registry-helper\n   \
         helm upgrade --install ecr-registry-helper charts/ecr-registry-helper -n <release namespace>",
        name = new.name,
        ns = new.namespace
    );
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(name: &str, region: &str) -> NewRegistry {
        NewRegistry {
            name: name.into(),
            region: region.into(),
            namespace: "apps".into(),
            schedule: "0 */10 * * *".into(),
        }
    }

    #[test]
    fn onboarding_prints_entry_store_paths_and_policy() {
        let text = onboard(&new("production", "us-east-1"), &Values::default()).expect("valid");
        assert!(text.contains("  - name: \"production\"\n    region: \"us-east-1\""));
        assert!(text.contains("/ecr-registry-helper/aws/ecr/production/AWS_SECRET_ACCESS_KEY"));
        assert!(text.contains("\"Action\": \"ecr:GetAuthorizationToken\""));
    }

    #[test]
    fn onboarding_refuses_what_a_values_file_would_refuse() {
        let err =
            onboard(&new("production", "mars-east-1"), &Values::default()).expect_err("bad region");
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("region"), "{err}");
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
