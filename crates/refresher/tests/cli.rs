//! The real `ecr-refresher` binary: exit codes, the one final error line, logs, dry-run, and
//! settings from the environment (the ConfigMap contract), against moto and the fake API server.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::moto::{Moto, free_port};
use support::{DUMMY_KEY, MOTO_PASSWORD};

/// The binary with a clean environment: no AWS profile files, no IMDS, no ambient kubeconfig.
fn refresher(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecr-refresher"));
    command
        .env_clear()
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("KUBECONFIG", home.join("no-kubeconfig"));
    command
}

/// The settings the chart's ConfigMap and credentials Secret provide.
fn with_contract_env<'a>(command: &'a mut Command, aws_endpoint: &str) -> &'a mut Command {
    command
        .env("ECR_REGISTRY_NAME", "primary")
        .env("AWS_REGION", "eu-west-1")
        .env("SECRET_NAME", "regcred-primary")
        .env("TARGET_NAMESPACES", "apps")
        .env("AWS_ACCOUNT", "123456789012")
        .env("AWS_ACCESS_KEY_ID", DUMMY_KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_KEY.1)
        .env("AWS_ENDPOINT_URL", aws_endpoint)
}

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("run ecr-refresher");
    let stdout = String::from_utf8(output.stdout.clone()).expect("utf-8 stdout");
    let stderr = String::from_utf8(output.stderr.clone()).expect("utf-8 stderr");
    (output, stdout, stderr)
}

/// Every stderr line parsed as a JSON log record.
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn errors(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l["level"] == "ERROR").collect()
}

fn assert_no_credential(text: &str) {
    for secret in [
        MOTO_PASSWORD.to_owned(),
        STANDARD.encode(format!("AWS:{MOTO_PASSWORD}")),
        DUMMY_KEY.1.to_owned(),
    ] {
        assert!(
            !text.contains(&secret),
            "credential {secret:?} leaked:\n{text}"
        );
    }
}

#[test]
fn help_lists_every_setting_with_its_environment_variable() {
    let home = tempfile::tempdir().expect("tempdir");
    let (output, stdout, _) = run(refresher(home.path()).arg("--help"));
    assert_eq!(output.status.code(), Some(0));
    for env in [
        "ECR_REGISTRY_NAME",
        "AWS_REGION",
        "SECRET_NAME",
        "TARGET_NAMESPACES",
        "AWS_ACCOUNT",
        "LOG_FORMAT",
        "DRY_RUN",
        "DRY_RUN_OUTPUT",
        "REQUEST_TIMEOUT",
        "RETRY_TIMEOUT",
    ] {
        assert!(
            stdout.contains(&format!("[env: {env}")),
            "{env} missing:\n{stdout}"
        );
    }
}

#[test]
fn a_missing_setting_exits_2_with_one_error_line_naming_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let (output, stdout, stderr) = run(refresher(home.path())
        .env("ECR_REGISTRY_NAME", "primary")
        .env("TARGET_NAMESPACES", "apps"));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stdout.is_empty());
    let lines = json_lines(&stderr);
    let errors = errors(&lines);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(
        errors[0]["message"],
        "missing setting AWS_REGION (--region)"
    );
}

#[test]
fn an_invalid_setting_exits_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, "http://127.0.0.1:9").env("TARGET_NAMESPACES", "Apps");
    let (output, _, stderr) = run(&mut command);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("invalid setting TARGET_NAMESPACES (--namespaces) = \\\"Apps\\\""),
        "{stderr}"
    );
}

#[test]
fn an_unknown_log_format_exits_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let (output, _, stderr) = run(refresher(home.path()).env("LOG_FORMAT", "xml"));
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("invalid value 'xml'"), "{stderr}");
}

