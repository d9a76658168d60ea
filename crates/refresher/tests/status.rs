//! `ecr-refresher status` against the fake API server: the release's registries found by the
//! chart's labels, every verdict judged at a fixed clock reading, whole-output snapshots of the
//! table and of the JSON, the exit codes of the real binary, and no token in any output.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecr_contract::names;
use ecr_refresher::status::{self, Verdict, print};
use jiff::{Timestamp, ToSpan as _};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::settings;

const RELEASE: &str = names::CHART_NAME;
const RELEASE_NS: &str = "platform";
/// The password in every seeded `.dockerconfigjson`: it must never be printed.
const PASSWORD: &str = "eyJwYXlsb2FkIjoic2VjcmV0LXRva2VuLW11c3Qtbm90LWxlYWsifQ";
const HOST: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
const OTHER_HOST: &str = "210987654321.dkr.ecr.eu-west-1.amazonaws.com";

/// The clock reading every verdict of the seeded release is judged at.
fn now() -> Timestamp {
    "2026-12-02T00:30:00Z".parse().expect("time")
}

fn at(text: &str) -> String {
    text.parse::<Timestamp>().expect("time").to_string()
}

/// The labels the chart puts on a registry's ConfigMap, CronJob and Jobs.
fn labels(release: &str, registry: &str) -> Value {
    json!({
        names::LABEL_NAME: names::CHART_NAME,
        names::LABEL_INSTANCE: release,
        names::LABEL_MANAGED_BY: "Helm",
        names::LABEL_PART_OF: names::CHART_NAME,
        names::LABEL_REGISTRY: registry,
    })
}

fn config_map(kube: &FakeKube, registry: &str, namespaces: &str) {
    kube.seed_listed(
        "configmaps",
        RELEASE_NS,
        json!({
            "metadata": {"name": names::config_map(registry), "labels": labels(RELEASE, registry)},
            "data": {
                "ECR_REGISTRY_NAME": registry,
                "AWS_REGION": "eu-west-1",
                "SECRET_NAME": names::pull_secret(registry),
                "TARGET_NAMESPACES": namespaces,
            },
        }),
    );
}

fn cron_job(kube: &FakeKube, release: &str, registry: &str, schedule: &str, suspend: bool) {
    kube.seed_listed(
        "cronjobs",
        RELEASE_NS,
        json!({
            "metadata": {
                "name": names::cron_job(registry),
                "labels": labels(release, registry),
                "creationTimestamp": "2026-11-01T00:00:00Z",
            },
            "spec": {
                "schedule": schedule,
                "suspend": suspend,
                "concurrencyPolicy": "Forbid",
                "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}},
            },
            "status": {"lastScheduleTime": "2026-12-02T00:00:00Z"},
        }),
    );
}

/// A finished Job of `registry`: created at `created`, then `Complete` or `Failed` a minute on.
fn job(kube: &FakeKube, registry: &str, name: &str, created: &str, failed: bool) {
    let created: Timestamp = created.parse().expect("time");
    let done = (created + 1.minute()).to_string();
    let condition = if failed { "Failed" } else { "Complete" };
    let mut status = json!({
        "startTime": created.to_string(),
        "conditions": [{"type": condition, "status": "True", "lastTransitionTime": done}],
    });
    if failed {
        status["failed"] = json!(1);
    } else {
        status["succeeded"] = json!(1);
        status["completionTime"] = json!(done);
    }
    kube.seed_listed(
        "jobs",
        RELEASE_NS,
        json!({
            "metadata": {
                "name": format!("{}-{name}", names::cron_job(registry)),
                "labels": labels(RELEASE, registry),
                "creationTimestamp": created.to_string(),
            },
            "spec": {"template": {"spec": {"containers": []}}},
            "status": status,
        }),
    );
}

