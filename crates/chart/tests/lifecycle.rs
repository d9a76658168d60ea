//! Install, upgrade and uninstall as Helm and ArgoCD run them, at 100 registries: the hooks
//! stay a constant few (Helm runs hooks one at a time and waits on each), each registry's
//! immediate Job is a plain Job whose name changes exactly when its settings do, and the
//! uninstall hook's plan covers every pull Secret the release wrote.

use std::collections::BTreeSet;

use ecr_chart::render::Renderer;
use ecr_chart::values::{self, Source, Values};
use ecr_chart::{Release, render};
use ecr_contract::{names, uninstall};
use serde_yaml::Value as Yaml;

fn release() -> Release {
    Release {
        name: "ecr-registry-helper".to_owned(),
        namespace: "platform".to_owned(),
    }
}

/// `n` registries `reg-0` …, each in its own namespace; registry `i` of `region_of` gets
/// that region instead of eu-west-1; `extra` is appended at the top level.
fn values(n: usize, region_of: Option<(usize, &str)>, extra: &str) -> Values {
    let mut text = String::from("ecrRegistries:\n");
    for i in 0..n {
        let region = match region_of {
            Some((at, region)) if at == i => region,
            _ => "eu-west-1",
        };
        text.push_str(&format!(
            "  - name: reg-{i}\n    region: {region}\n    namespace: team-{i}\n    imagePullSecretFor: [default]\n"
        ));
    }
    text.push_str(extra);
    values::load(&[Source {
        name: "values.yaml".to_owned(),
        text,
    }])
    .unwrap_or_else(|e| panic!("valid values:\n{e}"))
}

fn objects(values: &Values) -> Vec<Yaml> {
    let renderer = Renderer::new(values, &release());
    renderer
        .documents()
        .expect("renders")
        .iter()
        .map(|d| serde_yaml::from_str(&d.text).expect("a YAML object"))
        .collect()
}

fn text<'y>(doc: &'y Yaml, path: &[&str]) -> Option<&'y str> {
    path.iter()
        .try_fold(doc, |node, key| node.get(*key))
        .and_then(Yaml::as_str)
}

fn is_hook(doc: &Yaml) -> bool {
    text(doc, &["metadata", "annotations", "helm.sh/hook"]).is_some()
}

/// The names of the immediate Jobs (every Job that is not a hook).
fn immediate_jobs(values: &Values) -> BTreeSet<String> {
    objects(values)
        .iter()
        .filter(|d| text(d, &["kind"]) == Some("Job") && !is_hook(d))
        .map(|d| text(d, &["metadata", "name"]).expect("a name").to_owned())
        .collect()
}

#[test]
fn a_hundred_registries_give_one_hook_and_one_plain_job_each() {
    let docs = objects(&values(100, None, ""));
    let hooks: Vec<&Yaml> = docs.iter().filter(|d| is_hook(d)).collect();
    assert_eq!(hooks.len(), 1, "the uninstall Job only");
    assert_eq!(
        text(hooks[0], &["metadata", "annotations", "helm.sh/hook"]),
        Some("pre-delete"),
        "no install or upgrade hook: helm install/upgrade waits on nothing per registry"
    );
    assert_eq!(
        objects(&values(1, None, ""))
            .iter()
            .filter(|d| is_hook(d))
            .count(),
        1
    );

    let jobs: Vec<&Yaml> = docs
        .iter()
        .filter(|d| text(d, &["kind"]) == Some("Job") && !is_hook(d))
        .collect();
    assert_eq!(jobs.len(), 100);
    let mut seen = BTreeSet::new();
    for job in jobs {
        let name = text(job, &["metadata", "name"]).expect("a name");
        assert!(name.len() <= names::MAX_JOB_NAME, "{name}");
        assert!(seen.insert(name.to_owned()), "{name} twice");
        assert!(
            job["spec"].get("ttlSecondsAfterFinished").is_none(),
            "a finished Job must stay, or Helm and ArgoCD would create it again"
        );
        assert_eq!(
            text(
                job,
                &["metadata", "annotations", "argocd.argoproj.io/sync-wave"]
            ),
            Some("1")
        );
    }
}

