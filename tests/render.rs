//! Golden renders: one values fixture per scenario, the whole manifest stream snapshotted.

use ecr_chart::render::Renderer;
use ecr_chart::values::{self, Source};
use ecr_chart::{Release, render};

fn release() -> Release {
    Release {
        name: "ecr-registry-helper".to_owned(),
        namespace: "platform".to_owned(),
    }
}

fn load(path: &std::path::Path) -> ecr_chart::values::Values {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = format!(
        "fixtures/values/{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    values::load(&[Source { name, text }]).unwrap_or_else(|e| panic!("fixture is valid:\n{e}"))
}

#[test]
fn every_fixture_renders_as_its_golden_file() {
    insta::glob!("fixtures/values/*.yaml", |path| {
        let manifests = render(&load(path), &release()).expect("renders");
        insta::assert_snapshot!(manifests);
    });
}

#[test]
fn every_fixture_renders_notes_as_its_golden_file() {
    insta::glob!("fixtures/values/*.yaml", |path| {
        let values = load(path);
        let notes = Renderer::new(&values, &release())
            .notes()
            .expect("renders notes");
        insta::assert_snapshot!(notes);
    });
}

#[test]
fn the_seed_values_give_the_seed_names() {
    let values = load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/values/00-seed.yaml"
    )));
    let manifests = render(&values, &release()).expect("renders");
    for name in ["primary", "secondary"] {
        for object in [
            format!("kind: \"ConfigMap\"\nmetadata:\n  name: \"ecr-registry-helper-cm-{name}\""),
            format!("kind: \"CronJob\"\nmetadata:\n  name: \"ecr-registry-helper-{name}\""),
            format!("kind: \"Job\"\nmetadata:\n  name: \"ecr-registry-helper-immediate-{name}-"),
            format!(
                "kind: \"ExternalSecret\"\nmetadata:\n  name: \"ecr-registry-helper-secrets-{name}\""
            ),
            format!("SECRET_NAME: \"regcred-{name}\""),
            format!("key: \"/ecr-registry-helper/aws/ecr/{name}/AWS_SECRET_ACCESS_KEY\""),
        ] {
            assert!(manifests.contains(&object), "missing {object}");
        }
    }
    assert!(manifests.contains("kind: \"ServiceAccount\"\nmetadata:\n  name: \"sa-argocd\""));
}

#[test]
fn rendering_is_deterministic_and_in_helm_install_order() {
    let values = load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/values/03-many-namespaces.yaml"
    )));
    let first = render(&values, &release()).expect("renders");
    assert_eq!(first, render(&values, &release()).expect("renders again"));
    let kinds: Vec<&str> = first
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    let order = [
        "\"ServiceAccount\"",
        "\"ConfigMap\"",
        "\"Role\"",
        "\"RoleBinding\"",
        "\"Job\"",
        "\"CronJob\"",
        "\"ExternalSecret\"",
    ];
    // The one hook, the uninstall Job, comes after every other object.
    let (hook, kinds) = kinds.split_last().expect("objects");
    assert_eq!(*hook, "\"Job\"");
    assert_eq!(first.matches("helm.sh/hook:").count(), 1);
    assert!(
        first
            .trim_end()
            .ends_with(&format!("name: \"{}\"", names::UNINSTALL)),
        "the uninstall hook is last"
    );
    let rank = |k: &&str| order.iter().position(|o| o == k).expect("known kind");
    let ranks: Vec<usize> = kinds.iter().map(rank).collect();
    assert!(
        ranks.windows(2).all(|w| w[0] <= w[1]),
        "kinds out of order: {kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "\"Role\"").count(),
        2 + 1,
        "one Role per target namespace, and the release namespace's for the Jobs' Events"
    );
}

fn fixture(name: &str) -> ecr_chart::values::Values {
    load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/values")
            .join(name),
    )
}

/// The documents of a manifest stream whose `kind` is `kind`.
fn of_kind<'m>(manifests: &'m str, kind: &str) -> Vec<&'m str> {
    let marker = format!("kind: \"{kind}\"");
    manifests
        .split("---\n")
        .filter(|doc| doc.lines().any(|line| line == marker))
        .collect()
}

