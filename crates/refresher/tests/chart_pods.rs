//! The chart's pods run the real refresher: fixture 11 (namespace selectors) rendered in process,
//! its pods (the sync CronJob's, each registry's CronJob's, the helm test Pod, the uninstall
//! Job) built as kubelet starts them (volumes in the atomic-writer layout, `env`/`envFrom`
//! resolved: [`support::pod`]), the binary run with that environment against the fake API and
//! moto. The Secrets land exactly where the fixture's selectors, excludes and explicit
//! namespaces say, ECR is asked once per registry without a valid token and never with one, and
//! every request the pods made is allowed by the Roles/ClusterRole the chart rendered, decided
//! as kube-apiserver's RBAC authorizer does ([`support::rbac`]), while every right granted is
//! used by some pod: the least-privilege proof of issue 13.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ecr_chart::Release;
use ecr_chart::render::Renderer;
use ecr_chart::values::{self, Source};
use ecr_contract::{keys, names};
use ecr_refresher::dockerconfig::DockerConfigJson;
use ecr_refresher::{RetryPolicy, secret};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use serde_json::Value;
use support::fake_kube::{FakeKube, Request};
use support::moto::Moto;
use support::pod::{self, Objects};
use support::rbac::{self, Policy};
use support::{DUMMY_KEY, MOTO_ACCOUNT};

const FIXTURE: &str = include_str!("../../../tests/fixtures/values/11-namespace-selectors.yaml");
const RELEASE_NAMESPACE: &str = "platform";
/// The label the fixture's top-level selector asks for (`Exists`).
const PULL: &str = "ecr-registry-helper/pull-secrets";

/// The live namespaces: each registry's selector matches some and misses others for one reason
/// each; `apps-gone` matches every selector but is being deleted.
const NAMESPACES: &[(&str, &[(&str, &str)])] = &[
    (RELEASE_NAMESPACE, &[]),
    ("argocd", &[]),
    ("web", &[]),
    ("kube-system", &[(PULL, "true")]),
    ("kube-public", &[("team", "apps"), ("environment", "prod")]),
    (
        "apps-prod",
        &[("team", "apps"), ("environment", "prod"), (PULL, "")],
    ),
    (
        "apps-staging",
        &[
            ("team", "apps"),
            ("environment", "staging"),
            ("tier", "web"),
        ],
    ),
    ("apps-dev", &[("team", "apps"), ("environment", "dev")]),
    (
        "apps-legacy",
        &[
            ("team", "apps"),
            ("environment", "prod"),
            ("example.com/legacy", "yes"),
        ],
    ),
    (
        "apps-batch",
        &[("team", "apps"), ("environment", "prod"), ("tier", "batch")],
    ),
    ("apps-sandbox", &[("team", "apps"), ("environment", "prod")]),
    (
        "web-prod",
        &[("team", "web"), ("environment", "prod"), (PULL, "true")],
    ),
    (
        "apps-gone",
        &[("team", "apps"), ("environment", "prod"), (PULL, "true")],
    ),
];

fn release() -> Release {
    Release {
        name: names::CHART_NAME.to_owned(),
        namespace: RELEASE_NAMESPACE.to_owned(),
    }
}

/// Fixture 11 rendered, each manifest as JSON.
fn rendered() -> Vec<Value> {
    let values = values::load(&[Source {
        name: "11-namespace-selectors.yaml".to_owned(),
        text: FIXTURE.to_owned(),
    }])
    .unwrap_or_else(|e| panic!("fixture 11 is valid:\n{e}"));
    Renderer::new(&values, &release())
        .documents()
        .expect("renders")
        .iter()
        .map(|d| serde_yaml::from_str(&d.text).expect("a YAML object"))
        .collect()
}

