//! The real `ecr-refresher` binary: exit codes, the one final error line, logs, dry-run, and
//! settings from the environment (the ConfigMap contract), against moto and the fake API server.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::moto::{Moto, free_port, identity_actions};
use support::{DUMMY_KEY, MOTO_PASSWORD};

/// The binary with a clean environment: no AWS profile files, no IMDS, no ambient kubeconfig.
fn refresher(home: &Path) -> Command {
    support::isolated_refresher(home, &home.join("no-kubeconfig"))
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

/// What varies from run to run in the whole output, and its stand-in: times, ports, temp
/// paths, retry delays, moto's request ids and key ids, the number of retries in a budget, and
/// which of two equal timeouts fired.
const FILTERS: &[(&str, &str)] = &[
    (
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
        "[TIME]",
    ),
    (r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]"),
    (r"/tmp/\.tmp\w+", "[TMP]"),
    (r#"retry_in_ms(=|":)\d+"#, "retry_in_ms$1[MS]"),
    (
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "[UUID]",
    ),
    (r"\bAKIA[0-9A-Z]{16}\b", "[ACCESS_KEY_ID]"),
    // The SDK's attempt timeout and its read timeout are both REQUEST_TIMEOUT: either fires.
    (
        r"AWS request timed out[^\n]*? occurred after (\d+ms)(: timed out)?",
        "AWS request timed out [the SDK's attempt or read timeout, whichever fired first] after $1",
    ),
    (
        r"(?m)(?:^[^\n]*transient failure, retrying[^\n]*\n)+",
        "[one or more 'transient failure, retrying' warnings]\n",
    ),
];

/// Snapshots the whole output of a run (exit code, stdout, stderr) as `cli__<name>.snap`,
/// with [`FILTERS`] applied.
fn assert_whole_output(name: &str, output: &Output, stdout: &str, stderr: &str) {
    let whole = format!(
        "exit code: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output
            .status
            .code()
            .map_or_else(|| "none (killed)".to_owned(), |c| c.to_string())
    );
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in FILTERS {
        settings.add_filter(pattern, *replacement);
    }
    settings.set_prepend_module_to_snapshot(true);
    settings.bind(|| insta::assert_snapshot!(name, whole));
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
        "REGISTRY_IDS",
        "ROLE_ARN",
        "IMAGE_PULL_SECRET_FOR",
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
    assert_whole_output("missing_setting", &output, &stdout, &stderr);
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

/// Runs the refresher with the contract's settings and `key=value` on top (no AWS endpoint
/// answers), asserts exit code 2 and returns its stderr.
fn stderr_of_bad_setting(key: &str, value: &str) -> String {
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, "http://127.0.0.1:9").env(key, value);
    let (output, stdout, stderr) = run(&mut command);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let name = format!("bad_setting_{}", key.to_ascii_lowercase());
    assert_whole_output(&name, &output, &stdout, &stderr);
    stderr
}

#[test]
fn an_invalid_setting_exits_2() {
    let stderr = stderr_of_bad_setting("TARGET_NAMESPACES", "Apps");
    assert!(
        stderr.contains("invalid setting TARGET_NAMESPACES (--namespaces) = \\\"Apps\\\""),
        "{stderr}"
    );
}

#[test]
fn an_unknown_log_format_exits_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let (output, stdout, stderr) = run(refresher(home.path()).env("LOG_FORMAT", "xml"));
    assert_whole_output("unknown_log_format", &output, &stdout, &stderr);
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
    assert_whole_output("full_run", &output, &stdout, &stderr);

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
    let (output, stdout, stderr) = run(&mut command);
    assert_whole_output("aws_unreachable", &output, &stdout, &stderr);

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
    let (output, stdout, stderr) = run(&mut command);
    assert_whole_output("kube_secret_of_another_type", &output, &stdout, &stderr);

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
    assert_whole_output("dry_run_yaml", &output, &stdout, &stderr);

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
    let (output, stdout, stderr) = run(&mut command);
    assert_whole_output("kube_unreachable", &output, &stdout, &stderr);

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

#[test]
fn an_invalid_role_arn_exits_2_naming_the_setting() {
    let stderr = stderr_of_bad_setting("ROLE_ARN", "ecr-reader");
    assert!(
        stderr.contains("invalid setting ROLE_ARN (--role-arn)"),
        "{stderr}"
    );
}

/// The settings of the serviceAccount access mode: ConfigMap keys only, no static keys.
fn without_static_keys(command: &mut Command, aws_endpoint: &str) {
    with_contract_env(command, aws_endpoint)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
}

#[test]
fn web_identity_from_the_default_chain_gets_the_token_end_to_end() {
    // IRSA: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, no keys. moto checks IAM from the ECR
    // call on (the unsigned AssumeRoleWithWebIdentity is the last unchecked action), so ECR
    // only answers to the web identity role's credentials.
    let role = Some(Some("ecr:GetAuthorizationToken"));
    let count = (identity_actions(None, role) + 1).to_string();
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", count.as_str())]);
    let role_arn = moto.create_identities(None, role).role_arn.expect("role");
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let token_file = home.path().join("token");
    let web_token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZWNyIn0.c2ln";
    std::fs::write(&token_file, web_token).expect("write token");
    let mut command = refresher(home.path());
    without_static_keys(&mut command, &moto.endpoint());
    command
        .env("AWS_ROLE_ARN", &role_arn)
        .env("AWS_WEB_IDENTITY_TOKEN_FILE", &token_file)
        .env("KUBECONFIG", kube.kubeconfig(home.path()));
    let (output, _, stderr) = run(&mut command);

    assert_eq!(
        output.status.code(),
        Some(0),
        "{stderr}\n{}",
        moto.log_text()
    );
    assert!(!stderr.contains(web_token), "{stderr}");
    assert_no_credential(&stderr);
    let secret = kube.get("apps", "regcred-primary").expect("secret created");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
}

#[test]
fn role_arn_is_assumed_on_top_of_the_default_chain_and_its_credentials_never_logged() {
    let user = Some(Some("sts:AssumeRole"));
    let role = Some(Some("ecr:GetAuthorizationToken"));
    let (moto, ids) = Moto::start_with_identities(user, role);
    let (id, secret) = ids.user_key.expect("user key");
    let role_arn = ids.role_arn.expect("role");
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env("AWS_ENDPOINT_URL_STS", moto.endpoint())
        .env("AWS_ENDPOINT_URL_ECR", moto.endpoint())
        .env("ROLE_ARN", &role_arn)
        .env("KUBECONFIG", kube.kubeconfig(home.path()));
    let (output, _, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let lines = json_lines(&stderr);
    let assumed = lines
        .iter()
        .find(|l| l["message"] == "assumed role")
        .unwrap_or_else(|| panic!("an 'assumed role' line:\n{stderr}"));
    assert_eq!(assumed["role_arn"], role_arn.as_str());
    assert_eq!(
        assumed["assumed_role"],
        "arn:aws:sts::123456789012:assumed-role/ecr-reader/ecr-refresher-primary",
        "moto saw the session name"
    );
    assert!(!stderr.contains(&secret), "{stderr}");
    // The session's access key id is not logged either (moto's assumed keys start with ASIA).
    assert!(!stderr.contains("ASIA"), "{stderr}");
    assert!(kube.get("apps", "regcred-primary").is_some());
}

#[test]
fn a_denied_assume_role_exits_1_with_one_line_naming_role_and_fix() {
    let user = Some(None);
    let role = Some(None);
    let (moto, ids) = Moto::start_with_identities(user, role);
    let (id, secret) = ids.user_key.expect("user key");
    let role_arn = ids.role_arn.expect("role");
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", &id)
        .env("AWS_SECRET_ACCESS_KEY", &secret)
        .env("ROLE_ARN", &role_arn)
        .env("KUBECONFIG", kube.kubeconfig(home.path()))
        .env("LOG_FORMAT", "plain");
    let (output, stdout, stderr) = run(&mut command);
    assert_whole_output("assume_role_denied", &output, &stdout, &stderr);

    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    let line = errors[0];
    assert!(
        line.contains(&format!(
            "registry primary: assume role {role_arn}: access denied"
        )),
        "{line}"
    );
    assert!(
        line.contains(
            "— the caller needs sts:AssumeRole on the role and the role's trust policy must allow it"
        ),
        "{line}"
    );
    assert!(!stderr.contains(&secret));
    assert!(kube.requests().is_empty());
}

#[test]
fn eks_pod_identity_from_the_default_chain_is_used() {
    // The EKS Pod Identity agent's protocol: GET AWS_CONTAINER_CREDENTIALS_FULL_URI with the
    // token of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as Authorization. A stand-in agent on
    // loopback (which the SDK allows for http) hands out session credentials.
    let moto = Moto::start();
    let kube = FakeKube::start();
    let agent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let agent_port = agent.local_addr().expect("addr").port();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Write};
        for stream in agent.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let _ = seen_tx.send(head);
            let body = r#"{"AccessKeyId":"ASIAPODIDENTITY00001","SecretAccessKey":"pod-identity-secret-key","Token":"pod-identity-session-token","AccountId":"123456789012","Expiration":"2099-01-01T00:00:00Z"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let home = tempfile::tempdir().expect("tempdir");
    let token_file = home.path().join("eks-pod-identity-token");
    std::fs::write(&token_file, "pod-identity-agent-token").expect("write token");
    let mut command = refresher(home.path());
    without_static_keys(&mut command, &moto.endpoint());
    command
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("http://127.0.0.1:{agent_port}/v1/credentials"),
        )
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &token_file)
        .env("KUBECONFIG", kube.kubeconfig(home.path()));
    let (output, _, stderr) = run(&mut command);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let request = seen_rx.try_recv().expect("the agent was asked");
    assert!(request.starts_with("GET /v1/credentials "), "{request}");
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: pod-identity-agent-token"),
        "{request}"
    );
    for secret in ["pod-identity-secret-key", "pod-identity-session-token"] {
        assert!(!stderr.contains(secret), "{stderr}");
    }
    assert!(kube.get("apps", "regcred-primary").is_some());
}

