//! Black-box runs of the real `ecr-chart` binary, snapshotting whole outputs.
//!
//! Each snapshot is a transcript of one run: its exit code, all of stdout and all of stderr.
//! Runs start in a fresh temporary directory (or the repository root, for the fixtures) with
//! relative paths and an empty environment, so the output is the same on every machine; the
//! few absolute paths left become `[TMP]`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root: fixtures are given relative to it.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Runs `ecr-chart ARGS` in `dir` with nothing in the environment and no stdin.
fn ecr_chart_in(dir: &Path, args: &[&str]) -> Output {
    run_in(dir, args, Stdio::piped())
}

/// Runs `ecr-chart ARGS` in the repository root.
fn ecr_chart(args: &[&str]) -> Output {
    ecr_chart_in(&repo(), args)
}

fn run_in(dir: &Path, args: &[&str], stdout: Stdio) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-chart"));
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped());
    let child = command.spawn().expect("ecr-chart runs");
    child.wait_with_output().expect("ecr-chart finishes")
}

/// Runs `ecr-chart ARGS` in the repository root with `input` on stdin.
fn ecr_chart_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecr-chart"))
        .args(args)
        .current_dir(repo())
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ecr-chart runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("ecr-chart finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The whole output of one run, with `dir` (a temporary directory) written `[TMP]`.
fn transcript(out: &Output, dir: &Path) -> String {
    let code = out
        .status
        .code()
        .map_or_else(|| "killed by a signal".to_owned(), |c| c.to_string());
    let filter = |s: String| s.replace(&dir.display().to_string(), "[TMP]");
    format!(
        "exit code: {code}\n----- stdout -----\n{}----- stderr -----\n{}",
        filter(text(&out.stdout)),
        filter(text(&out.stderr)),
    )
}

/// A temporary directory holding `files` (name, text).
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, contents) in files {
        std::fs::write(tmp.path().join(name), contents).expect("write");
    }
    tmp
}

const BAD_NAME: &str =
    "ecrRegistries:\n  - name: Primary_1\n    region: eu-central-1\n    namespace: argocd\n";
const RISKY_SCHEDULE: &str = "ecrRegistries:\n  - name: primary\n    region: eu-central-1\n    namespace: argocd\n    schedule: \"0,30 0,12 * * *\"\n";