/// The rendered manifests plus the credentials Secrets that exist in the cluster: the one
/// External Secrets makes from registry `apps`'s ExternalSecret (its `secretKey`s, moto's
/// keys) and `shared`'s existingSecret `shared-ecr-keys`.
fn cluster_objects() -> Objects {
    let mut objects = Objects(rendered());
    let moto_value = |key: &str| match key {
        keys::AWS_ACCOUNT => MOTO_ACCOUNT,
        keys::AWS_ACCESS_KEY_ID => DUMMY_KEY.0,
        keys::AWS_SECRET_ACCESS_KEY => DUMMY_KEY.1,
        other => panic!("no test value for credentials key {other}"),
    };
    let external = objects
        .find(
            "ExternalSecret",
            RELEASE_NAMESPACE,
            &names::credentials_secret("apps"),
        )
        .expect("apps has an ExternalSecret")
        .clone();
    let target = external["spec"]["target"]["name"]
        .as_str()
        .expect("target name")
        .to_owned();
    let keys_of_external: Vec<String> = external["spec"]["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["secretKey"].as_str().expect("secretKey").to_owned())
        .collect();
    let filled: Vec<(&str, &str)> = keys_of_external
        .iter()
        .map(|k| (k.as_str(), moto_value(k)))
        .collect();
    objects
        .0
        .push(pod::secret(RELEASE_NAMESPACE, &target, &filled));
    let existing: Vec<(&str, &str)> = keys::CREDENTIAL_KEYS
        .iter()
        .map(|k| (*k, moto_value(k)))
        .collect();
    objects
        .0
        .push(pod::secret(RELEASE_NAMESPACE, "shared-ecr-keys", &existing));
    objects
}

/// The fake API with [`NAMESPACES`] (`apps-gone` terminating), each with ServiceAccounts
/// `default` and `builder` (registry `apps`'s imagePullSecretFor: a missing one fails its run).
fn cluster() -> FakeKube {
    let kube = FakeKube::start();
    for (name, labels) in NAMESPACES {
        kube.seed_namespace(name, labels);
        kube.seed_service_account(name, "default", None);
        kube.seed_service_account(name, "builder", None);
    }
    kube.terminate_namespace("apps-gone");
    kube
}

/// The downward-API values of a pod of CronJob `cron_job`.
fn fields(cron_job: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("metadata.name", format!("{cron_job}-29400000-x7k2q")),
        ("metadata.namespace", RELEASE_NAMESPACE.to_owned()),
        (
            "metadata.labels['batch.kubernetes.io/job-name']",
            format!("{cron_job}-29400000"),
        ),
        (
            "metadata.labels['batch.kubernetes.io/controller-uid']",
            "0b9e2f6c-5d1a-4c3e-9f7b-2a8d6e4c1b30".to_owned(),
        ),
    ])
}

/// CronJob `name`'s pod: its container's environment, with the volumes it mounts built under
/// `root` and `SYNC_DIR`/`SYNC_CREDENTIALS_DIR` (if set) remapped there.
fn pod_environment(objects: &Objects, name: &str, root: &Path) -> BTreeMap<String, String> {
    workload_environment(objects, "CronJob", name, root)
}

/// [`pod_environment`] of any workload (`CronJob`, `Job`, `Pod`) `kind`/`name`; the in-pod paths
/// the environment names (`SYNC_DIR`, `SYNC_CREDENTIALS_DIR`, `UNINSTALL_PLAN`) remapped.
fn workload_environment(
    objects: &Objects,
    kind: &str,
    name: &str,
    root: &Path,
) -> BTreeMap<String, String> {
    let workload = objects
        .find(kind, RELEASE_NAMESPACE, name)
        .unwrap_or_else(|| panic!("{kind} {name} is rendered"));
    let spec = pod::pod_spec(workload);
    let container = pod::container(spec, names::CONTAINER_NAME);
    pod::mount_volumes(objects, RELEASE_NAMESPACE, spec, container, root);
    let fields = fields(name);
    let fields: BTreeMap<&str, &str> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut env = pod::environment(objects, RELEASE_NAMESPACE, container, &fields);
    for key in [
        keys::SYNC_DIR,
        keys::SYNC_CREDENTIALS_DIR,
        keys::UNINSTALL_PLAN,
        keys::CHECK_PLAN,
    ] {
        if let Some(path) = env.get_mut(key) {
            *path = pod::remap(root, path).display().to_string();
        }
    }
    env
}

