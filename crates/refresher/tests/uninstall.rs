//! `--uninstall-plan` (the chart's pre-delete hook) through the real kube client against the
//! fake API server: only the Secrets the refresher wrote are deleted, only our entries leave
//! the ServiceAccounts.

mod support;

use axum::http::Method;
use ecr_contract::uninstall::Entry;
use ecr_refresher::RetryPolicy;
use ecr_refresher::uninstall::{Summary, carry_out};
use serde_json::json;
use support::fake_kube::FakeKube;
use support::settings;

fn entry(namespace: &str, accounts: &[&str]) -> Entry {
    Entry {
        registry: "primary".into(),
        namespace: namespace.into(),
        secret: "regcred-primary".into(),
        service_accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// A `regcred-primary` in `namespace` with these labels, written by `manager`.
fn seed_secret(kube: &FakeKube, namespace: &str, labels: serde_json::Value, manager: &str) {
    kube.seed(
        namespace,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "regcred-primary", "labels": labels},
            "data": {".dockerconfigjson": "e30="},
        }),
        manager,
    );
}

fn ours() -> serde_json::Value {
    json!({"app.kubernetes.io/managed-by": "ecr-refresher", "ecr-registry-helper/registry": "primary"})
}

fn retry() -> RetryPolicy {
    settings("apps").retry
}

fn client(kube: &FakeKube) -> kube::Client {
    kube.client(&settings("apps"))
}

#[tokio::test]
async fn only_secrets_the_refresher_wrote_for_the_registry_are_deleted() {
    let kube = FakeKube::start();
    seed_secret(&kube, "apps", ours(), "ecr-refresher");
    // Labelled like ours, but no field of it is the refresher's.
    seed_secret(&kube, "team-b", ours(), "kubectl-create");
    // Written by the refresher, but someone relabelled it as theirs.
    seed_secret(
        &kube,
        "team-c",
        json!({"app.kubernetes.io/managed-by": "team-c", "ecr-registry-helper/registry": "primary"}),
        "ecr-refresher",
    );
    // Ours, but for another registry of the same Secret name.
    seed_secret(
        &kube,
        "team-d",
        json!({"app.kubernetes.io/managed-by": "ecr-refresher", "ecr-registry-helper/registry": "other"}),
        "ecr-refresher",
    );
    let plan = ["apps", "team-b", "team-c", "team-d", "gone"].map(|ns| entry(ns, &[]));

    let summary = carry_out(&plan, &retry(), &client(&kube))
        .await
        .expect("uninstall");

    assert_eq!(
        summary,
        Summary {
            deleted: 1,
            kept: 3,
            absent: 1,
            removed_entries: 0
        }
    );
    assert!(kube.get("apps", "regcred-primary").is_none());
    for namespace in ["team-b", "team-c", "team-d"] {
        assert!(
            kube.get(namespace, "regcred-primary").is_some(),
            "{namespace}"
        );
    }
    let deletes: Vec<_> = kube
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::DELETE)
        .collect();
    assert_eq!(deletes.len(), 1, "only ours is sent a DELETE");
    assert!(deletes[0].path.contains("/namespaces/apps/"));
}

#[tokio::test]
async fn only_our_entry_leaves_the_service_accounts_and_others_keep_their_order() {
    let kube = FakeKube::start();
    seed_secret(&kube, "apps", ours(), "ecr-refresher");
    kube.seed_service_account(
        "apps",
        "default",
        Some(&["team-pull", "regcred-primary", "mirror-pull"]),
    );
    kube.seed_service_account("apps", "builder", Some(&["team-pull"]));
    let plan = [entry("apps", &["default", "builder", "absent-sa"])];

    let summary = carry_out(&plan, &retry(), &client(&kube))
        .await
        .expect("uninstall");

    assert_eq!(summary.removed_entries, 1);
    assert_eq!(summary.deleted, 1);
    assert_eq!(
        kube.pull_secrets("apps", "default"),
        vec!["team-pull", "mirror-pull"]
    );
    assert_eq!(kube.pull_secrets("apps", "builder"), vec!["team-pull"]);
    let patches: Vec<_> = kube
        .requests()
        .into_iter()
        .filter(|r| r.method == Method::PATCH)
        .collect();
    assert_eq!(
        patches.len(),
        1,
        "builder lists no entry of ours: not patched"
    );
    assert!(patches[0].path.ends_with("/serviceaccounts/default"));
}

#[tokio::test]
async fn a_secret_changed_between_read_and_delete_is_read_again() {
    let kube = FakeKube::start();
    seed_secret(&kube, "apps", ours(), "ecr-refresher");
    kube.fail_next(Method::DELETE, 409, 1);

    carry_out(&[entry("apps", &[])], &retry(), &client(&kube))
        .await
        .expect("uninstall after one retry");

    assert!(kube.get("apps", "regcred-primary").is_none());
    let methods: Vec<Method> = kube.requests().into_iter().map(|r| r.method).collect();
    assert_eq!(
        methods,
        vec![Method::GET, Method::DELETE, Method::GET, Method::DELETE]
    );
}

