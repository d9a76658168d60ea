//! The sync run (`SYNC_DIR`) against the fake Kubernetes API and moto: copies of the token the
//! refresh wrote into new namespaces without asking ECR, ECR only when no valid token is left,
//! nothing rewritten that is current, namespaces being deleted or excluded skipped, registries
//! failing independently, and the binary end to end.
//!
//! moto's tokens say they expire on 2015-01-01. Where a test needs a valid source, it re-applies
//! the Secret the refresh wrote with an `expires-at` 12 hours after its `refreshed-at`, as a
//! real ECR answer would have it ([`as_if_ecr_said_12_hours`]).

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecr_refresher::dockerconfig::DockerConfigJson;
use ecr_refresher::events::{EventArgs, Reporter};
use ecr_refresher::settings::SyncSettings;
use ecr_refresher::sync::{self, Counts, RegistrySync, SyncContext};
use ecr_refresher::{Context, Error, RetryPolicy, refresh, secret};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use serde_json::Value;
use support::fake_kube::FakeKube;
use support::moto::Moto;
use support::{DUMMY_KEY, MOTO_ACCOUNT, ecr_client, settings};

const SECRET: &str = "regcred-primary";
const REFRESHED_AT: &str = "ecr-registry-helper/refreshed-at";
const EXPIRES_AT: &str = "ecr-registry-helper/expires-at";

/// Writes `<root>/<name>/<KEY>` for each file, as a mounted ConfigMap or Secret holds them.
fn mount(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).expect("create dir");
    for (key, value) in files {
        std::fs::write(dir.join(key), value).expect("write file");
    }
    dir
}