/// The `.dockerconfigjson` the refresher writes, holding [`PASSWORD`], base64-encoded.
fn docker_config(hosts: &[&str]) -> String {
    let auth = STANDARD.encode(format!("AWS:{PASSWORD}"));
    let auths: serde_json::Map<String, Value> = hosts
        .iter()
        .map(|h| {
            (
                (*h).to_owned(),
                json!({"username": "AWS", "password": PASSWORD, "auth": auth}),
            )
        })
        .collect();
    STANDARD.encode(json!({ "auths": auths }).to_string())
}

fn secret(kube: &FakeKube, namespace: &str, registry: &str, refreshed: &str, expires: &str) {
    kube.seed(
        namespace,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {
                "name": names::pull_secret(registry),
                "labels": {names::LABEL_MANAGED_BY: names::FIELD_MANAGER, names::LABEL_REGISTRY: registry},
                "annotations": {
                    names::ANNOTATION_REFRESHED_AT: refreshed,
                    names::ANNOTATION_EXPIRES_AT: expires,
                },
            },
            "data": {".dockerconfigjson": docker_config(&[HOST, OTHER_HOST])},
        }),
        names::FIELD_MANAGER,
    );
}

/// A release with one registry per verdict, judged at [`now`] (2026-12-02T00:30:00Z), and
/// objects status must leave out (another release's CronJob, the uninstall plan's ConfigMap).
fn seed_release(kube: &FakeKube) {
    // OK: refreshed at 00:00, token until 12:00, next run 06:00.
    config_map(kube, "fresh", "apps");
    cron_job(kube, RELEASE, "fresh", "0 */6 * * *", false);
    secret(
        kube,
        "apps",
        "fresh",
        "2026-12-02T00:00:05Z",
        "2026-12-02T12:00:05Z",
    );
    job(kube, "fresh", "29412000", "2026-12-02T00:00:00Z", false);

    // EXPIRES BEFORE NEXT RUN: every 10 hours from midnight; the 20:00 token ends at 08:00,
    // the next run is at 10:00.
    config_map(kube, "gappy", "apps");
    cron_job(kube, RELEASE, "gappy", "0 */10 * * *", false);
    secret(
        kube,
        "apps",
        "gappy",
        "2026-12-01T20:00:04Z",
        "2026-12-02T08:00:04Z",
    );
    job(kube, "gappy", "29411400", "2026-12-01T20:00:00Z", false);

    // EXPIRED, and its latest Job failed too.
    config_map(kube, "stale", "apps");
    cron_job(kube, RELEASE, "stale", "0 */6 * * *", false);
    secret(
        kube,
        "apps",
        "stale",
        "2026-12-01T11:00:00Z",
        "2026-12-01T23:00:00Z",
    );
    job(kube, "stale", "29411040", "2026-12-01T11:00:00Z", false);
    job(kube, "stale", "29411760", "2026-12-02T00:00:00Z", true);

    // MISSING in one of its two namespaces; the other is OK.
    config_map(kube, "split", "apps,team-b");
    cron_job(kube, RELEASE, "split", "30 */4 * * *", false);
    secret(
        kube,
        "apps",
        "split",
        "2026-12-02T00:30:00Z",
        "2026-12-02T12:30:00Z",
    );

    // MISSING: a Secret of the right name and the wrong type.
    config_map(kube, "opaque", "apps");
    cron_job(kube, RELEASE, "opaque", "0 */6 * * *", false);
    kube.seed(
        "apps",
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": names::pull_secret("opaque")},
            "data": {"password": STANDARD.encode(PASSWORD)},
        }),
        "kubectl-create",
    );

    // MISSING: a CronJob whose ConfigMap is gone.
    cron_job(kube, RELEASE, "orphan", "0 */6 * * *", false);

    // SUSPENDED: the token is still good, nothing will renew it.
    config_map(kube, "paused", "apps");
    cron_job(kube, RELEASE, "paused", "0 */6 * * *", true);
    secret(
        kube,
        "apps",
        "paused",
        "2026-12-02T00:00:05Z",
        "2026-12-02T12:00:05Z",
    );

    // LAST RUN FAILED: the 00:00 run failed after the 18:00 one succeeded; the token lasts
    // past the next run (06:00).
    config_map(kube, "flaky", "apps");
    cron_job(kube, RELEASE, "flaky", "0 */6 * * *", false);
    secret(
        kube,
        "apps",
        "flaky",
        "2026-12-01T18:00:05Z",
        "2026-12-02T06:00:05Z",
    );
    job(kube, "flaky", "29411640", "2026-12-01T18:00:00Z", false);
    job(kube, "flaky", "29411760", "2026-12-02T00:00:00Z", true);

    // Not this release's: never a row.
    cron_job(kube, "other-release", "elsewhere", "0 */6 * * *", false);
    kube.seed_listed(
        "configmaps",
        RELEASE_NS,
        json!({
            "metadata": {
                "name": names::UNINSTALL,
                "labels": {names::LABEL_INSTANCE: RELEASE, names::LABEL_HOOK: names::HOOK_PRE_DELETE},
            },
            "data": {"plan.json": "[]"},
        }),
    );
}