#[tokio::test]
async fn a_forbidden_namespace_fails_the_run_but_not_the_other_namespaces() {
    let kube = FakeKube::start();
    seed_secret(&kube, "apps", ours(), "ecr-refresher");
    seed_secret(&kube, "locked", ours(), "ecr-refresher");
    kube.forbid_namespace("locked");

    let err = carry_out(
        &[entry("locked", &[]), entry("apps", &[])],
        &retry(),
        &client(&kube),
    )
    .await
    .expect_err("403 in locked");

    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "uninstall: 1 of 2 plan entries failed: read Secret locked/regcred-primary:"
        ),
        "{msg}"
    );
    assert!(kube.get("apps", "regcred-primary").is_none());
    assert!(kube.get("locked", "regcred-primary").is_some());
}

#[test]
fn the_binary_carries_out_a_plan_file_and_refuses_a_bad_one_with_exit_2() {
    let kube = FakeKube::start();
    seed_secret(&kube, "apps", ours(), "ecr-refresher");
    let home = tempfile::tempdir().expect("tempdir");
    let plan = home.path().join("plan");
    let run = |text: &str| {
        std::fs::write(&plan, text).expect("write plan");
        support::isolated_refresher(home.path(), &kube.kubeconfig(home.path()))
            .env("UNINSTALL_PLAN", &plan)
            .env("LOG_FORMAT", "plain")
            .output()
            .expect("run ecr-refresher")
    };

    let bad = run("primary Apps regcred-primary -\n");
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    let named = format!("uninstall plan {}: line 1: namespace", plan.display());
    assert!(stderr.contains(&named), "{stderr}");
    assert!(kube.get("apps", "regcred-primary").is_some());

    let good = run("# plan\nprimary apps regcred-primary -\n");
    let stderr = String::from_utf8_lossy(&good.stderr);
    assert_eq!(good.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("uninstall complete"), "{stderr}");
    assert!(kube.get("apps", "regcred-primary").is_none());
}

#[tokio::test]
async fn an_every_namespace_entry_removes_the_secret_wherever_it_is_found_and_only_ours() {
    let kube = FakeKube::start();
    for ns in ["team-a", "team-b", "apps"] {
        seed_secret(&kube, ns, ours(), "ecr-refresher");
    }
    seed_secret(&kube, "team-c", ours(), "kubectl-create");
    // Another registry's Secret of the same name: not even listed.
    seed_secret(
        &kube,
        "team-d",
        json!({"app.kubernetes.io/managed-by": "ecr-refresher", "ecr-registry-helper/registry": "other"}),
        "ecr-refresher",
    );
    kube.seed_service_account("team-a", "default", Some(&["keep-me", "regcred-primary"]));
    kube.seed_service_account("apps", "default", Some(&["regcred-primary"]));
    // The registry's explicit namespace has its own entry; the `*` entry leaves it to that one.
    let plan = [entry("apps", &["default"]), entry("*", &["default"])];

    let summary = carry_out(&plan, &retry(), &client(&kube))
        .await
        .expect("uninstall");

    assert_eq!(
        summary,
        Summary {
            deleted: 3,
            kept: 1,
            absent: 0,
            removed_entries: 2,
        }
    );
    for gone in ["team-a", "team-b", "apps"] {
        assert!(kube.get(gone, "regcred-primary").is_none(), "{gone}");
    }
    assert!(kube.get("team-c", "regcred-primary").is_some());
    assert!(kube.get("team-d", "regcred-primary").is_some());
    assert_eq!(kube.pull_secrets("team-a", "default"), ["keep-me"]);
    assert_eq!(kube.pull_secrets("apps", "default"), Vec::<String>::new());
    let lists: Vec<_> = kube
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/secrets")
        .collect();
    assert_eq!(lists.len(), 1, "one cluster-wide list");
    let deletes_in_apps = kube
        .requests()
        .iter()
        .filter(|r| r.method == Method::DELETE && r.path.contains("/namespaces/apps/"))
        .count();
    assert_eq!(deletes_in_apps, 1, "apps is handled once, by its own entry");
}

#[tokio::test]
async fn an_every_namespace_entry_whose_list_is_forbidden_fails_naming_the_rule() {
    let kube = FakeKube::start();
    kube.fail_next(Method::GET, 403, 1);
    let err = carry_out(&[entry("*", &[])], &retry(), &client(&kube))
        .await
        .expect_err("403 on the list");
    let text = err.to_string();
    assert!(
        text.contains("list Secret regcred-primary in every namespace")
            && text.contains("needs the ClusterRole rule list on secrets"),
        "{text}"
    );
}
