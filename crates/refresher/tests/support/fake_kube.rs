//! An in-process fake of the Kubernetes API for Secrets, following the real server's rules where
//! the refresher depends on them:
//!
//! - `GET /api/v1/namespaces/{ns}/secrets/{name}`: the object, or 404 `NotFound` Status.
//! - `PATCH` with `application/apply-patch+yaml` (server-side apply): `fieldManager` is required;
//!   a missing object is created, an existing one is updated by merging only the applier's
//!   fields. Each manager's owned fields are tracked (shown as `metadata.managedFields`); fields a
//!   manager stops applying are removed unless another manager owns them; a field owned by another
//!   manager with a different value is a 409 conflict unless `force=true`, which moves ownership.
//!   Changing the `type` of an existing Secret is 422 "field is immutable".
//! - Injected faults (status N times, per method), stalls (no answer for a while), forbidden namespaces (403) and a fixed set of
//!   existing namespaces (404 on create elsewhere).
//! - ServiceAccounts (`/api/v1/namespaces/{ns}/serviceaccounts/{name}`): `GET` (404 if absent;
//!   they are only ever seeded, never created) and `PATCH` with `application/json-patch+json`
//!   (RFC 6902: test, add, remove, replace, `-` appends). As kube-apiserver does: a failing
//!   operation (a `test` that does not match, a missing path) is 422 Invalid "the server rejected
//!   our request due to an error in our request" with the patch error as the cause; a patch that
//!   changes `metadata.resourceVersion` to another value is 409 Conflict; every write bumps the
//!   resourceVersion. Faults of their own, and a "race": another writer changes the
//!   ServiceAccount right after the next GET answered.
//!
//! - `DELETE` of a Secret: 404 if absent, 409 if the DeleteOptions' preconditions (uid,
//!   resourceVersion) do not match, else the object is removed.
//!
//! Other verbs (POST, PUT, DELETE of ServiceAccounts, JSON/merge patches of Secrets, apply of
//! ServiceAccounts) answer 405/415 and are recorded, so a test can assert they were never used.
//!
//! - Lists of ConfigMaps, CronJobs and Jobs with label selectors ([`lists`]).
//! - Namespaces (`GET /api/v1/namespaces`, label and field selectors; seeded with labels, and
//!   "being deleted" like a namespace in `Terminating`: creating a Secret there is 403 as the
//!   `NamespaceLifecycle` admission plugin answers, updating an existing one still works) and
//!   the cluster-wide list of Secrets (`GET /api/v1/secrets`, `fieldSelector` on
//!   `metadata.name`/`metadata.namespace`/`type`, `labelSelector`), both paged with `limit` and
//!   `continue` as kube-apiserver pages them ([`lists`]).
//! - Events (`POST /apis/events.k8s.io/v1/namespaces/{ns}/events`): created and kept in order,
//!   after the checks of kube-apiserver's `ValidateEventCreate` for events.k8s.io/v1
//!   (`pkg/apis/core/validation/events.go`): a body namespace other than the URL's is 400; an
//!   `eventTime` that is not RFC 3339 with microseconds (`MicroTime`) is 400; 422 Invalid for a
//!   missing or invalid name, a missing `eventTime`, `type` other than Normal/Warning, a missing
//!   or unqualified `reportingController`, a missing `reportingInstance`, `action` or `reason`,
//!   any of these over 128 characters, a `note` over 1024, a `regarding` namespace other than the
//!   Event's, or any `deprecated*` field set. [`FakeKube::forbid_events`] makes every create 403.
//!
//! It speaks HTTPS like kube-apiserver (TLS 1.3 or 1.2, HTTP/1.1), with the self-signed test
//! certificate of `tls/` (127.0.0.1 and localhost, valid until 2126; its key is a test key and
//! guards nothing). Clients trust it through the kubeconfig's `certificate-authority-data`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The server's certificate (PEM), self-signed: also the CA clients trust.
pub const CERT_PEM: &str = include_str!("tls/cert.pem");
/// Its private key (PEM); a test key.
const KEY_PEM: &str = include_str!("tls/key.pem");

/// The TLS acceptor of the fake: [`CERT_PEM`] and its key, ring's crypto.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let cert = CertificateDer::from_pem_slice(CERT_PEM.as_bytes()).expect("test certificate");
    let key = PrivateKeyDer::from_pem_slice(KEY_PEM.as_bytes()).expect("test key");
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server config");
    // Like kube-apiserver (Go's crypto/tls sends its session tickets with its Finished, before
    // the client's Finished arrives): nothing is sent in answer to the client's Finished, so
    // only a delayed ACK acknowledges it, and a client with Nagle's algorithm on holds its first
    // request until then.
    config.send_tls13_tickets = 0;
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// One owned field: `["type"]`, `["data", key]`, `["metadata", "labels", key]`,
/// `["metadata", "annotations", key]` or `["metadata", "ownerReferences", uid]`.
type Field = Vec<String>;

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
}