async fn report(kube: &FakeKube) -> status::Report {
    let client = kube.client(&settings("apps"));
    status::check(&client, RELEASE_NS, RELEASE, now())
        .await
        .expect("status")
}

#[tokio::test]
async fn the_table_shows_one_row_per_registry_and_namespace_with_its_verdict() {
    let kube = FakeKube::start();
    seed_release(&kube);
    let report = report(&kube).await;
    let table = print::table(&report);
    assert!(!table.contains(PASSWORD), "token printed:\n{table}");
    insta::assert_snapshot!("table", table);
}

#[tokio::test]
async fn the_json_names_every_field_and_every_problem_of_a_row() {
    let kube = FakeKube::start();
    seed_release(&kube);
    let report = report(&kube).await;
    let text = print::json(&report);
    assert!(!text.contains(PASSWORD), "token printed:\n{text}");
    let document: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(document["ok"], json!(false));
    insta::assert_snapshot!("json", text);
}

#[tokio::test]
async fn every_verdict_is_given_where_it_holds_and_the_worst_one_wins() {
    let kube = FakeKube::start();
    seed_release(&kube);
    let report = report(&kube).await;
    let verdicts: Vec<(String, Option<String>, Verdict, Vec<Verdict>)> = report
        .rows
        .iter()
        .map(|r| {
            (
                r.registry.clone(),
                r.namespace.clone(),
                r.verdict,
                r.problems.clone(),
            )
        })
        .collect();
    let row = |registry: &str, ns: Option<&str>, verdict, problems: &[Verdict]| {
        (
            registry.to_owned(),
            ns.map(str::to_owned),
            verdict,
            problems.to_vec(),
        )
    };
    use Verdict::*;
    assert_eq!(
        verdicts,
        vec![
            row("flaky", Some("apps"), LastRunFailed, &[LastRunFailed]),
            row("fresh", Some("apps"), Ok, &[]),
            row(
                "gappy",
                Some("apps"),
                ExpiresBeforeNextRun,
                &[ExpiresBeforeNextRun]
            ),
            row("opaque", Some("apps"), Missing, &[Missing]),
            row("orphan", None, Missing, &[Missing]),
            row("paused", Some("apps"), Suspended, &[Suspended]),
            row("split", Some("apps"), Ok, &[]),
            row("split", Some("team-b"), Missing, &[Missing]),
            row("stale", Some("apps"), Expired, &[Expired, LastRunFailed]),
        ]
    );
    assert_eq!(report.exit_code(), status::EXIT_NOT_OK);
}

