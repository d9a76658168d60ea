//! Golden renders: one values fixture per scenario, the whole manifest stream snapshotted.

use ecr_chart::render::Renderer;
use ecr_chart::values::{self, Source};
use ecr_chart::{Release, render};

fn release() -> Release {
    Release {
        name: "ecr-registry-helper".to_owned(),
        namespace: "platform".to_owned(),
    }
}

fn load(path: &std::path::Path) -> ecr_chart::values::Values {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = format!(
        "fixtures/values/{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    values::load(&[Source { name, text }]).unwrap_or_else(|e| panic!("fixture is valid:\n{e}"))
}

#[test]
fn every_fixture_renders_as_its_golden_file() {
    insta::glob!("fixtures/values/*.yaml", |path| {
        let manifests = render(&load(path), &release()).expect("renders");
        insta::assert_snapshot!(manifests);
    });
}

#[test]
fn every_fixture_renders_notes_as_its_golden_file() {
    insta::glob!("fixtures/values/*.yaml", |path| {
        let values = load(path);
        let notes = Renderer::new(&values, &release())
            .notes()
            .expect("renders notes");
        insta::assert_snapshot!(notes);
    });
}

#[test]
fn the_seed_values_give_the_seed_names() {
    let values = load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/values/00-seed.yaml"
    )));
    let manifests = render(&values, &release()).expect("renders");
    for name in ["primary", "secondary"] {
        for object in [
            format!("kind: \"ConfigMap\"\nmetadata:\n  name: \"ecr-registry-helper-cm-{name}\""),
            format!("kind: \"CronJob\"\nmetadata:\n  name: \"ecr-registry-helper-{name}\""),
            format!("kind: \"Job\"\nmetadata:\n  name: \"ecr-registry-helper-immediate-{name}\""),
            format!(
                "kind: \"ExternalSecret\"\nmetadata:\n  name: \"ecr-registry-helper-secrets-{name}\""
            ),
            format!("SECRET_NAME: \"regcred-{name}\""),
            format!("key: \"/ecr-registry-helper/aws/ecr/{name}/AWS_SECRET_ACCESS_KEY\""),
        ] {
            assert!(manifests.contains(&object), "missing {object}");
        }
    }
    assert!(manifests.contains("kind: \"ServiceAccount\"\nmetadata:\n  name: \"sa-argocd\""));
}

#[test]
fn rendering_is_deterministic_and_in_helm_install_order() {
    let values = load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/values/03-many-namespaces.yaml"
    )));
    let first = render(&values, &release()).expect("renders");
    assert_eq!(first, render(&values, &release()).expect("renders again"));
    let kinds: Vec<&str> = first
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    let order = [
        "\"ServiceAccount\"",
        "\"ConfigMap\"",
        "\"Role\"",
        "\"RoleBinding\"",
        "\"CronJob\"",
        "\"ExternalSecret\"",
        "\"Job\"",
    ];
    let rank = |k: &&str| order.iter().position(|o| o == k).expect("known kind");
    let ranks: Vec<usize> = kinds.iter().map(rank).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "kinds out of order: {kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "\"Role\"").count(),
        2,
        "one Role per target namespace"
    );
}

fn fixture(name: &str) -> ecr_chart::values::Values {
    load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/values")
            .join(name),
    )
}

/// The documents of a manifest stream whose `kind` is `kind`.
fn of_kind<'m>(manifests: &'m str, kind: &str) -> Vec<&'m str> {
    let marker = format!("kind: \"{kind}\"");
    manifests
        .split("---\n")
        .filter(|doc| doc.lines().any(|line| line == marker))
        .collect()
}