/// The ConfigMap of registry `primary`: namespaces labelled `team: a` (not `team-excluded`),
/// and `apps` by name, `default` getting the pull Secret.
const PRIMARY: &[(&str, &str)] = &[
    ("ECR_REGISTRY_NAME", "primary"),
    ("AWS_REGION", "eu-west-1"),
    ("SECRET_NAME", SECRET),
    ("TARGET_NAMESPACES", "apps"),
    ("NAMESPACE_SELECTOR", r#"{"matchLabels":{"team":"a"}}"#),
    ("EXCLUDE_NAMESPACES", "team-excluded"),
    ("IMAGE_PULL_SECRET_FOR", "default"),
    ("LOG_FORMAT", "plain"),
];

/// A sync run's settings: registries in `root/config`, credentials in `root/credentials`.
fn sync_settings(root: &Path) -> SyncSettings {
    SyncSettings {
        config_dir: root.join("config"),
        credentials_dir: Some(root.join("credentials")),
        retry: RetryPolicy::within(Duration::from_secs(2)),
        request_timeout: Duration::from_secs(5),
        reporter: Reporter::from_args(&EventArgs::default()),
    }
}

/// moto's dummy keys as registry `name`'s credentials Secret.
fn credentials(root: &Path, name: &str) {
    mount(
        &root.join("credentials"),
        name,
        &[
            ("AWS_ACCESS_KEY_ID", DUMMY_KEY.0),
            ("AWS_SECRET_ACCESS_KEY", &format!("{}\n", DUMMY_KEY.1)),
        ],
    );
}

/// The fake API with namespace `team-a` (`team: a`) and `apps`, both with a ServiceAccount
/// `default`, and moto; a refresh has written `regcred-primary` into `team-a`.
async fn refreshed() -> (Moto, FakeKube, kube::Client) {
    let moto = Moto::start();
    let kube = FakeKube::start();
    kube.seed_namespace("team-a", &[("team", "a")]);
    kube.seed_namespace("apps", &[]);
    for ns in ["team-a", "apps"] {
        kube.seed_service_account(ns, "default", None);
    }
    let s = settings("team-a");
    let client = kube.client(&s);
    let ctx = Context {
        kube: client.clone(),
        ecr: ecr_client(&s, &moto.endpoint(), DUMMY_KEY).await,
    };
    refresh(&s.target, &s.retry, &ctx).await.expect("refresh");
    assert_eq!(
        moto.ecr_token_calls(),
        1,
        "the refresh's one ECR call is counted"
    );
    (moto, kube, client)
}

/// Re-applies the Secret in `namespace` as the refresher writes it, with an `expires-at` 12
/// hours after its `refreshed-at`, as ECR would have said (moto says 2015).
async fn as_if_ecr_said_12_hours(kube: &FakeKube, client: &kube::Client, namespace: &str) {
    let stored = kube.get(namespace, SECRET).expect("written by the refresh");
    let config = DockerConfigJson::from_existing(&data(&stored)).expect("a docker config");
    let refreshed_at: Timestamp = annotation(&stored, REFRESHED_AT).parse().expect("stamp");
    let expires_at = refreshed_at + SignedDuration::from_hours(12);
    let desired = secret::build(
        namespace,
        SECRET,
        "primary",
        &config,
        refreshed_at,
        Some(expires_at),
    );
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    secret::apply(
        &api,
        &desired,
        &RetryPolicy::within(Duration::ZERO),
        namespace,
    )
    .await
    .expect("re-apply");
}

fn data(secret: &Value) -> Vec<u8> {
    let encoded = secret["data"][".dockerconfigjson"].as_str().expect("data");
    STANDARD.decode(encoded).expect("base64")
}

fn annotation(secret: &Value, key: &str) -> String {
    secret["metadata"]["annotations"][key]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Server-side applies of `regcred-primary` the fake received after request number `from`.
fn applies_since(kube: &FakeKube, from: usize) -> Vec<String> {
    kube.requests()[from..]
        .iter()
        .filter(|r| r.method == Method::PATCH && r.path.ends_with(&format!("/secrets/{SECRET}")))
        .map(|r| r.path.clone())
        .collect()
}

async fn run_sync(root: &Path, kube: &kube::Client, moto: &Moto) -> Vec<RegistrySync> {
    let ctx = SyncContext {
        kube: kube.clone(),
        ecr_endpoint: Some(moto.endpoint()),
    };
    sync::sync(&sync_settings(root), &ctx)
        .await
        .expect("the run itself works")
}

fn only(synced: &[RegistrySync]) -> &RegistrySync {
    assert_eq!(synced.len(), 1, "{synced:?}");
    &synced[0]
}

#[tokio::test]
async fn a_namespace_created_after_the_refresh_gets_the_secret_from_the_sync_run_without_asking_ecr()
 {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    // Created after the refresh: a match, one being deleted, an excluded one, one not matching.
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    kube.seed_namespace("team-gone", &[("team", "a")]);
    kube.terminate_namespace("team-gone");
    kube.seed_namespace("team-excluded", &[("team", "a")]);
    kube.seed_namespace("other", &[("team", "b")]);
    let root = tempfile::tempdir().expect("tempdir");
    mount(&root.path().join("config"), "primary", PRIMARY);
    credentials(root.path(), "primary");
    let before = kube.requests().len();

    let synced = run_sync(root.path(), &client, &moto).await;

    let primary = only(&synced);
    primary.outcome.as_ref().expect("synced");
    assert_eq!(
        primary.counts,
        Counts {
            selected: 3,
            present: 1,
            copied: 2,
            ecr_calls: 0
        }
    );
    assert_eq!(moto.ecr_token_calls(), 1, "no ECR call since the refresh");
    let source = kube.get("team-a", SECRET).expect("source");
    for ns in ["team-new", "apps"] {
        let copy = kube
            .get(ns, SECRET)
            .unwrap_or_else(|| panic!("copied into {ns}"));
        assert_eq!(data(&copy), data(&source), "{ns}: the same token");
        for key in [REFRESHED_AT, EXPIRES_AT] {
            assert_eq!(
                annotation(&copy, key),
                annotation(&source, key),
                "{ns}: {key}"
            );
        }
        assert_eq!(copy["type"], "kubernetes.io/dockerconfigjson");
        assert!(
            kube.owners(ns, SECRET).contains_key("ecr-refresher"),
            "{ns}: written with the refresher's field manager"
        );
        assert_eq!(kube.pull_secrets(ns, "default"), [SECRET], "{ns}");
    }
    for ns in ["team-gone", "team-excluded", "other"] {
        assert_eq!(kube.get(ns, SECRET), None, "{ns} is not a target");
    }
    let mut written = applies_since(&kube, before);
    written.sort();
    assert_eq!(
        written,
        [
            format!("/api/v1/namespaces/apps/secrets/{SECRET}"),
            format!("/api/v1/namespaces/team-new/secrets/{SECRET}"),
        ],
        "only the missing ones are applied"
    );
    let reads = kube.requests()[before..]
        .iter()
        .filter(|r| r.method == Method::GET && r.path.ends_with(&format!("/secrets/{SECRET}")))
        .count();
    assert_eq!(
        reads, 0,
        "each Secret is applied over what the list returned, not read again"
    );
    let lists: Vec<String> = kube.requests()[before..]
        .iter()
        .filter(|r| matches!(r.path.as_str(), "/api/v1/namespaces" | "/api/v1/secrets"))
        .map(|r| {
            let field = r.param("fieldSelector").unwrap_or_default();
            let label = r.param("labelSelector").unwrap_or_default();
            format!("{} fields={field} labels={label}", r.path)
        })
        .collect();
    assert_eq!(
        lists,
        [
            "/api/v1/namespaces fields= labels=".to_owned(),
            format!("/api/v1/secrets fields=metadata.name%3D{SECRET} labels="),
        ],
        "one list of every namespace, one of the Secret in every namespace"
    );
    let mut events: Vec<String> = kube
        .events()
        .iter()
        .map(|e| {
            e["regarding"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    events.sort();
    assert_eq!(events, ["apps", "team-new"], "one Event per copy");
}

#[tokio::test]
async fn a_secret_already_current_is_not_written_again() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    let root = tempfile::tempdir().expect("tempdir");
    mount(&root.path().join("config"), "primary", PRIMARY);
    let first = run_sync(root.path(), &client, &moto).await;
    assert_eq!(only(&first).counts.copied, 2);
    let before = kube.requests().len();

    let second = run_sync(root.path(), &client, &moto).await;

    let primary = only(&second);
    primary.outcome.as_ref().expect("synced");
    assert_eq!(
        primary.counts,
        Counts {
            selected: 3,
            present: 3,
            copied: 0,
            ecr_calls: 0
        }
    );
    assert_eq!(applies_since(&kube, before), Vec::<String>::new());
    let methods: Vec<Method> = kube.requests()[before..]
        .iter()
        .map(|r| r.method.clone())
        .collect();
    assert_eq!(
        methods,
        [Method::GET, Method::GET, Method::GET],
        "three lists (namespaces, the Secret, the ServiceAccount) and nothing else"
    );
    assert_eq!(moto.ecr_token_calls(), 1);
}

#[tokio::test]
async fn a_service_account_created_after_the_copy_gets_the_secret_at_the_next_sync_without_a_write()
{
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    // A new namespace whose `default` ServiceAccount the controller creates only after the
    // first sync copied the Secret there.
    kube.seed_namespace("team-new", &[("team", "a")]);
    let root = tempfile::tempdir().expect("tempdir");
    mount(&root.path().join("config"), "primary", PRIMARY);
    let first = run_sync(root.path(), &client, &moto).await;
    only(&first)
        .outcome
        .as_ref()
        .expect("a missing ServiceAccount in a selected namespace is no failure");
    assert!(kube.get("team-new", SECRET).is_some());
    // The refresh did not patch team-a's `default` (its settings have no IMAGE_PULL_SECRET_FOR):
    // the first sync catches up there, since the Secret there was current.
    assert_eq!(kube.pull_secrets("team-a", "default"), [SECRET]);
    kube.seed_service_account("team-new", "default", Some(&["other"]));
    let before = kube.requests().len();

    let second = run_sync(root.path(), &client, &moto).await;

    only(&second).outcome.as_ref().expect("synced");
    assert_eq!(kube.pull_secrets("team-new", "default"), ["other", SECRET]);
    assert_eq!(
        applies_since(&kube, before),
        Vec::<String>::new(),
        "no Secret written"
    );
    let service_account_calls: Vec<String> = kube.requests()[before..]
        .iter()
        .filter(|r| r.path.contains("serviceaccounts"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        service_account_calls,
        [
            "GET /api/v1/serviceaccounts",
            "GET /api/v1/namespaces/team-new/serviceaccounts/default",
            "PATCH /api/v1/namespaces/team-new/serviceaccounts/default",
        ],
        "one list, then a read and a patch only where the entry is missing"
    );
    assert_eq!(moto.ecr_token_calls(), 1, "no ECR call");
}

#[tokio::test]
async fn an_expired_source_triggers_exactly_one_ecr_call_and_the_new_token_goes_everywhere_it_differs()
 {
    // moto's token "expired" in 2015: no valid source.
    let (moto, kube, client) = refreshed().await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    let root = tempfile::tempdir().expect("tempdir");
    let mut files = PRIMARY.to_vec();
    files.push(("AWS_ACCOUNT", "111122223333"));
    mount(&root.path().join("config"), "primary", &files);
    credentials(root.path(), "primary");
    // The credentials Secret's account overrides the ConfigMap's (as in the refresh's envFrom).
    std::fs::write(
        root.path().join("credentials/primary/AWS_ACCOUNT"),
        "222233334444",
    )
    .expect("write");
    let old = data(&kube.get("team-a", SECRET).expect("refreshed"));

    let synced = run_sync(root.path(), &client, &moto).await;

    let primary = only(&synced);
    primary.outcome.as_ref().expect("synced");
    assert_eq!(moto.ecr_token_calls(), 2, "exactly one more ECR call");
    assert_eq!(
        primary.counts,
        Counts {
            selected: 3,
            present: 0,
            copied: 3,
            ecr_calls: 1
        }
    );
    for ns in ["team-a", "apps", "team-new"] {
        let secret = kube
            .get(ns, SECRET)
            .unwrap_or_else(|| panic!("written into {ns}"));
        let config: Value = serde_json::from_slice(&data(&secret)).expect("JSON");
        let auth = &config["auths"]["222233334444.dkr.ecr.eu-west-1.amazonaws.com"];
        assert_eq!(
            auth["password"], "222233334444-auth-token",
            "{ns}: {config}"
        );
        assert_ne!(data(&secret), old);
        assert_eq!(annotation(&secret, EXPIRES_AT), "2015-01-01T00:00:00Z");
    }
}

#[tokio::test]
async fn an_empty_credentials_directory_fails_that_registry_clearly_without_calling_ecr() {
    let (moto, kube, client) = refreshed().await;
    let root = tempfile::tempdir().expect("tempdir");
    mount(&root.path().join("config"), "primary", PRIMARY);
    // The credentials Secret is mounted optional and does not exist yet: an empty directory.
    let dir = mount(&root.path().join("credentials"), "primary", &[]);
    let before = kube.requests().len();

    let synced = run_sync(root.path(), &client, &moto).await;

    let err = only(&synced).outcome.as_ref().expect_err("no credentials");
    assert_eq!(only(&synced).counts.ecr_calls, 0);
    assert!(matches!(err, Error::SyncCredentials { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "sync: credentials {}: holds neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY",
            dir.display()
        )),
        "{message}"
    );
    assert_eq!(
        moto.ecr_token_calls(),
        1,
        "the pod's identity is not tried instead"
    );
    assert_eq!(applies_since(&kube, before), Vec::<String>::new());
    assert!(sync::outcome(&synced).is_err());
}

#[tokio::test]
async fn two_registries_sync_independently_and_the_run_fails_if_one_did() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("config");
    mount(&config, "primary", PRIMARY);
    // Sorted before `primary`: its failure must not stop it.
    mount(
        &config,
        "broken",
        &[
            ("ECR_REGISTRY_NAME", "broken"),
            ("AWS_REGION", "eu-west-1"),
            (
                "NAMESPACE_SELECTOR",
                r#"{"matchLabels":{"team":"a"},"matchExpressions":[{"key":"tier","operator":"in","values":["x"]}]}"#,
            ),
        ],
    );

    let synced = run_sync(root.path(), &client, &moto).await;

    let names: Vec<&str> = synced.iter().map(|r| r.registry.as_str()).collect();
    assert_eq!(names, ["broken", "primary"]);
    let err = synced[0].outcome.as_ref().expect_err("bad selector");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "sync: settings file {}: invalid setting NAMESPACE_SELECTOR",
            config.join("broken/NAMESPACE_SELECTOR").display()
        )),
        "{message}"
    );
    assert!(
        message.contains("matchExpressions[0].operator"),
        "{message}"
    );
    synced[1].outcome.as_ref().expect("primary synced");
    assert!(kube.get("team-new", SECRET).is_some());
    assert_eq!(
        sync::outcome(&synced).expect_err("one failed").to_string(),
        "sync: 1 of 2 registries failed: broken"
    );
    assert_eq!(moto.ecr_token_calls(), 1);
}

#[tokio::test]
async fn the_binary_syncs_from_sync_dir_logs_one_summary_per_registry_and_exits_1_if_one_failed() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("config");
    mount(&config, "primary", PRIMARY);
    mount(
        &config,
        "wrong",
        &[
            ("ECR_REGISTRY_NAME", "other"),
            ("AWS_REGION", "eu-west-1"),
            ("TARGET_NAMESPACES", "apps"),
        ],
    );
    let kubeconfig = kube.kubeconfig(root.path());

    let output = support::isolated_refresher(root.path(), &kubeconfig)
        .env("SYNC_DIR", &config)
        .env("SYNC_CREDENTIALS_DIR", root.path().join("credentials"))
        .env("LOG_FORMAT", "json")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .output()
        .expect("run ecr-refresher");

    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let summary = lines
        .iter()
        .find(|l| l["message"] == "sync complete")
        .unwrap_or_else(|| panic!("a summary line: {stderr}"));
    assert_eq!(summary["span"]["registry"], "primary");
    for (field, value) in [
        ("selected", 3),
        ("present", 1),
        ("copied", 2),
        ("ecr_calls", 0),
    ] {
        assert_eq!(summary[field], value, "{field}: {summary}");
    }
    let failed = lines
        .iter()
        .find(|l| l["span"]["registry"] == "wrong" && l["level"] == "ERROR")
        .unwrap_or_else(|| panic!("the failing registry's line: {stderr}"));
    let message = failed["message"].as_str().expect("message");
    assert!(
        message.starts_with("registry wrong: sync: ")
            && message.contains("holds the settings of registry \"other\""),
        "{message}"
    );
    assert_eq!(
        lines.last().expect("a last line")["message"],
        "sync: 1 of 2 registries failed: wrong"
    );
    assert!(kube.get("team-new", SECRET).is_some(), "primary was synced");
    assert!(
        !stderr.contains(&format!("{MOTO_ACCOUNT}-auth-token")),
        "no token in the log"
    );
    assert_eq!(moto.ecr_token_calls(), 1);
}