#[test]
fn each_access_mode_reads_its_own_credentials() {
    let manifests = render(&fixture("06-existing-secret.yaml"), &release()).expect("renders");
    let external = of_kind(&manifests, "ExternalSecret");
    assert_eq!(
        external.len(),
        1,
        "only the externalSecret registry has one"
    );
    assert!(external[0].contains("name: \"ecr-registry-helper-secrets-vaulted\""));
    assert!(manifests.contains("- secretRef:\n                    name: \"legacy-ecr-keys\""));
    assert!(!manifests.contains("ecr-registry-helper-secrets-legacy"));

    let manifests =
        render(&fixture("07-service-account-role-arn.yaml"), &release()).expect("renders");
    assert!(of_kind(&manifests, "ExternalSecret").is_empty());
    assert!(
        !manifests.contains("secretRef"),
        "no static keys with serviceAccount access"
    );
    assert!(
        manifests
            .contains("ROLE_ARN: \"arn:aws:iam::222222222222:role/ecr-pull-from-111111111111\"")
    );
    assert!(manifests.contains("AWS_ACCOUNT: \"222222222222\""));
    assert!(manifests.contains(
        "\"eks.amazonaws.com/role-arn\": \"arn:aws:iam::111111111111:role/ecr-registry-helper\""
    ));
}

#[test]
fn the_remote_key_template_lays_out_the_store_keys() {
    let manifests =
        render(&fixture("05-external-secret-key-template.yaml"), &release()).expect("renders");
    for key in ["AWS_ACCOUNT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        assert!(
            manifests.contains(&format!(
                "- secretKey: \"{key}\"\n      remoteRef:\n        key: \"platform-ecr-shared-tools-{key}\""
            )),
            "{key}"
        );
    }
    assert!(manifests.contains("kind: \"SecretStore\"\n    name: \"aws-secrets-manager\""));
}

#[test]
fn three_namespaces_and_two_accounts_reach_the_refresher_and_rbac() {
    let manifests = render(
        &fixture("09-three-namespaces-two-accounts.yaml"),
        &release(),
    )
    .expect("renders");
    let config: Vec<&str> = of_kind(&manifests, "ConfigMap")
        .into_iter()
        .filter(|c| !c.contains(names::UNINSTALL))
        .collect();
    assert_eq!(config.len(), 1);
    assert!(
        config[0].contains("TARGET_NAMESPACES: \"team-a,team-b,team-c\""),
        "namespace first, each once"
    );
    assert!(config[0].contains("AWS_ACCOUNT: \"123456789012\""));
    assert!(config[0].contains("REGISTRY_IDS: \"210987654321\""));
    let roles = of_kind(&manifests, "Role");
    let bindings = of_kind(&manifests, "RoleBinding");
    for namespace in ["team-a", "team-b", "team-c"] {
        let here = format!("namespace: \"{namespace}\"");
        assert_eq!(
            roles.iter().filter(|r| r.contains(&here)).count(),
            1,
            "{namespace}"
        );
        assert_eq!(
            bindings.iter().filter(|r| r.contains(&here)).count(),
            1,
            "{namespace}"
        );
    }
}

#[test]
fn service_account_patching_is_granted_by_name_only() {
    let manifests = render(&fixture("10-image-pull-secret-for.yaml"), &release()).expect("renders");
    let roles = of_kind(&manifests, "Role");
    let role_in = |namespace: &str| {
        roles
            .iter()
            .find(|r| r.contains(&format!("namespace: \"{namespace}\"")))
            .copied()
            .unwrap_or_else(|| panic!("a Role in {namespace}"))
    };
    let rule = |accounts: &[&str]| {
        let names: String = accounts
            .iter()
            .map(|a| format!("      - \"{a}\"\n"))
            .collect();
        format!(
            "resources: [\"serviceaccounts\"]\n    resourceNames:\n{names}    verbs: [\"get\", \"patch\"]"
        )
    };
    assert!(role_in("web").contains(&rule(&["default", "builder"])));
    assert!(role_in("jobs").contains(&rule(&["default", "builder", "batch-runner"])));
    assert!(manifests.contains("IMAGE_PULL_SECRET_FOR: \"default,builder\""));
    let plain = render(&fixture("03-many-namespaces.yaml"), &release()).expect("renders");
    assert!(
        !plain.contains("serviceaccounts"),
        "no patch rights unless asked for"
    );
}