#[test]
fn a_full_run_exits_0_creates_the_secret_and_logs_no_credential() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &moto.endpoint())
        .env("KUBECONFIG", kube.kubeconfig(home.path()));
    let (output, stdout, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    let lines = json_lines(&stderr);
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert!(messages.contains(&"got ECR token"), "{stderr}");
    assert!(messages.contains(&"applied Secret"), "{stderr}");
    assert!(messages.contains(&"refresh complete"), "{stderr}");
    assert!(errors(&lines).is_empty(), "{stderr}");
    assert_no_credential(&stderr);

    let secret = kube.get("apps", "regcred-primary").expect("secret created");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(
        secret["metadata"]["labels"],
        json!({"app.kubernetes.io/managed-by": "ecr-refresher", "ecr-registry-helper/registry": "primary"})
    );
}

#[test]
fn an_unreachable_aws_endpoint_exits_1_with_one_error_line_and_writes_nothing() {
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &format!("http://127.0.0.1:{}", free_port()))
        .env("KUBECONFIG", kube.kubeconfig(home.path()))
        .env("RETRY_TIMEOUT", "1s");
    let (output, _, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines = json_lines(&stderr);
    let errors = errors(&lines);
    assert_eq!(errors.len(), 1, "{stderr}");
    assert_eq!(lines.last(), Some(errors[0]), "the error is the last line");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(
        message.starts_with("registry primary: get ECR token: AWS endpoint unreachable"),
        "{message}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "transient failure, retrying"),
        "retried first:\n{stderr}"
    );
    assert!(kube.requests().is_empty(), "{:?}", kube.requests());
}

#[test]
fn a_secret_of_another_type_exits_1_and_the_error_line_says_what_to_do() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed(
        "apps",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred-primary"},
               "type": "Opaque"}),
        "kubectl-create",
    );
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &moto.endpoint())
        .env("KUBECONFIG", kube.kubeconfig(home.path()))
        .env("LOG_FORMAT", "plain");
    let (output, _, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().expect("an error line");
    assert!(last.contains("ERROR"), "{last}");
    assert!(
        last.contains("registry primary: apply Secret apps/regcred-primary"),
        "{last}"
    );
    assert!(
        last.contains("kubectl delete secret -n apps regcred-primary"),
        "{last}"
    );
    assert_eq!(
        kube.get("apps", "regcred-primary").expect("kept")["type"],
        "Opaque"
    );
}

#[test]
fn a_dry_run_needs_no_kubernetes_and_prints_no_credential() {
    let moto = Moto::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    // The service-specific endpoint override works too.
    with_contract_env(&mut command, "http://127.0.0.1:9")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_ECR", moto.endpoint())
        .env("DRY_RUN", "true");
    let (output, stdout, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_no_credential(&stdout);
    assert_no_credential(&stderr);
    let secret: Value = serde_yaml::from_str(stdout.trim_start_matches("---\n")).expect("YAML");
    let shown = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("redacted docker config");
    assert!(
        shown.contains("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        "{shown}"
    );
    assert!(shown.contains("<redacted>"), "{shown}");
    assert_eq!(secret["metadata"]["name"], "regcred-primary");
    assert_eq!(secret["metadata"]["namespace"], "apps");
}

#[test]
fn an_unreachable_kubernetes_api_exits_1_with_exactly_one_error_line() {
    let moto = Moto::start();
    let home = tempfile::tempdir().expect("tempdir");
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{}\n\
             contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\n\
             users:\n- name: u\n  user:\n    token: t\n",
            free_port()
        ),
    )
    .expect("write kubeconfig");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &moto.endpoint())
        .env("KUBECONFIG", &kubeconfig)
        .env("RETRY_TIMEOUT", "1s");
    let (output, _, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines = json_lines(&stderr);
    let errors = errors(&lines);
    assert_eq!(errors.len(), 1, "{stderr}");
    let message = errors[0]["message"].as_str().expect("message");
    assert!(
        message.starts_with(
            "registry primary: read Secret apps/regcred-primary: Kubernetes API unreachable"
        ),
        "{message}"
    );
}
