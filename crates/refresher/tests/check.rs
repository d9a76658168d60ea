//! `--check-plan` (the chart's `helm test` Pod) against the fake API server: a verdict per
//! pull Secret (OK, MISSING, WRONG TYPE, WRONG HOSTS, EXPIRED, NO EXPIRY, UNREADABLE), one line
//! each, never a credential, and the real binary's exit codes.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecr_contract::check::{self, Entry};
use ecr_contract::rules::Partition;
use ecr_refresher::check::{Verdict, judge};
use ecr_refresher::{Error, check as run_check};
use jiff::Timestamp;
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::{MOTO_PASSWORD, settings};

const ACCOUNT: &str = "123456789012";
const OTHER: &str = "210987654321";
const NOW: i64 = 1_800_000_000;
const TOKEN: &str = "QVdTOmV4YW1wbGUtdG9rZW4=";

fn now() -> Timestamp {
    Timestamp::from_second(NOW).expect("time")
}

fn entry(namespace: &str, hosts: &[String]) -> Entry {
    Entry {
        registry: "primary".into(),
        namespace: namespace.into(),
        secret: "regcred-primary".into(),
        hosts: hosts.to_vec(),
    }
}

fn host(account: Option<&str>) -> String {
    check::host(account, "eu-west-1", Partition::Aws)
}

/// A pull Secret as the refresher writes it, with these `auths` hosts and expiry.
fn pull_secret(type_: &str, hosts: &[String], expires_at: Option<i64>) -> Value {
    let auths: serde_json::Map<String, Value> = hosts
        .iter()
        .map(|h| {
            (
                h.clone(),
                json!({"username": "AWS", "password": MOTO_PASSWORD, "auth": TOKEN}),
            )
        })
        .collect();
    let config = json!({ "auths": auths }).to_string();
    let mut annotations = serde_json::Map::new();
    if let Some(at) = expires_at {
        let at = Timestamp::from_second(at).expect("time").to_string();
        annotations.insert("ecr-registry-helper/expires-at".into(), json!(at));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred-primary", "annotations": annotations},
        "type": type_,
        "data": {".dockerconfigjson": STANDARD.encode(config)},
    })
}

const DOCKER: &str = "kubernetes.io/dockerconfigjson";

/// One namespace per verdict, each seeded as its name says.
fn seeded() -> (FakeKube, Vec<Entry>) {
    let kube = FakeKube::start();
    let want = [host(None), host(Some(OTHER))];
    let good = [host(Some(ACCOUNT)), host(Some(OTHER))];
    let seeds: &[(&str, Option<Value>)] = &[
        ("ok", Some(pull_secret(DOCKER, &good, Some(NOW + 3600)))),
        ("missing", None),
        (
            "wrong-type",
            Some(pull_secret("Opaque", &good, Some(NOW + 3600))),
        ),
        (
            "wrong-hosts",
            Some(pull_secret(
                DOCKER,
                &[
                    host(Some(ACCOUNT)),
                    check::host(Some(ACCOUNT), "eu-west-2", Partition::Aws),
                ],
                Some(NOW + 3600),
            )),
        ),
        ("expired", Some(pull_secret(DOCKER, &good, Some(NOW - 60)))),
        ("no-expiry", Some(pull_secret(DOCKER, &good, None))),
    ];
    let mut plan = Vec::new();
    for (namespace, secret) in seeds {
        if let Some(secret) = secret {
            kube.seed(namespace, secret.clone(), "ecr-refresher");
        }
        plan.push(entry(namespace, &want));
    }
    (kube, plan)
}

async fn lines(kube: &FakeKube, plan: &[Entry]) -> (String, Result<(), Error>) {
    let s = settings("apps");
    let mut out = Vec::new();
    let result = run_check::check(plan, &s.retry, &kube.client(&s), now(), &mut out).await;
    (String::from_utf8(out).expect("utf-8"), result)
}

