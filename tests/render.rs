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