#[test]
fn the_seed_configmap_keeps_its_keys() {
    let manifests = render(&fixture("00-seed.yaml"), &release()).expect("renders");
    for key in [
        "AWS_ACCOUNT",
        "REGISTRY_IDS",
        "ROLE_ARN",
        "IMAGE_PULL_SECRET_FOR",
    ] {
        assert!(
            !manifests.contains(&format!("{key}:")),
            "{key} only when set"
        );
    }
}

// The contract between the chart and the refresher, checked on what the templates write.

use ecr_contract::{keys, names};
use serde_yaml::Value as Yaml;

/// Every object of a manifest stream, parsed.
fn objects(manifests: &str) -> Vec<Yaml> {
    serde_yaml::Deserializer::from_str(manifests)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("every document is YAML"))
        .filter(|doc: &Yaml| !doc.is_null())
        .collect()
}

fn text<'y>(doc: &'y Yaml, path: &[&str]) -> Option<&'y str> {
    path.iter()
        .try_fold(doc, |node, key| node.get(key))
        .and_then(Yaml::as_str)
}

/// What breaks the contract in one rendered object of `values` for `release`: a ConfigMap
/// key the refresher does not read or a required one missing, an object or reference name
/// that is not the contract's, a chart label missing.
fn contract_faults(
    doc: &Yaml,
    values: &ecr_chart::values::Values,
    release: &Release,
) -> Vec<String> {
    let faults = std::cell::RefCell::new(Vec::new());
    let kind = text(doc, &["kind"]).unwrap_or_default();
    let name = text(doc, &["metadata", "name"]).unwrap_or_default();
    let at = format!("{kind}/{name}");
    let registry = text(doc, &["metadata", "labels", names::LABEL_REGISTRY]);
    let expect = |what: &str, got: Option<&str>, want: &str| {
        if got != Some(want) {
            faults.borrow_mut().push(format!(
                "{at}: {what} is {got:?}, the contract says {want:?}"
            ));
        }
    };
    for (key, want) in [
        (names::LABEL_NAME, names::CHART_NAME),
        (names::LABEL_INSTANCE, release.name.as_str()),
        (names::LABEL_MANAGED_BY, "Helm"),
        (names::LABEL_PART_OF, names::CHART_NAME),
    ] {
        expect(
            &format!("label {key}"),
            text(doc, &["metadata", "labels", key]),
            want,
        );
    }
    let registry_of = |registry: Option<&str>| {
        registry.and_then(|r| values.ecr_registries.iter().find(|v| v.name == r))
    };
    let per_registry = ["ConfigMap", "CronJob", "Job", "ExternalSecret"].contains(&kind);
    let Some(reg) = registry_of(registry).filter(|_| per_registry) else {
        match kind {
            "ServiceAccount" => expect("name", Some(name), &values.service_account.name),
            "Role" | "RoleBinding" => {
                // In the release namespace, the Jobs' failure Events have a Role of their own.
                let events_role = names::job_events_role(&release.name);
                let role = if name == events_role
                    && text(doc, &["metadata", "namespace"]) == Some(&release.namespace)
                {
                    events_role
                } else {
                    names::target_role(&release.name)
                };
                expect("name", Some(name), &role);
                if kind == "RoleBinding" {
                    expect("roleRef.name", text(doc, &["roleRef", "name"]), &role);
                }
            }
            "ConfigMap" if name == names::CHECK => {
                // The `helm test` Pod's check plan names every pull Secret where it is written.
                let plan = ecr_contract::check::parse(
                    text(doc, &["data", ecr_contract::check::PLAN_KEY]).unwrap_or_default(),
                );
                let got: Vec<(String, String)> = plan
                    .unwrap_or_default()
                    .into_iter()
                    .map(|e| (e.namespace, e.secret))
                    .collect();
                let want: Vec<(String, String)> = values
                    .ecr_registries
                    .iter()
                    .flat_map(|r| {
                        let every = r
                            .selector(values)
                            .map(|_| ecr_contract::plan::EVERY_NAMESPACE);
                        r.target_namespaces()
                            .into_iter()
                            .chain(every)
                            .map(|ns| (ns.to_owned(), names::pull_secret(&r.name)))
                    })
                    .collect();
                if got != want {
                    faults
                        .borrow_mut()
                        .push(format!("{at}: check plan {got:?}, the values say {want:?}"));
                }
            }
            "ConfigMap" | "Job" if registry.is_none() => {
                expect("name", Some(name), names::UNINSTALL);
            }
            "ClusterRole" | "ClusterRoleBinding" => {
                // Only for registries with a namespace selector, their Secrets by name.
                let role = names::cluster_role(&release.name, &release.namespace);
                expect("name", Some(name), &role);
                if kind == "ClusterRoleBinding" {
                    expect("roleRef.name", text(doc, &["roleRef", "name"]), &role);
                } else {
                    let selecting: Vec<String> = values
                        .ecr_registries
                        .iter()
                        .filter(|r| r.selector(values).is_some())
                        .map(|r| names::pull_secret(&r.name))
                        .collect();
                    let secrets: Vec<String> = doc["rules"]
                        .as_sequence()
                        .into_iter()
                        .flatten()
                        .filter(|rule| rule["resources"][0].as_str() == Some("secrets"))
                        .flat_map(|rule| rule["resourceNames"].as_sequence().cloned())
                        .flatten()
                        .filter_map(|n| n.as_str().map(str::to_owned))
                        .collect();
                    if secrets.is_empty() || secrets != selecting {
                        faults.borrow_mut().push(format!(
                            "{at}: Secrets {secrets:?}, the selecting registries' are {selecting:?}"
                        ));
                    }
                }
            }
            "CronJob" if registry.is_none() => {
                // The sync run: every selecting registry's ConfigMap at SYNC_DIR/<registry>.
                expect("name", Some(name), names::SYNC);
                let pod = &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"];
                let env = &pod["containers"][0]["env"];
                expect("env[0].name", text(&env[0], &["name"]), keys::SYNC_DIR);
                expect(
                    "env[0].value",
                    text(&env[0], &["value"]),
                    names::SYNC_CONFIG_DIR,
                );
                let volumes = pod["volumes"].as_sequence().cloned().unwrap_or_default();
                let mounts = pod["containers"][0]["volumeMounts"]
                    .as_sequence()
                    .cloned()
                    .unwrap_or_default();
                for registry in values
                    .ecr_registries
                    .iter()
                    .filter(|r| r.selector(values).is_some())
                {
                    let volume = names::sync_config_volume(&registry.name);
                    let mounted = mounts.iter().any(|m| {
                        text(m, &["name"]) == Some(volume.as_str())
                            && text(m, &["mountPath"])
                                == Some(&format!("{}/{}", names::SYNC_CONFIG_DIR, registry.name))
                    });
                    let sourced = volumes.iter().any(|v| {
                        text(v, &["name"]) == Some(volume.as_str())
                            && text(v, &["configMap", "name"])
                                == Some(&names::config_map(&registry.name))
                    });
                    if !mounted || !sourced {
                        faults.borrow_mut().push(format!(
                            "{at}: the ConfigMap of {} is not mounted as the contract says",
                            registry.name
                        ));
                    }
                }
            }
            "PrometheusRule" => expect("name", Some(name), &names::prometheus_rule(&release.name)),
            "Pod" => {
                // The `helm test` Pod: its check plan is the file mounted from its ConfigMap.
                expect("name", Some(name), names::CHECK);
                let container = &doc["spec"]["containers"][0];
                let env = &container["env"][0];
                expect("env[0].name", text(env, &["name"]), keys::CHECK_PLAN);
                let path = format!(
                    "{}/{}",
                    names::CHECK_PLAN_DIR,
                    ecr_contract::check::PLAN_KEY
                );
                expect("env[0].value", text(env, &["value"]), &path);
                let mount = &container["volumeMounts"][0];
                expect(
                    "volumeMounts[0].mountPath",
                    text(mount, &["mountPath"]),
                    names::CHECK_PLAN_DIR,
                );
                if mount["readOnly"].as_bool() != Some(true) {
                    faults
                        .borrow_mut()
                        .push(format!("{at}: the plan is not mounted read-only"));
                }
                let volume = &doc["spec"]["volumes"][0];
                expect(
                    "volumes[0].name",
                    text(volume, &["name"]),
                    text(mount, &["name"]).unwrap_or("?"),
                );
                expect(
                    "volumes[0].configMap.name",
                    text(volume, &["configMap", "name"]),
                    names::CHECK,
                );
            }
            _ if per_registry => faults.borrow_mut().push(format!(
                "{at}: label {} names no registry of the values",
                names::LABEL_REGISTRY
            )),
            _ => faults
                .borrow_mut()
                .push(format!("{at}: a kind the chart does not render")),
        }
        return faults.into_inner();
    };
    let r = reg.name.as_str();
    match kind {
        "ConfigMap" => {
            expect("name", Some(name), &names::config_map(r));
            let data = doc
                .get("data")
                .and_then(Yaml::as_mapping)
                .cloned()
                .unwrap_or_default();
            for key in data.keys() {
                let key = key.as_str().unwrap_or_default();
                if keys::config_key(key).is_none() {
                    faults.borrow_mut().push(format!(
                        "{at}: data key {key} is not one the refresher reads"
                    ));
                }
            }
            for key in keys::CONFIG_KEYS.iter().filter(|k| k.required) {
                if !data.contains_key(key.name) {
                    faults
                        .borrow_mut()
                        .push(format!("{at}: required data key {} is missing", key.name));
                }
            }
            // Where to write: explicit namespaces, a selector, or both; never neither.
            let has = |key: &str| data.contains_key(key);
            if !has(keys::TARGET_NAMESPACES) && !has(keys::NAMESPACE_SELECTOR) {
                faults.borrow_mut().push(format!(
                    "{at}: neither {} nor {} is set",
                    keys::TARGET_NAMESPACES,
                    keys::NAMESPACE_SELECTOR
                ));
            }
            if has(keys::NAMESPACE_SELECTOR) != reg.selector(values).is_some() {
                faults.borrow_mut().push(format!(
                    "{at}: {} does not follow the registry's selector",
                    keys::NAMESPACE_SELECTOR
                ));
            }
            let pull_secret = names::pull_secret(r);
            expect(
                "SECRET_NAME",
                text(doc, &["data", keys::SECRET_NAME]),
                &pull_secret,
            );
            expect(
                "ECR_REGISTRY_NAME",
                text(doc, &["data", keys::REGISTRY_NAME]),
                r,
            );
        }
        "CronJob" | "Job" => {
            let (want, pod) = if kind == "CronJob" {
                (
                    names::cron_job(r),
                    doc["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone(),
                )
            } else {
                // The contract's name for the settings hash the name ends with.
                let hash = name
                    .rsplit('-')
                    .next()
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .unwrap_or_default();
                (
                    names::immediate_job_for(r, hash),
                    doc["spec"]["template"]["spec"].clone(),
                )
            };
            expect("name", Some(name), &want);
            let container = &pod["containers"][0];
            expect(
                "container name",
                text(container, &["name"]),
                names::CONTAINER_NAME,
            );
            let config_map = names::config_map(r);
            expect(
                "envFrom configMapRef",
                text(&container["envFrom"][0], &["configMapRef", "name"]),
                &config_map,
            );
            if let Some(secret) = text(&container["envFrom"][1], &["secretRef", "name"]) {
                let credentials = names::credentials_secret(r);
                let want = reg.existing_secret.as_deref().unwrap_or(&credentials);
                expect("envFrom secretRef", Some(secret), want);
            }
        }
        "ExternalSecret" => {
            expect("name", Some(name), &names::external_secret(r));
            let credentials = names::credentials_secret(r);
            expect(
                "target.name",
                text(doc, &["spec", "target", "name"]),
                &credentials,
            );
            let secret_keys: Vec<&str> = doc["spec"]["data"]
                .as_sequence()
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| text(i, &["secretKey"]))
                        .collect()
                })
                .unwrap_or_default();
            if secret_keys != keys::CREDENTIAL_KEYS {
                faults.borrow_mut().push(format!(
                    "{at}: secret keys {secret_keys:?} are not the contract's"
                ));
            }
        }
        _ => unreachable!("per-registry kinds only"),
    }
    faults.into_inner()
}