/// Runs the binary with `env` (and moto as the AWS endpoint, `identity` as the pod's own AWS
/// identity if any) against `kube`.
fn run(
    kube: &FakeKube,
    moto: &Moto,
    env: &BTreeMap<String, String>,
    identity: Option<(&str, &str)>,
) -> Output {
    let home = tempfile::tempdir().expect("home");
    let kubeconfig = kube.kubeconfig(home.path());
    let mut command = support::isolated_refresher(home.path(), &kubeconfig);
    command.envs(env).env("AWS_ENDPOINT_URL", moto.endpoint());
    if let Some((id, secret)) = identity {
        command
            .env(keys::AWS_ACCESS_KEY_ID, id)
            .env(keys::AWS_SECRET_ACCESS_KEY, secret);
    }
    command.output().expect("run ecr-refresher")
}

fn succeeded(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The namespaces holding Secret `name`.
fn holders(kube: &FakeKube, name: &str) -> BTreeSet<String> {
    NAMESPACES
        .iter()
        .map(|(ns, _)| *ns)
        .chain(["apps-new"])
        .filter(|ns| kube.get(ns, name).is_some())
        .map(str::to_owned)
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The chart's ServiceAccount's rights, from the rendered RBAC.
fn policy(objects: &Objects) -> Policy {
    Policy::of_service_account(
        &objects.0,
        RELEASE_NAMESPACE,
        names::DEFAULT_SERVICE_ACCOUNT,
    )
}

/// Asserts the rendered RBAC allows every one of `requests` (at least one).
fn all_allowed(objects: &Objects, requests: &[Request]) {
    assert!(!requests.is_empty(), "the run made requests");
    let denied = policy(objects).denied(requests);
    assert!(
        denied.is_empty(),
        "the chart's RBAC does not allow:\n{}",
        denied.join("\n")
    );
}

fn data(secret: &Value) -> Vec<u8> {
    let encoded = secret["data"][".dockerconfigjson"].as_str().expect("data");
    STANDARD.decode(encoded).expect("base64")
}

/// Re-applies registry `registry`'s Secret in `namespace` as the refresher writes it, with an
/// `expires-at` 12 hours after its `refreshed-at`, as ECR would have said (moto says 2015).
async fn as_if_ecr_said_12_hours(kube: &FakeKube, namespace: &str, registry: &str) {
    let name = names::pull_secret(registry);
    let stored = kube.get(namespace, &name).expect("written by the run");
    let config = DockerConfigJson::from_existing(&data(&stored)).expect("a docker config");
    let refreshed_at: Timestamp = stored["metadata"]["annotations"][names::ANNOTATION_REFRESHED_AT]
        .as_str()
        .expect("refreshed-at")
        .parse()
        .expect("a timestamp");
    let desired = secret::build(
        namespace,
        &name,
        registry,
        &config,
        refreshed_at,
        Some(refreshed_at + SignedDuration::from_hours(12)),
    );
    let client = kube.client(&support::settings(namespace));
    let api: Api<Secret> = Api::namespaced(client, namespace);
    secret::apply(
        &api,
        &desired,
        &RetryPolicy::within(Duration::ZERO),
        namespace,
    )
    .await
    .expect("re-apply");
}

/// Where the sync run must write each selecting registry, by the fixture: `apps` its explicit
/// `argocd` and its selector's matches minus its excludes; `shared` the top-level selector minus
/// `kube-system`; `everywhere` (`{}`, no excludes) every namespace; never one being deleted.
fn expected_after_sync(extra: &[&str]) -> [(&'static str, BTreeSet<String>); 3] {
    let with = |names: &[&str]| {
        let mut s = set(names);
        s.extend(extra.iter().map(|n| (*n).to_owned()));
        s
    };
    [
        ("apps", with(&["argocd", "apps-prod", "apps-staging"])),
        ("shared", with(&["apps-prod", "web-prod"])),
        (
            "everywhere",
            with(&[
                RELEASE_NAMESPACE,
                "argocd",
                "web",
                "kube-system",
                "kube-public",
                "apps-prod",
                "apps-staging",
                "apps-dev",
                "apps-legacy",
                "apps-batch",
                "apps-sandbox",
                "web-prod",
            ]),
        ),
    ]
}

#[tokio::test]
async fn the_sync_pod_writes_each_registry_exactly_where_the_fixture_selects_and_asks_ecr_only_without_a_valid_token()
 {
    let moto = Moto::start();
    let kube = cluster();
    let objects = cluster_objects();
    let root = tempfile::tempdir().expect("pod root");
    let env = pod_environment(&objects, names::SYNC, root.path());
    // `everywhere` (serviceAccount access) has no credentials volume: the pod's own identity.
    let identity = Some(DUMMY_KEY);

    let first = run(&kube, &moto, &env, identity);

    succeeded(&first);
    assert_eq!(
        moto.ecr_token_calls(),
        3,
        "no registry had a token yet: one ECR call each"
    );
    for (registry, expected) in expected_after_sync(&[]) {
        assert_eq!(
            holders(&kube, &names::pull_secret(registry)),
            expected,
            "{registry}"
        );
    }
    assert!(
        holders(&kube, &names::pull_secret("plain")).is_empty(),
        "plain (explicit namespaces only) is not the sync pod's"
    );
    for ns in ["argocd", "apps-prod", "apps-staging"] {
        assert_eq!(
            kube.pull_secrets(ns, "default"),
            vec![names::pull_secret("apps")],
            "imagePullSecretFor in {ns}"
        );
    }
    assert_eq!(
        kube.pull_secrets("apps-prod", "builder"),
        vec![names::pull_secret("apps")]
    );
    assert!(kube.pull_secrets("apps-dev", "default").is_empty());
    let after_first = kube.requests();
    all_allowed(&objects, &after_first);

    // Now every registry holds a token valid for 12 hours, and a matching namespace appears.
    for registry in ["apps", "shared", "everywhere"] {
        as_if_ecr_said_12_hours(&kube, "apps-prod", registry).await;
    }
    kube.seed_namespace(
        "apps-new",
        &[("team", "apps"), ("environment", "prod"), (PULL, "")],
    );
    kube.seed_service_account("apps-new", "default", None);
    kube.seed_service_account("apps-new", "builder", None);
    let from = kube.requests().len();

    let second = run(&kube, &moto, &env, identity);

    succeeded(&second);
    assert_eq!(moto.ecr_token_calls(), 3, "valid tokens: no ECR call");
    for (registry, expected) in expected_after_sync(&["apps-new"]) {
        let name = names::pull_secret(registry);
        assert_eq!(holders(&kube, &name), expected, "{registry}");
        let source = kube.get("apps-prod", &name).expect("source");
        let copy = kube.get("apps-new", &name).expect("copy");
        assert_eq!(data(&copy), data(&source), "{registry}: the source's token");
    }
    all_allowed(&objects, &kube.requests()[from..]);
}

#[tokio::test]
async fn a_selecting_registrys_cron_job_pod_writes_its_namespaces_and_prunes_one_relabelled_out() {
    let moto = Moto::start();
    let kube = cluster();
    // Someone else's Secret of the same name where apps does not select: never ours to prune.
    kube.seed(
        "apps-dev",
        pod::secret(
            "apps-dev",
            &names::pull_secret("apps"),
            &[("note", "theirs")],
        ),
        "kubectl-create",
    );
    let objects = cluster_objects();
    let root = tempfile::tempdir().expect("pod root");
    let env = pod_environment(&objects, &names::cron_job("apps"), root.path());
    assert_eq!(
        env.get(keys::PRUNE).map(String::as_str),
        Some("true"),
        "the fixture turns prune on"
    );
    assert_eq!(
        env.get(keys::AWS_ACCESS_KEY_ID).map(String::as_str),
        Some(DUMMY_KEY.0),
        "envFrom holds the credentials Secret's keys"
    );
    let name = names::pull_secret("apps");

    let first = run(&kube, &moto, &env, None);

    succeeded(&first);
    assert_eq!(moto.ecr_token_calls(), 1, "a refresh asks ECR once");
    assert_eq!(
        holders(&kube, &name),
        set(&["argocd", "apps-prod", "apps-staging", "apps-dev"]),
        "argocd by name, apps-prod and apps-staging by the selector (apps-dev: theirs)"
    );
    assert_eq!(
        kube.pull_secrets("apps-staging", "default"),
        vec![name.clone()]
    );

    // apps-staging leaves the selection (environment In [prod, staging] no more).
    kube.seed_namespace(
        "apps-staging",
        &[("team", "apps"), ("environment", "dev"), ("tier", "web")],
    );

    let second = run(&kube, &moto, &env, None);

    succeeded(&second);
    assert_eq!(
        holders(&kube, &name),
        set(&["argocd", "apps-prod", "apps-dev"]),
        "ours pruned from apps-staging; theirs in apps-dev kept"
    );
    assert_eq!(
        kube.get("apps-dev", &name).expect("theirs")["data"]["note"],
        Value::from(STANDARD.encode("theirs"))
    );
    let requests = kube.requests();
    assert!(
        requests.iter().any(|r| r.method == Method::DELETE
            && r.path.ends_with(&format!("/apps-staging/secrets/{name}"))),
        "the prune deleted through the API"
    );
    all_allowed(&objects, &requests);
}

#[tokio::test]
async fn the_explicit_registrys_cron_job_pod_needs_only_its_namespaced_roles_and_the_cluster_role()
{
    let moto = Moto::start();
    let kube = cluster();
    let mut objects = cluster_objects();
    objects.0.push(pod::secret(
        RELEASE_NAMESPACE,
        &names::credentials_secret("plain"),
        &[
            (keys::AWS_ACCESS_KEY_ID, DUMMY_KEY.0),
            (keys::AWS_SECRET_ACCESS_KEY, DUMMY_KEY.1),
        ],
    ));
    let root = tempfile::tempdir().expect("pod root");
    let env = pod_environment(&objects, &names::cron_job("plain"), root.path());

    let output = run(&kube, &moto, &env, None);

    succeeded(&output);
    assert_eq!(
        holders(&kube, &names::pull_secret("plain")),
        set(&["web", "argocd"])
    );
    all_allowed(&objects, &kube.requests());
}

fn request(method: Method, path: &str, query: &str, content_type: Option<&str>) -> Request {
    Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        content_type: content_type.map(str::to_owned),
    }
}

#[test]
fn the_rendered_rbac_allows_the_registries_secret_names_and_nothing_wider() {
    let objects = Objects(rendered());
    let policy = policy(&objects);
    let allowed = |r: &Request| rbac::attributes(r).iter().all(|a| policy.allows(a));
    let apply = Some("application/apply-patch+yaml");
    let merge = Some("application/json-patch+json");
    let yes = [
        request(
            Method::GET,
            "/api/v1/namespaces",
            "labelSelector=team%3Dapps",
            None,
        ),
        request(
            Method::GET,
            "/api/v1/secrets",
            "fieldSelector=metadata.name%3Dregcred-apps",
            None,
        ),
        request(
            Method::PATCH,
            "/api/v1/namespaces/anything/secrets/regcred-everywhere",
            "fieldManager=ecr-refresher&force=true",
            apply,
        ),
        request(
            Method::GET,
            "/api/v1/namespaces/web/secrets/regcred-plain",
            "",
            None,
        ),
        request(
            Method::PATCH,
            "/api/v1/namespaces/anything/serviceaccounts/builder",
            "",
            merge,
        ),
        request(
            Method::POST,
            "/apis/events.k8s.io/v1/namespaces/anything/events",
            "",
            None,
        ),
    ];
    for r in &yes {
        assert!(allowed(r), "allowed: {r:?}");
    }
    let no = [
        // Secrets: never without a name, never another name, plain only where its Roles are.
        request(Method::GET, "/api/v1/secrets", "", None),
        request(
            Method::GET,
            "/api/v1/secrets",
            "fieldSelector=type%3Dkubernetes.io%2Fdockerconfigjson",
            None,
        ),
        request(
            Method::GET,
            "/api/v1/namespaces/apps-prod/secrets",
            "",
            None,
        ),
        request(
            Method::GET,
            "/api/v1/namespaces/apps-prod/secrets/db-password",
            "",
            None,
        ),
        request(
            Method::DELETE,
            "/api/v1/namespaces/apps-prod/secrets",
            "",
            None,
        ),
        request(
            Method::PATCH,
            "/api/v1/namespaces/apps-prod/secrets/regcred-plain",
            "fieldManager=ecr-refresher",
            apply,
        ),
        request(
            Method::PUT,
            "/api/v1/namespaces/apps-prod/secrets/regcred-apps",
            "",
            None,
        ),
        // Namespaces: list only (no watch, no writes).
        request(Method::GET, "/api/v1/namespaces", "watch=true", None),
        request(Method::DELETE, "/api/v1/namespaces/apps-prod", "", None),
        request(
            Method::PATCH,
            "/api/v1/namespaces/apps-prod/serviceaccounts/deployer",
            "",
            merge,
        ),
        request(
            Method::GET,
            "/api/v1/namespaces/apps-prod/configmaps",
            "",
            None,
        ),
    ];
    for r in &no {
        assert!(!allowed(r), "denied: {r:?}");
    }
    let stranger = Policy::of_service_account(&objects.0, RELEASE_NAMESPACE, "default");
    assert!(
        rbac::attributes(&yes[0])
            .iter()
            .all(|a| !stranger.allows(a)),
        "the rules are bound to the chart's ServiceAccount only"
    );
}

#[tokio::test]
async fn the_sync_pod_needs_an_absent_optional_credentials_secret_only_when_ecr_must_be_asked() {
    let moto = Moto::start();
    let kube = cluster();
    let mut without_keys = cluster_objects();
    without_keys
        .0
        .retain(|o| o["metadata"]["name"] != "shared-ecr-keys");
    let root = tempfile::tempdir().expect("pod root");
    // kubelet mounts the missing optional Secret as an empty volume (only its `..data`).
    let env = pod_environment(&without_keys, names::SYNC, root.path());
    let shared_dir = Path::new(&env[keys::SYNC_CREDENTIALS_DIR]).join("shared");
    assert!(shared_dir.join("..data").is_symlink(), "the volume exists");

    let failed = run(&kube, &moto, &env, Some(DUMMY_KEY));

    assert_eq!(failed.status.code(), Some(1), "one registry failed");
    let log = String::from_utf8_lossy(&failed.stdout).into_owned()
        + &String::from_utf8_lossy(&failed.stderr);
    assert!(
        log.contains(&shared_dir.display().to_string()) && log.contains("AWS_ACCESS_KEY_ID"),
        "the failure names the credentials directory and the missing key:\n{log}"
    );
    assert!(!log.contains(DUMMY_KEY.1), "no secret key in the log");
    assert_eq!(
        moto.ecr_token_calls(),
        2,
        "apps and everywhere asked ECR, shared not"
    );
    assert!(holders(&kube, &names::pull_secret("shared")).is_empty());
    assert_eq!(
        holders(&kube, &names::pull_secret("apps")),
        set(&["argocd", "apps-prod", "apps-staging"]),
        "the other registries were synced"
    );

    // Once a refresh wrote shared's token (valid for 12 hours), the same pod copies it.
    let with_keys = cluster_objects();
    let refresh_root = tempfile::tempdir().expect("refresh pod root");
    let refresh_env = pod_environment(&with_keys, &names::cron_job("shared"), refresh_root.path());
    succeeded(&run(&kube, &moto, &refresh_env, None));
    assert_eq!(moto.ecr_token_calls(), 3, "the refresh asked ECR once");
    let before_reapply = kube.requests().len();
    as_if_ecr_said_12_hours(&kube, "web-prod", "shared").await;
    let after_reapply = kube.requests().len();
    kube.seed_namespace("apps-new", &[(PULL, "true")]);
    kube.seed_service_account("apps-new", "default", None);
    let calls_before = moto.ecr_token_calls();

    let copied = run(&kube, &moto, &env, Some(DUMMY_KEY));

    assert!(
        kube.get("apps-new", &names::pull_secret("shared"))
            .is_some(),
        "copied without its credentials:\n{}",
        String::from_utf8_lossy(&copied.stdout)
    );
    let ecr_for_others = moto.ecr_token_calls() - calls_before;
    assert_eq!(
        ecr_for_others, 2,
        "ECR asked only for apps and everywhere (their tokens say 2015), not for shared"
    );
    // The pods' requests, not the test's re-apply.
    let requests = kube.requests();
    let by_pods = [&requests[..before_reapply], &requests[after_reapply..]].concat();
    all_allowed(&with_keys, &by_pods);
}

#[test]
fn a_server_side_apply_needs_create_on_the_name_besides_patch() {
    let role = |verbs: &[&str]| {
        serde_json::json!([
            {"kind": "Role", "metadata": {"name": "r", "namespace": "team"},
             "rules": [{"apiGroups": [""], "resources": ["secrets"],
                        "resourceNames": ["regcred-apps"], "verbs": verbs}]},
            {"kind": "RoleBinding", "metadata": {"name": "r", "namespace": "team"},
             "roleRef": {"kind": "Role", "name": "r"},
             "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "platform"}]},
        ])
        .as_array()
        .expect("objects")
        .clone()
    };
    let apply = request(
        Method::PATCH,
        "/api/v1/namespaces/team/secrets/regcred-apps",
        "fieldManager=ecr-refresher",
        Some("application/apply-patch+yaml"),
    );
    let allowed = |objects: &[Value], r: &Request| {
        let policy = Policy::of_service_account(objects, "platform", "sa");
        policy.denied(std::slice::from_ref(r)).is_empty()
    };
    assert!(
        !allowed(&role(&["patch"]), &apply),
        "patch alone cannot create"
    );
    assert!(allowed(&role(&["patch", "create"]), &apply));
    let elsewhere = request(
        Method::PATCH,
        "/api/v1/namespaces/other/secrets/regcred-apps",
        "fieldManager=ecr-refresher",
        Some("application/apply-patch+yaml"),
    );
    assert!(
        !allowed(&role(&["patch", "create"]), &elsewhere),
        "a Role holds in its own namespace only"
    );
}

#[tokio::test]
async fn every_pod_the_chart_renders_stays_within_its_rbac_and_together_they_use_every_right_it_grants()
 {
    let moto = Moto::start();
    let kube = cluster();
    let mut objects = cluster_objects();
    objects.0.push(pod::secret(
        RELEASE_NAMESPACE,
        &names::credentials_secret("plain"),
        &[
            (keys::AWS_ACCESS_KEY_ID, DUMMY_KEY.0),
            (keys::AWS_SECRET_ACCESS_KEY, DUMMY_KEY.1),
        ],
    ));
    let root = tempfile::tempdir().expect("pod roots");
    let pod_root = |name: &str| root.path().join(name);
    // The pods' requests only (not the test's own re-applies).
    let mut by_pods: Vec<Request> = Vec::new();
    let mut run_pod = |env: &BTreeMap<String, String>, identity| {
        let from = kube.requests().len();
        let output = run(&kube, &moto, env, identity);
        by_pods.extend_from_slice(&kube.requests()[from..]);
        output
    };
    // `everywhere` has serviceAccount access: the pod's own identity (IRSA's, here moto's keys).
    for registry in ["apps", "shared", "everywhere", "plain"] {
        let name = names::cron_job(registry);
        let env = pod_environment(&objects, &name, &pod_root(&name));
        let identity = (registry == "everywhere").then_some(DUMMY_KEY);
        succeeded(&run_pod(&env, identity));
    }
    let sync_env = pod_environment(&objects, names::SYNC, &pod_root(names::SYNC));
    succeeded(&run_pod(&sync_env, Some(DUMMY_KEY)));
    let check = workload_environment(&objects, "Pod", names::CHECK, &pod_root("check"));
    // The helm test Pod wants tokens that are still valid: as ECR would have said (moto: 2015).
    for registry in ["apps", "shared", "everywhere", "plain"] {
        for ns in holders(&kube, &names::pull_secret(registry)) {
            as_if_ecr_said_12_hours(&kube, &ns, registry).await;
        }
    }
    let checked = run_pod(&check, None);
    succeeded(&checked);
    let uninstall = workload_environment(&objects, "Job", names::UNINSTALL, &pod_root("uninstall"));

    let uninstalled = run_pod(&uninstall, None);

    succeeded(&uninstalled);
    for registry in ["apps", "shared", "everywhere", "plain"] {
        assert!(
            holders(&kube, &names::pull_secret(registry)).is_empty(),
            "the uninstall removed {registry}'s Secrets"
        );
    }
    for (ns, account) in [("argocd", "default"), ("apps-prod", "builder")] {
        assert!(
            kube.pull_secrets(ns, account).is_empty(),
            "the uninstall took regcred-apps off {ns}/{account}"
        );
    }
    all_allowed(&objects, &by_pods);
    let unused = policy(&objects).unused(&by_pods);
    assert!(
        unused.is_empty(),
        "rights no pod of the chart used:\n{}",
        unused.join("\n")
    );
}