impl Request {
    /// A request as a handler received it: its query (none is empty) and content type.
    fn received(
        method: &Method,
        path: String,
        query: Option<String>,
        content_type: Option<String>,
    ) -> Self {
        Request {
            method: method.clone(),
            path,
            query: query.unwrap_or_default(),
            content_type,
        }
    }

    /// The value of a query parameter.
    pub fn param(&self, key: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == key).then(|| v.to_owned())
        })
    }
}

#[derive(Debug)]
struct Fault {
    method: Method,
    status: u16,
    remaining: usize,
}

#[derive(Debug)]
struct Stall {
    method: Method,
    duration: std::time::Duration,
    remaining: usize,
}

#[derive(Debug, Clone)]
struct Ownership {
    operation: &'static str,
    fields: BTreeSet<Field>,
}

#[derive(Debug)]
struct Stored {
    object: Value,
    managers: BTreeMap<String, Ownership>,
}

/// Another writer's change to a ServiceAccount, made right after the next GET of it answered.
#[derive(Debug)]
struct Race {
    namespace: String,
    name: String,
    entry: String,
}

#[derive(Debug, Default)]
struct Inner {
    objects: BTreeMap<(String, String), Stored>,
    service_accounts: BTreeMap<(String, String), Value>,
    sa_faults: Vec<Fault>,
    races: Vec<Race>,
    faults: Vec<Fault>,
    stalls: Vec<Stall>,
    requests: Vec<Request>,
    forbidden: BTreeSet<String>,
    namespaces: Option<BTreeSet<String>>,
    next_version: u64,
    /// ConfigMaps, CronJobs and Jobs by (plural, namespace, name) ([`lists`]).
    listed: BTreeMap<(String, String, String), Value>,
    /// Seeded Namespace objects by name ([`lists`]).
    namespace_objects: BTreeMap<String, Value>,
    events: Vec<Value>,
    events_forbidden: bool,
    /// Continue tokens of lists read at or before this version answer 410 ([`lists`]).
    compacted: u64,
    /// Compact right after the next page that has a continue token ([`lists`]).
    compact_after_page: bool,
}

type Shared = Arc<Mutex<Inner>>;

/// Lists of ConfigMaps, CronJobs and Jobs with label selectors (`fake_kube_lists.rs`).
mod lists {
    include!("fake_kube_lists.rs");
}

/// A running fake API server on 127.0.0.1. It runs on its own thread and runtime, so tests may
/// use it from async tests or point a child process at it; it ends with the test process.
#[derive(Debug, Clone)]
pub struct FakeKube {
    pub port: u16,
    state: Shared,
}

