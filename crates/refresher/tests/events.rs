//! The run's Kubernetes Events (events.k8s.io/v1), written by the real `ecr-refresher` binary
//! against moto and the fake API server, which refuses what kube-apiserver's Event validation
//! refuses: one `Refreshed` Event per written Secret, one `RefreshFailed` Event regarding the
//! Job, and a refused Event never failing the refresh.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::moto::Moto;
use support::{DUMMY_KEY, MOTO_PASSWORD, settings};

const POD: &str = "ecr-registry-helper-primary-29400000-x7k2p";
const JOB: &str = "ecr-registry-helper-primary-29400000";
const JOB_UID: &str = "5d3c1a9e-7f11-4a8e-9b4c-2f6d0e8a1b23";

/// The binary with a clean environment, the chart's settings, and the pod's downward API.
fn refresher(home: &Path, aws_endpoint: &str, kube: &FakeKube, namespaces: &str) -> Command {
    let mut command = support::isolated_refresher(home, &kube.kubeconfig(home));
    command
        .env("ECR_REGISTRY_NAME", "primary")
        .env("AWS_REGION", "eu-west-1")
        .env("SECRET_NAME", "regcred-primary")
        .env("TARGET_NAMESPACES", namespaces)
        .env("AWS_ACCOUNT", "123456789012")
        .env("AWS_ACCESS_KEY_ID", DUMMY_KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_KEY.1)
        .env("AWS_ENDPOINT_URL", aws_endpoint)
        .env("LOG_FORMAT", "plain")
        .env("POD_NAME", POD)
        .env("POD_NAMESPACE", "tools")
        .env("JOB_NAME", JOB)
        .env("JOB_UID", JOB_UID);
    command
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command.output().expect("run ecr-refresher");
    let stderr = String::from_utf8(output.stderr.clone()).expect("utf-8 stderr");
    (output, stderr)
}

/// Times, ports, temp paths, and the Event names (`<object>.<hex nanoseconds>`) vary.
fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
        "[TIME]",
    );
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r"/tmp/\.tmp\w+", "[TMP]");
    settings.add_filter(r"\.[0-9a-f]{12,}\b", ".[HEX_NANOS]");
    // The fake's versions count every write, in the order they arrived.
    settings.add_filter(r#""resourceVersion": "\d+""#, r#""resourceVersion": "[N]""#);
    settings.add_filter(r"uid-event-\d+", "uid-event-[N]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// The exit code, stderr and every Event created, in namespace order (they are written
/// concurrently, so they arrive in any order).
fn whole(output: &Output, stderr: &str, kube: &FakeKube) -> String {
    let mut events = kube.events();
    events.sort_by_key(|e| e["metadata"]["namespace"].as_str().map(str::to_owned));
    let events = serde_json::to_string_pretty(&events).expect("json");
    format!(
        "exit code: {:?}\n--- stderr\n{stderr}--- events\n{events}\n",
        output.status.code()
    )
}

fn assert_no_credential(text: &str) {
    for secret in [
        MOTO_PASSWORD.to_owned(),
        STANDARD.encode(format!("AWS:{MOTO_PASSWORD}")),
        DUMMY_KEY.1.to_owned(),
    ] {
        assert!(!text.contains(&secret), "credential leaked:\n{text}");
    }
}

#[test]
fn a_successful_run_records_one_refreshed_event_per_secret_regarding_it() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let (output, stderr) = run(&mut refresher(
        home.path(),
        &moto.endpoint(),
        &kube,
        "apps,team-b",
    ));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let events = kube.events();
    assert_eq!(events.len(), 2, "{events:#?}");
    let mut namespaces: Vec<&str> = Vec::new();
    for event in &events {
        let ns = event["metadata"]["namespace"].as_str().expect("namespace");
        namespaces.push(ns);
        let secret = kube.get(ns, "regcred-primary").expect("secret written");
        assert_eq!(
            event["regarding"],
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "namespace": ns,
                "name": "regcred-primary",
                "uid": secret["metadata"]["uid"],
            })
        );
        let expires = secret["metadata"]["annotations"]["ecr-registry-helper/expires-at"]
            .as_str()
            .expect("expires-at");
        assert_eq!(
            event["note"],
            format!("registry primary: wrote Secret {ns}/regcred-primary; expires at {expires}")
        );
        assert_eq!(event["type"], "Normal");
        assert_eq!(event["reason"], "Refreshed");
        assert_eq!(event["action"], "Refresh");
        assert_eq!(event["reportingController"], "ecr-refresher");
        assert_eq!(event["reportingInstance"], POD);
    }
    namespaces.sort_unstable();
    assert_eq!(namespaces, ["apps", "team-b"]);
    // The namespaces are written concurrently, so the log lines vary in order: only the Events.
    let text = whole(&output, "", &kube);
    assert_no_credential(&stderr);
    assert_no_credential(&text);
    snapshot("events_success", &text);
}