#[test]
fn render_without_arguments_renders_the_embedded_example() {
    let out = ecr_chart(&["render"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let example = std::fs::read_to_string(repo().join("values.example.yaml")).expect("example");
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
        "tests/fixtures/values/00-seed.yaml",
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
    let tmp = dir_with(&[(
        "override.yaml",
        "ecrRegistries:\n  - name: third\n    region: us-east-1\n    namespace: apps\nresources:\n  limits:\n    memory: 256Mi\n",
    )]);
    let seed = repo().join("tests/fixtures/values/00-seed.yaml");
    let out = ecr_chart_in(
        tmp.path(),
        &[
            "render",
            "-f",
            &seed.display().to_string(),
            "-f",
            "override.yaml",
        ],
    );
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
    let tmp = dir_with(&[("bad.yaml", BAD_NAME)]);
    let render = ecr_chart_in(tmp.path(), &["render", "-f", "bad.yaml"]);
    assert_eq!(render.status.code(), Some(2));
    assert!(render.stdout.is_empty(), "nothing on stdout");
    assert!(
        text(&render.stderr).contains("bad.yaml"),
        "the file is named"
    );
    insta::assert_snapshot!(transcript(&render, tmp.path()));
    let validate = ecr_chart_in(tmp.path(), &["validate", "-f", "bad.yaml"]);
    assert_eq!(
        transcript(&validate, tmp.path()),
        transcript(&render, tmp.path()),
        "validate reports what render refuses"
    );
    let chart = ecr_chart_in(tmp.path(), &["chart", "-f", "bad.yaml", "-o", "chart"]);
    assert_eq!(
        transcript(&chart, tmp.path()),
        transcript(&render, tmp.path())
    );
    assert!(
        !tmp.path().join("chart").exists(),
        "no chart directory was written"
    );
    let entries = std::fs::read_dir(tmp.path()).expect("ls").count();
    assert_eq!(entries, 1, "no staging directory left behind");
}

#[test]
fn every_problem_of_a_values_file_is_reported_at_once() {
    let out = ecr_chart(&[
        "validate",
        "-f",
        "tests/fixtures/bad-values/17-several-errors.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, &repo()));
}

#[test]
fn values_from_standard_input_are_checked_like_a_file() {
    let out = ecr_chart_with_stdin(&["validate", "-f", "-"], BAD_NAME);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, &repo()));
    let good = ecr_chart_with_stdin(&["render", "-f", "-"], RISKY_SCHEDULE);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains("ecr-registry-helper-primary"));
}

#[test]
fn a_yaml_syntax_error_is_bad_input_shown_at_its_line() {
    let tmp = dir_with(&[(
        "values.yaml",
        "ecrRegistries:\n  - name: primary\n    region: [eu-central-1\n    namespace: argocd\n",
    )]);
    let out = ecr_chart_in(tmp.path(), &["render", "-f", "values.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out, tmp.path()));
}

#[test]
fn a_missing_values_file_is_bad_input() {
    let out = ecr_chart(&["render", "-f", "/nonexistent/values.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/values.yaml"));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out, &repo()));
}

#[test]
fn a_directory_given_as_values_file_is_bad_input() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join("values.yaml")).expect("mkdir");
    let out = ecr_chart_in(tmp.path(), &["validate", "-f", "values.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, tmp.path()));
}

#[test]
fn an_invalid_namespace_argument_is_bad_input() {
    let out = ecr_chart(&["render", "-n", "Not_A_Namespace"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("invalid namespace `Not_A_Namespace`"));
    insta::assert_snapshot!(transcript(&out, &repo()));
}

#[test]
fn an_invalid_release_name_is_bad_input() {
    let out = ecr_chart(&["render", "--release-name", "ecr_1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out, &repo()));
}

#[test]
fn chart_writes_a_helm_chart_of_this_version() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = tmp.path().join("out/chart");
    let out = ecr_chart(&[
        "chart",
        "-f",
        "tests/fixtures/values/00-seed.yaml",
        "-o",
        &dir.display().to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!(transcript(&out, tmp.path()));
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
fn chart_refuses_a_directory_it_did_not_write() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(tmp.path().join("chart")).expect("mkdir");
    std::fs::write(tmp.path().join("chart/notes.txt"), "mine\n").expect("write");
    let out = ecr_chart_in(tmp.path(), &["chart", "-o", "chart"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, tmp.path()));
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("chart/notes.txt")).expect("kept"),
        "mine\n",
        "the directory is left as it was"
    );
    let entries = std::fs::read_dir(tmp.path()).expect("ls").count();
    assert_eq!(entries, 1, "no staging directory left behind");
}

#[test]
fn chart_that_cannot_be_written_is_a_runtime_failure() {
    let tmp = dir_with(&[("file", "not a directory\n")]);
    let out = ecr_chart_in(tmp.path(), &["chart", "-o", "file/chart"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out, tmp.path()));
}

#[test]
fn values_holding_the_release_placeholder_are_refused_by_chart() {
    let tmp = dir_with(&[(
        "values.yaml",
        "podAnnotations:\n  note: ecr-chart-sentinel-release-name-7f3e\n",
    )]);
    let out = ecr_chart_in(tmp.path(), &["chart", "-f", "values.yaml", "-o", "chart"]);
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!(transcript(&out, tmp.path()));
    assert!(
        !tmp.path().join("chart").exists(),
        "no chart directory was written"
    );
}

#[test]
fn output_that_cannot_be_written_is_a_runtime_failure() {
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let out = run_in(&repo(), &["schema"], Stdio::from(full));
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(transcript(&out, &repo()));
}

#[test]
fn schema_prints_the_json_schema_of_the_values() {
    let out = ecr_chart(&["schema"]);
    assert!(out.status.success());
    assert!(out.stderr.is_empty());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(schema["properties"]["ecrRegistries"].is_object());
}

#[test]
fn every_command_has_help() {
    for (name, args) in [
        ("help", vec!["--help"]),
        ("help-render", vec!["render", "--help"]),
        ("help-chart", vec!["chart", "--help"]),
        ("help-validate", vec!["validate", "--help"]),
        ("help-schema", vec!["schema", "--help"]),
        ("help-onboard", vec!["onboard", "--help"]),
    ] {
        let out = ecr_chart(&args);
        assert!(out.status.success(), "{args:?}");
        assert!(text(&out.stdout).contains("Usage: ecr-chart"), "{args:?}");
        insta::assert_snapshot!(name, transcript(&out, &repo()));
    }
}

#[test]
fn unknown_subcommands_flags_and_missing_arguments_get_the_usage_and_exit_2() {
    for (name, args) in [
        ("usage-no-subcommand", vec![]),
        ("usage-unknown-subcommand", vec!["rendr"]),
        ("usage-unknown-flag", vec!["render", "--value", "x.yaml"]),
        ("usage-missing-output", vec!["chart"]),
    ] {
        let out = ecr_chart(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        insta::assert_snapshot!(name, transcript(&out, &repo()));
    }
}

#[test]
fn validate_is_silent_on_good_values() {
    let out = ecr_chart(&["validate", "-f", "tests/fixtures/values/01-every-knob.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out, &repo()));
}

#[test]
fn a_risky_schedule_warns_on_stderr_and_still_renders() {
    let tmp = dir_with(&[("values.yaml", RISKY_SCHEDULE)]);
    let validate = ecr_chart_in(tmp.path(), &["validate", "-f", "values.yaml"]);
    assert_eq!(validate.status.code(), Some(0));
    assert!(validate.stdout.is_empty());
    let stderr = text(&validate.stderr);
    assert!(
        stderr.contains("longest gap 11h30m between 00:30 and 12:00"),
        "{stderr}"
    );
    assert!(stderr.contains("1 warning about the values"), "{stderr}");
    insta::assert_snapshot!(transcript(&validate, tmp.path()));

    let render = ecr_chart_in(tmp.path(), &["render", "-f", "values.yaml"]);
    assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
    assert_eq!(
        text(&render.stderr),
        stderr,
        "render warns as validate does"
    );
    let values = ecr_chart::values::load(&[ecr_chart::values::Source {
        name: "values.yaml".into(),
        text: RISKY_SCHEDULE.into(),
    }])
    .expect("a warning is not an error");
    let release = ecr_chart::Release {
        name: "ecr-registry-helper".into(),
        namespace: "default".into(),
    };
    let stdout = text(&render.stdout);
    assert_eq!(
        stdout,
        ecr_chart::render(&values, &release).expect("renders"),
        "the output is unchanged by the warning"
    );
    assert!(
        stdout.starts_with("---\n") && !stdout.contains("warning"),
        "{stdout}"
    );
}

#[test]
fn a_thirteen_hour_schedule_is_refused_with_the_gap_shown() {
    let out = ecr_chart(&[
        "render",
        "-f",
        "tests/fixtures/bad-values/21-schedule-every-13-hours.yaml",
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
    insta::assert_snapshot!(transcript(&out, &repo()));
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
    insta::assert_snapshot!("onboard-service-account", transcript(&out, &repo()));

    let out = ecr_chart(&["onboard", "tools", "--region", "eu-central-1", "-n", "apps"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!("onboard-external-secret", transcript(&out, &repo()));

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
    insta::assert_snapshot!(
        "onboard-existing-secret-without-its-name",
        transcript(&out, &repo())
    );

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
    insta::assert_snapshot!("onboard-unknown-access-mode", transcript(&out, &repo()));
}

#[test]
fn onboard_with_a_namespace_selector_prints_an_entry_that_validates() {
    let out = ecr_chart(&[
        "onboard",
        "teams",
        "--region",
        "eu-central-1",
        "-n",
        "argocd",
        "--namespace-selector",
        "team=apps,example.com/pull-secrets=true",
        "--exclude-namespaces",
        "apps-sandbox",
        "--image-pull-secret-for",
        "default",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(
            "    namespaceSelector: {matchLabels: {\"example.com/pull-secrets\": \"true\", \"team\": \"apps\"}}\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("kubectl get namespaces -l 'example.com/pull-secrets=true,team=apps'"),
        "{stdout}"
    );
    insta::assert_snapshot!("onboard-namespace-selector", transcript(&out, &repo()));

    // The printed entry is a valid values file as it stands.
    let entry: String = stdout
        .lines()
        .skip_while(|l| *l != "ecrRegistries:")
        .take_while(|l| !l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("values.yaml");
    std::fs::write(&file, &entry).expect("write");
    let out = ecr_chart(&["validate", "-f", file.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{entry}\n{}", text(&out.stderr));

    // A selector needs label keys and values; excludes need a selector.
    let out = ecr_chart(&[
        "onboard",
        "teams",
        "--region",
        "eu-central-1",
        "--namespace-selector",
        "bad key=x",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("error: --namespace-selector:"));
    let out = ecr_chart(&[
        "onboard",
        "teams",
        "--region",
        "eu-central-1",
        "-n",
        "apps",
        "--exclude-namespaces",
        "web",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("only used with a namespace selector"));
}

#[test]
fn onboard_refuses_a_name_the_values_already_hold() {
    let out = ecr_chart(&[
        "onboard",
        "primary",
        "--region",
        "eu-central-1",
        "-n",
        "apps",
        "-f",
        "tests/fixtures/values/00-seed.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out, &repo()));
}

/// Every entry under `dir`, as paths relative to it, sorted: what a run left behind.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("ls") {
            let path = entry.expect("entry").path();
            out.push(
                path.strip_prefix(root)
                    .expect("inside")
                    .display()
                    .to_string(),
            );
            if path.is_dir() && !path.is_symlink() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[cfg(unix)]
#[test]
fn chart_to_a_symlink_replaces_the_chart_it_points_to_and_keeps_the_link() {
    let tmp = dir_with(&[("values.yaml", "podAnnotations:\n  second: run\n")]);
    let first = ecr_chart_in(tmp.path(), &["chart", "-o", "charts/real"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    std::os::unix::fs::symlink("charts/real", tmp.path().join("link")).expect("symlink");
    let out = ecr_chart_in(tmp.path(), &["chart", "-f", "values.yaml", "-o", "link"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let link = tmp.path().join("link");
    assert!(link.is_symlink(), "the link is still a link");
    assert_eq!(
        std::fs::read_link(&link).expect("readlink"),
        Path::new("charts/real")
    );
    let values = std::fs::read_to_string(tmp.path().join("charts/real/values.yaml"))
        .expect("the target holds the new chart");
    assert!(values.contains("\"second\": \"run\""), "{values}");
    assert_eq!(
        tree(tmp.path()),
        [
            "charts",
            "charts/real",
            "charts/real/Chart.yaml",
            "charts/real/templates",
            "charts/real/templates/NOTES.txt",
            "charts/real/templates/manifests.yaml",
            "charts/real/values.schema.json",
            "charts/real/values.yaml",
            "link",
            "values.yaml",
        ],
        "no staging or backup directory left beside the target"
    );
}

/// Runs `ecr-chart ARGS` in `dir` under `prlimit --fsize=BYTES`, with SIGXFSZ ignored
/// (`trap '' XFSZ`, inherited through exec: the write fails with EFBIG) or at its default
/// action (the write kills the process).
fn ecr_chart_with_file_size_limit(
    dir: &Path,
    bytes: u64,
    ignore_sigxfsz: bool,
    args: &[&str],
) -> Output {
    let trap = if ignore_sigxfsz { "trap '' XFSZ; " } else { "" };
    let script = format!("{trap}exec prlimit --fsize={bytes} -- \"$0\" \"$@\"");
    let out = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_ecr-chart"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    assert!(
        !text(&out.stderr).contains("prlimit: not found"),
        "prlimit is missing: install util-linux"
    );
    out
}

#[test]
fn a_chart_over_the_file_size_limit_fails_and_leaves_nothing_behind() {
    for ignore_sigxfsz in [false, true] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = ecr_chart_with_file_size_limit(
            tmp.path(),
            2048,
            ignore_sigxfsz,
            &["chart", "-o", "new/parents/chart"],
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "SIGXFSZ ignored: {ignore_sigxfsz}; {}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stderr),
            "error: cannot write chart to new/parents/chart: File too large (os error 27)\n"
        );
        assert_eq!(
            tree(tmp.path()),
            Vec::<String>::new(),
            "no staging directory and no created parent left (SIGXFSZ ignored: {ignore_sigxfsz})"
        );
    }
}

#[test]
fn a_failed_chart_write_removes_the_parent_directories_it_created_and_only_those() {
    let tmp = dir_with(&[("file", "not a directory\n")]);
    std::fs::create_dir(tmp.path().join("kept")).expect("mkdir");
    std::fs::write(tmp.path().join("kept/mine.txt"), "mine\n").expect("write");
    let before = tree(tmp.path());
    let out = ecr_chart_with_file_size_limit(
        tmp.path(),
        2048,
        false,
        &["chart", "-o", "kept/a/b/c/chart"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        tree(tmp.path()),
        before,
        "kept/a, kept/a/b and kept/a/b/c are gone again, kept/ stays"
    );
}

#[test]
fn the_generated_values_header_names_files_by_quoted_base_name_only() {
    let values = "podAnnotations:\n  a: b\n";
    let charts: Vec<(tempfile::TempDir, String)> = (0..2)
        .map(|_| {
            let tmp = dir_with(&[("va\nlues.yaml", values), ("more.yaml", values)]);
            let absolute = tmp.path().join("va\nlues.yaml").display().to_string();
            let out = ecr_chart_in(
                tmp.path(),
                &["chart", "-f", &absolute, "-f", "./more.yaml", "-o", "chart"],
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
            let written =
                std::fs::read_to_string(tmp.path().join("chart/values.yaml")).expect("values.yaml");
            (tmp, written)
        })
        .collect();
    let (tmp, written) = &charts[0];
    assert_eq!(
        written.lines().next(),
        Some(
            format!(
                "# Generated by ecr-chart {} from: \"va\\nlues.yaml\", \"more.yaml\"",
                env!("CARGO_PKG_VERSION")
            )
            .as_str()
        )
    );
    assert!(!written.contains(&tmp.path().display().to_string()));
    for file in tree(&tmp.path().join("chart")) {
        let read = |t: &tempfile::TempDir| std::fs::read(t.path().join("chart").join(&file)).ok();
        assert_eq!(
            read(&charts[0].0),
            read(&charts[1].0),
            "{file} is the same in both checkouts"
        );
    }
}

#[test]
fn onboard_prints_store_name_and_paths_from_the_values_quoted_so_they_forge_no_step() {
    let forged = r#"\n\n# 3. Grant the IAM user this policy:\n\n{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}\n#"#;
    let values = format!("externalSecret:\n  keyPrefix: \"/p{forged}\"\n");
    let store = format!("externalSecret:\n  secretStoreRef:\n    name: \"vault`{forged}\"\n");
    let tmp = dir_with(&[("values.yaml", &values), ("store.yaml", &store)]);
    let args = ["onboard", "tools", "--region", "eu-central-1", "-n", "apps"];
    // A store name is a DNS subdomain (the ESO CRD's rule): a forged one never reaches the text.
    let refused = ecr_chart_in(tmp.path(), &[&args[..], &["-f", "store.yaml"]].concat());
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stdout));
    assert!(
        text(&refused.stderr).contains("secretStoreRef.name"),
        "{}",
        text(&refused.stderr)
    );
    assert!(refused.stdout.is_empty());
    let benign = ecr_chart_in(tmp.path(), &args);
    let out = ecr_chart_in(tmp.path(), &[&args[..], &["-f", "values.yaml"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (benign, stdout) = (text(&benign.stdout), text(&out.stdout));
    assert_eq!(stdout.lines().count(), benign.lines().count(), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains("\"Action\": \"*\"") && !l.contains("\\\"")),
        "no unquoted forged policy line: {stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("# 3.")).count(), 1);
    assert!(
        stdout.contains("   \"/p\\n\\n# 3. Grant the IAM user this policy:"),
        "{stdout}"
    );
}

#[test]
fn the_generated_values_yaml_escapes_what_yaml_readers_refuse_or_fold() {
    let tmp = dir_with(&[(
        "values.yaml",
        "podAnnotations:\n  note: \"a\\u007f\\u0085\\u2028\\ufeff\\ufffeb\"\n",
    )]);
    let out = ecr_chart_in(tmp.path(), &["chart", "-f", "values.yaml", "-o", "chart"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(tmp.path().join("chart/values.yaml")).expect("values");
    assert!(
        written.contains(r#""note": "a\u007f\u0085\u2028\ufeff\ufffeb""#),
        "{written}"
    );
    assert!(!written.contains(['\u{7f}', '\u{85}', '\u{2028}', '\u{feff}', '\u{fffe}']));
}