impl FakeKube {
    /// Starts the server on a free port.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        listener.set_nonblocking(true).expect("non-blocking");
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/api/v1/namespaces/{ns}/secrets/{name}", any(secret))
            .route(
                "/api/v1/namespaces/{ns}/serviceaccounts/{name}",
                any(service_account),
            )
            .route(
                "/apis/events.k8s.io/v1/namespaces/{ns}/events",
                any(create_event),
            )
            .route(
                "/api/v1/namespaces/{ns}/configmaps",
                any(lists::config_maps),
            )
            .route(
                "/apis/batch/v1/namespaces/{ns}/cronjobs",
                any(lists::cron_jobs),
            )
            .route("/apis/batch/v1/namespaces/{ns}/jobs", any(lists::jobs))
            .route("/api/v1/namespaces", any(lists::namespaces))
            .route("/api/v1/secrets", any(lists::all_secrets))
            .route("/api/v1/serviceaccounts", any(lists::all_service_accounts))
            .fallback(unknown)
            .with_state(Arc::clone(&state));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("fake kube runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let acceptor = tls_acceptor();
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    let service = hyper_util::service::TowerToHyperService::new(app.clone());
                    tokio::spawn(async move {
                        // A client that gives up during the handshake is not the fake's error.
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let io = hyper_util::rt::TokioIo::new(tls);
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, service)
                            .await;
                    });
                }
            });
        });
        Self { port, state }
    }

    /// `https://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A client for this server, configured like the binary's, trusting [`CERT_PEM`] (call
    /// inside a tokio runtime).
    pub fn client(&self, settings: &ecr_refresher::Settings) -> kube::Client {
        let mut config = kube::Config::new(self.url().parse().expect("valid url"));
        let der = CertificateDer::from_pem_slice(CERT_PEM.as_bytes()).expect("test certificate");
        config.root_cert = Some(vec![der.to_vec()]);
        ecr_refresher::kube_client_with(config, settings.request_timeout).expect("kube client")
    }

    /// Writes a kubeconfig pointing at this server into `dir` and returns its path.
    pub fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let path = dir.join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n\
             \x20   certificate-authority-data: {}\n\
             contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\n\
             current-context: fake\nusers:\n- name: fake\n  user:\n    token: fake-token\n",
            self.url(),
            base64::engine::general_purpose::STANDARD.encode(CERT_PEM),
        );
        std::fs::write(&path, text).expect("write kubeconfig");
        path
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().expect("fake kube state")
    }

    /// Stores an object as if `manager` had created it with a non-apply write (like `kubectl
    /// create`): the manager owns every field it set.
    pub fn seed(&self, namespace: &str, object: Value, manager: &str) {
        let mut inner = self.lock();
        let name = object["metadata"]["name"]
            .as_str()
            .expect("seeded object has a name")
            .to_owned();
        let fields = fields_of(&object).into_keys().collect();
        let mut stored = object;
        inner.next_version += 1;
        let version = inner.next_version;
        let meta = stored["metadata"].as_object_mut().expect("metadata");
        meta.insert("namespace".into(), json!(namespace));
        meta.insert("uid".into(), json!(format!("uid-{namespace}-{name}")));
        meta.insert("resourceVersion".into(), json!(version.to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
        let managers = BTreeMap::from([(
            manager.to_owned(),
            Ownership {
                operation: "Update",
                fields,
            },
        )]);
        inner.objects.insert(
            (namespace.to_owned(), name),
            Stored {
                object: stored,
                managers,
            },
        );
    }

    /// The stored object, with `metadata.managedFields`, or None.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Value> {
        let inner = self.lock();
        inner
            .objects
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(rendered)
    }

    /// Field paths owned by each manager, as `type`, `data..dockerconfigjson`,
    /// `metadata.labels.<key>`, ….
    pub fn owners(&self, namespace: &str, name: &str) -> BTreeMap<String, BTreeSet<String>> {
        let inner = self.lock();
        inner
            .objects
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|stored| {
                stored
                    .managers
                    .iter()
                    .map(|(m, o)| (m.clone(), o.fields.iter().map(|f| f.join(".")).collect()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The next `times` requests with `method` answer `status` (faults queue in order).
    pub fn fail_next(&self, method: Method, status: u16, times: usize) {
        self.lock().faults.push(Fault {
            method,
            status,
            remaining: times,
        });
    }

    /// The next `times` requests with `method` get no answer for `duration` (then a normal one).
    pub fn stall_next(&self, method: Method, duration: std::time::Duration, times: usize) {
        self.lock().stalls.push(Stall {
            method,
            duration,
            remaining: times,
        });
    }

    /// Every request into `namespace` answers 403 Forbidden.
    pub fn forbid_namespace(&self, namespace: &str) {
        self.lock().forbidden.insert(namespace.to_owned());
    }

    /// Only these namespaces exist; creating a Secret elsewhere answers 404.
    pub fn only_namespaces(&self, namespaces: &[&str]) {
        self.lock().namespaces = Some(namespaces.iter().map(|s| (*s).to_owned()).collect());
    }

    /// Every Event created so far, in order, as stored.
    pub fn events(&self) -> Vec<Value> {
        self.lock().events.clone()
    }

    /// Every create of an Event answers 403 Forbidden (no RBAC for events).
    pub fn forbid_events(&self) {
        self.lock().events_forbidden = true;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    /// Stores a ServiceAccount `name` with these `imagePullSecrets` names (`None`: no list).
    pub fn seed_service_account(&self, namespace: &str, name: &str, pull_secrets: Option<&[&str]>) {
        let mut inner = self.lock();
        inner.next_version += 1;
        let mut object = json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": format!("uid-sa-{namespace}-{name}"),
                "resourceVersion": inner.next_version.to_string(),
                "creationTimestamp": now(),
            },
        });
        if let Some(names) = pull_secrets {
            object["imagePullSecrets"] = names.iter().map(|n| json!({"name": n})).collect();
        }
        inner
            .service_accounts
            .insert((namespace.to_owned(), name.to_owned()), object);
    }

    /// The stored ServiceAccount, or None.
    pub fn service_account(&self, namespace: &str, name: &str) -> Option<Value> {
        self.lock()
            .service_accounts
            .get(&(namespace.to_owned(), name.to_owned()))
            .cloned()
    }

    /// The `imagePullSecrets` names of a stored ServiceAccount, in order (empty if no list).
    pub fn pull_secrets(&self, namespace: &str, name: &str) -> Vec<String> {
        self.service_account(namespace, name)
            .and_then(|sa| sa["imagePullSecrets"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The next `times` ServiceAccount requests with `method` answer `status`.
    pub fn fail_next_service_account(&self, method: Method, status: u16, times: usize) {
        self.lock().sa_faults.push(Fault {
            method,
            status,
            remaining: times,
        });
    }

    /// Right after the next GET of ServiceAccount `namespace/name` answered, another writer
    /// appends `entry` to its `imagePullSecrets` (bumping the resourceVersion), so a patch
    /// based on that GET meets a changed object.
    pub fn race_after_next_get(&self, namespace: &str, name: &str, entry: &str) {
        self.lock().races.push(Race {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            entry: entry.to_owned(),
        });
    }
}

/// The request's `Content-Type`, if it has a readable one.
fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn service_account(
    State(state): State<Shared>,
    method: Method,
    UrlPath((namespace, name)): UrlPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = content_type(&headers);
    let mut inner = state.lock().expect("state");
    inner.requests.push(Request::received(
        &method,
        format!("/api/v1/namespaces/{namespace}/serviceaccounts/{name}"),
        query,
        content_type.clone(),
    ));
    if inner.forbidden.contains(&namespace) {
        return forbidden("serviceaccounts", &name, &namespace, &method);
    }
    if let Some(fault) = inner
        .sa_faults
        .iter_mut()
        .find(|f| f.method == method && f.remaining > 0)
    {
        fault.remaining -= 1;
        let code = fault.status;
        return status(
            code,
            reason_for(code),
            format!("injected fault {code}"),
            None,
        );
    }
    let key = (namespace.clone(), name.clone());
    match method {
        Method::GET => {
            let Some(object) = inner.service_accounts.get(&key).cloned() else {
                return not_found("serviceaccounts", &name);
            };
            if let Some(i) = inner
                .races
                .iter()
                .position(|r| r.namespace == namespace && r.name == name)
            {
                let race = inner.races.remove(i);
                inner.next_version += 1;
                let version = inner.next_version.to_string();
                let stored = inner.service_accounts.get_mut(&key).expect("present");
                let list = stored
                    .as_object_mut()
                    .expect("object")
                    .entry("imagePullSecrets")
                    .or_insert_with(|| json!([]));
                list.as_array_mut()
                    .expect("array")
                    .push(json!({"name": race.entry}));
                stored["metadata"]["resourceVersion"] = json!(version);
            }
            (StatusCode::OK, axum::Json(object)).into_response()
        }
        Method::PATCH => {
            if content_type.as_deref() != Some("application/json-patch+json") {
                return status(
                    415,
                    "UnsupportedMediaType",
                    format!(
                        "the fake only implements JSON Patch for ServiceAccounts, got {content_type:?}"
                    ),
                    None,
                );
            }
            let Some(current) = inner.service_accounts.get(&key).cloned() else {
                return not_found("serviceaccounts", &name);
            };
            let ops: Vec<Value> = match serde_json::from_slice(&body) {
                Ok(Value::Array(ops)) => ops,
                Ok(_) | Err(_) => {
                    return status(
                        400,
                        "BadRequest",
                        "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
                            .into(),
                        None,
                    );
                }
            };
            let patched = match json_patch(current.clone(), &ops) {
                Ok(patched) => patched,
                Err(cause) => {
                    return status(
                        422,
                        "Invalid",
                        "the server rejected our request due to an error in our request".into(),
                        Some(
                            json!({"causes": [{"reason": "UnexpectedServerResponse", "message": cause}]}),
                        ),
                    );
                }
            };
            if patched["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"] {
                return status(
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on serviceaccounts \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                    ),
                    None,
                );
            }
            inner.next_version += 1;
            let mut patched = patched;
            patched["metadata"]["resourceVersion"] = json!(inner.next_version.to_string());
            inner.service_accounts.insert(key, patched.clone());
            (StatusCode::OK, axum::Json(patched)).into_response()
        }
        other => status(
            405,
            "MethodNotAllowed",
            format!(
                "the fake does not implement {other} on ServiceAccounts (the refresher must not use it)"
            ),
            None,
        ),
    }
}

/// RFC 6902 on `doc`, with the error texts of the JSON Patch library kube-apiserver uses.
fn json_patch(mut doc: Value, ops: &[Value]) -> Result<Value, String> {
    for op in ops {
        let path = op["path"].as_str().ok_or("missing path")?;
        let tokens: Vec<String> = path
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let (last, parents) = tokens
            .split_last()
            .ok_or_else(|| format!("invalid path {path:?}"))?;
        let mut parent = &mut doc;
        for token in parents {
            parent = match parent {
                Value::Object(map) => map.get_mut(token),
                Value::Array(items) => token.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                _ => None,
            }
            .ok_or_else(|| {
                format!(
                    "{} operation does not apply: doc is missing path: {path:?}",
                    op["op"].as_str().unwrap_or("?")
                )
            })?;
        }
        let missing = || {
            format!(
                "{} operation does not apply: doc is missing path: {path:?}",
                op["op"].as_str().unwrap_or("?")
            )
        };
        match op["op"].as_str() {
            Some("test") => {
                let found = match &*parent {
                    Value::Object(map) => map.get(last),
                    Value::Array(items) => last.parse::<usize>().ok().and_then(|i| items.get(i)),
                    _ => None,
                };
                if found != Some(&op["value"]) {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            Some("add") => match parent {
                Value::Object(map) => {
                    map.insert(last.clone(), op["value"].clone());
                }
                Value::Array(items) if last == "-" => items.push(op["value"].clone()),
                Value::Array(items) => {
                    let i = last
                        .parse::<usize>()
                        .ok()
                        .filter(|i| *i <= items.len())
                        .ok_or_else(missing)?;
                    items.insert(i, op["value"].clone());
                }
                _ => return Err(missing()),
            },
            Some("remove") => match parent {
                Value::Object(map) => {
                    map.remove(last).ok_or_else(missing)?;
                }
                Value::Array(items) => {
                    let i = last
                        .parse::<usize>()
                        .ok()
                        .filter(|i| *i < items.len())
                        .ok_or_else(missing)?;
                    items.remove(i);
                }
                _ => return Err(missing()),
            },
            Some("replace") => {
                let target = match parent {
                    Value::Object(map) => map.get_mut(last),
                    Value::Array(items) => {
                        last.parse::<usize>().ok().and_then(|i| items.get_mut(i))
                    }
                    _ => None,
                }
                .ok_or_else(missing)?;
                *target = op["value"].clone();
            }
            other => return Err(format!("Unexpected kind: {}", other.unwrap_or_default())),
        }
    }
    Ok(doc)
}

fn now() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .expect("now")
        .to_string()
}

fn status(code: u16, reason: &str, message: String, details: Option<Value>) -> Response {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    let code = StatusCode::from_u16(code).expect("valid status");
    (code, axum::Json(body)).into_response()
}

/// 403 as the API server words it for the test's ServiceAccount: `get` for a GET, else `patch`.
fn forbidden(resource: &str, name: &str, namespace: &str, method: &Method) -> Response {
    let verb = if method == Method::GET {
        "get"
    } else {
        "patch"
    };
    status(
        403,
        "Forbidden",
        format!(
            "{resource} \"{name}\" is forbidden: User \"system:serviceaccount:default:test\" cannot {verb} resource \"{resource}\" in API group \"\" in the namespace \"{namespace}\""
        ),
        None,
    )
}

/// 404 for a missing namespaced object, with the details the API server gives.
fn not_found(resource: &str, name: &str) -> Response {
    status(
        404,
        "NotFound",
        format!("{resource} \"{name}\" not found"),
        Some(json!({"name": name, "kind": resource})),
    )
}

fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    }
}

async fn unknown(State(state): State<Shared>, method: Method, uri: axum::http::Uri) -> Response {
    state.lock().expect("state").requests.push(Request {
        method,
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        content_type: None,
    });
    status(
        404,
        "NotFound",
        format!(
            "the server could not find the requested resource {}",
            uri.path()
        ),
        None,
    )
}

async fn secret(
    State(state): State<Shared>,
    method: Method,
    UrlPath((namespace, name)): UrlPath<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = content_type(&headers);
    let request = Request::received(
        &method,
        format!("/api/v1/namespaces/{namespace}/secrets/{name}"),
        query,
        content_type.clone(),
    );
    let stall = {
        let mut inner = state.lock().expect("state");
        inner.requests.push(request.clone());
        inner
            .stalls
            .iter_mut()
            .find(|s| s.method == method && s.remaining > 0)
            .map(|s| {
                s.remaining -= 1;
                s.duration
            })
    };
    if let Some(duration) = stall {
        tokio::time::sleep(duration).await;
    }
    let mut inner = state.lock().expect("state");

    if inner.forbidden.contains(&namespace) {
        return forbidden("secrets", &name, &namespace, &method);
    }
    if let Some(fault) = inner
        .faults
        .iter_mut()
        .find(|f| f.method == method && f.remaining > 0)
    {
        fault.remaining -= 1;
        let code = fault.status;
        let message = match code {
            409 => format!(
                "Operation cannot be fulfilled on secrets \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
            other => format!("injected fault {other}"),
        };
        return status(code, reason_for(code), message, None);
    }

    let key = (namespace.clone(), name.clone());
    match method {
        Method::GET => match inner.objects.get(&key) {
            Some(stored) => (StatusCode::OK, axum::Json(rendered(stored))).into_response(),
            None => not_found("secrets", &name),
        },
        Method::PATCH => {
            if content_type.as_deref() != Some("application/apply-patch+yaml") {
                return status(
                    415,
                    "UnsupportedMediaType",
                    format!("the fake only implements server-side apply, got {content_type:?}"),
                    None,
                );
            }
            apply(&mut inner, &request, &namespace, &name, &body)
        }
        Method::DELETE => delete(&mut inner, &namespace, &name, &body),
        other => status(
            405,
            "MethodNotAllowed",
            format!("the fake does not implement {other} (the refresher must not use it)"),
            None,
        ),
    }
}

/// DELETE of a Secret: 404 if absent; the DeleteOptions' `preconditions` (uid,
/// resourceVersion) must match the stored object, else 409 with the API server's wording; then
/// the object is gone and a `Success` Status answers.
fn delete(inner: &mut Inner, namespace: &str, name: &str, body: &[u8]) -> Response {
    let key = (namespace.to_owned(), name.to_owned());
    let Some(stored) = inner.objects.get(&key) else {
        return not_found("secrets", name);
    };
    let options: Value = serde_json::from_slice(body).unwrap_or_else(|_| json!({}));
    let meta = &stored.object["metadata"];
    for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        if let Some(wanted) = options["preconditions"][field].as_str() {
            let actual = meta[field].as_str().unwrap_or_default();
            if wanted != actual {
                return status(
                    409,
                    "Conflict",
                    format!(
                        "Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {actual}"
                    ),
                    None,
                );
            }
        }
    }
    let uid = meta["uid"].clone();
    inner.objects.remove(&key);
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "kind": "secrets", "uid": uid},
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn apply(
    inner: &mut Inner,
    request: &Request,
    namespace: &str,
    name: &str,
    body: &[u8],
) -> Response {
    let Some(manager) = request.param("fieldManager").filter(|m| !m.is_empty()) else {
        return status(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(), None);
    };
    let force = request.param("force").as_deref() == Some("true");
    let patch: Value = match serde_yaml::from_slice(body) {
        Ok(v) => v,
        Err(e) => return status(400, "BadRequest", format!("error decoding YAML: {e}"), None),
    };
    if patch["apiVersion"] != "v1" || patch["kind"] != "Secret" {
        return status(
            400,
            "BadRequest",
            "apply patch must name apiVersion v1 and kind Secret".into(),
            None,
        );
    }
    if patch["metadata"]["name"] != name {
        return status(
            400,
            "BadRequest",
            "the name of the object does not match the name on the URL".into(),
            None,
        );
    }
    if let Some(ns) = patch["metadata"]["namespace"].as_str()
        && ns != namespace
    {
        return status(
            400,
            "BadRequest",
            "the namespace of the object does not match the namespace on the request".into(),
            None,
        );
    }
    let applied = fields_of(&patch);
    let key = (namespace.to_owned(), name.to_owned());

    let Some(stored) = inner.objects.get_mut(&key) else {
        if let Some(existing) = &inner.namespaces
            && !existing.contains(namespace)
        {
            return status(
                404,
                "NotFound",
                format!("namespaces \"{namespace}\" not found"),
                None,
            );
        }
        if let Some(refused) = lists::refuse_create_in_terminating(inner, namespace, name) {
            return refused;
        }
        inner.next_version += 1;
        let mut object = json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "uid": format!("uid-{namespace}-{name}"),
                "resourceVersion": inner.next_version.to_string(),
                "creationTimestamp": now(),
            },
            "type": patch.get("type").cloned().unwrap_or(json!("Opaque")),
        });
        for (field, value) in &applied {
            set_field(&mut object, field, value.clone());
        }
        let stored = Stored {
            object,
            managers: BTreeMap::from([(
                manager,
                Ownership {
                    operation: "Apply",
                    fields: applied.keys().cloned().collect(),
                },
            )]),
        };
        let body = rendered(&stored);
        inner.objects.insert(key, stored);
        return (StatusCode::CREATED, axum::Json(body)).into_response();
    };

    let old_type = stored.object["type"]
        .as_str()
        .unwrap_or("Opaque")
        .to_owned();
    if let Some(new_type) = patch["type"].as_str()
        && new_type != old_type
    {
        return status(
            422,
            "Invalid",
            format!(
                "Secret \"{name}\" is invalid: type: Invalid value: \"{new_type}\": field is immutable"
            ),
            Some(
                json!({"name": name, "kind": "Secret", "causes": [{"reason": "FieldValueInvalid", "message": format!("Invalid value: \"{new_type}\": field is immutable"), "field": "type"}]}),
            ),
        );
    }

    // Conflicts: a field another manager owns, applied with a different value.
    let current = fields_of(&stored.object);
    let mut conflicts = Vec::new();
    for (field, value) in &applied {
        for (other, ownership) in &stored.managers {
            if *other != manager
                && ownership.fields.contains(field)
                && current.get(field) != Some(value)
            {
                conflicts.push(format!("conflict with \"{other}\": .{}", field.join(".")));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return status(
            409,
            "Conflict",
            format!(
                "Apply failed with {} conflicts: {}",
                conflicts.len(),
                conflicts.join("; ")
            ),
            None,
        );
    }
    if force {
        for (other, ownership) in stored.managers.iter_mut() {
            if *other != manager {
                ownership.fields.retain(|f| match applied.get(f) {
                    Some(value) => current.get(f) == Some(value),
                    None => true,
                });
            }
        }
    }

    // Fields this manager applied before but not now: removed unless someone else owns them.
    let previous = stored
        .managers
        .get(&manager)
        .map(|o| o.fields.clone())
        .unwrap_or_default();
    for field in previous.iter().filter(|f| !applied.contains_key(*f)) {
        let owned_elsewhere = stored
            .managers
            .iter()
            .any(|(m, o)| *m != manager && o.fields.contains(field));
        if !owned_elsewhere {
            remove_field(&mut stored.object, field);
        }
    }
    for (field, value) in &applied {
        set_field(&mut stored.object, field, value.clone());
    }
    stored.managers.insert(
        manager,
        Ownership {
            operation: "Apply",
            fields: applied.keys().cloned().collect(),
        },
    );
    stored.managers.retain(|_, o| !o.fields.is_empty());
    inner.next_version += 1;
    let version = inner.next_version.to_string();
    let stored = inner.objects.get_mut(&key).expect("still there");
    stored.object["metadata"]["resourceVersion"] = json!(version);
    (StatusCode::OK, axum::Json(rendered(stored))).into_response()
}

/// The fields of an object a manager can own, with their values.
fn fields_of(object: &Value) -> BTreeMap<Field, Value> {
    let mut fields = BTreeMap::new();
    let Some(map) = object.as_object() else {
        return fields;
    };
    for (key, value) in map {
        match key.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" => {
                for section in ["labels", "annotations"] {
                    if let Some(entries) = value[section].as_object() {
                        for (k, v) in entries {
                            fields.insert(
                                vec!["metadata".into(), section.into(), k.clone()],
                                v.clone(),
                            );
                        }
                    }
                }
                if let Some(refs) = value["ownerReferences"].as_array() {
                    for r in refs {
                        let uid = r["uid"].as_str().unwrap_or_default().to_owned();
                        fields.insert(
                            vec!["metadata".into(), "ownerReferences".into(), uid],
                            r.clone(),
                        );
                    }
                }
            }
            "data" | "stringData" => {
                if let Some(entries) = value.as_object() {
                    for (k, v) in entries {
                        fields.insert(vec![key.clone(), k.clone()], v.clone());
                    }
                }
            }
            _ => {
                fields.insert(vec![key.clone()], value.clone());
            }
        }
    }
    fields
}