#[tokio::test]
async fn the_next_run_follows_the_cronjob_schedule_after_now() {
    let kube = FakeKube::start();
    seed_release(&kube);
    let report = report(&kube).await;
    let next = |registry: &str| {
        report
            .rows
            .iter()
            .find(|r| r.registry == registry)
            .map(|r| r.next_run.clone())
            .expect("row")
    };
    use ecr_refresher::status::report::NextRun;
    assert_eq!(
        next("fresh"),
        NextRun::At(at("2026-12-02T06:00:00Z").parse().expect("t"))
    );
    assert_eq!(
        next("gappy"),
        NextRun::At(at("2026-12-02T10:00:00Z").parse().expect("t"))
    );
    // 00:30 itself is not after now: the next is 04:30.
    assert_eq!(
        next("split"),
        NextRun::At(at("2026-12-02T04:30:00Z").parse().expect("t"))
    );
    assert_eq!(next("paused"), NextRun::Suspended);
}

#[tokio::test]
async fn status_only_reads() {
    let kube = FakeKube::start();
    seed_release(&kube);
    report(&kube).await;
    let requests = kube.requests();
    assert!(!requests.is_empty());
    let writes: Vec<_> = requests
        .iter()
        .filter(|r| r.method != Method::GET)
        .collect();
    assert!(writes.is_empty(), "status wrote: {writes:?}");
    let lists: Vec<_> = requests
        .iter()
        .filter(|r| r.param("labelSelector").is_some())
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        lists,
        [
            "/api/v1/namespaces/platform/configmaps",
            "/apis/batch/v1/namespaces/platform/cronjobs",
            "/apis/batch/v1/namespaces/platform/jobs",
        ]
    );
}

#[tokio::test]
async fn the_fake_api_filters_lists_by_label_selector_as_the_api_server_does() {
    let kube = FakeKube::start();
    seed_release(&kube);
    let client = kube.client(&settings("apps"));
    let api: Api<ConfigMap> = Api::namespaced(client, RELEASE_NS);
    let names_of = |selector: &'static str| {
        let api = api.clone();
        async move {
            let list = api
                .list(&ListParams::default().labels(selector))
                .await
                .expect("list");
            list.items
                .into_iter()
                .filter_map(|cm| cm.metadata.name)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        names_of("ecr-registry-helper/registry in (fresh, split)").await,
        [
            "ecr-registry-helper-cm-fresh",
            "ecr-registry-helper-cm-split"
        ]
    );
    // `!=` and `notin` also match objects without the key (the uninstall plan).
    let without =
        names_of("ecr-registry-helper/registry notin (fresh,split,gappy,stale,opaque,paused)")
            .await;
    assert_eq!(without, ["ecr-registry-helper-cm-flaky", names::UNINSTALL]);
    assert_eq!(
        names_of("!ecr-registry-helper/registry").await,
        [names::UNINSTALL]
    );
    assert_eq!(
        names_of("ecr-registry-helper/registry=flaky,app.kubernetes.io/managed-by==Helm").await,
        ["ecr-registry-helper-cm-flaky"]
    );
    let err = api
        .list(&ListParams::default().labels("a=b=c"))
        .await
        .expect_err("a bad selector is refused");
    let kube::Error::Api(status) = err else {
        panic!("not an API error: {err}");
    };
    assert_eq!(status.code, 400);
}

/// The real binary with only the given kubeconfig.
fn status_command(home: &Path, kubeconfig: &Path) -> Command {
    let mut command = support::isolated_refresher(home, kubeconfig);
    command.arg("status");
    command
}

fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().expect("run ecr-refresher");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// A registry that is OK now (the binary reads the real clock): refreshed a minute ago, a
/// token for 12 hours, a run every minute.
fn seed_healthy_now(kube: &FakeKube, registry: &str) {
    let now = Timestamp::now();
    config_map(kube, registry, "apps");
    cron_job(kube, RELEASE, registry, "* * * * *", false);
    let refreshed = (now - 1.minute()).to_string();
    let expires = (now + 12.hours()).to_string();
    secret(kube, "apps", registry, &refreshed, &expires);
}