#[test]
fn a_dry_run_shows_every_registry_host_and_the_service_accounts_it_would_patch() {
    let moto = Moto::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &moto.endpoint())
        .env("REGISTRY_IDS", "210987654321, 123456789012")
        .env("IMAGE_PULL_SECRET_FOR", "default")
        .env("DRY_RUN", "1")
        .env("DRY_RUN_OUTPUT", "json");
    let (output, stdout, stderr) = run(&mut command);
    assert_whole_output("dry_run_json_two_accounts", &output, &stdout, &stderr);

    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_no_credential(&stdout);
    assert_no_credential(&stderr);
    let secret: Value = serde_json::from_str(&stdout).expect("JSON");
    let shown: Value = serde_json::from_str(
        secret["data"][".dockerconfigjson"]
            .as_str()
            .expect("redacted docker config"),
    )
    .expect("JSON text");
    let redacted = json!({"username": "AWS", "password": "<redacted>", "auth": "<redacted>"});
    assert_eq!(
        shown,
        json!({"auths": {
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com": redacted,
            "210987654321.dkr.ecr.eu-west-1.amazonaws.com": redacted,
        }})
    );
    let lines = json_lines(&stderr);
    assert!(
        lines.iter().any(|l| l["service_accounts"] == "default"
            && l["message"]
                .as_str()
                .is_some_and(|m| m.contains("would add"))),
        "{stderr}"
    );
}

