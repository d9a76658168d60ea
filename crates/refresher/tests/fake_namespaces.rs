//! The fake API's namespaces and cluster-wide Secret list behave as kube-apiserver's where the
//! namespace selectors depend on them: label and field selectors, a namespace being deleted
//! refusing new Secrets (NamespaceLifecycle) but not updates, and unknown namespaces 404.

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