#[test]
fn the_binary_exits_0_only_when_every_row_is_ok() {
    let home = tempfile::tempdir().expect("tempdir");
    let kube = FakeKube::start();
    seed_healthy_now(&kube, "fresh");
    let config = kube.kubeconfig(home.path());
    let (output, stdout, stderr) =
        run(status_command(home.path(), &config).args(["-n", RELEASE_NS]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(stdout.starts_with("REGISTRY "), "{stdout}");
    assert!(
        stdout.lines().nth(1).is_some_and(|l| l.ends_with(" OK")),
        "{stdout}"
    );

    config_map(&kube, "split", "apps,team-b");
    cron_job(&kube, RELEASE, "split", "* * * * *", false);
    let (output, stdout, stderr) =
        run(status_command(home.path(), &config).args(["-n", RELEASE_NS, "-o", "json"]));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let verdicts: Vec<&str> = document["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["verdict"].as_str().expect("verdict"))
        .collect();
    assert_eq!(verdicts, ["OK", "MISSING", "MISSING"]);
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
}

#[test]
fn a_release_without_registries_is_not_ok_and_says_where_it_looked() {
    let home = tempfile::tempdir().expect("tempdir");
    let kube = FakeKube::start();
    seed_healthy_now(&kube, "fresh");
    let config = kube.kubeconfig(home.path());
    let (output, stdout, stderr) = run(status_command(home.path(), &config).args([
        "-n",
        RELEASE_NS,
        "--release",
        "not-installed",
    ]));
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("no registry of release \"not-installed\" in namespace \"platform\""),
        "{stderr}"
    );
}

#[test]
fn an_api_that_cannot_be_asked_exits_3_naming_the_permission() {
    let home = tempfile::tempdir().expect("tempdir");
    let kube = FakeKube::start();
    seed_healthy_now(&kube, "fresh");
    kube.forbid_namespace(RELEASE_NS);
    let config = kube.kubeconfig(home.path());
    let (output, stdout, stderr) =
        run(status_command(home.path(), &config).args(["-n", RELEASE_NS]));
    assert_eq!(
        output.status.code(),
        Some(status::EXIT_API.into()),
        "{stdout}{stderr}"
    );
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with("error: list configmaps in namespace platform: forbidden"),
        "{stderr}"
    );
    assert!(
        stderr.contains("status needs list on configmaps, cronjobs and jobs"),
        "{stderr}"
    );

    let (output, _, stderr) = run(&mut status_command(home.path(), &home.path().join("none")));
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("error: load Kubernetes config"),
        "{stderr}"
    );
}

#[test]
fn bad_flags_exit_2() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("kubeconfig");
    for args in [
        &["-n", "Not_A_Namespace"][..],
        &["--release", "UPPER"],
        &["-o", "yaml"],
        &["--request-timeout", "0s"],
    ] {
        let (output, _, stderr) = run(status_command(home.path(), &config).args(args));
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn help_documents_the_verdicts_and_exit_codes() {
    let home = tempfile::tempdir().expect("tempdir");
    let config = home.path().join("kubeconfig");
    let (output, stdout, _) = run(status_command(home.path(), &config).arg("--help"));
    assert_eq!(output.status.code(), Some(0));
    for word in [
        "MISSING",
        "EXPIRED",
        "EXPIRES BEFORE NEXT RUN",
        "SUSPENDED",
        "LAST RUN FAILED",
        "OK",
        "Exit codes: 0 every row OK",
        "--context",
        "--namespace",
        "--release",
        "--output",
    ] {
        assert!(stdout.contains(word), "{word} missing:\n{stdout}");
    }
    let (_, top, _) = run(Command::new(env!("CARGO_BIN_EXE_ecr-refresher")).arg("--help"));
    assert!(top.contains("ecr-refresher status"), "{top}");
}

#[test]
fn context_picks_a_kubeconfig_context_and_an_unknown_one_cannot_ask_the_api() {
    let home = tempfile::tempdir().expect("tempdir");
    let kube = FakeKube::start();
    seed_healthy_now(&kube, "fresh");
    let config = kube.kubeconfig(home.path());
    let (output, stdout, stderr) = run(status_command(home.path(), &config).args([
        "--context",
        "fake",
        "-n",
        RELEASE_NS,
        "-o",
        "json",
    ]));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let document: Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(document["namespace"], json!(RELEASE_NS));
    assert_eq!(document["ok"], json!(true));

    let (output, _, stderr) =
        run(status_command(home.path(), &config).args(["--context", "nowhere"]));
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.starts_with("error: load kubeconfig context \"nowhere\""),
        "{stderr}"
    );
}