#[test]
fn each_access_mode_reads_its_own_credentials() {
    let manifests = render(&fixture("06-existing-secret.yaml"), &release()).expect("renders");
    let external = of_kind(&manifests, "ExternalSecret");
    assert_eq!(
        external.len(),
        1,
        "only the externalSecret registry has one"
    );
    assert!(external[0].contains("name: \"ecr-registry-helper-secrets-vaulted\""));
    assert!(manifests.contains("- secretRef:\n                    name: \"legacy-ecr-keys\""));
    assert!(!manifests.contains("ecr-registry-helper-secrets-legacy"));

    let manifests =
        render(&fixture("07-service-account-role-arn.yaml"), &release()).expect("renders");
    assert!(of_kind(&manifests, "ExternalSecret").is_empty());
    assert!(
        !manifests.contains("secretRef"),
        "no static keys with serviceAccount access"
    );
    assert!(
        manifests
            .contains("ROLE_ARN: \"arn:aws:iam::222222222222:role/ecr-pull-from-111111111111\"")
    );
    assert!(manifests.contains("AWS_ACCOUNT: \"222222222222\""));
    assert!(manifests.contains(
        "\"eks.amazonaws.com/role-arn\": \"arn:aws:iam::111111111111:role/ecr-registry-helper\""
    ));
}

#[test]
fn the_remote_key_template_lays_out_the_store_keys() {
    let manifests =
        render(&fixture("05-external-secret-key-template.yaml"), &release()).expect("renders");
    for key in ["AWS_ACCOUNT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(
            manifests.contains(&format!(
                "- secretKey: \"{key}\"\n      remoteRef:\n        key: \"platform-ecr-shared-tools-{key}\""
            )),
            "{key}"
        );
    }
    assert!(manifests.contains("kind: \"SecretStore\"\n    name: \"aws-secrets-manager\""));
}

#[test]
fn three_namespaces_and_two_accounts_reach_the_refresher_and_rbac() {
    let manifests = render(
        &fixture("09-three-namespaces-two-accounts.yaml"),
        &release(),
    )
    .expect("renders");
    let config = of_kind(&manifests, "ConfigMap");
    assert_eq!(config.len(), 1);
    assert!(
        config[0].contains("TARGET_NAMESPACES: \"team-a,team-b,team-c\""),
        "namespace first, each once"
    );
    assert!(config[0].contains("AWS_ACCOUNT: \"123456789012\""));
    assert!(config[0].contains("REGISTRY_IDS: \"210987654321\""));
    let roles = of_kind(&manifests, "Role");
    let bindings = of_kind(&manifests, "RoleBinding");
    for namespace in ["team-a", "team-b", "team-c"] {
        let here = format!("namespace: \"{namespace}\"");
        assert_eq!(
            roles.iter().filter(|r| r.contains(&here)).count(),
            1,
            "{namespace}"
        );
        assert_eq!(
            bindings.iter().filter(|r| r.contains(&here)).count(),
            1,
            "{namespace}"
        );
    }
}

#[test]
fn service_account_patching_is_granted_by_name_only() {
    let manifests = render(&fixture("10-image-pull-secret-for.yaml"), &release()).expect("renders");
    let roles = of_kind(&manifests, "Role");
    let role_in = |namespace: &str| {
        roles
            .iter()
            .find(|r| r.contains(&format!("namespace: \"{namespace}\"")))
            .copied()
            .unwrap_or_else(|| panic!("a Role in {namespace}"))
    };
    let rule = |accounts: &[&str]| {
        let names: String = accounts
            .iter()
            .map(|a| format!("      - \"{a}\"\n"))
            .collect();
        format!(
            "resources: [\"serviceaccounts\"]\n    resourceNames:\n{names}    verbs: [\"get\", \"patch\"]"
        )
    };
    assert!(role_in("web").contains(&rule(&["default", "builder"])));
    assert!(role_in("jobs").contains(&rule(&["default", "builder", "batch-runner"])));
    assert!(manifests.contains("IMAGE_PULL_SECRET_FOR: \"default,builder\""));
    let plain = render(&fixture("03-many-namespaces.yaml"), &release()).expect("renders");
    assert!(
        !plain.contains("serviceaccounts"),
        "no patch rights unless asked for"
    );
}

#[test]
fn the_seed_configmap_keeps_its_keys() {
    let manifests = render(&fixture("00-seed.yaml"), &release()).expect("renders");
    for key in [
        "AWS_ACCOUNT",
        "REGISTRY_IDS",
        "ROLE_ARN",
        "IMAGE_PULL_SECRET_FOR",
    ] {
        assert!(
            !manifests.contains(&format!("{key}:")),
            "{key} only when set"
        );
    }
}
