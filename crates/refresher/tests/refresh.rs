//! `refresh` and `dry_run` through the real AWS SDK against moto's server, and the real kube
//! client against the in-process fake API server.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecr_refresher::settings::OutputFormat;
use ecr_refresher::{Context, Error, dry_run, refresh};
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::moto::{Moto, free_port};
use support::{DUMMY_KEY, MOTO_HOST, MOTO_PASSWORD, black_hole, ecr_client, settings};

async fn context(moto_endpoint: &str, kube: &FakeKube, s: &ecr_refresher::Settings) -> Context {
    Context {
        kube: kube.client(s),
        ecr: ecr_client(s, moto_endpoint, DUMMY_KEY).await,
    }
}

fn docker_config(secret: &Value) -> Value {
    let encoded = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("data..dockerconfigjson is base64 text");
    serde_json::from_slice(&STANDARD.decode(encoded).expect("base64")).expect("JSON")
}

fn methods(kube: &FakeKube) -> Vec<Method> {
    kube.requests().into_iter().map(|r| r.method).collect()
}

fn owned(kube: &FakeKube, ns: &str, manager: &str) -> BTreeSet<String> {
    kube.owners(ns, "regcred-primary")
        .remove(manager)
        .unwrap_or_default()
}

fn ours() -> BTreeSet<String> {
    [
        "type",
        "data..dockerconfigjson",
        "metadata.labels.app.kubernetes.io/managed-by",
        "metadata.labels.ecr-registry-helper/registry",
        "metadata.annotations.ecr-registry-helper/refreshed-at",
        "metadata.annotations.ecr-registry-helper/expires-at",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

#[tokio::test]
async fn a_first_run_creates_a_dockerconfigjson_secret_from_the_ecr_token() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let s = settings("apps");
    refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect("refresh succeeds");

    let secret = kube.get("apps", "regcred-primary").expect("secret created");
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(
        docker_config(&secret),
        json!({"auths": {MOTO_HOST: {
            "username": "AWS",
            "password": MOTO_PASSWORD,
            "auth": STANDARD.encode(format!("AWS:{MOTO_PASSWORD}")),
        }}})
    );
    let meta = &secret["metadata"];
    assert_eq!(
        meta["labels"]["app.kubernetes.io/managed-by"],
        "ecr-refresher"
    );
    assert_eq!(meta["labels"]["ecr-registry-helper/registry"], "primary");
    // moto's token "expires" in 2015: reported, not rejected.
    assert_eq!(
        meta["annotations"]["ecr-registry-helper/expires-at"],
        "2015-01-01T00:00:00Z"
    );
    let refreshed: jiff::Timestamp = meta["annotations"]["ecr-registry-helper/refreshed-at"]
        .as_str()
        .expect("refreshed-at")
        .parse()
        .expect("RFC 3339");
    assert!(refreshed > "2025-01-01T00:00:00Z".parse().expect("timestamp"));

    let patch = kube
        .requests()
        .into_iter()
        .find(|r| r.method == Method::PATCH)
        .expect("one apply");
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/apply-patch+yaml")
    );
    assert_eq!(
        patch.param("fieldManager").as_deref(),
        Some("ecr-refresher")
    );
    assert_eq!(patch.param("force").as_deref(), Some("true"));
    assert_eq!(owned(&kube, "apps", "ecr-refresher"), ours());
}