#[tokio::test]
async fn every_verdict_gets_one_line_naming_what_is_wrong_and_the_check_fails() {
    let (kube, plan) = seeded();
    let (text, result) = lines(&kube, &plan).await;
    assert_eq!(text.lines().count(), plan.len(), "{text}");
    for (line, word) in text.lines().zip([
        "OK",
        "MISSING",
        "WRONG TYPE",
        "WRONG HOSTS",
        "EXPIRED",
        "NO EXPIRY",
    ]) {
        assert!(line.starts_with(&format!("{word} ")), "{line}");
    }
    let Err(Error::Check { total, failed }) = result else {
        panic!("the check passed:\n{text}");
    };
    assert_eq!((total, failed), (6, 5));
    assert!(
        !text.contains(MOTO_PASSWORD) && !text.contains(TOKEN),
        "{text}"
    );
    insta::assert_snapshot!("every_verdict", text);
}

#[tokio::test]
async fn a_plan_of_ready_secrets_passes_with_one_ok_line_each() {
    let (kube, plan) = seeded();
    let (text, result) = lines(&kube, &plan[..1]).await;
    assert!(result.is_ok(), "{text}");
    insta::assert_snapshot!("ok", text);
}

#[tokio::test]
async fn a_secret_it_may_not_read_is_unreadable_naming_the_grant() {
    let (kube, plan) = seeded();
    kube.forbid_namespace("ok");
    let (text, result) = lines(&kube, &plan[..1]).await;
    assert!(
        matches!(result, Err(Error::Check { failed: 1, .. })),
        "{text}"
    );
    assert!(text.starts_with("UNREADABLE ok/regcred-primary"), "{text}");
    assert!(text.contains("needs get on this Secret"), "{text}");
}

#[test]
fn hosts_are_judged_as_sets_and_an_unknown_account_is_any_account() {
    let secret = |hosts: &[String]| -> k8s_openapi::api::core::v1::Secret {
        serde_json::from_value(pull_secret(DOCKER, hosts, Some(NOW + 1))).expect("secret")
    };
    let any = entry("apps", &[host(None)]);
    assert!(matches!(
        judge(&any, Some(&secret(&[host(Some(ACCOUNT))])), now()),
        Verdict::Ok { .. }
    ));
    assert!(
        matches!(
            judge(
                &any,
                Some(&secret(&[host(Some(ACCOUNT)), host(Some(OTHER))])),
                now()
            ),
            Verdict::Ok { .. }
        ),
        "a pattern matches every account of its region"
    );
    let pinned = entry("apps", &[host(Some(ACCOUNT))]);
    assert_eq!(
        judge(&pinned, Some(&secret(&[host(Some(OTHER))])), now()),
        Verdict::WrongHosts {
            missing: vec![host(Some(ACCOUNT))],
            unexpected: vec![host(Some(OTHER))]
        }
    );
    assert_eq!(
        judge(
            &pinned,
            Some(&secret(&[host(Some(ACCOUNT))])),
            Timestamp::from_second(NOW + 1).expect("t")
        ),
        Verdict::Expired(Timestamp::from_second(NOW + 1).expect("t")),
        "expired at the very second"
    );
}

#[test]
fn the_binary_reads_its_plan_file_and_exits_1_after_the_lines_2_on_a_bad_plan_and_1_without_the_file()
 {
    let (kube, plan) = seeded();
    let home = tempfile::tempdir().expect("tempdir");
    let text: String = plan[..2]
        .iter()
        .map(|e| format!("{}\n", e.line()))
        .collect();
    let file = home.path().join("plan");
    let run = |plan: &str| {
        std::fs::write(&file, plan).expect("write plan");
        support::isolated_refresher(home.path(), &kube.kubeconfig(home.path()))
            .env("LOG_FORMAT", "plain")
            .env("CHECK_PLAN", &file)
            .output()
            .expect("run")
    };
    let output = run(&text);
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.starts_with("OK ok/regcred-primary (registry primary): expires at "),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("MISSING missing/regcred-primary")),
        "{stdout}"
    );
    let last = stderr.lines().last().expect("a final line");
    assert!(
        last.contains("ERROR check: 1 of 2 pull Secrets are not ready to pull with"),
        "{stderr}"
    );

    let bad = run("primary apps regcred-primary not-a-host\n");
    let stderr = String::from_utf8(bad.stderr).expect("utf-8");
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    let named = format!("check plan {}: line 1: host \"not-a-host\"", file.display());
    assert!(stderr.contains(&named), "{stderr}");

    std::fs::remove_file(&file).expect("remove plan");
    let absent = support::isolated_refresher(home.path(), &kube.kubeconfig(home.path()))
        .env("LOG_FORMAT", "plain")
        .env("CHECK_PLAN", &file)
        .output()
        .expect("run");
    let stderr = String::from_utf8(absent.stderr).expect("utf-8");
    assert_eq!(absent.status.code(), Some(1), "{stderr}");
    let named = format!("read check plan {}: ", file.display());
    assert!(stderr.contains(&named), "{stderr}");
}

