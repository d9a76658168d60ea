//! A registry with a namespace selector, through `refresh` against moto and the fake API: every
//! operator, excludes, namespaces being deleted, a namespace created between two runs, a
//! selector that matches nothing, a forbidden namespace list, and prune (off by default; on, it
//! deletes only the Secrets the refresher applied, never in an explicit namespace).

mod support;

use axum::http::Method;
use ecr_refresher::settings::Settings;
use ecr_refresher::{Context, Error, refresh, refresh_written};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use support::fake_kube::FakeKube;
use support::moto::Moto;
use support::{DUMMY_KEY, MOTO_PASSWORD, args, ecr_client, isolated_refresher};

const SECRET: &str = "regcred-primary";

/// Settings of registry `primary` with explicit `namespaces` (may be empty), `selector` (JSON),
/// `exclude` (comma-separated, may be empty) and `prune`.
fn selecting(namespaces: &str, selector: &str, exclude: &str, prune: bool) -> Settings {
    let mut raw = args(namespaces);
    raw.namespace_selector = Some(selector.into());
    raw.exclude_namespaces = Some(exclude.into()).filter(|e: &String| !e.is_empty());
    raw.prune = prune;
    Settings::from_args(&raw).expect("valid selector settings")
}

async fn context(moto: &Moto, kube: &FakeKube, s: &Settings) -> Context {
    Context {
        kube: kube.client(s),
        ecr: ecr_client(s, &moto.endpoint(), DUMMY_KEY).await,
    }
}

/// The namespaces (of `among`) that hold the pull Secret.
fn holding(kube: &FakeKube, among: &[&str]) -> Vec<String> {
    among
        .iter()
        .filter(|ns| kube.get(ns, SECRET).is_some())
        .map(|ns| (*ns).to_owned())
        .collect()
}

/// Three namespaces with different labels.
fn three_teams() -> FakeKube {
    let kube = FakeKube::start();
    kube.seed_namespace("team-a", &[("team", "a"), ("env", "prod")]);
    kube.seed_namespace("team-b", &[("team", "b")]);
    kube.seed_namespace("plain", &[]);
    kube
}

/// A query value with `%XX` and `+` decoded.
fn decode(raw: &str) -> String {
    let mut out = Vec::new();
    let mut bytes = raw.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex: String = bytes.by_ref().take(2).map(char::from).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("percent escape"));
            }
            b => out.push(b),
        }
    }
    String::from_utf8(out).expect("utf-8")
}

const ALL: [&str; 3] = ["team-a", "team-b", "plain"];

