//! Black-box runs of the real `ecr-chart` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ecr_chart(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecr-chart"))
        .args(args)
        .output()
        .expect("ecr-chart runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn render_without_arguments_renders_the_embedded_example() {
    let out = ecr_chart(&["render"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../values.example.yaml"),
    )
    .expect("example readable");
    let values = ecr_chart::values::load(&[ecr_chart::values::Source {
        name: "x".into(),
        text: example,
    }])
    .expect("example valid");
    let release = ecr_chart::Release {
        name: "ecr-registry-helper".into(),
        namespace: "default".into(),
    };
    assert_eq!(
        stdout,
        ecr_chart::render(&values, &release).expect("renders")
    );
    assert!(stdout.starts_with("---\n"));
}

#[test]
fn release_name_and_namespace_reach_the_manifests() {
    let out = ecr_chart(&[
        "render",
        "-f",
        &fixture("values/00-seed.yaml"),
        "--release-name",
        "ecr",
        "-n",
        "tools",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("app.kubernetes.io/instance: \"ecr\""));
    assert!(stdout.contains("namespace: \"tools\""));
    assert!(!stdout.contains("namespace: \"default\""));
}

#[test]
fn later_values_files_win_maps_merge_and_lists_replace() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let override_file = tmp.path().join("override.yaml");
    std::fs::write(
        &override_file,
        "ecrRegistries:\n  - name: third\n    region: us-east-1\n    namespace: apps\nresources:\n  limits:\n    memory: 256Mi\n",
    )
    .expect("write");
    let out = ecr_chart(&[
        "render",
        "-f",
        &fixture("values/00-seed.yaml"),
        "-f",
        &override_file.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ecr-registry-helper-third"));
    assert!(
        !stdout.contains("ecr-registry-helper-primary"),
        "the list was replaced"
    );
    assert!(
        stdout.contains("\"memory\": \"256Mi\""),
        "the later file won"
    );
    assert!(stdout.contains("\"cpu\": \"200m\""), "the maps were merged");
}

#[test]
fn bad_values_exit_2_print_nothing_and_write_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "ecrRegistries:\n  - name: Primary_1\n    region: eu-central-1\n    namespace: argocd\n",
    )
    .expect("write");
    let bad = bad.display().to_string();
    for args in [vec!["render", "-f", &bad], vec!["validate", "-f", &bad]] {
        let out = ecr_chart(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "nothing on stdout for {args:?}");
        assert!(
            text(&out.stderr).contains("bad.yaml"),
            "the file is named: {}",
            text(&out.stderr)
        );
    }
    let dir = tmp.path().join("chart");
    let out = ecr_chart(&["chart", "-f", &bad, "-o", &dir.display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.exists(), "no chart directory was written");
    let entries = std::fs::read_dir(tmp.path()).expect("ls").count();
    assert_eq!(entries, 1, "no staging directory left behind");
}

#[test]
fn a_missing_values_file_is_bad_input() {
    let out = ecr_chart(&["render", "-f", "/nonexistent/values.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/values.yaml"));
    assert!(out.stdout.is_empty());
}

#[test]
fn an_invalid_namespace_argument_is_bad_input() {
    let out = ecr_chart(&["render", "-n", "Not_A_Namespace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid namespace `Not_A_Namespace`"));
}

#[test]
fn chart_writes_a_helm_chart_of_this_version() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = tmp.path().join("out/chart");
    let out = ecr_chart(&[
        "chart",
        "-f",
        &fixture("values/00-seed.yaml"),
        "-o",
        &dir.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for file in [
        "Chart.yaml",
        "values.yaml",
        "values.schema.json",
        "templates/manifests.yaml",
        "templates/NOTES.txt",
    ] {
        assert!(dir.join(file).is_file(), "{file} written");
    }
    let chart_yaml = std::fs::read_to_string(dir.join("Chart.yaml")).expect("Chart.yaml");
    assert!(chart_yaml.contains(&format!("version: {}\n", env!("CARGO_PKG_VERSION"))));
    let manifests =
        std::fs::read_to_string(dir.join("templates/manifests.yaml")).expect("manifests");
    assert!(
        manifests.contains("{{ .Release.Name }}") && manifests.contains("{{ .Release.Namespace }}")
    );
    assert!(!manifests.contains("sentinel"), "no placeholder survives");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("values.schema.json")).expect("schema"),
    )
    .expect("json");
    assert!(schema.get("properties").is_some());
}

#[test]
fn schema_prints_the_json_schema_of_the_values() {
    let out = ecr_chart(&["schema"]);
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(schema["properties"]["ecrRegistries"].is_object());
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["render", "--help"],
        vec!["chart", "--help"],
        vec!["validate", "--help"],
        vec!["schema", "--help"],
    ] {
        let out = ecr_chart(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage: ecr-chart"), "{args:?}");
    }
}

#[test]
fn validate_is_silent_on_good_values() {
    let out = ecr_chart(&["validate", "-f", &fixture("values/01-every-knob.yaml")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
}

#[test]
fn a_risky_schedule_warns_on_stderr_and_still_renders() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("values.yaml");
    std::fs::write(
        &file,
        "ecrRegistries:\n  - name: primary\n    region: eu-central-1\n    namespace: argocd\n    schedule: \"0,30 0,12 * * *\"\n",
    )
    .expect("write");
    let file = file.display().to_string();
    let out = ecr_chart(&["render", "-f", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("longest gap 11h30m between 00:30 and 12:00"),
        "{stderr}"
    );
    assert!(stderr.contains("1 warning about the values"), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("---\n") && !stdout.contains("warning"),
        "{stdout}"
    );
    let out = ecr_chart(&["validate", "-f", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("warning"));
}

#[test]
fn a_thirteen_hour_schedule_is_refused_with_the_gap_shown() {
    let out = ecr_chart(&[
        "render",
        "-f",
        &fixture("bad-values/21-schedule-every-13-hours.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("longest gap 13h between 00:00 and 13:00"),
        "{stderr}"
    );
    assert!(
        stderr.contains("`0 */10 * * *`"),
        "a safe example: {stderr}"
    );
}

#[test]
fn onboard_prints_what_each_access_mode_needs() {
    let out = ecr_chart(&[
        "onboard",
        "partner",
        "--region",
        "eu-central-1",
        "--namespaces",
        "web,jobs",
        "--access-mode",
        "serviceAccount",
        "--role-arn",
        "arn:aws:iam::222222222222:role/ecr-pull",
        "--registry-ids",
        "333333333333",
        "--image-pull-secret-for",
        "default",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("    namespaces: [\"web\",\"jobs\"]\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("    imagePullSecretFor: [\"default\"]\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("No store paths and no static keys"),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"Action\": \"sts:AssumeRole\""),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"Action\": \"sts:AssumeRoleWithWebIdentity\""),
        "{stdout}"
    );

    let out = ecr_chart(&[
        "onboard",
        "legacy",
        "--region",
        "us-east-1",
        "-n",
        "apps",
        "--access-mode",
        "existingSecret",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "existingSecret needs the Secret's name"
    );
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("missing `existingSecret`"));

    let out = ecr_chart(&[
        "onboard",
        "x",
        "--region",
        "us-east-1",
        "-n",
        "a",
        "--access-mode",
        "irsa",
    ]);
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown mode");
}