#[test]
fn without_a_namespace_flag_the_contexts_namespace_is_asked() {
    let home = tempfile::tempdir().expect("tempdir");
    let kube = FakeKube::start();
    let config = kube.kubeconfig(home.path());
    let (output, _, stderr) = run(&mut status_command(home.path(), &config));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("in namespace \"default\""), "{stderr}");
    assert!(
        kube.requests()
            .iter()
            .any(|r| r.path == "/apis/batch/v1/namespaces/default/cronjobs"),
        "{:?}",
        kube.requests()
    );
}

/// A registry's ConfigMap with `NAMESPACE_SELECTOR` (and `TARGET_NAMESPACES` if any).
fn selecting_config_map(kube: &FakeKube, registry: &str, namespaces: &str) {
    let mut data = json!({
        "ECR_REGISTRY_NAME": registry,
        "AWS_REGION": "eu-west-1",
        "SECRET_NAME": names::pull_secret(registry),
        "NAMESPACE_SELECTOR": r#"{"matchLabels":{"team":"a"}}"#,
    });
    if !namespaces.is_empty() {
        data["TARGET_NAMESPACES"] = json!(namespaces);
    }
    kube.seed_listed(
        "configmaps",
        RELEASE_NS,
        json!({
            "metadata": {"name": names::config_map(registry), "labels": labels(RELEASE, registry)},
            "data": data,
        }),
    );
}

#[tokio::test]
async fn a_selecting_registry_gets_a_row_for_each_namespace_where_its_secret_is_found() {
    let kube = FakeKube::start();
    selecting_config_map(&kube, "sel", "apps");
    cron_job(&kube, RELEASE, "sel", "0 */6 * * *", false);
    let (refreshed, expires) = (at("2026-12-02T00:00:00Z"), at("2026-12-02T12:00:00Z"));
    for ns in ["apps", "team-b", "team-a"] {
        secret(&kube, ns, "sel", &refreshed, &expires);
    }
    // Another registry's Secret is not found by this registry's labels.
    secret(&kube, "team-c", "other", &refreshed, &expires);
    let report = report(&kube).await;
    let rows: Vec<(Option<&str>, Verdict)> = report
        .rows
        .iter()
        .map(|r| (r.namespace.as_deref(), r.verdict))
        .collect();
    assert_eq!(
        rows,
        [
            (Some("apps"), Verdict::Ok),
            (Some("team-a"), Verdict::Ok),
            (Some("team-b"), Verdict::Ok),
        ]
    );
    assert!(report.all_ok());
}

#[tokio::test]
async fn a_selecting_registry_whose_secrets_may_not_be_listed_gets_one_row_saying_so() {
    let kube = FakeKube::start();
    selecting_config_map(&kube, "sel", "");
    cron_job(&kube, RELEASE, "sel", "0 */6 * * *", false);
    let found = report(&kube).await;
    assert_eq!(found.rows.len(), 1, "{found:?}");
    assert_eq!(
        (found.rows[0].namespace.as_deref(), found.rows[0].verdict),
        (None, Verdict::Missing),
        "none found yet"
    );
    // The namespaced release lists take no fault: the cluster-wide Secret list gets it.
    kube.fail_next(Method::GET, 403, 1);
    let report = report(&kube).await;
    assert_eq!(report.rows.len(), 1, "{report:?}");
    let row = &report.rows[0];
    assert_eq!(row.namespace.as_deref(), Some("*"));
    assert_eq!(row.verdict, Verdict::Unknown);
    let text = print::json(&report);
    assert!(
        text.contains("status needs list on secrets in every namespace"),
        "{text}"
    );
    assert!(print::table(&report).contains("not listable"));
}