/// Runs the refresher with the contract's settings against `moto` and `kube` (plain logs, so a
/// snapshot reads like a terminal) with `extra` on top; returns its output after snapshotting
/// it as `name`, and asserts its last line is the one ERROR line.
fn failing_run(
    name: &str,
    aws_endpoint: &str,
    kube: &FakeKube,
    extra: &[(&str, &str)],
) -> (Output, String) {
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, aws_endpoint)
        .env("KUBECONFIG", kube.kubeconfig(home.path()))
        .env("LOG_FORMAT", "plain")
        .envs(extra.iter().copied());
    let (output, stdout, stderr) = run(&mut command);
    assert_whole_output(name, &output, &stdout, &stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert_eq!(errors.len(), 1, "one ERROR line:\n{stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "the error is last");
    assert!(
        errors[0].contains(" ERROR registry primary: "),
        "{}",
        errors[0]
    );
    assert_no_credential(&stderr);
    (output, errors[0].to_owned())
}

#[test]
fn ecr_access_denied_exits_1_naming_the_missing_permission() {
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]);
    let (id, secret) = moto.create_user_without_policy();
    let kube = FakeKube::start();
    let (_, line) = failing_run(
        "ecr_access_denied",
        &moto.endpoint(),
        &kube,
        &[
            ("AWS_ACCESS_KEY_ID", &id),
            ("AWS_SECRET_ACCESS_KEY", &secret),
        ],
    );
    assert!(
        line.contains("registry primary: get ECR token: access denied"),
        "{line}"
    );
    assert!(line.contains("needs ecr:GetAuthorizationToken"), "{line}");
    assert!(!line.contains(&secret));
    assert!(kube.requests().is_empty());
}