#[test]
fn a_failed_run_records_one_event_regarding_its_job_with_the_last_log_line() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.forbid_namespace("apps");
    let home = tempfile::tempdir().expect("tempdir");
    let (output, stderr) = run(&mut refresher(home.path(), &moto.endpoint(), &kube, "apps"));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().expect("a last line");
    let cause = &last[last.find("registry primary: ").expect("the final line")..];
    let cause = cause.rsplit_once(" exit_code=").map_or(cause, |(c, _)| c);
    let events = kube.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event["metadata"]["namespace"], "tools");
    assert_eq!(
        event["regarding"],
        json!({"apiVersion": "batch/v1", "kind": "Job", "namespace": "tools", "name": JOB, "uid": JOB_UID})
    );
    assert_eq!(event["note"], cause);
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["reason"], "RefreshFailed");
    let text = whole(&output, &stderr, &kube);
    assert_no_credential(&text);
    snapshot("events_failure", &text);
}

#[test]
fn a_forbidden_event_leaves_the_refresh_successful_with_one_warning() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.forbid_events();
    let home = tempfile::tempdir().expect("tempdir");
    let (output, stderr) = run(&mut refresher(home.path(), &moto.endpoint(), &kube, "apps"));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(kube.get("apps", "regcred-primary").is_some());
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("Events"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("could not record 1 of 1 Events"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].contains("forbidden"), "{}", warnings[0]);
    assert!(kube.events().is_empty());
    snapshot("events_forbidden", &whole(&output, &stderr, &kube));
}

#[test]
fn a_run_outside_a_job_records_no_failure_event_and_reports_as_the_controller() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let home = tempfile::tempdir().expect("tempdir");
    let mut command = refresher(home.path(), &moto.endpoint(), &kube, "apps");
    command.env_remove("POD_NAME").env_remove("JOB_NAME");
    let (output, stderr) = run(&mut command);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let events = kube.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["reportingInstance"], "ecr-refresher");

    let kube = FakeKube::start();
    kube.forbid_namespace("apps");
    let mut command = refresher(home.path(), &moto.endpoint(), &kube, "apps");
    command.env_remove("JOB_NAME");
    let (output, stderr) = run(&mut command);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(kube.events().is_empty());
}

fn event_api(client: kube::Client, namespace: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("events.k8s.io", "v1", "Event");
    Api::namespaced_with(client, namespace, &ApiResource::from_gvk(&gvk))
}

fn valid_event() -> Value {
    json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "regcred-primary.1a2b3c", "namespace": "apps"},
        "eventTime": "2027-01-15T08:00:00.000000Z",
        "type": "Normal",
        "reportingController": "ecr-refresher",
        "reportingInstance": POD,
        "action": "Refresh",
        "reason": "Refreshed",
        "note": "ok",
        "regarding": {"apiVersion": "v1", "kind": "Secret", "namespace": "apps", "name": "regcred-primary"},
    })
}

async fn create(kube: &FakeKube, body: Value) -> Result<(), u16> {
    let api = event_api(kube.client(&settings("apps")), "apps");
    let object: DynamicObject = serde_json::from_value(body).expect("object");
    match api.create(&PostParams::default(), &object).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) => Err(status.code),
        Err(other) => panic!("{other}"),
    }
}

#[tokio::test]
async fn the_fake_api_refuses_the_events_kube_apiserver_refuses() {
    let kube = FakeKube::start();
    assert_eq!(create(&kube, valid_event()).await, Ok(()));
    let cases: &[(&str, Value, u16)] = &[
        (
            "regarding another namespace",
            json!({"regarding": {"namespace": "tools"}}),
            422,
        ),
        ("no eventTime", json!({"eventTime": null}), 422),
        (
            "eventTime in whole seconds",
            json!({"eventTime": "2027-01-15T08:00:00Z"}),
            400,
        ),
        ("type Error", json!({"type": "Error"}), 422),
        ("no reason", json!({"reason": null}), 422),
        ("no action", json!({"action": ""}), 422),
        (
            "unqualified controller",
            json!({"reportingController": "ecr refresher!"}),
            422,
        ),
        (
            "instance too long",
            json!({"reportingInstance": "x".repeat(129)}),
            422,
        ),
        ("note too long", json!({"note": "x".repeat(1025)}), 422),
        ("deprecated count", json!({"deprecatedCount": 1}), 422),
        (
            "another namespace",
            json!({"metadata": {"namespace": "tools"}}),
            400,
        ),
    ];
    for (what, change, code) in cases {
        let mut body = valid_event();
        merge(&mut body, change);
        assert_eq!(create(&kube, body).await, Err(*code), "{what}");
    }
    assert_eq!(kube.events().len(), 1);
}

fn merge(target: &mut Value, change: &Value) {
    match (target, change) {
        (Value::Object(t), Value::Object(c)) => {
            for (key, value) in c {
                match t.get_mut(key) {
                    Some(inner) if value.is_object() => merge(inner, value),
                    _ => {
                        t.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (t, c) => *t = c.clone(),
    }
}