#[tokio::test]
async fn a_refresh_keeps_labels_annotations_and_owner_references_set_by_others() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let old_config = STANDARD.encode(r#"{"auths":{"old":{"auth":"b2xk"}}}"#);
    let owner = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                       "name": "apps", "uid": "owner-uid-1"});
    kube.seed(
        "apps",
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "regcred-primary",
                "labels": {"team": "payments", "app.kubernetes.io/managed-by": "kubectl"},
                "annotations": {"argocd.argoproj.io/sync-options": "Prune=false"},
                "ownerReferences": [owner],
            },
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": old_config},
        }),
        "kubectl-create",
    );
    let uid_before =
        kube.get("apps", "regcred-primary").expect("seeded")["metadata"]["uid"].clone();

    let s = settings("apps");
    let ctx = context(&moto.endpoint(), &kube, &s).await;
    refresh(&s.target, &s.retry, &ctx)
        .await
        .expect("first refresh");
    refresh(&s.target, &s.retry, &ctx)
        .await
        .expect("second refresh");

    let secret = kube.get("apps", "regcred-primary").expect("still there");
    let meta = &secret["metadata"];
    assert_eq!(meta["uid"], uid_before, "updated in place, not recreated");
    assert_eq!(meta["labels"]["team"], "payments");
    assert_eq!(
        meta["labels"]["app.kubernetes.io/managed-by"],
        "ecr-refresher"
    );
    assert_eq!(
        meta["annotations"]["argocd.argoproj.io/sync-options"],
        "Prune=false"
    );
    assert_eq!(meta["ownerReferences"], json!([owner]));
    assert_eq!(
        docker_config(&secret)["auths"][MOTO_HOST]["password"],
        MOTO_PASSWORD
    );
    assert!(docker_config(&secret)["auths"].get("old").is_none());
    // The other manager keeps what we did not take over.
    let theirs = owned(&kube, "apps", "kubectl-create");
    assert!(theirs.contains("metadata.labels.team"), "{theirs:?}");
    assert!(
        theirs.contains("metadata.ownerReferences.owner-uid-1"),
        "{theirs:?}"
    );
    assert!(!theirs.contains("data..dockerconfigjson"), "{theirs:?}");
    assert_eq!(owned(&kube, "apps", "ecr-refresher"), ours());
    assert!(
        methods(&kube)
            .iter()
            .all(|m| *m == Method::GET || *m == Method::PATCH),
        "only reads and applies: {:?}",
        methods(&kube)
    );
}

#[tokio::test]
async fn a_secret_of_another_type_is_left_untouched_with_an_error_saying_what_to_do() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed(
        "apps",
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "regcred-primary"},
               "type": "Opaque", "data": {"password": "aHVudGVyMg=="}}),
        "kubectl-create",
    );
    let before = kube.get("apps", "regcred-primary");
    let s = settings("apps");
    let err = refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect_err("wrong type refused");

    assert!(
        matches!(&err, Error::WrongSecretType { found, .. } if found == "Opaque"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        !msg.contains("registry primary"),
        "the registry is the final line's prefix, not part of the error: {msg}"
    );
    assert!(
        msg.contains("kubectl delete secret -n apps regcred-primary"),
        "{msg}"
    );
    assert_eq!(kube.get("apps", "regcred-primary"), before);
    assert_eq!(methods(&kube), vec![Method::GET]);
}

#[tokio::test]
async fn a_type_change_the_api_server_rejects_is_reported_as_a_wrong_type() {
    // The Secret appears with another type between our read and our apply: the read is made to
    // miss it, so the apply meets the API server's 422 "field is immutable".
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed(
        "apps",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred-primary"},
               "type": "Opaque"}),
        "someone",
    );
    kube.fail_next(Method::GET, 404, 1);
    let before = kube.get("apps", "regcred-primary");
    let s = settings("apps");
    let err = refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect_err("type change refused");
    assert!(
        matches!(&err, Error::WrongSecretType { found, .. } if found == "Opaque"),
        "{err:?}"
    );
    assert_eq!(kube.get("apps", "regcred-primary"), before);
}