#[test]
fn invalid_aws_credentials_exit_1_saying_which_keys_to_check() {
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let kube = FakeKube::start();
    let (_, line) = failing_run("aws_invalid_credentials", &moto.endpoint(), &kube, &[]);
    assert!(
        line.contains("get ECR token: invalid AWS credentials"),
        "{line}"
    );
    assert!(kube.requests().is_empty());
}

#[test]
fn an_aws_endpoint_that_never_answers_exits_1_with_a_timeout() {
    let kube = FakeKube::start();
    let silent = format!("http://127.0.0.1:{}", support::black_hole());
    let (_, line) = failing_run(
        "aws_timeout",
        &silent,
        &kube,
        &[("REQUEST_TIMEOUT", "300ms"), ("RETRY_TIMEOUT", "0s")],
    );
    assert!(
        line.contains("get ECR token: AWS request timed out"),
        "{line}"
    );
}

#[test]
fn a_forbidden_apply_exits_1_naming_the_rbac_the_refresher_needs() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.fail_next(axum::http::Method::PATCH, 403, 10);
    let (_, line) = failing_run("kube_forbidden", &moto.endpoint(), &kube, &[]);
    assert!(
        line.contains("apply Secret apps/regcred-primary: forbidden"),
        "{line}"
    );
    assert!(
        line.contains("needs get, create and patch on secrets in namespace apps"),
        "{line}"
    );
}

#[test]
fn a_missing_namespace_exits_1_asking_whether_it_exists() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.only_namespaces(&["other"]);
    let (_, line) = failing_run("kube_namespace_not_found", &moto.endpoint(), &kube, &[]);
    assert!(
        line.contains("apply Secret apps/regcred-primary: not found"),
        "{line}"
    );
    assert!(line.contains("does namespace apps exist?"), "{line}");
}

#[test]
fn conflicts_that_outlast_the_retry_budget_exit_1() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.fail_next(axum::http::Method::PATCH, 409, usize::MAX);
    let (_, line) = failing_run(
        "kube_conflict",
        &moto.endpoint(),
        &kube,
        &[("RETRY_TIMEOUT", "1s")],
    );
    assert!(
        line.contains("apply Secret apps/regcred-primary: conflict"),
        "{line}"
    );
}

#[test]
fn an_apply_rejected_as_invalid_exits_1_at_once() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.fail_next(axum::http::Method::PATCH, 422, 1);
    let (_, line) = failing_run("kube_invalid", &moto.endpoint(), &kube, &[]);
    assert!(
        line.contains("apply Secret apps/regcred-primary: rejected as invalid"),
        "{line}"
    );
    let patches = kube
        .requests()
        .iter()
        .filter(|r| r.method == axum::http::Method::PATCH)
        .count();
    assert_eq!(patches, 1, "422 is not retried");
}