fn set_field(object: &mut Value, field: &Field, value: Value) {
    match field.as_slice() {
        [meta, refs, uid] if meta == "metadata" && refs == "ownerReferences" => {
            let list = object["metadata"]
                .as_object_mut()
                .expect("metadata")
                .entry("ownerReferences")
                .or_insert_with(|| json!([]));
            let items = list.as_array_mut().expect("array");
            items.retain(|r| r["uid"] != uid.as_str());
            items.push(value);
        }
        [meta, section, key] if meta == "metadata" => {
            object["metadata"]
                .as_object_mut()
                .expect("metadata")
                .entry(section.clone())
                .or_insert_with(|| json!({}))[key] = value;
        }
        [map, key] => {
            object
                .as_object_mut()
                .expect("object")
                .entry(map.clone())
                .or_insert_with(|| json!({}))[key] = value;
        }
        [key] => object[key] = value,
        _ => panic!("unexpected field {field:?}"),
    }
}

fn remove_field(object: &mut Value, field: &Field) {
    match field.as_slice() {
        [meta, refs, uid] if meta == "metadata" && refs == "ownerReferences" => {
            if let Some(items) = object["metadata"]["ownerReferences"].as_array_mut() {
                items.retain(|r| r["uid"] != uid.as_str());
            }
        }
        [meta, section, key] if meta == "metadata" => {
            if let Some(map) = object["metadata"][section].as_object_mut() {
                map.remove(key);
            }
        }
        [map, key] => {
            if let Some(map) = object[map].as_object_mut() {
                map.remove(key);
            }
        }
        [key] => {
            if let Some(map) = object.as_object_mut() {
                map.remove(key);
            }
        }
        _ => panic!("unexpected field {field:?}"),
    }
}