#[tokio::test]
async fn nothing_is_written_when_the_aws_endpoint_is_down() {
    let kube = FakeKube::start();
    let mut s = settings("apps");
    s.retry.budget = Duration::from_millis(500);
    let down = format!("http://127.0.0.1:{}", free_port());
    let err = refresh(&s.target, &s.retry, &context(&down, &kube, &s).await)
        .await
        .expect_err("AWS is down");
    assert!(matches!(err, Error::EcrToken { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("get ECR token: AWS endpoint unreachable"),
        "{msg}"
    );
    assert!(msg.contains("Connection refused"), "{msg}");
    assert!(kube.requests().is_empty(), "{:?}", kube.requests());
}

#[tokio::test]
async fn an_aws_endpoint_that_never_answers_times_out_and_nothing_is_written() {
    let kube = FakeKube::start();
    let mut s = settings("apps");
    s.request_timeout = Duration::from_millis(300);
    s.retry.budget = Duration::ZERO;
    let silent = format!("http://127.0.0.1:{}", black_hole());
    let err = refresh(&s.target, &s.retry, &context(&silent, &kube, &s).await)
        .await
        .expect_err("times out");
    let msg = err.to_string();
    assert!(
        msg.starts_with("get ECR token: AWS request timed out"),
        "{msg}"
    );
    assert!(kube.requests().is_empty());
}

#[tokio::test]
async fn an_api_request_that_gets_no_answer_times_out_and_is_retried() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.stall_next(Method::PATCH, Duration::from_secs(3), 1);
    let mut s = settings("apps");
    s.request_timeout = Duration::from_millis(500);
    refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect("succeeds on the second attempt");
    let patches = methods(&kube)
        .iter()
        .filter(|m| **m == Method::PATCH)
        .count();
    assert_eq!(patches, 2);
    assert!(kube.get("apps", "regcred-primary").is_some());
}

#[tokio::test]
async fn invalid_aws_credentials_fail_at_once_and_write_nothing() {
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let kube = FakeKube::start();
    let s = settings("apps");
    let ctx = Context {
        kube: kube.client(&s),
        ecr: ecr_client(&s, &moto.endpoint(), ("AKIAUNKNOWNKEY000000", "wrong")).await,
    };
    let err = refresh(&s.target, &s.retry, &ctx)
        .await
        .expect_err("credentials rejected");
    let msg = err.to_string();
    assert!(
        msg.starts_with("get ECR token: invalid AWS credentials"),
        "{msg}"
    );
    assert!(msg.contains("InvalidClientTokenId"), "{msg}");
    assert_eq!(moto.post_count(), 1, "not retried:\n{}", moto.log_text());
    assert!(kube.requests().is_empty());
}

#[tokio::test]
async fn a_principal_without_ecr_permission_gets_an_access_denied_error() {
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]);
    let (id, secret) = moto.create_user_without_policy();
    let kube = FakeKube::start();
    let s = settings("apps");
    let ctx = Context {
        kube: kube.client(&s),
        ecr: ecr_client(&s, &moto.endpoint(), (&id, &secret)).await,
    };
    let err = refresh(&s.target, &s.retry, &ctx)
        .await
        .expect_err("access denied");
    let msg = err.to_string();
    assert!(msg.starts_with("get ECR token: access denied"), "{msg}");
    assert!(msg.contains("needs ecr:GetAuthorizationToken"), "{msg}");
    assert!(!msg.contains(&secret), "{msg}");
    assert!(kube.requests().is_empty());
}

#[tokio::test]
async fn conflicts_and_server_errors_are_retried_until_the_apply_succeeds() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.fail_next(Method::GET, 503, 1);
    kube.fail_next(Method::PATCH, 409, 2);
    kube.fail_next(Method::PATCH, 500, 1);
    let s = settings("apps");
    refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect("succeeds after retries");
    assert!(kube.get("apps", "regcred-primary").is_some());
    let patches = methods(&kube)
        .iter()
        .filter(|m| **m == Method::PATCH)
        .count();
    assert_eq!(patches, 4);
}

#[tokio::test]
async fn a_forbidden_apply_fails_at_once_and_names_the_missing_permission() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.fail_next(Method::PATCH, 403, 10);
    let s = settings("apps");
    let err = refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect_err("forbidden");
    assert!(matches!(err, Error::ApplySecret { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("apply Secret apps/regcred-primary: forbidden"),
        "{msg}"
    );
    assert!(
        msg.contains("needs get, create and patch on secrets in namespace apps"),
        "{msg}"
    );
    assert_eq!(methods(&kube), vec![Method::GET, Method::PATCH]);
}

#[tokio::test]
async fn a_forbidden_read_fails_before_anything_is_written() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.forbid_namespace("apps");
    let s = settings("apps");
    let err = refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect_err("forbidden");
    assert!(matches!(err, Error::ReadSecret { .. }), "{err:?}");
    assert_eq!(methods(&kube), vec![Method::GET]);
}

#[tokio::test]
async fn server_errors_that_outlast_the_retry_budget_fail_the_run() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.fail_next(Method::PATCH, 503, usize::MAX);
    let mut s = settings("apps");
    s.retry.budget = Duration::from_millis(700);
    let err = refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect_err("gives up");
    assert!(
        matches!(&err, Error::ApplySecret { source, .. }
            if matches!(&**source, kube::Error::Api(status) if status.code == 503)),
        "{err:?}"
    );
    let patches = methods(&kube)
        .iter()
        .filter(|m| **m == Method::PATCH)
        .count();
    assert!(patches > 1, "retried before giving up");
}

