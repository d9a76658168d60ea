//! `IMAGE_PULL_SECRET_FOR`: the Secret added to ServiceAccounts' `imagePullSecrets` through the
//! real kube client against the fake API server (JSON Patch with a resourceVersion `test`).

mod support;

use axum::http::Method;
use ecr_refresher::{Context, Error, Settings, refresh};
use support::fake_kube::FakeKube;
use support::moto::Moto;
use support::{DUMMY_KEY, ecr_client, settings};

fn with_accounts(namespaces: &str, accounts: &[&str]) -> Settings {
    let mut s = settings(namespaces);
    s.target.image_pull_secret_for = accounts.iter().map(|a| (*a).to_owned()).collect();
    s
}

async fn context(moto: &Moto, kube: &FakeKube, s: &Settings) -> Context {
    Context {
        kube: kube.client(s),
        ecr: ecr_client(s, &moto.endpoint(), DUMMY_KEY).await,
    }
}

fn sa_patches(kube: &FakeKube) -> Vec<support::fake_kube::Request> {
    kube.requests()
        .into_iter()
        .filter(|r| r.method == Method::PATCH && r.path.contains("/serviceaccounts/"))
        .collect()
}

#[tokio::test]
async fn the_secret_is_appended_to_each_service_account_keeping_others_entries() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_service_account("apps", "default", Some(&["team-pull", "mirror-pull"]));
    kube.seed_service_account("apps", "builder", None);
    let s = with_accounts("apps", &["default", "builder"]);
    refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect("refresh");

    assert!(kube.get("apps", "regcred-primary").is_some());
    assert_eq!(
        kube.pull_secrets("apps", "default"),
        vec!["team-pull", "mirror-pull", "regcred-primary"]
    );
    assert_eq!(
        kube.pull_secrets("apps", "builder"),
        vec!["regcred-primary"]
    );
    let patches = sa_patches(&kube);
    assert_eq!(patches.len(), 2);
    for patch in &patches {
        assert_eq!(
            patch.content_type.as_deref(),
            Some("application/json-patch+json")
        );
        assert_eq!(
            patch.param("fieldManager").as_deref(),
            Some("ecr-refresher")
        );
    }
}

#[tokio::test]
async fn a_second_run_changes_no_service_account() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_service_account("apps", "default", Some(&["team-pull"]));
    let s = with_accounts("apps", &["default"]);
    let ctx = context(&moto, &kube, &s).await;
    refresh(&s.target, &s.retry, &ctx).await.expect("first run");
    let after_first = kube.service_account("apps", "default").expect("sa");
    refresh(&s.target, &s.retry, &ctx)
        .await
        .expect("second run");

    assert_eq!(
        kube.service_account("apps", "default"),
        Some(after_first),
        "unchanged, same resourceVersion"
    );
    assert_eq!(
        kube.pull_secrets("apps", "default"),
        vec!["team-pull", "regcred-primary"]
    );
    assert_eq!(sa_patches(&kube).len(), 1, "only the first run patched");
}

#[tokio::test]
async fn a_concurrent_change_fails_the_test_operation_and_the_patch_is_redone_on_the_new_list() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_service_account("apps", "default", Some(&["team-pull"]));
    kube.race_after_next_get("apps", "default", "other-writer");
    let s = with_accounts("apps", &["default"]);
    refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect("succeeds on the second attempt");

    assert_eq!(
        kube.pull_secrets("apps", "default"),
        vec!["team-pull", "other-writer", "regcred-primary"]
    );
    assert_eq!(sa_patches(&kube).len(), 2, "the first patch met the change");
}

#[tokio::test]
async fn a_conflict_is_retried() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_service_account("apps", "default", None);
    kube.fail_next_service_account(Method::PATCH, 409, 1);
    let s = with_accounts("apps", &["default"]);
    refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect("retried");
    assert_eq!(
        kube.pull_secrets("apps", "default"),
        vec!["regcred-primary"]
    );
    assert_eq!(sa_patches(&kube).len(), 2);
}

#[tokio::test]
async fn a_missing_service_account_fails_only_its_namespace_and_is_not_created() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_service_account("team-a", "default", None);
    kube.seed_service_account("team-c", "default", Some(&["theirs"]));
    let s = with_accounts("team-a,team-b,team-c", &["default"]);
    let err = refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect_err("team-b has no ServiceAccount default");

    let Error::Namespaces {
        total,
        failed,
        failures,
        ..
    } = &err
    else {
        panic!("expected Namespaces, got {err:?}");
    };
    assert_eq!((*total, *failed), (3, 1));
    assert!(
        matches!(&failures[0], Error::ServiceAccountMissing { namespace, name, .. }
            if namespace == "team-b" && name == "default"),
        "{failures:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(
            "patch ServiceAccount team-b/default: not found — create the ServiceAccount or remove it from IMAGE_PULL_SECRET_FOR"
        ),
        "{msg}"
    );
    // The Secret is written everywhere; the other namespaces' ServiceAccounts are patched.
    for ns in ["team-a", "team-b", "team-c"] {
        assert!(kube.get(ns, "regcred-primary").is_some(), "{ns}");
    }
    assert_eq!(
        kube.pull_secrets("team-a", "default"),
        vec!["regcred-primary"]
    );
    assert_eq!(
        kube.pull_secrets("team-c", "default"),
        vec!["theirs", "regcred-primary"]
    );
    assert!(kube.service_account("team-b", "default").is_none());
    assert!(
        kube.requests()
            .iter()
            .all(|r| r.method == Method::GET || r.method == Method::PATCH),
        "never created anything: {:?}",
        kube.requests()
    );
}

#[tokio::test]
async fn a_forbidden_patch_names_the_permission_the_chart_grants() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_service_account("apps", "default", None);
    kube.fail_next_service_account(Method::PATCH, 403, 5);
    let s = with_accounts("apps", &["default"]);
    let err = refresh(&s.target, &s.retry, &context(&moto, &kube, &s).await)
        .await
        .expect_err("forbidden");
    let msg = err.to_string();
    assert!(
        msg.starts_with("patch ServiceAccount apps/default: forbidden"),
        "{msg}"
    );
    assert!(
        msg.contains("needs get and patch on serviceaccounts/default in namespace apps"),
        "{msg}"
    );
    assert_eq!(sa_patches(&kube).len(), 1, "not retried");
}