#[tokio::test]
async fn without_a_credentials_directory_the_binary_asks_ecr_with_the_pods_own_identity() {
    // moto's token "expired" in 2015: no valid source, so ECR is asked.
    let (moto, kube, _client) = refreshed().await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("config");
    mount(&config, "primary", PRIMARY);
    let kubeconfig = kube.kubeconfig(root.path());

    // The pod's identity: here the default chain's environment credentials.
    let output = support::isolated_refresher(root.path(), &kubeconfig)
        .env("SYNC_DIR", &config)
        .env("SYNC_CREDENTIALS_DIR", root.path().join("credentials"))
        .env("AWS_ACCESS_KEY_ID", DUMMY_KEY.0)
        .env("AWS_SECRET_ACCESS_KEY", DUMMY_KEY.1)
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("LOG_FORMAT", "plain")
        .output()
        .expect("run ecr-refresher");

    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(moto.ecr_token_calls(), 2, "one ECR call by the sync run");
    let secret = kube.get("team-new", SECRET).expect("written");
    assert_eq!(annotation(&secret, EXPIRES_AT), "2015-01-01T00:00:00Z");
    assert!(stderr.contains("ecr_calls=1"), "{stderr}");
    assert!(!stderr.contains(DUMMY_KEY.1), "no secret key in the log");
}