#[tokio::test]
async fn two_concurrent_runs_both_succeed() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let s = settings("apps");
    let cron = context(&moto.endpoint(), &kube, &s).await;
    let immediate = context(&moto.endpoint(), &kube, &s).await;
    let (a, b) = tokio::join!(
        refresh(&s.target, &s.retry, &cron),
        refresh(&s.target, &s.retry, &immediate)
    );
    a.expect("CronJob run succeeds");
    b.expect("immediate Job run succeeds");
    let secret = kube.get("apps", "regcred-primary").expect("secret");
    assert_eq!(
        docker_config(&secret)["auths"][MOTO_HOST]["password"],
        MOTO_PASSWORD
    );
    assert_eq!(
        kube.owners("apps", "regcred-primary")
            .into_keys()
            .collect::<Vec<_>>(),
        vec!["ecr-refresher"]
    );
}

#[tokio::test]
async fn one_failing_namespace_does_not_stop_the_others_but_fails_the_run() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.only_namespaces(&["a", "c", "d", "e", "f"]);
    kube.forbid_namespace("c");
    let s = settings("a,b,c,d,e,f");
    let err = refresh(
        &s.target,
        &s.retry,
        &context(&moto.endpoint(), &kube, &s).await,
    )
    .await
    .expect_err("two namespaces fail");
    let Error::Namespaces {
        total, failures, ..
    } = &err
    else {
        panic!("expected Namespaces, got {err:?}");
    };
    assert_eq!(*total, 6);
    assert_eq!(failures.len(), 2);
    let msg = err.to_string();
    assert!(msg.starts_with("2 of 6 target namespaces failed"), "{msg}");
    assert!(
        msg.contains("apply Secret b/regcred-primary: not found"),
        "{msg}"
    );
    assert!(
        msg.contains("read Secret c/regcred-primary: forbidden"),
        "{msg}"
    );
    for ns in ["a", "d", "e", "f"] {
        assert!(kube.get(ns, "regcred-primary").is_some(), "{ns} written");
    }
}

#[tokio::test]
async fn a_dry_run_prints_the_secret_with_every_credential_redacted() {
    let moto = Moto::start();
    let s = settings("apps,team-b");
    let ecr = ecr_client(&s, &moto.endpoint(), DUMMY_KEY).await;

    let mut yaml = Vec::new();
    dry_run(&s.target, &s.retry, s.mode.output, &ecr, &mut yaml)
        .await
        .expect("dry run");
    let yaml = String::from_utf8(yaml).expect("utf-8");
    let mut json_settings = s.clone();
    json_settings.mode.output = OutputFormat::Json;
    let mut json_out = Vec::new();
    dry_run(
        &json_settings.target,
        &json_settings.retry,
        json_settings.mode.output,
        &ecr,
        &mut json_out,
    )
    .await
    .expect("dry run");
    let json_out = String::from_utf8(json_out).expect("utf-8");

    for text in [&yaml, &json_out] {
        assert!(!text.contains(MOTO_PASSWORD), "{text}");
        assert!(
            !text.contains(&STANDARD.encode(format!("AWS:{MOTO_PASSWORD}"))),
            "{text}"
        );
        assert!(
            text.contains(MOTO_HOST),
            "the registry host is shown: {text}"
        );
    }
    let docs: Vec<Value> = yaml
        .split("---\n")
        .filter(|d| !d.trim().is_empty())
        .map(|d| serde_yaml::from_str(d).expect("YAML document"))
        .collect();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0]["metadata"]["namespace"], "apps");
    assert_eq!(docs[1]["metadata"]["namespace"], "team-b");
    let shown: Value = serde_json::from_str(
        docs[0]["data"][".dockerconfigjson"]
            .as_str()
            .expect("the redacted docker config as JSON text"),
    )
    .expect("JSON");
    assert_eq!(
        shown,
        json!({"auths": {MOTO_HOST: {"username": "AWS", "password": "<redacted>", "auth": "<redacted>"}}})
    );
    assert_eq!(docs[0]["type"], "kubernetes.io/dockerconfigjson");
    let list: Value = serde_json::from_str(&json_out).expect("JSON");
    assert_eq!(list["kind"], "List");
    assert!(
        list["items"][1]["data"][".dockerconfigjson"]
            .as_str()
            .expect("text")
            .contains("\"password\":\"<redacted>\""),
        "{json_out}"
    );
}