#[test]
fn an_upgrade_changing_one_registry_reruns_only_that_registrys_job() {
    let before = immediate_jobs(&values(100, None, ""));
    let after = immediate_jobs(&values(100, Some((42, "eu-central-1")), ""));
    let gone: Vec<&String> = before.difference(&after).collect();
    let new: Vec<&String> = after.difference(&before).collect();
    assert_eq!(gone.len(), 1, "{gone:?}");
    assert_eq!(new.len(), 1, "{new:?}");
    let prefix = format!("{}-", names::immediate_job("reg-42"));
    assert!(gone[0].starts_with(&prefix) && new[0].starts_with(&prefix));
    assert_eq!(before.len(), 100);
}

#[test]
fn the_same_values_keep_every_job_name_so_nothing_reruns() {
    assert_eq!(
        immediate_jobs(&values(100, None, "")),
        immediate_jobs(&values(100, None, ""))
    );
}

#[test]
fn a_pod_setting_renames_every_job_and_an_object_label_renames_none() {
    let base = immediate_jobs(&values(100, None, ""));
    let new_image = immediate_jobs(&values(100, None, "image:\n  tag: \"9.9.9\"\n"));
    assert!(
        base.is_disjoint(&new_image),
        "a new pod template needs a new Job"
    );
    let pod_label = immediate_jobs(&values(100, None, "podLabels:\n  team: x\n"));
    assert!(
        base.is_disjoint(&pod_label),
        "pod labels are in the pod template"
    );
    let labels = immediate_jobs(&values(100, None, "commonLabels:\n  team: x\n"));
    assert_eq!(base, labels, "object labels are updated in place");
}

#[test]
fn the_uninstall_plan_lists_every_pull_secret_and_its_service_accounts() {
    let docs = objects(&values(100, None, ""));
    let plan_map = docs
        .iter()
        .find(|d| {
            text(d, &["kind"]) == Some("ConfigMap")
                && text(d, &["metadata", "name"]) == Some(names::UNINSTALL)
        })
        .expect("the plan ConfigMap");
    assert!(
        !is_hook(plan_map),
        "a release object: it is there when the hook runs"
    );
    let plan = uninstall::parse(text(plan_map, &["data", uninstall::PLAN_KEY]).expect("plan"))
        .expect("a plan the refresher reads");
    assert_eq!(plan.len(), 100);
    assert_eq!(plan[7].line(), "reg-7 team-7 regcred-reg-7 default");

    let hook = docs.iter().find(|d| is_hook(d)).expect("hook");
    let pod = &hook["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert!(container.get("envFrom").is_none(), "no AWS credentials");
    assert_eq!(
        text(&pod["volumes"][0], &["configMap", "name"]),
        Some(names::UNINSTALL)
    );
    assert_eq!(
        text(hook, &["metadata", "labels", names::LABEL_HOOK]),
        Some(names::HOOK_PRE_DELETE)
    );
    // The target Roles (the release namespace's events Role holds no Secret rule).
    let target_role = names::target_role(&release().name);
    let target_roles = docs.iter().filter(|d| {
        text(d, &["kind"]) == Some("Role")
            && text(d, &["metadata", "name"]) == Some(target_role.as_str())
    });
    for role in target_roles {
        let verbs = &role["rules"][0]["verbs"];
        assert!(
            verbs
                .as_sequence()
                .expect("verbs")
                .contains(&Yaml::from("delete"))
        );
    }
}

#[test]
fn keep_pull_secrets_renders_no_hook_no_plan_and_no_delete_permission() {
    let kept = values(3, None, "uninstall:\n  keepPullSecrets: true\n");
    let manifests = render(&kept, &release()).expect("renders");
    assert!(!manifests.contains("helm.sh/hook"));
    assert!(!manifests.contains(names::UNINSTALL));
    assert!(!manifests.contains("\"delete\""));
    assert_eq!(immediate_jobs(&kept).len(), 3, "the immediate Jobs stay");
}

#[test]
fn job_names_do_not_depend_on_the_release_so_helm_prints_the_same_ones() {
    let values = values(5, None, "");
    let names_in = |release: Release| -> BTreeSet<String> {
        Renderer::new(&values, &release)
            .documents()
            .expect("renders")
            .iter()
            .filter_map(|d| {
                d.text
                    .lines()
                    .find_map(|l| l.strip_prefix("  name: \"ecr-registry-helper-immediate-"))
                    .map(str::to_owned)
            })
            .collect()
    };
    let other = Release {
        name: "other".to_owned(),
        namespace: "elsewhere".to_owned(),
    };
    assert_eq!(names_in(release()).len(), 5);
    assert_eq!(names_in(release()), names_in(other));
}
