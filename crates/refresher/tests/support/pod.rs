//! A rendered pod as kubelet starts it, at a temporary root: `configMap`/`secret` volumes laid
//! out by kubelet's atomic writer (`pkg/volume/util/atomic_writer.go`: the payload in a
//! timestamped hidden directory, `..data` a symlink to it, each key a symlink `KEY ->
//! ..data/KEY`; an `optional` Secret that does not exist gives the same layout with no keys),
//! mountPaths remapped under the root, and the container's environment (`envFrom` first, later
//! sources winning, then `env`, which wins over all; `fieldRef` values from the test).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// The objects kubelet can read: the rendered manifests plus what the test created.
#[derive(Debug, Clone, Default)]
pub struct Objects(pub Vec<Value>);

fn text<'v>(value: &'v Value, path: &[&str]) -> &'v str {
    path.iter()
        .fold(value, |node, key| &node[*key])
        .as_str()
        .unwrap_or_default()
}

impl Objects {
    /// The object of `kind` named `name` in `namespace`.
    pub fn find(&self, kind: &str, namespace: &str, name: &str) -> Option<&Value> {
        self.0.iter().find(|o| {
            text(o, &["kind"]) == kind
                && text(o, &["metadata", "name"]) == name
                && text(o, &["metadata", "namespace"]) == namespace
        })
    }

    /// A ConfigMap's `data` or a Secret's decoded `data`, key by key; None if absent.
    pub fn payload(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<BTreeMap<String, String>> {
        let object = self.find(kind, namespace, name)?;
        let data = object["data"].as_object().cloned().unwrap_or_default();
        Some(
            data.into_iter()
                .map(|(key, value)| {
                    let value = value.as_str().unwrap_or_default();
                    let value = if kind == "Secret" {
                        String::from_utf8(STANDARD.decode(value).expect("base64 Secret data"))
                            .expect("UTF-8 Secret data")
                    } else {
                        value.to_owned()
                    };
                    (key, value)
                })
                .collect(),
        )
    }
}

/// A Secret object in `namespace` with these keys, as the API stores it (`data` base64).
pub fn secret(namespace: &str, name: &str, keys: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = keys
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(STANDARD.encode(v))))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "Opaque",
        "data": data,
    })
}

/// The pod template of a CronJob (`spec.jobTemplate.spec.template.spec`).
pub fn cron_job_pod(cron_job: &Value) -> &Value {
    &cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

/// The pod template of a CronJob, Job or Pod.
pub fn pod_spec(object: &Value) -> &Value {
    match text(object, &["kind"]) {
        "CronJob" => cron_job_pod(object),
        "Job" => &object["spec"]["template"]["spec"],
        "Pod" => &object["spec"],
        other => panic!("{other} has no pod template"),
    }
}

/// The container named `name` of a pod spec.
pub fn container<'p>(pod: &'p Value, name: &str) -> &'p Value {
    pod["containers"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| text(c, &["name"]) == name))
        .unwrap_or_else(|| panic!("container {name} in {pod}"))
}

/// An absolute in-pod path under `root`.
pub fn remap(root: &Path, pod_path: &str) -> PathBuf {
    root.join(pod_path.trim_start_matches('/'))
}

/// Writes `files` into `dir` as kubelet's atomic writer does (permissions aside).
pub fn atomic_write(dir: &Path, files: &BTreeMap<String, String>) {
    std::fs::create_dir_all(dir).expect("volume dir");
    let stamp = "..2026_12_02_03_00_00.123456789";
    let payload = dir.join(stamp);
    std::fs::create_dir_all(&payload).expect("payload dir");
    for (key, value) in files {
        std::fs::write(payload.join(key), value).expect("payload file");
    }
    std::os::unix::fs::symlink(stamp, dir.join("..data")).expect("..data symlink");
    for key in files.keys() {
        std::os::unix::fs::symlink(format!("..data/{key}"), dir.join(key)).expect("key symlink");
    }
}

/// Mounts the volumes `container` of `pod` (in `namespace`) uses, under `root`: each
/// `volumeMounts[].mountPath` becomes `root/<mountPath>` holding its ConfigMap's or Secret's
/// keys. A missing ConfigMap, or a missing Secret that is not `optional`, fails the test (the pod
/// would not start). Returns the mounted directories by mountPath.
pub fn mount_volumes(
    objects: &Objects,
    namespace: &str,
    pod: &Value,
    container: &Value,
    root: &Path,
) -> BTreeMap<String, PathBuf> {
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    let mut mounted = BTreeMap::new();
    for mount in container["volumeMounts"].as_array().into_iter().flatten() {
        let name = text(mount, &["name"]);
        let volume = volumes
            .iter()
            .find(|v| text(v, &["name"]) == name)
            .unwrap_or_else(|| panic!("volume {name} is declared"));
        let files = if volume.get("configMap").is_some() {
            let source = text(volume, &["configMap", "name"]);
            objects
                .payload("ConfigMap", namespace, source)
                .unwrap_or_else(|| panic!("ConfigMap {source} of volume {name} is rendered"))
        } else if volume.get("secret").is_some() {
            let source = text(volume, &["secret", "secretName"]);
            let optional = volume["secret"]["optional"].as_bool().unwrap_or(false);
            match objects.payload("Secret", namespace, source) {
                Some(files) => files,
                None if optional => BTreeMap::new(),
                None => panic!("Secret {source} of volume {name} exists (not optional)"),
            }
        } else {
            panic!("volume {name}: only configMap and secret volumes are built: {volume}")
        };
        let path = text(mount, &["mountPath"]);
        let dir = remap(root, path);
        atomic_write(&dir, &files);
        mounted.insert(path.to_owned(), dir);
    }
    mounted
}

/// The environment kubelet gives `container` (in `namespace`): each `envFrom` source's keys in
/// order (a missing source fails unless `optional`), then `env` (`value`, or `fieldRef` from
/// `fields`, which must hold every fieldPath asked for).
pub fn environment(
    objects: &Objects,
    namespace: &str,
    container: &Value,
    fields: &BTreeMap<&str, &str>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for source in container["envFrom"].as_array().into_iter().flatten() {
        let (kind, reference) = if let Some(r) = source.get("configMapRef") {
            ("ConfigMap", r)
        } else if let Some(r) = source.get("secretRef") {
            ("Secret", r)
        } else {
            panic!("envFrom source {source}")
        };
        let name = text(reference, &["name"]);
        match objects.payload(kind, namespace, name) {
            Some(keys) => env.extend(keys),
            None if reference["optional"].as_bool() == Some(true) => {}
            None => panic!("{kind} {name} of envFrom exists"),
        }
    }
    for var in container["env"].as_array().into_iter().flatten() {
        let name = text(var, &["name"]).to_owned();
        let value = if let Some(value) = var.get("value") {
            value.as_str().expect("a string value").to_owned()
        } else {
            let path = text(var, &["valueFrom", "fieldRef", "fieldPath"]);
            (*fields
                .get(path)
                .unwrap_or_else(|| panic!("a test value for fieldRef {path}")))
            .to_owned()
        };
        env.insert(name, value);
    }
    env
}