#[tokio::test]
async fn registries_share_one_namespace_list_and_each_lists_its_own_secret_once() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed_service_account("team-new", "default", None);
    let root = tempfile::tempdir().expect("tempdir");
    let config = root.path().join("config");
    mount(&config, "primary", PRIMARY);
    // A registry the refresh never wrote: no source, so one ECR call with its credentials.
    mount(
        &config,
        "second",
        &[
            ("ECR_REGISTRY_NAME", "second"),
            ("AWS_REGION", "eu-west-1"),
            (
                "NAMESPACE_SELECTOR",
                r#"{"matchExpressions":[{"key":"team","operator":"In","values":["a"]}]}"#,
            ),
        ],
    );
    credentials(root.path(), "second");
    let before = kube.requests().len();

    let synced = run_sync(root.path(), &client, &moto).await;

    sync::outcome(&synced).expect("both synced");
    let counts: Vec<Counts> = synced.iter().map(|r| r.counts).collect();
    assert_eq!(
        counts,
        [
            Counts {
                selected: 3,
                present: 1,
                copied: 2,
                ecr_calls: 0
            },
            Counts {
                selected: 2,
                present: 0,
                copied: 2,
                ecr_calls: 1
            },
        ]
    );
    assert_eq!(moto.ecr_token_calls(), 2);
    let lists: Vec<String> = kube.requests()[before..]
        .iter()
        .filter(|r| matches!(r.path.as_str(), "/api/v1/namespaces" | "/api/v1/secrets"))
        .map(|r| {
            format!(
                "{} {}",
                r.path,
                r.param("fieldSelector").unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        lists,
        [
            "/api/v1/namespaces ",
            "/api/v1/secrets metadata.name%3Dregcred-primary",
            "/api/v1/secrets metadata.name%3Dregcred-second",
        ]
    );
    for ns in ["team-a", "team-new"] {
        assert!(kube.get(ns, "regcred-second").is_some(), "{ns}");
    }
}

#[tokio::test]
async fn a_secret_of_another_type_found_by_the_list_is_refused_without_a_write_or_a_read() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    kube.seed_namespace("team-new", &[("team", "a")]);
    kube.seed(
        "team-new",
        serde_json::json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": SECRET},
            "type": "Opaque",
            "data": {"token": "c2VjcmV0"},
        }),
        "kubectl",
    );
    let root = tempfile::tempdir().expect("tempdir");
    mount(&root.path().join("config"), "primary", PRIMARY);
    let before = kube.requests().len();

    let synced = run_sync(root.path(), &client, &moto).await;

    let primary = only(&synced);
    let err = primary.outcome.as_ref().expect_err("team-new is refused");
    let Error::Namespaces { failures, .. } = err else {
        panic!("{err:?}")
    };
    assert!(
        matches!(
            failures.as_slice(),
            [Error::WrongSecretType { namespace, found, .. }] if namespace == "team-new" && found == "Opaque"
        ),
        "{failures:?}"
    );
    assert_eq!(
        applies_since(&kube, before),
        [format!("/api/v1/namespaces/apps/secrets/{SECRET}")],
        "the other copy is written, the Opaque Secret is not touched"
    );
    let stored = kube.get("team-new", SECRET).expect("still there");
    assert_eq!(stored["type"], "Opaque");
    let reads = kube.requests()[before..]
        .iter()
        .filter(|r| r.method == Method::GET && r.path.ends_with(&format!("/secrets/{SECRET}")))
        .count();
    assert_eq!(reads, 0, "the type is judged on what the list returned");
}