/// The object as the API returns it: with `metadata.managedFields` in FieldsV1 form.
fn rendered(stored: &Stored) -> Value {
    let mut object = stored.object.clone();
    let managed: Vec<Value> = stored
        .managers
        .iter()
        .map(|(manager, ownership)| {
            let mut fields_v1 = json!({});
            for field in &ownership.fields {
                let mut node = &mut fields_v1;
                for (i, part) in field.iter().enumerate() {
                    let key = if i == 2 && field[1] == "ownerReferences" {
                        format!("k:{{\"uid\":\"{part}\"}}")
                    } else {
                        format!("f:{part}")
                    };
                    node = node
                        .as_object_mut()
                        .expect("object")
                        .entry(key)
                        .or_insert_with(|| json!({}));
                }
            }
            json!({
                "manager": manager,
                "operation": ownership.operation,
                "apiVersion": "v1",
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1,
            })
        })
        .collect();
    object["metadata"]["managedFields"] = json!(managed);
    object
}

/// `POST /apis/events.k8s.io/v1/namespaces/{ns}/events`, checked as the module doc says.
async fn create_event(
    State(state): State<Shared>,
    method: Method,
    UrlPath(namespace): UrlPath<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = content_type(&headers);
    let mut inner = state.lock().expect("state");
    inner.requests.push(Request::received(
        &method,
        format!("/apis/events.k8s.io/v1/namespaces/{namespace}/events"),
        query,
        content_type,
    ));
    if method != Method::POST {
        return status(
            405,
            "MethodNotAllowed",
            format!("the fake only creates Events, got {method}"),
            None,
        );
    }
    if inner.events_forbidden || inner.forbidden.contains(&namespace) {
        return status(
            403,
            "Forbidden",
            format!(
                "events.events.k8s.io is forbidden: User \"system:serviceaccount:default:test\" cannot create resource \"events\" in API group \"events.k8s.io\" in the namespace \"{namespace}\""
            ),
            None,
        );
    }
    let mut event: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return status(400, "BadRequest", format!("error decoding JSON: {e}"), None),
    };
    match event["metadata"]["namespace"].as_str() {
        Some(ns) if ns != namespace => {
            return status(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request".into(),
                None,
            );
        }
        _ => event["metadata"]["namespace"] = json!(namespace),
    }
    if let Some(time) = event["eventTime"].as_str()
        && !is_micro_time(time)
    {
        return status(
            400,
            "BadRequest",
            format!(
                "parsing time \"{time}\" as \"2006-01-02T15:04:05.000000Z07:00\": cannot parse"
            ),
            None,
        );
    }
    let causes = event_faults(&event, &namespace);
    let name = event["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !causes.is_empty() {
        let list: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let details = json!({
            "name": name,
            "group": "events.k8s.io",
            "kind": "Event",
            "causes": causes.iter().map(|(f, m)| json!({"field": f, "message": m, "reason": "FieldValueInvalid"})).collect::<Vec<_>>(),
        });
        return status(
            422,
            "Invalid",
            format!(
                "Event.events.k8s.io \"{name}\" is invalid: [{}]",
                list.join(", ")
            ),
            Some(details),
        );
    }
    inner.next_version += 1;
    let meta = event["metadata"].as_object_mut().expect("metadata checked");
    meta.insert(
        "uid".into(),
        json!(format!("uid-event-{}", inner.next_version)),
    );
    meta.insert(
        "resourceVersion".into(),
        json!(inner.next_version.to_string()),
    );
    meta.insert("creationTimestamp".into(), json!(now()));
    inner.events.push(event.clone());
    (StatusCode::CREATED, axum::Json(event)).into_response()
}