/// Every values file of the golden tests, and the embedded example.
fn every_values() -> Vec<(String, ecr_chart::values::Values)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/values");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let mut all: Vec<_> = paths
        .iter()
        .map(|p| (p.display().to_string(), load(p)))
        .collect();
    let example = values::load(&[Source {
        name: "values.example.yaml".to_owned(),
        text: ecr_chart::run::EXAMPLE_VALUES.to_owned(),
    }])
    .expect("the example is valid");
    all.push(("values.example.yaml".to_owned(), example));
    all
}

#[test]
fn every_object_of_every_fixture_keeps_the_refresher_contract() {
    for (file, values) in every_values() {
        let release = release();
        let docs = objects(&render(&values, &release).expect("renders"));
        let faults: Vec<String> = docs
            .iter()
            .flat_map(|doc| contract_faults(doc, &values, &release))
            .collect();
        assert!(faults.is_empty(), "{file}:\n{}", faults.join("\n"));
        for registry in &values.ecr_registries {
            for (kind, name) in [
                ("ConfigMap", names::config_map(&registry.name)),
                ("CronJob", names::cron_job(&registry.name)),
            ] {
                let found = docs.iter().any(|d| {
                    text(d, &["kind"]) == Some(kind)
                        && text(d, &["metadata", "name"]) == Some(&name)
                });
                assert!(found, "{file}: no {kind} {name}");
            }
        }
    }
}

