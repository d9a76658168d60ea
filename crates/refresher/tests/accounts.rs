//! AWS access beyond static keys and one registry, through the real SDK against moto: STS
//! AssumeRole before ECR (`ROLE_ARN`) and several accounts' registries in one Secret
//! (`REGISTRY_IDS`) written to several namespaces.

mod support;

use aws_sdk_ecr::config::Credentials;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecr_refresher::{Context, Error, Settings, ecr_client, refresh};
use serde_json::{Value, json};
use support::fake_kube::FakeKube;
use support::moto::Moto;
use support::{DUMMY_KEY, MOTO_HOST, MOTO_PASSWORD, settings};

/// The ECR client the binary would build (assuming `ROLE_ARN` if set), with static source
/// credentials and moto as the endpoint of every service (STS and ECR).
async fn client(
    s: &Settings,
    endpoint: &str,
    key: (&str, &str),
) -> Result<aws_sdk_ecr::Client, Error> {
    let config = ecr_refresher::ecr::config_loader(&s.target.region, s.request_timeout)
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key.0, key.1, None, None, "test"))
        .load()
        .await;
    ecr_client(&s.target, &s.retry, &config).await
}

fn docker_config(secret: &Value) -> Value {
    let encoded = secret["data"][".dockerconfigjson"]
        .as_str()
        .expect("data..dockerconfigjson is base64 text");
    serde_json::from_slice(&STANDARD.decode(encoded).expect("base64")).expect("JSON")
}

#[tokio::test]
async fn the_role_is_assumed_and_ecr_is_asked_with_its_credentials() {
    // moto checks IAM after the setup: the source user may only assume the role, the role
    // may get ECR tokens. So the token can only come through the assumed role.
    let user = Some(Some("sts:AssumeRole"));
    let role = Some(Some("ecr:GetAuthorizationToken"));
    let (moto, ids) = Moto::start_with_identities(user, role);
    let (id, secret) = ids.user_key.expect("user key");
    let role_arn = ids.role_arn.expect("role");
    let kube = FakeKube::start();

    // Without the role, the source user is refused by ECR ...
    let plain = settings("apps");
    let ctx = Context {
        kube: kube.client(&plain),
        ecr: client(&plain, &moto.endpoint(), (&id, &secret))
            .await
            .expect("no role, no STS call"),
    };
    let err = refresh(&plain.target, &plain.retry, &ctx)
        .await
        .expect_err("the user may not read ECR");
    assert!(err.to_string().contains("access denied"), "{err}");
    assert!(kube.get("apps", "regcred-primary").is_none());

    // ... with it, ECR answers and the Secret is written.
    let mut s = settings("apps");
    s.target.role_arn = Some(role_arn.clone());
    let ctx = Context {
        kube: kube.client(&s),
        ecr: client(&s, &moto.endpoint(), (&id, &secret))
            .await
            .expect("role assumed"),
    };
    refresh(&s.target, &s.retry, &ctx)
        .await
        .expect("refresh with the assumed role");
    let written = kube.get("apps", "regcred-primary").expect("secret written");
    assert_eq!(
        docker_config(&written)["auths"][MOTO_HOST]["password"],
        MOTO_PASSWORD
    );
}

#[tokio::test]
async fn a_caller_that_may_not_assume_the_role_fails_at_once_naming_the_role_and_what_to_do() {
    let user = Some(None);
    let role = Some(Some("ecr:GetAuthorizationToken"));
    let (moto, ids) = Moto::start_with_identities(user, role);
    let (id, secret) = ids.user_key.expect("user key");
    let role_arn = ids.role_arn.expect("role");
    let posts_before = moto.post_count();

    let mut s = settings("apps");
    s.target.role_arn = Some(role_arn.clone());
    let err = client(&s, &moto.endpoint(), (&id, &secret))
        .await
        .expect_err("AssumeRole denied");
    assert!(matches!(err, Error::AssumeRole { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("assume role {role_arn}: access denied")),
        "{msg}"
    );
    assert!(
        msg.ends_with(
            "the caller needs sts:AssumeRole on the role and the role's trust policy must allow it"
        ),
        "{msg}"
    );
    assert!(!msg.contains(&secret), "{msg}");
    assert_eq!(moto.post_count(), posts_before + 1, "not retried");
}

#[tokio::test]
async fn an_unreachable_sts_endpoint_is_a_clear_assume_role_error() {
    let mut s = settings("apps");
    s.target.role_arn = Some("arn:aws:iam::123456789012:role/ecr-reader".into());
    s.retry.budget = std::time::Duration::ZERO;
    let down = format!("http://127.0.0.1:{}", support::moto::free_port());
    let msg = client(&s, &down, DUMMY_KEY)
        .await
        .expect_err("unreachable")
        .to_string();
    assert!(
        msg.starts_with(
            "assume role arn:aws:iam::123456789012:role/ecr-reader: AWS endpoint unreachable"
        ),
        "{msg}"
    );
}

#[tokio::test]
async fn a_secret_written_to_three_namespaces_holds_both_accounts_registries_in_each() {
    let moto = Moto::start();
    let kube = FakeKube::start();
    let mut s = settings("team-a,team-b,team-c");
    // The second account, and the first one again (deduplicated).
    s.target.registry_ids = vec!["210987654321".into(), "123456789012".into()];
    let ctx = Context {
        kube: kube.client(&s),
        ecr: client(&s, &moto.endpoint(), DUMMY_KEY)
            .await
            .expect("client"),
    };
    refresh(&s.target, &s.retry, &ctx).await.expect("refresh");

    let entry = json!({
        "username": "AWS",
        "password": MOTO_PASSWORD,
        "auth": STANDARD.encode(format!("AWS:{MOTO_PASSWORD}")),
    });
    for ns in ["team-a", "team-b", "team-c"] {
        let secret = kube.get(ns, "regcred-primary").expect("written");
        assert_eq!(
            docker_config(&secret),
            json!({"auths": {
                MOTO_HOST: entry,
                "210987654321.dkr.ecr.eu-west-1.amazonaws.com": entry,
            }}),
            "namespace {ns}"
        );
    }
}