/// One ECR call to `moto`, so the run's own is not its first: moto loads a service's backend on
/// the first request to it, which on a loaded machine takes longer than a short
/// `REQUEST_TIMEOUT`.
fn warm_up_ecr(moto: &Moto) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client =
            support::ecr_client(&support::settings("apps"), &moto.endpoint(), DUMMY_KEY).await;
        client
            .get_authorization_token()
            .send()
            .await
            .expect("moto answers GetAuthorizationToken");
    });
}

#[test]
fn an_api_server_that_never_answers_exits_1_with_a_timeout() {
    // REQUEST_TIMEOUT bounds the ECR call (to moto) before the Secret is read as well: it is
    // given room for a loaded machine (and moto is warmed up), and the read is never answered
    // (not answered late, which a starved run could wait out), so only the read can time out.
    let moto = Moto::start();
    warm_up_ecr(&moto);
    let kube = FakeKube::start();
    kube.stall_next(
        axum::http::Method::GET,
        std::time::Duration::from_secs(24 * 60 * 60),
        1,
    );
    let (_, line) = failing_run(
        "kube_timeout",
        &moto.endpoint(),
        &kube,
        &[("REQUEST_TIMEOUT", "3s"), ("RETRY_TIMEOUT", "0s")],
    );
    assert!(
        line.contains("read Secret apps/regcred-primary: Kubernetes API unreachable"),
        "{line}"
    );
}

#[test]
fn failing_namespaces_are_each_logged_and_listed_on_the_one_final_line() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.only_namespaces(&["apps", "team-c"]);
    kube.forbid_namespace("team-c");
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path());
    with_contract_env(&mut command, &moto.endpoint())
        .env("KUBECONFIG", kube.kubeconfig(home.path()))
        .env("LOG_FORMAT", "plain")
        .env("TARGET_NAMESPACES", "apps,team-b,team-c");
    let (output, stdout, stderr) = run(&mut command);
    // The namespaces are written at the same time: their lines come in any order, so the
    // snapshot has the lines before the final one sorted by what follows the time.
    let mut lines: Vec<&str> = stderr.lines().collect();
    let last_line = lines.pop().unwrap_or_default();
    lines.sort_by_key(|l| l.split_once(' ').map_or(*l, |(_, rest)| rest));
    let sorted = format!("{}\n{last_line}\n", lines.join("\n"));
    assert_whole_output("namespaces_fail", &output, &stdout, &sorted);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().expect("a last line");
    assert!(
        last.contains(" ERROR registry primary: 2 of 3 target namespaces failed: "),
        "{last}"
    );
    assert!(
        last.contains("apply Secret team-b/regcred-primary: not found"),
        "{last}"
    );
    assert!(
        last.contains("read Secret team-c/regcred-primary: forbidden"),
        "{last}"
    );
    assert_eq!(
        last.matches("registry primary").count(),
        1,
        "the registry is named once: {last}"
    );
    let per_namespace = stderr
        .lines()
        .filter(|l| l.contains(" ERROR run{registry=primary}:"))
        .count();
    assert_eq!(per_namespace, 2, "each failed namespace logged:\n{stderr}");
    assert!(kube.get("apps", "regcred-primary").is_some());
}

#[test]
fn a_missing_service_account_exits_1_saying_it_is_not_created() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let (_, line) = failing_run(
        "service_account_missing",
        &moto.endpoint(),
        &kube,
        &[("IMAGE_PULL_SECRET_FOR", "builder")],
    );
    assert!(
        line.contains("patch ServiceAccount apps/builder: not found"),
        "{line}"
    );
    assert!(kube.get("apps", "regcred-primary").is_some());
}

#[test]
fn an_iso_region_exits_2_like_the_chart_refuses_it() {
    let stderr = stderr_of_bad_setting("AWS_REGION", "us-iso-east-1");
    assert!(
        stderr.contains("invalid setting AWS_REGION (--region) = \\\"us-iso-east-1\\\""),
        "{stderr}"
    );
}

#[test]
fn a_request_timeout_out_of_bounds_exits_2() {
    let stderr = stderr_of_bad_setting("REQUEST_TIMEOUT", "0s");
    assert!(
        stderr.contains("invalid setting REQUEST_TIMEOUT (--request-timeout)"),
        "{stderr}"
    );
}