#[test]
fn the_contract_check_catches_a_key_the_refresher_does_not_read() {
    let values = fixture("00-seed.yaml");
    let release = release();
    let docs = objects(&render(&values, &release).expect("renders"));
    let config = docs
        .iter()
        .find(|d| text(d, &["kind"]) == Some("ConfigMap"))
        .expect("a ConfigMap");
    assert!(contract_faults(config, &values, &release).is_empty());

    let mut unknown = config.clone();
    unknown["data"]["AWS_REGION_TYPO"] = Yaml::from("eu-central-1");
    let faults = contract_faults(&unknown, &values, &release);
    assert!(
        faults
            .iter()
            .any(|f| f.contains("AWS_REGION_TYPO is not one the refresher reads")),
        "{faults:?}"
    );

    let mut missing = config.clone();
    missing["data"]
        .as_mapping_mut()
        .expect("data")
        .remove(keys::REGISTRY_NAME);
    let faults = contract_faults(&missing, &values, &release);
    assert!(
        faults
            .iter()
            .any(|f| f.contains("required data key ECR_REGISTRY_NAME is missing")),
        "{faults:?}"
    );

    let mut nowhere = config.clone();
    nowhere["data"]
        .as_mapping_mut()
        .expect("data")
        .remove(keys::TARGET_NAMESPACES);
    let faults = contract_faults(&nowhere, &values, &release);
    assert!(
        faults
            .iter()
            .any(|f| f.contains("neither TARGET_NAMESPACES nor NAMESPACE_SELECTOR is set")),
        "{faults:?}"
    );

    let cron_job = docs
        .iter()
        .find(|d| text(d, &["kind"]) == Some("CronJob"))
        .expect("a CronJob");
    let mut renamed = cron_job.clone();
    renamed["metadata"]["name"] = Yaml::from("refresh-primary");
    renamed["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["configMapRef"]
        ["name"] = Yaml::from("settings-primary");
    let faults = contract_faults(&renamed, &values, &release);
    assert_eq!(faults.len(), 2, "{faults:?}");
}

#[test]
fn the_documents_are_the_manifest_stream_one_object_each_with_its_template() {
    let values = fixture("01-every-knob.yaml");
    let renderer = Renderer::new(&values, &release());
    let documents = renderer.documents().expect("renders");
    let joined: String = documents
        .iter()
        .map(|d| format!("---\n{}\n", d.text))
        .collect();
    assert_eq!(joined, renderer.manifests(&values).expect("renders"));
    for document in &documents {
        let kind = match document.template {
            "uninstall.yaml" => "job",
            "sync.yaml" => "cronjob",
            template => template.trim_end_matches(".yaml"),
        };
        let line = document
            .text
            .lines()
            .find_map(|l| l.strip_prefix("kind: "))
            .expect("a kind");
        assert_eq!(
            line.trim_matches('"').to_lowercase(),
            kind,
            "{}",
            document.text
        );
    }
}

#[test]
fn a_template_document_split_needs_its_own_separator_lines() {
    use ecr_chart::render::split_documents;
    assert_eq!(split_documents(""), Some(vec![]));
    assert_eq!(split_documents("\n"), Some(vec![]));
    assert_eq!(
        split_documents("---\na: 1\n\n---\nb: \"---\"\n---\n"),
        Some(vec!["a: 1", "b: \"---\""])
    );
    assert_eq!(
        split_documents("a: 1\n---\nb: 2\n"),
        None,
        "text before the first ---"
    );
}

#[test]
fn the_helm_test_pod_renders_only_when_asked_for() {
    let hook = "helm.sh/hook: \"test\"";
    for off in ["00-seed.yaml", "01-every-knob.yaml", "40-monitoring.yaml"] {
        let manifests = render(&fixture(off), &release()).expect("renders");
        assert!(
            !manifests.contains(hook),
            "{off}: a test hook without helmTest"
        );
        assert!(!manifests.contains(names::CHECK), "{off}");
    }
    let on = render(&fixture("41-helm-test.yaml"), &release()).expect("renders");
    assert_eq!(on.matches(hook).count(), 1);
    let pods = of_kind(&on, "Pod");
    assert_eq!(pods.len(), 1);
    assert!(pods[0].contains("helm.sh/hook-delete-policy: \"before-hook-creation\""));
    assert!(!pods[0].contains("envFrom"), "no AWS credentials");
    assert!(
        on.trim_end()
            .ends_with(&format!("configMap:\n        name: \"{}\"", names::CHECK)),
        "the test hook is the last object, its plan mounted from its ConfigMap"
    );
    let plans: Vec<&str> = of_kind(&on, "ConfigMap")
        .into_iter()
        .filter(|c| c.contains(&format!("name: \"{}\"", names::CHECK)))
        .collect();
    assert_eq!(plans.len(), 1, "one check plan ConfigMap");
    assert!(
        !plans[0].contains("helm.sh/hook"),
        "a plain release object, not a hook"
    );
    assert!(!pods[0].contains(".dkr.ecr."), "the plan is not in the Pod");
}

#[test]
fn a_plan_longer_than_one_config_map_is_refused_at_render_naming_the_value_that_turns_it_off() {
    // 3 500 namespaces of 63 characters: long enough lines to pass 1 MiB in either plan.
    let namespaces: Vec<String> = (0..3500).map(|i| format!("n{i:062}")).collect();
    let accounts: Vec<String> = (0..4).map(|i| format!("{}{i:0250}", "s")).collect();
    let ids: Vec<String> = (0..5).map(|i| format!("\"21098765432{i}\"")).collect();
    let registry = format!(
        "ecrRegistries:\n  - name: big\n    region: eu-west-1\n    namespaces: [{}]\n    imagePullSecretFor: [{}]\n    registryIds: [{}]\n",
        namespaces.join(", "),
        accounts.join(", "),
        ids.join(", "),
    );
    let uninstall = render(&values_of(&registry), &release())
        .map(|_| ())
        .expect_err("uninstall plan too long");
    assert_eq!(uninstall.exit_code(), 2, "bad input");
    let message = uninstall.to_string();
    assert!(message.starts_with("the uninstall plan is "), "{message}");
    assert!(
        message.contains("(3500 registry × namespace lines)"),
        "{message}"
    );
    assert!(
        message.contains("more than one ConfigMap holds (1048576 bytes)"),
        "{message}"
    );
    assert!(
        message.contains("uninstall.keepPullSecrets: true"),
        "{message}"
    );

    let test =
        format!("uninstall: {{keepPullSecrets: true}}\nhelmTest: {{enabled: true}}\n{registry}");
    let check = render(&values_of(&test), &release())
        .map(|_| ())
        .expect_err("check plan too long");
    let message = check.to_string();
    assert!(message.starts_with("the check plan is "), "{message}");
    assert!(message.contains("helmTest.enabled: false"), "{message}");

    let fits = format!("uninstall: {{keepPullSecrets: true}}\n{registry}");
    let manifests = render(&values_of(&fits), &release()).expect("no plan, no limit");
    assert!(!manifests.contains(names::UNINSTALL) && !manifests.contains(names::CHECK));
}

/// The values `text` (one file), loaded.
fn values_of(text: &str) -> ecr_chart::values::Values {
    values::load(&[Source {
        name: "values.yaml".to_owned(),
        text: text.to_owned(),
    }])
    .unwrap_or_else(|e| panic!("valid values:\n{e}"))
}

/// The name of the immediate Job of the only registry of `text`.
fn immediate_job_name(text: &str) -> String {
    let manifests = render(&values_of(text), &release()).expect("renders");
    let jobs = of_kind(&manifests, "Job");
    let job = jobs
        .iter()
        .find(|j| j.contains("ecr-registry-helper-immediate-"))
        .expect("an immediate Job");
    job.lines()
        .find_map(|l| l.trim().strip_prefix("name: "))
        .expect("a name")
        .to_owned()
}

#[test]
fn a_changed_selector_exclude_list_or_prune_reruns_the_immediate_job() {
    let base = "ecrRegistries:\n  - name: a\n    region: eu-central-1\n    namespaceSelector:\n      matchLabels: {team: a}\n";
    let names = [
        immediate_job_name(base),
        immediate_job_name(&base.replace("team: a", "team: b")),
        immediate_job_name(&format!("{base}    excludeNamespaces: [kube-system]\n")),
        immediate_job_name(&format!("{base}    prune: true\n")),
        immediate_job_name(&format!("excludeNamespaces: [web]\n{base}")),
    ];
    for (i, name) in names.iter().enumerate() {
        for other in &names[i + 1..] {
            assert_ne!(name, other, "{names:?}");
        }
    }
    // Unchanged settings keep the name.
    assert_eq!(names[0], immediate_job_name(base));
}

#[test]
fn the_cluster_role_and_the_sync_cron_job_exist_only_with_a_selector() {
    let explicit = "ecrRegistries:\n  - name: a\n    region: eu-central-1\n    namespace: apps\n";
    let manifests = render(&values_of(explicit), &release()).expect("renders");
    assert!(of_kind(&manifests, "ClusterRole").is_empty());
    assert!(of_kind(&manifests, "ClusterRoleBinding").is_empty());
    assert!(!manifests.contains(names::SYNC));
    assert!(!manifests.contains(keys::NAMESPACE_SELECTOR));

    // The top-level selector applies to a registry that names no namespace.
    let inherited =
        "namespaceSelector: {}\necrRegistries:\n  - name: a\n    region: eu-central-1\n";
    let manifests = render(&values_of(inherited), &release()).expect("renders");
    assert_eq!(of_kind(&manifests, "ClusterRole").len(), 1);
    assert_eq!(of_kind(&manifests, "ClusterRoleBinding").len(), 1);
    assert!(manifests.contains("NAMESPACE_SELECTOR: \"{}\""));
    assert!(!manifests.contains(keys::TARGET_NAMESPACES));
    assert_eq!(
        of_kind(&manifests, "CronJob").len(),
        2,
        "the registry's and the sync run"
    );
    // ... but not to one that names its namespaces.
    let manifests = render(
        &values_of(&format!("{inherited}    namespace: apps\n")),
        &release(),
    )
    .expect("renders");
    assert!(of_kind(&manifests, "ClusterRole").is_empty());

    let off = format!("sync: {{enabled: false}}\n{inherited}");
    let manifests = render(&values_of(&off), &release()).expect("renders");
    assert_eq!(of_kind(&manifests, "ClusterRole").len(), 1);
    assert!(!manifests.contains(names::SYNC), "sync.enabled: false");
}

#[test]
fn the_cluster_role_deletes_only_to_prune_or_uninstall() {
    let verbs = |text: &str| {
        let manifests = render(&values_of(text), &release()).expect("renders");
        let role = of_kind(&manifests, "ClusterRole")[0].to_owned();
        role.contains("\"delete\"")
    };
    let keep = "uninstall: {keepPullSecrets: true}\necrRegistries:\n  - name: a\n    region: eu-central-1\n    namespaceSelector: {}\n";
    assert!(!verbs(keep));
    assert!(verbs(&format!("{keep}    prune: true\n")));
    assert!(verbs(
        &keep.replace("keepPullSecrets: true", "keepPullSecrets: false")
    ));
}