/// [`pull_secret`] with the refresher's labels for registry `primary`.
fn labelled(hosts: &[String], expires_at: Option<i64>) -> Value {
    let mut secret = pull_secret(DOCKER, hosts, expires_at);
    secret["metadata"]["labels"] = json!({
        "app.kubernetes.io/managed-by": "ecr-refresher",
        "ecr-registry-helper/registry": "primary",
    });
    secret
}

#[tokio::test]
async fn an_every_namespace_line_checks_each_secret_found_beside_the_explicit_ones() {
    let kube = FakeKube::start();
    let want = [host(None)];
    let good = [host(Some(ACCOUNT))];
    kube.seed("apps", labelled(&good, Some(NOW + 3600)), "ecr-refresher");
    kube.seed("team-a", labelled(&good, Some(NOW + 3600)), "ecr-refresher");
    kube.seed("team-b", labelled(&good, Some(NOW - 60)), "ecr-refresher");
    // Not ours (no labels): not listed by the `*` line.
    kube.seed("team-c", pull_secret(DOCKER, &good, None), "kubectl-create");
    let plan = [entry("apps", &want), entry("*", &want)];
    let (text, result) = lines(&kube, &plan).await;
    assert!(
        matches!(
            result,
            Err(Error::Check {
                total: 3,
                failed: 1
            })
        ),
        "{text}"
    );
    insta::assert_snapshot!("every_namespace", text);
}

#[tokio::test]
async fn an_every_namespace_line_finding_nothing_fails_unless_the_registry_has_explicit_lines() {
    let kube = FakeKube::start();
    let want = [host(None)];
    kube.seed(
        "apps",
        labelled(&[host(Some(ACCOUNT))], Some(NOW + 3600)),
        "ecr-refresher",
    );
    let (alone, result) = lines(&kube, &[entry("*", &want)]).await;
    // apps' Secret is found: only a registry selecting nothing at all fails.
    assert!(result.is_ok(), "{alone}");
    let nobody = Entry {
        registry: "nobody".into(),
        ..entry("*", &want)
    };
    let (text, result) = lines(&kube, std::slice::from_ref(&nobody)).await;
    assert!(
        matches!(
            result,
            Err(Error::Check {
                total: 1,
                failed: 1
            })
        ),
        "{text}"
    );
    assert!(
        text.starts_with(
            "MISSING */regcred-primary (registry nobody): no such Secret in any namespace"
        ),
        "{text}"
    );
    let (text, result) = lines(&kube, &[entry("apps", &want), entry("*", &want)]).await;
    assert!(result.is_ok(), "{text}");
    assert_eq!(
        text.lines().nth(1),
        Some(
            "OK */regcred-primary (registry primary): no selected namespace beyond the explicit ones yet"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn an_every_namespace_line_whose_list_is_forbidden_is_unreadable_naming_the_rule() {
    let kube = FakeKube::start();
    kube.fail_next(axum::http::Method::GET, 403, 1);
    let (text, result) = lines(&kube, &[entry("*", &[host(None)])]).await;
    assert!(
        matches!(
            result,
            Err(Error::Check {
                total: 1,
                failed: 1
            })
        ),
        "{text}"
    );
    assert!(
        text.starts_with("UNREADABLE */regcred-primary (registry primary): list Secret regcred-primary in every namespace"),
        "{text}"
    );
    assert!(
        text.contains("needs the ClusterRole rule list on secrets"),
        "{text}"
    );
}
