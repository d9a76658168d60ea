//! The fake API's namespaces and cluster-wide Secret list behave as kube-apiserver's where the
//! namespace selectors depend on them: label and field selectors, a namespace being deleted
//! refusing new Secrets (NamespaceLifecycle) but not updates, unknown namespaces 404, and lists
//! paged with `limit` and `continue` (`k8s.io/apiserver/pkg/storage/etcd3` `GetList`).

mod support;

use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;
use support::fake_kube::FakeKube;
use support::settings;

fn secret(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "ecr-refresher"}},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": "e30="},
    })
}

async fn apply(client: &kube::Client, namespace: &str, name: &str) -> Result<Secret, kube::Error> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let params = PatchParams::apply("ecr-refresher").force();
    api.patch(name, &params, &Patch::Apply(secret(name))).await
}

fn names<K: kube::Resource>(items: &[K]) -> Vec<String> {
    items
        .iter()
        .map(|i| i.meta().name.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn namespaces_are_listed_by_label_selector_and_secrets_across_namespaces_by_name() {
    let kube = FakeKube::start();
    kube.seed_namespace("team-a", &[("team", "a")]);
    kube.seed_namespace("team-b", &[("team", "b")]);
    kube.seed_namespace("other", &[]);
    let client = kube.client(&settings("apps"));
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let listed = |selector: &'static str| {
        let namespaces = namespaces.clone();
        async move {
            let params = ListParams::default().labels(selector);
            names(&namespaces.list(&params).await.expect("list").items)
        }
    };
    assert_eq!(listed("team in (a,b)").await, ["team-a", "team-b"]);
    assert_eq!(listed("team notin (a)").await, ["other", "team-b"]);
    assert_eq!(listed("!team").await, ["other"]);
    assert_eq!(listed("kubernetes.io/metadata.name=other").await, ["other"]);

    apply(&client, "team-a", "regcred-primary")
        .await
        .expect("create");
    apply(&client, "team-b", "regcred-primary")
        .await
        .expect("create");
    apply(&client, "team-b", "regcred-other")
        .await
        .expect("create");
    let secrets: Api<Secret> = Api::all(client.clone());
    let by_name = ListParams::default().fields("metadata.name=regcred-primary");
    let found = secrets.list(&by_name).await.expect("list secrets").items;
    let at: Vec<_> = found
        .iter()
        .map(|s| s.metadata.namespace.clone().expect("namespaced"))
        .collect();
    assert_eq!(at, ["team-a", "team-b"]);
    assert!(
        found[0].metadata.managed_fields.is_some(),
        "managedFields are listed"
    );
    let unsupported = ListParams::default().fields("data.x=y");
    let err = secrets.list(&unsupported).await.expect_err("400");
    assert!(
        err.to_string().contains("field label not supported"),
        "{err}"
    );

    let missing = apply(&client, "nowhere", "regcred-primary")
        .await
        .expect_err("404");
    assert!(
        missing
            .to_string()
            .contains("namespaces \"nowhere\" not found"),
        "{missing}"
    );
}

#[tokio::test]
async fn a_namespace_being_deleted_refuses_new_secrets_but_updates_existing_ones() {
    let kube = FakeKube::start();
    kube.seed_namespace("going", &[]);
    let client = kube.client(&settings("apps"));
    apply(&client, "going", "regcred-old")
        .await
        .expect("create before");
    kube.terminate_namespace("going");
    let refused = apply(&client, "going", "regcred-new")
        .await
        .expect_err("403");
    let kube::Error::Api(status) = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(status.code, 403);
    assert!(
        status.message.contains("because it is being terminated"),
        "{}",
        status.message
    );
    apply(&client, "going", "regcred-old")
        .await
        .expect("an update still works");
    let namespaces: Api<Namespace> = Api::all(client);
    let going = namespaces
        .list(&ListParams::default())
        .await
        .expect("list")
        .items;
    assert!(going[0].metadata.deletion_timestamp.is_some());
}

/// The status code and message of a failed list.
fn api_error(err: &kube::Error) -> (u16, String) {
    match err {
        kube::Error::Api(status) => (status.code, status.message.clone()),
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test]
async fn namespaces_are_paged_with_limit_and_an_opaque_continue_token_until_an_empty_one() {
    let kube = FakeKube::start();
    for i in 0..5 {
        kube.seed_namespace(
            &format!("ns-{i}"),
            &[("even", if i % 2 == 0 { "yes" } else { "no" })],
        );
    }
    let client = kube.client(&settings("apps"));
    let namespaces: Api<Namespace> = Api::all(client);

    let first = namespaces
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    assert_eq!(names(&first.items), ["ns-0", "ns-1"]);
    let token = first.metadata.continue_.clone().expect("a continue token");
    assert!(!token.contains("ns-1"), "the token is opaque: {token}");
    assert_eq!(first.metadata.remaining_item_count, Some(3));
    let version = first.metadata.resource_version.clone();

    let second = namespaces
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 2");
    assert_eq!(names(&second.items), ["ns-2", "ns-3"]);
    assert_eq!(second.metadata.remaining_item_count, Some(1));
    assert_eq!(second.metadata.resource_version, version, "one snapshot");
    let token = second.metadata.continue_.clone().expect("a continue token");
    let last = namespaces
        .list(&ListParams::default().limit(2).continue_token(&token))
        .await
        .expect("page 3");
    assert_eq!(names(&last.items), ["ns-4"]);
    assert!(
        last.metadata
            .continue_
            .as_deref()
            .unwrap_or_default()
            .is_empty(),
        "{:?}",
        last.metadata
    );
    assert_eq!(last.metadata.remaining_item_count, None);

    // Exactly `limit` left: the last page is full and has no token.
    let whole = namespaces
        .list(&ListParams::default().limit(5))
        .await
        .expect("one page");
    assert_eq!(whole.items.len(), 5);
    assert!(whole.metadata.continue_.unwrap_or_default().is_empty());

    // With a selector the server cannot count what is left, and a page may come back empty.
    let even = ListParams::default().labels("even=yes").limit(3);
    let first = namespaces.list(&even).await.expect("selected page 1");
    assert_eq!(names(&first.items), ["ns-0", "ns-2", "ns-4"]);
    assert_eq!(first.metadata.remaining_item_count, None);
    assert!(first.metadata.continue_.unwrap_or_default().is_empty());
    let odd = ListParams::default().labels("even=no").limit(2);
    let first = namespaces.list(&odd).await.expect("selected page 1");
    assert_eq!(names(&first.items), ["ns-1", "ns-3"]);
    let token = first.metadata.continue_.expect("ns-4 is left to look at");
    let rest = namespaces
        .list(&odd.clone().continue_token(&token))
        .await
        .expect("selected page 2");
    assert!(rest.items.is_empty(), "{:?}", names(&rest.items));
    assert!(rest.metadata.continue_.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn the_secrets_of_every_namespace_are_paged_by_namespace_then_name() {
    let kube = FakeKube::start();
    for ns in ["b", "a-b", "a"] {
        kube.seed_namespace(ns, &[]);
    }
    let client = kube.client(&settings("apps"));
    for ns in ["b", "a-b", "a"] {
        apply(&client, ns, "regcred-primary").await.expect("create");
        apply(&client, ns, "regcred-other").await.expect("create");
    }
    let secrets: Api<Secret> = Api::all(client);
    let by_name = ListParams::default()
        .fields("metadata.name=regcred-primary")
        .limit(2);
    let first = secrets.list(&by_name).await.expect("page 1");
    let at = |list: &[Secret]| -> Vec<String> {
        list.iter()
            .map(|s| s.metadata.namespace.clone().unwrap_or_default())
            .collect()
    };
    // Storage keys are `namespace/name`, ordered as strings: `a-b/` sorts before `a/`.
    assert_eq!(at(&first.items), ["a-b", "a"]);
    let token = first.metadata.continue_.expect("more");
    let second = secrets
        .list(&by_name.clone().continue_token(&token))
        .await
        .expect("page 2");
    assert_eq!(at(&second.items), ["b"]);
    assert!(second.metadata.continue_.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn a_bad_continue_token_is_400_and_a_compacted_one_410_as_the_api_server_answers() {
    let kube = FakeKube::start();
    for ns in ["one", "two", "three"] {
        kube.seed_namespace(ns, &[]);
    }
    let client = kube.client(&settings("apps"));
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for bad in ["not base64!", "eyJ2IjoidjEifQ"] {
        let err = namespaces
            .list(&ListParams::default().limit(1).continue_token(bad))
            .await
            .expect_err("400");
        let (code, message) = api_error(&err);
        assert_eq!(code, 400, "{message}");
        assert!(
            message.starts_with("continue key is not valid"),
            "{message}"
        );
    }

    let first = namespaces
        .list(&ListParams::default().limit(1))
        .await
        .expect("page 1");
    let token = first.metadata.continue_.expect("more");
    // kube leaves resourceVersion out once a continue token is set, so this one is sent raw.
    let raw = axum::http::Request::get(format!(
        "/api/v1/namespaces?limit=1&continue={token}&resourceVersion=7"
    ))
    .body(Vec::new())
    .expect("request");
    let err = client
        .request::<serde_json::Value>(raw)
        .await
        .expect_err("400");
    let (code, message) = api_error(&err);
    assert_eq!(code, 400);
    assert!(
        message.contains("specifying resource version is not allowed when using continue"),
        "{message}"
    );

    kube.compact_lists();
    let err = namespaces
        .list(&ListParams::default().limit(1).continue_token(&token))
        .await
        .expect_err("410");
    let kube::Error::Api(status) = &err else {
        panic!("{err:?}")
    };
    assert_eq!((status.code, status.reason.as_str()), (410, "Expired"));
    let fresh = namespaces
        .list(&ListParams::default().limit(1))
        .await
        .expect("a new list works");
    assert_eq!(names(&fresh.items), ["one"]);
}