#[tokio::test]
async fn lists_longer_than_a_page_are_read_in_pages_of_500_and_every_page_counts() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    // 1 100 namespaces that do not match (with 550 Secrets of that name nobody selected),
    // besides team-a and apps: 1 102 namespaces, 551 Secrets named regcred-primary.
    for i in 0..1100 {
        let ns = format!("other-{i:04}");
        kube.seed_namespace(&ns, &[("team", "b")]);
        if i % 2 == 0 {
            kube.seed(
                &ns,
                serde_json::json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": SECRET},
                    "type": "kubernetes.io/dockerconfigjson",
                    "data": {".dockerconfigjson": "e30="},
                }),
                "kubectl",
            );
        }
    }
    let root = tempfile::tempdir().expect("tempdir");
    mount(&root.path().join("config"), "primary", PRIMARY);
    let before = kube.requests().len();

    let synced = run_sync(root.path(), &client, &moto).await;

    let primary = only(&synced);
    primary.outcome.as_ref().expect("synced");
    assert_eq!(
        primary.counts,
        Counts {
            selected: 2,
            present: 1,
            copied: 1,
            ecr_calls: 0
        }
    );
    let pages = |path: &str| -> Vec<(String, bool)> {
        kube.requests()[before..]
            .iter()
            .filter(|r| r.path == path)
            .map(|r| {
                let token = r.param("continue").unwrap_or_default();
                (r.param("limit").unwrap_or_default(), !token.is_empty())
            })
            .collect()
    };
    let page = |continued: bool| ("500".to_owned(), continued);
    assert_eq!(
        pages("/api/v1/namespaces"),
        [page(false), page(true), page(true)],
        "1 102 namespaces: pages of 500, 500 and 102"
    );
    assert_eq!(
        pages("/api/v1/secrets"),
        [page(false), page(true)],
        "551 Secrets: pages of 500 and 51"
    );
    assert_eq!(
        applies_since(&kube, before),
        [format!("/api/v1/namespaces/apps/secrets/{SECRET}")]
    );
}