/// RFC 3339 with exactly six fractional digits and `Z`, as Go parses `MicroTime`.
fn is_micro_time(text: &str) -> bool {
    let Some((seconds, fraction)) = text.split_once('.') else {
        return false;
    };
    let Some(digits) = fraction.strip_suffix('Z') else {
        return false;
    };
    digits.len() == 6
        && digits.bytes().all(|b| b.is_ascii_digit())
        && format!("{seconds}Z").parse::<jiff::Timestamp>().is_ok()
}

/// What `ValidateEventCreate` refuses in an events.k8s.io/v1 Event, as (field, message).
fn event_faults(event: &Value, namespace: &str) -> Vec<(String, String)> {
    let mut faults = Vec::new();
    let mut fault = |field: &str, message: String| faults.push((field.to_owned(), message));
    let text = |key: &str| event[key].as_str().unwrap_or_default();
    let name = event["metadata"]["name"].as_str().unwrap_or_default();
    if name.is_empty() {
        fault(
            "metadata.name",
            "Required value: name or generateName is required".into(),
        );
    } else if ecr_contract::rules::dns_subdomain(name).is_err() {
        fault(
            "metadata.name",
            format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
            ),
        );
    }
    if event["eventTime"].is_null() {
        fault("eventTime", "Required value".into());
    }
    if !matches!(text("type"), "Normal" | "Warning") {
        fault(
            "type",
            format!(
                "Unsupported value: \"{}\": supported values: \"Normal\", \"Warning\"",
                text("type")
            ),
        );
    }
    let controller = text("reportingController");
    if controller.is_empty() {
        fault("reportingController", "Required value".into());
    } else if !is_qualified_name(controller) {
        fault(
            "reportingController",
            format!("Invalid value: \"{controller}\": must be a qualified name"),
        );
    }
    for key in ["reportingInstance", "action", "reason"] {
        let value = text(key);
        if value.is_empty() {
            fault(key, "Required value".into());
        } else if value.chars().count() > 128 {
            fault(key, "Too long: may not be more than 128 bytes".into());
        }
    }
    if text("note").len() > 1024 {
        fault("note", "Too long: may not be more than 1024 bytes".into());
    }
    let regarding = event["regarding"]["namespace"].as_str().unwrap_or_default();
    if regarding != namespace {
        fault(
            "regarding.namespace",
            format!("Invalid value: \"{regarding}\": does not match event.namespace"),
        );
    }
    for key in [
        "deprecatedFirstTimestamp",
        "deprecatedLastTimestamp",
        "deprecatedCount",
        "deprecatedSource",
    ] {
        if !event[key].is_null() {
            fault(key, "Invalid value: needs to be unset".into());
        }
    }
    faults
}

/// A Kubernetes qualified name (`[prefix/]name`, name ≤ 63 of alphanumerics, '-', '_', '.',
/// starting and ending alphanumeric; prefix a DNS subdomain).
fn is_qualified_name(text: &str) -> bool {
    let (prefix, name) = match text.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, text),
    };
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    prefix.is_none_or(|p| ecr_contract::rules::dns_subdomain(p).is_ok())
        && !name.is_empty()
        && name.len() <= 63
        && alnum(name.chars().next())
        && alnum(name.chars().last())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