#[tokio::test]
async fn every_selector_operator_writes_into_exactly_the_namespaces_it_matches() {
    let moto = Moto::start();
    let cases: [(&str, &str, &[&str]); 7] = [
        (r#"{"matchLabels":{"team":"a"}}"#, "team=a", &["team-a"]),
        (
            r#"{"matchExpressions":[{"key":"team","operator":"In","values":["a","b"]}]}"#,
            "team in (a,b)",
            &["team-a", "team-b"],
        ),
        (
            r#"{"matchExpressions":[{"key":"team","operator":"NotIn","values":["a"]}]}"#,
            "team notin (a)",
            &["team-b", "plain"],
        ),
        (
            r#"{"matchExpressions":[{"key":"team","operator":"Exists"}]}"#,
            "team",
            &["team-a", "team-b"],
        ),
        (
            r#"{"matchExpressions":[{"key":"team","operator":"DoesNotExist"}]}"#,
            "!team",
            &["plain"],
        ),
        (
            r#"{"matchLabels":{"env":"prod"},"matchExpressions":[{"key":"team","operator":"In","values":["a","b"]}]}"#,
            "env=prod,team in (a,b)",
            &["team-a"],
        ),
        ("{}", "", &ALL),
    ];
    for (selector, query, expected) in cases {
        let kube = three_teams();
        let s = selecting("", selector, "", false);
        refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        assert_eq!(holding(&kube, &ALL), expected, "{selector}");
        let lists: Vec<_> = kube
            .requests()
            .into_iter()
            .filter(|r| r.path == "/api/v1/namespaces")
            .collect();
        assert_eq!(lists.len(), 1, "one namespace list per run ({selector})");
        let sent = decode(&lists[0].param("labelSelector").unwrap_or_default());
        assert_eq!(sent, query, "{selector}: the selector goes to the API");
    }
}

#[tokio::test]
async fn explicit_namespaces_come_first_and_excluded_or_terminating_ones_are_skipped() {
    let moto = Moto::start();
    let kube = three_teams();
    kube.seed_namespace("apps", &[]);
    kube.seed_namespace("kube-system", &[]);
    kube.seed_namespace("going", &[("team", "c")]);
    kube.terminate_namespace("going");
    let s = selecting("team-b,apps", "{}", "kube-system", false);
    let run = refresh_written(&s.target, &s.retry, &context(&moto, &kube, &s).await).await;
    run.outcome.expect("refresh succeeds");
    let written: Vec<&str> = run.written.iter().map(|w| w.namespace.as_str()).collect();
    assert_eq!(written, ["team-b", "apps", "plain", "team-a"]);
    let everywhere = ["team-a", "team-b", "plain", "apps", "kube-system", "going"];
    assert_eq!(
        holding(&kube, &everywhere),
        ["team-a", "team-b", "plain", "apps"]
    );
    let touched_skipped = kube.requests().into_iter().any(|r| {
        r.path.contains("/namespaces/going/") || r.path.contains("/namespaces/kube-system/")
    });
    assert!(
        !touched_skipped,
        "no request into a skipped namespace: {:?}",
        kube.requests()
    );
}

#[tokio::test]
async fn a_namespace_created_between_two_runs_gets_the_secret_from_the_second() {
    let moto = Moto::start();
    let kube = three_teams();
    let s = selecting("", r#"{"matchLabels":{"team":"a"}}"#, "", false);
    let ctx = context(&moto, &kube, &s).await;
    refresh(&s.target, &s.retry, &ctx).await.expect("first run");
    assert_eq!(holding(&kube, &["team-a", "team-a2"]), ["team-a"]);
    kube.seed_namespace("team-a2", &[("team", "a")]);
    refresh(&s.target, &s.retry, &ctx)
        .await
        .expect("second run");
    assert_eq!(
        holding(&kube, &["team-a", "team-a2"]),
        ["team-a", "team-a2"]
    );
}

#[tokio::test]
async fn a_selector_that_matches_nothing_succeeds_without_an_ecr_call_or_a_write() {
    let moto = Moto::start();
    let kube = three_teams();
    let s = selecting("", r#"{"matchLabels":{"team":"nobody"}}"#, "", false);
    let run = refresh_written(&s.target, &s.retry, &context(&moto, &kube, &s).await).await;
    run.outcome.expect("no target is not an error");
    assert!(run.written.is_empty());
    assert_eq!(moto.post_count(), 0, "no ECR call: {}", moto.log_text());
    assert!(kube.requests().iter().all(|r| r.method == Method::GET));
}

#[tokio::test]
async fn a_forbidden_namespace_list_fails_the_run_naming_the_cluster_role_rule() {
    let moto = Moto::start();
    let kube = three_teams();
    kube.fail_next(Method::GET, 403, 1);
    let s = selecting("apps", "{}", "", false);
    let err = refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect_err("403 on the list");
    assert!(matches!(err, Error::ListNamespaces { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("needs the ClusterRole rule list on namespaces")
            && text.contains("ClusterRole"),
        "{text}"
    );
    assert_eq!(holding(&kube, &ALL), Vec::<String>::new());
    assert_eq!(moto.post_count(), 0, "no ECR call before the list worked");
    assert!(
        kube.requests().iter().all(|r| r.method == Method::GET),
        "nothing written, not even the explicit namespace"
    );
}

#[tokio::test]
async fn without_prune_a_namespace_that_stops_matching_keeps_its_secret() {
    let moto = Moto::start();
    let kube = three_teams();
    let s = selecting("", r#"{"matchLabels":{"team":"a"}}"#, "", false);
    let ctx = context(&moto, &kube, &s).await;
    refresh(&s.target, &s.retry, &ctx).await.expect("first run");
    kube.seed_namespace("team-a", &[("team", "gone")]);
    refresh(&s.target, &s.retry, &ctx)
        .await
        .expect("second run");
    assert_eq!(holding(&kube, &ALL), ["team-a"]);
    assert!(
        kube.requests()
            .iter()
            .all(|r| r.method != Method::DELETE && r.path != "/api/v1/secrets"),
        "prune is off: no cluster-wide Secret list, no delete"
    );
}

/// A pull Secret named [`SECRET`] with our labels for `registry`.
fn labelled(registry: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": SECRET,
            "labels": {
                "app.kubernetes.io/managed-by": "ecr-refresher",
                "ecr-registry-helper/registry": registry,
            },
        },
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": "e30="},
    })
}

#[tokio::test]
async fn prune_deletes_only_the_secrets_the_refresher_applied_outside_the_targets() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    // apps: explicit, never matches. old: matched on the first run, not on the second.
    kube.seed_namespace("apps", &[]);
    kube.seed_namespace("old", &[("team", "a")]);
    kube.seed_namespace("kept", &[("team", "a")]);
    for ns in ["other-manager", "update-only", "other-registry"] {
        kube.seed_namespace(ns, &[]);
    }
    kube.seed_service_account("old", "default", Some(&["keep-me", SECRET]));
    kube.seed_service_account("apps", "default", None);
    kube.seed_service_account("kept", "default", None);
    let first = selecting("apps", r#"{"matchLabels":{"team":"a"}}"#, "", false);
    let ctx = context(&moto, &kube, &first).await;
    refresh(&first.target, &first.retry, &ctx)
        .await
        .expect("first run");
    assert_eq!(
        holding(&kube, &["apps", "old", "kept"]),
        ["apps", "old", "kept"]
    );

    // Our labels, but another field manager (kubectl create); our manager, but no apply; our
    // manager's apply, but another registry's label.
    kube.seed("other-manager", labelled("primary"), "kubectl-create");
    kube.seed("update-only", labelled("primary"), "ecr-refresher");
    let other: Api<Secret> = Api::namespaced(ctx.kube.clone(), "other-registry");
    other
        .patch(
            SECRET,
            &PatchParams::apply("ecr-refresher").force(),
            &Patch::Apply(labelled("secondary")),
        )
        .await
        .expect("another registry's Secret");

    kube.seed_namespace("old", &[("team", "moved")]);
    let mut pruning = args("apps");
    pruning.namespace_selector = Some(r#"{"matchLabels":{"team":"a"}}"#.into());
    pruning.prune = true;
    pruning.image_pull_secret_for = Some("default".into());
    let pruning = Settings::from_args(&pruning).expect("valid");
    let before = kube.requests().len();
    refresh(&pruning.target, &pruning.retry, &ctx)
        .await
        .expect("pruning run");

    let everywhere = [
        "apps",
        "old",
        "kept",
        "other-manager",
        "update-only",
        "other-registry",
    ];
    assert_eq!(
        holding(&kube, &everywhere),
        [
            "apps",
            "kept",
            "other-manager",
            "update-only",
            "other-registry"
        ]
    );
    assert_eq!(kube.pull_secrets("old", "default"), ["keep-me"]);
    let deletes: Vec<_> = kube.requests()[before..]
        .iter()
        .filter(|r| r.method == Method::DELETE)
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(deletes, ["/api/v1/namespaces/old/secrets/regcred-primary"]);
    let listed: Vec<_> = kube.requests()[before..]
        .iter()
        .filter(|r| r.path == "/api/v1/secrets")
        .map(|r| r.query.clone())
        .collect();
    assert_eq!(listed.len(), 1, "one cluster-wide Secret list");
    assert!(
        listed[0].contains("fieldSelector=metadata.name%3Dregcred-primary"),
        "{listed:?}"
    );
}

#[tokio::test]
async fn prune_is_skipped_when_a_target_namespace_failed() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_namespace("old", &[("team", "a")]);
    kube.seed_namespace("broken", &[("team", "b")]);
    let s = selecting("", r#"{"matchLabels":{"team":"a"}}"#, "", false);
    let ctx = context(&moto, &kube, &s).await;
    refresh(&s.target, &s.retry, &ctx).await.expect("first run");
    kube.seed_namespace("old", &[]);
    kube.forbid_namespace("broken");
    let p = selecting(
        "",
        r#"{"matchExpressions":[{"key":"team","operator":"Exists"}]}"#,
        "",
        true,
    );
    refresh(&p.target, &p.retry, &ctx)
        .await
        .expect_err("broken is forbidden");
    assert_eq!(holding(&kube, &["old"]), ["old"], "nothing pruned");
}

/// The real binary with the chart's ConfigMap settings for a selecting registry, plain logs.
fn selecting_binary(home: &std::path::Path, kube: &FakeKube, moto: &Moto) -> std::process::Command {
    let mut command = isolated_refresher(home, &kube.kubeconfig(home));
    command
        .env("ECR_REGISTRY_NAME", "primary")
        .env("AWS_REGION", "eu-west-1")
        .env("NAMESPACE_SELECTOR", r#"{"matchLabels":{"team":"a"}}"#)
        .env("EXCLUDE_NAMESPACES", "team-a-legacy")
        .env("AWS_ACCOUNT", "123456789012")
        .env("AWS_ACCESS_KEY_ID", DUMMY_KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_KEY.1)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("LOG_FORMAT", "plain");
    command
}

/// Exit code, stdout and stderr of a run, times and ports replaced, as one snapshot.
fn assert_whole_output(name: &str, output: &std::process::Output) {
    let whole = format!(
        "exit code: {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
        "[TIME]",
    );
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[PORT]");
    settings.add_filter(r"/tmp/\.tmp\w+", "[TMP]");
    settings.bind(|| insta::assert_snapshot!(name, whole));
}

#[test]
fn a_dry_run_with_a_selector_lists_the_namespaces_and_prints_a_secret_for_each_match() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_namespace("team-a", &[("team", "a")]);
    kube.seed_namespace("team-a-legacy", &[("team", "a")]);
    kube.seed_namespace("team-b", &[("team", "b")]);
    let home = tempfile::tempdir().expect("tempdir");
    let output = selecting_binary(home.path(), &kube, &moto)
        .env("DRY_RUN", "true")
        .output()
        .expect("run");
    assert_whole_output("dry_run_selector", &output);
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(MOTO_PASSWORD), "{stdout}");
    assert_eq!(stdout.matches("namespace: team-a\n").count(), 1, "{stdout}");
    assert!(!stdout.contains("team-b") && !stdout.contains("namespace: team-a-legacy"));
    let methods: Vec<_> = kube
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(methods, [(Method::GET, "/api/v1/namespaces".to_owned())]);
}

#[test]
fn a_run_whose_namespace_list_is_forbidden_exits_1_naming_the_cluster_role() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_namespace("team-a", &[("team", "a")]);
    kube.fail_next(Method::GET, 403, 1);
    let home = tempfile::tempdir().expect("tempdir");
    let output = selecting_binary(home.path(), &kube, &moto)
        .output()
        .expect("run");
    assert_whole_output("selector_list_forbidden", &output);
    assert_eq!(output.status.code(), Some(1));
    assert!(kube.get("team-a", SECRET).is_none());
}

#[test]
fn a_selected_namespace_gets_its_refreshed_event_as_an_explicit_one_does() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_namespace("apps", &[]);
    kube.seed_namespace("team-a", &[("team", "a")]);
    kube.seed_namespace("tools", &[]);
    let home = tempfile::tempdir().expect("tempdir");
    let output = selecting_binary(home.path(), &kube, &moto)
        .env("TARGET_NAMESPACES", "apps")
        .env("POD_NAME", "ecr-registry-helper-primary-1-x")
        .env("POD_NAMESPACE", "tools")
        .env("JOB_NAME", "ecr-registry-helper-primary-1")
        .env("JOB_UID", "5d3c1a9e-7f11-4a8e-9b4c-2f6d0e8a1b23")
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let about: Vec<(String, String)> = kube
        .events()
        .iter()
        .map(|e| {
            (
                e["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                e["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        about,
        [
            ("apps".to_owned(), "Refreshed".to_owned()),
            ("team-a".to_owned(), "Refreshed".to_owned()),
        ]
    );
}

#[tokio::test]
async fn prune_is_skipped_when_the_selector_selects_no_namespace_at_all() {
    let moto = Moto::start();
    let kube = three_teams();
    let s = selecting("", r#"{"matchLabels":{"team":"a"}}"#, "", false);
    let ctx = context(&moto, &kube, &s).await;
    refresh(&s.target, &s.retry, &ctx).await.expect("first run");
    // A mistyped label: nothing matches any more.
    let typo = selecting("", r#"{"matchLabels":{"taem":"a"}}"#, "", true);
    refresh(&typo.target, &typo.retry, &ctx)
        .await
        .expect("nothing to do is a success");
    assert_eq!(holding(&kube, &ALL), ["team-a"], "nothing pruned");
    assert!(kube.requests().iter().all(|r| r.method != Method::DELETE));
}

#[tokio::test]
async fn a_service_account_missing_in_a_selected_namespace_is_a_warning_but_in_an_explicit_one_a_failure()
 {
    let moto = Moto::start();
    let kube = three_teams();
    kube.seed_namespace("apps", &[]);
    // `builder` exists in team-a only; `apps` is named explicitly, team-b is selected.
    kube.seed_service_account("team-a", "builder", None);
    kube.seed_service_account("apps", "builder", None);
    let mut raw = args("apps");
    raw.namespace_selector =
        Some(r#"{"matchExpressions":[{"key":"team","operator":"Exists"}]}"#.into());
    raw.image_pull_secret_for = Some("builder".into());
    let s = Settings::from_args(&raw).expect("valid settings");
    refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect("a selected namespace without the ServiceAccount does not fail the run");
    assert_eq!(
        holding(&kube, &["apps", "team-a", "team-b"]),
        ["apps", "team-a", "team-b"]
    );
    assert_eq!(kube.pull_secrets("team-a", "builder"), [SECRET]);
    assert_eq!(kube.pull_secrets("apps", "builder"), [SECRET]);

    // The same ServiceAccount missing in the explicit namespace is the user's mistake: it fails.
    let kube = three_teams();
    kube.seed_namespace("apps", &[]);
    kube.seed_service_account("team-a", "builder", None);
    kube.seed_service_account("team-b", "builder", None);
    let err = refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect_err("the explicit namespace lacks the ServiceAccount");
    assert!(
        err.to_string()
            .contains("patch ServiceAccount apps/builder: not found"),
        "{err}"
    );
    assert_eq!(kube.pull_secrets("team-b", "builder"), [SECRET]);
}