#[tokio::test]
async fn a_list_whose_continue_token_expired_is_read_again_in_one_request() {
    let (moto, kube, client) = refreshed().await;
    as_if_ecr_said_12_hours(&kube, &client, "team-a").await;
    for i in 0..600 {
        kube.seed_namespace(&format!("team-{i:03}"), &[("team", "a")]);
    }
    let root = tempfile::tempdir().expect("tempdir");
    // Without IMAGE_PULL_SECRET_FOR: the 600 have no ServiceAccount.
    let files: Vec<_> = PRIMARY
        .iter()
        .copied()
        .filter(|(key, _)| *key != "IMAGE_PULL_SECRET_FOR")
        .collect();
    mount(&root.path().join("config"), "primary", &files);
    kube.compact_after_next_page();
    let before = kube.requests().len();

    let synced = run_sync(root.path(), &client, &moto).await;

    let primary = only(&synced);
    assert!(primary.outcome.is_ok(), "the run failed");
    assert_eq!(primary.counts.selected, 602, "apps, team-a and the 600");
    assert_eq!(primary.counts.copied, 601);
    let namespace_lists: Vec<(String, bool)> = kube.requests()[before..]
        .iter()
        .filter(|r| r.path == "/api/v1/namespaces")
        .map(|r| {
            let token = r.param("continue").unwrap_or_default();
            (r.param("limit").unwrap_or_default(), !token.is_empty())
        })
        .collect();
    assert_eq!(
        namespace_lists,
        [
            ("500".to_owned(), false),
            ("500".to_owned(), true),
            (String::new(), false),
        ],
        "page 1, page 2 answered 410 Expired, then the whole list"
    );
}
