// Lists of the fake API (what `ecr-refresher status` and the namespace selectors read):
// Namespaces (`/api/v1/namespaces`), every namespace's Secrets (`/api/v1/secrets`), ConfigMaps
// (`/api/v1/namespaces/{ns}/configmaps`), CronJobs and Jobs
// (`/apis/batch/v1/namespaces/{ns}/{cronjobs,jobs}`), `GET` only, filtered by `labelSelector`
// as kube-apiserver filters it (`k8s.io/apimachinery/pkg/labels`: requirements joined by `,`,
// each `key`, `!key`, `key=v`, `key==v`, `key!=v`, `key in (a,b)` or `key notin (a,b)`; `!=`
// and `notin` also match objects without the key; a selector that does not parse is 400
// BadRequest). Items are answered without `apiVersion`/`kind`, as the API server lists them.
// Namespaces and Secrets are paged with `limit` and `continue` as kube-apiserver pages them
// (see [`page`]).
//
// Included by fake_kube.rs as its `lists` module (`include!`, so the path is the same for the
// tests and the fake_kube_server example).

use super::*;

/// The list resources the fake serves: (plural, API path prefix, list kind, group).
const RESOURCES: [(&str, &str, &str, &str); 3] = [
    ("configmaps", "/api/v1", "ConfigMapList", ""),
    ("cronjobs", "/apis/batch/v1", "CronJobList", "batch"),
    ("jobs", "/apis/batch/v1", "JobList", "batch"),
];

impl FakeKube {
    /// Stores a ConfigMap, CronJob or Job (`resource` is its plural) in `namespace`; the
    /// object's own `creationTimestamp` is kept if it has one.
    pub fn seed_listed(&self, resource: &str, namespace: &str, mut object: Value) {
        assert!(
            RESOURCES.iter().any(|(plural, ..)| *plural == resource),
            "the fake lists no {resource}"
        );
        let mut inner = self.lock();
        inner.next_version += 1;
        let version = inner.next_version;
        let name = object["metadata"]["name"]
            .as_str()
            .expect("seeded object has a name")
            .to_owned();
        let meta = object["metadata"].as_object_mut().expect("metadata");
        meta.insert("namespace".into(), json!(namespace));
        meta.insert(
            "uid".into(),
            json!(format!("uid-{resource}-{namespace}-{name}")),
        );
        meta.insert("resourceVersion".into(), json!(version.to_string()));
        meta.entry("creationTimestamp")
            .or_insert_with(|| json!(now()));
        inner.listed.insert(
            (resource.to_owned(), namespace.to_owned(), name),
            as_listed(object),
        );
    }
}

/// `GET /api/v1/namespaces/{ns}/configmaps`.
pub(super) async fn config_maps(
    state: State<Shared>,
    method: Method,
    ns: UrlPath<String>,
    query: RawQuery,
) -> Response {
    list("configmaps", state, method, ns, query)
}

/// `GET /apis/batch/v1/namespaces/{ns}/cronjobs`.
pub(super) async fn cron_jobs(
    state: State<Shared>,
    method: Method,
    ns: UrlPath<String>,
    query: RawQuery,
) -> Response {
    list("cronjobs", state, method, ns, query)
}

/// `GET /apis/batch/v1/namespaces/{ns}/jobs`.
pub(super) async fn jobs(
    state: State<Shared>,
    method: Method,
    ns: UrlPath<String>,
    query: RawQuery,
) -> Response {
    list("jobs", state, method, ns, query)
}

fn list(
    resource: &str,
    State(state): State<Shared>,
    method: Method,
    UrlPath(namespace): UrlPath<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (_, prefix, kind, group) = RESOURCES
        .iter()
        .find(|(plural, ..)| *plural == resource)
        .copied()
        .expect("known resource");
    let mut inner = state.lock().expect("state");
    let request = Request::received(
        &method,
        format!("{prefix}/namespaces/{namespace}/{resource}"),
        query,
        None,
    );
    inner.requests.push(request.clone());
    if method != Method::GET {
        return status(
            405,
            "MethodNotAllowed",
            format!("the fake only lists {resource} (status must not write them)"),
            None,
        );
    }
    if inner.forbidden.contains(&namespace) {
        return status(
            403,
            "Forbidden",
            format!(
                "{resource} is forbidden: User \"system:serviceaccount:default:test\" cannot list resource \"{resource}\" in API group \"{group}\" in the namespace \"{namespace}\""
            ),
            None,
        );
    }
    let selector = request
        .param("labelSelector")
        .map(|raw| percent_decode(&raw))
        .unwrap_or_default();
    let requirements = match parse_selector(&selector) {
        Ok(requirements) => requirements,
        Err(why) => {
            return status(
                400,
                "BadRequest",
                format!("unable to parse requirement: {why}"),
                None,
            );
        }
    };
    let items: Vec<Value> = inner
        .listed
        .iter()
        .filter(|((r, ns, _), _)| r == resource && *ns == namespace)
        .map(|(_, object)| object)
        .filter(|object| {
            let labels = object["metadata"]["labels"].as_object();
            let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
            requirements.iter().all(|req| req.matches(label(&req.key)))
        })
        .cloned()
        .collect();
    let api_version = if group.is_empty() {
        "v1".to_owned()
    } else {
        format!("{group}/v1")
    };
    let body = json!({
        "kind": kind,
        "apiVersion": api_version,
        "metadata": { "resourceVersion": inner.next_version.to_string() },
        "items": items,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Decodes `%XX` and `+` of a query value.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Operator {
    Exists,
    DoesNotExist,
    In(Vec<String>),
    NotIn(Vec<String>),
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    operator: Operator,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (&self.operator, value) {
            (Operator::Exists, v) => v.is_some(),
            (Operator::DoesNotExist, v) => v.is_none(),
            (Operator::In(values), Some(v)) => values.iter().any(|x| x == v),
            (Operator::In(_), None) => false,
            (Operator::NotIn(values), Some(v)) => !values.iter().any(|x| x == v),
            (Operator::NotIn(_), None) => true,
        }
    }
}

/// A label key: an optional DNS-1123 subdomain prefix and `/`, then a name of at most 63
/// letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit.
fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            })
    });
    prefix_ok && !name.is_empty() && valid_value(name)
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_` or `.`, starting and ending
/// with a letter or digit.
fn valid_value(value: &str) -> bool {
    if value.is_empty() {
        return true;
    }
    let edge = |b: u8| b.is_ascii_alphanumeric();
    let bytes = value.as_bytes();
    value.len() <= 63
        && edge(bytes[0])
        && edge(bytes[bytes.len() - 1])
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Splits a selector at the commas outside parentheses and parses each requirement.
fn parse_selector(selector: &str) -> Result<Vec<Requirement>, String> {
    if selector.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&selector[start..]);
    parts.into_iter().map(parse_requirement).collect()
}

fn parse_requirement(text: &str) -> Result<Requirement, String> {
    let text = text.trim();
    let key_ok = |key: &str| {
        if valid_key(key) {
            Ok(key.to_owned())
        } else {
            Err(format!("invalid label key {key:?}"))
        }
    };
    let value_ok = |value: &str| {
        let value = value.trim();
        if valid_value(value) {
            Ok(value.to_owned())
        } else {
            Err(format!("invalid label value {value:?}"))
        }
    };
    if let Some(key) = text.strip_prefix('!') {
        return Ok(Requirement {
            key: key_ok(key.trim())?,
            operator: Operator::DoesNotExist,
        });
    }
    for (op, negated) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((key, value)) = text.split_once(op) {
            let values = vec![value_ok(value)?];
            return Ok(Requirement {
                key: key_ok(key.trim())?,
                operator: if negated {
                    Operator::NotIn(values)
                } else {
                    Operator::In(values)
                },
            });
        }
    }
    for (word, negated) in [(" notin ", true), (" in ", false)] {
        if let Some((key, rest)) = text.split_once(word) {
            let rest = rest.trim();
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("found {rest:?}, expected: '('"))?;
            let values = inner
                .split(',')
                .map(value_ok)
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Requirement {
                key: key_ok(key.trim())?,
                operator: if negated {
                    Operator::NotIn(values)
                } else {
                    Operator::In(values)
                },
            });
        }
    }
    Ok(Requirement {
        key: key_ok(text)?,
        operator: Operator::Exists,
    })
}

impl FakeKube {
    /// Stores a Namespace `name` with these labels (and the `kubernetes.io/metadata.name` label
    /// the API server adds to every namespace). Once one is seeded, only seeded namespaces
    /// exist: creating a Secret in another answers 404 as the API server does.
    pub fn seed_namespace(&self, name: &str, labels: &[(&str, &str)]) {
        let mut inner = self.lock();
        inner.next_version += 1;
        let mut map: serde_json::Map<String, Value> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        map.insert("kubernetes.io/metadata.name".into(), json!(name));
        let object = json!({
            "metadata": {
                "name": name,
                "uid": format!("uid-namespace-{name}"),
                "resourceVersion": inner.next_version.to_string(),
                "creationTimestamp": now(),
                "labels": map,
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        });
        inner.namespace_objects.insert(name.to_owned(), object);
        inner
            .namespaces
            .get_or_insert_with(BTreeSet::new)
            .insert(name.to_owned());
    }

    /// Marks seeded namespace `name` as being deleted, as `kubectl delete namespace` leaves it
    /// while its finalizers run: `metadata.deletionTimestamp` set, `status.phase: Terminating`.
    pub fn terminate_namespace(&self, name: &str) {
        let mut inner = self.lock();
        let object = inner
            .namespace_objects
            .get_mut(name)
            .expect("terminate a seeded namespace");
        object["metadata"]["deletionTimestamp"] = json!(now());
        object["status"]["phase"] = json!("Terminating");
    }
}

/// The NamespaceLifecycle admission plugin's answer to creating `secrets/name` in a namespace
/// being deleted: 403 Forbidden with a `NamespaceTerminating` cause. None if it may be created.
pub(super) fn refuse_create_in_terminating(
    inner: &Inner,
    namespace: &str,
    name: &str,
) -> Option<Response> {
    let object = inner.namespace_objects.get(namespace)?;
    object["metadata"].get("deletionTimestamp")?;
    Some(status(
        403,
        "Forbidden",
        format!(
            "secrets \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated"
        ),
        Some(json!({
            "name": name,
            "kind": "secrets",
            "causes": [{
                "reason": "NamespaceTerminating",
                "message": format!("namespace {namespace} is being terminated"),
                "field": "metadata.namespace",
            }],
        })),
    ))
}

/// A `fieldSelector` of `key=value` / `key==value` / `key!=value` terms on the fields
/// `supported` (as the API server registers them per resource); another field is 400
/// BadRequest `field label not supported`.
fn parse_field_selector(
    raw: &str,
    supported: &[&str],
) -> Result<Vec<(String, bool, String)>, String> {
    let mut terms = Vec::new();
    for term in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (field, negated, value) = if let Some((f, v)) = term.split_once("!=") {
            (f, true, v)
        } else if let Some((f, v)) = term.split_once("==") {
            (f, false, v)
        } else if let Some((f, v)) = term.split_once('=') {
            (f, false, v)
        } else {
            return Err(format!("invalid selector: '{term}'; can't understand '{term}'"));
        };
        let field = field.trim();
        if !supported.contains(&field) {
            return Err(format!("field label not supported: {field}"));
        }
        terms.push((field.to_owned(), negated, value.trim().to_owned()));
    }
    Ok(terms)
}

/// The value of a dotted field path (`metadata.name`, `status.phase`) of an object.
fn field_value<'a>(object: &'a Value, path: &str) -> &'a str {
    path.split('.')
        .fold(object, |node, part| &node[part])
        .as_str()
        .unwrap_or_default()
}

/// The test of both selectors of `request`, or why a selector does not parse (a 400); and
/// whether there is any selector.
fn selector(
    request: &Request,
    supported_fields: &[&str],
) -> Result<(impl Fn(&Value) -> bool, bool), String> {
    let bad = |why: String| why;
    let labels = request
        .param("labelSelector")
        .map(|raw| percent_decode(&raw))
        .unwrap_or_default();
    let requirements =
        parse_selector(&labels).map_err(|why| bad(format!("unable to parse requirement: {why}")))?;
    let fields = request
        .param("fieldSelector")
        .map(|raw| percent_decode(&raw))
        .unwrap_or_default();
    let terms = parse_field_selector(&fields, supported_fields).map_err(bad)?;
    let filtered = !requirements.is_empty() || !terms.is_empty();
    let test = move |object: &Value| {
        let labels = object["metadata"]["labels"].as_object();
        let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
        requirements.iter().all(|req| req.matches(label(&req.key)))
            && terms
                .iter()
                .all(|(field, negated, value)| (field_value(object, field) == value) != *negated)
    };
    Ok((test, filtered))
}

/// The version of the encoded continue token kube-apiserver writes and accepts.
const CONTINUE_VERSION: &str = "meta.k8s.io/v1";

/// A continue token as kube-apiserver's storage encodes it (`k8s.io/apiserver/pkg/storage`
/// `EncodeContinue`): URL-safe base64 without padding of `{"v","rv","start"}`, the list's
/// snapshot version and the key to go on from (the last key returned and a NUL byte).
fn encode_continue(version: u64, last_key: &str) -> String {
    let token = json!({"v": CONTINUE_VERSION, "rv": version, "start": format!("{last_key}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

/// The snapshot version and start key of a continue token, or why it is not valid (the
/// apiserver's `DecodeContinue` messages, answered 400 BadRequest).
fn decode_continue(token: &str) -> Result<(u64, String), String> {
    let invalid = |why: String| format!("continue key is not valid: {why}");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|e| invalid(e.to_string()))?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
    if value["v"].as_str() != Some(CONTINUE_VERSION) {
        return Err(invalid(
            "server does not recognize this encoded version".into(),
        ));
    }
    let version = value["rv"].as_u64().unwrap_or(0);
    if version == 0 {
        return Err(invalid(format!(
            "incorrect encoded start resourceVersion (version {CONTINUE_VERSION})"
        )));
    }
    let start = value["start"].as_str().unwrap_or_default();
    if start.is_empty() {
        return Err(invalid(format!(
            "encoded start key empty (version {CONTINUE_VERSION})"
        )));
    }
    Ok((version, start.to_owned()))
}

/// One page of a list, cut as kube-apiserver's etcd3 store cuts it: `objects` by storage key
/// (the name, or `namespace/name`), from the `continue` token's start key on; at most `limit`
/// items `test` picks (no `limit`, or 0: all). A page that stops at `limit` with any object
/// left after it (picked or not, so a filtered list's last page may be empty) carries a
/// `metadata.continue` token, and, for a list without selectors, `remainingItemCount`; the last
/// page has neither. Every page has the first page's `resourceVersion`. A token that does not
/// decode, or a `continue` with a `resourceVersion` other than "" or "0", is 400 BadRequest; a
/// token read before [`FakeKube::compact_lists`] is 410 Expired. Unlike the real server, a
/// later page reads the objects as they are now, not as they were at the token's version.
fn page(
    inner: &mut Inner,
    request: &Request,
    kind: &str,
    supported_fields: &[&str],
    objects: Vec<(String, Value)>,
) -> Response {
    let (test, filtered) = match selector(request, supported_fields) {
        Ok(found) => found,
        Err(why) => return status(400, "BadRequest", why, None),
    };
    let limit = match request.param("limit").map(|raw| raw.parse::<i64>()) {
        None => None,
        Some(Ok(n)) if n > 0 => Some(n as usize),
        Some(Ok(_)) => None,
        Some(Err(e)) => {
            return status(400, "BadRequest", format!("limit: {e}"), None);
        }
    };
    let token = request
        .param("continue")
        .map(|raw| percent_decode(&raw))
        .filter(|t| !t.is_empty());
    let (version, start) = match token {
        None => (inner.next_version.max(1), String::new()),
        Some(token) => {
            let resource_version = request.param("resourceVersion").unwrap_or_default();
            if !(resource_version.is_empty() || resource_version == "0") {
                return status(
                    400,
                    "BadRequest",
                    "specifying resource version is not allowed when using continue".into(),
                    None,
                );
            }
            match decode_continue(&token) {
                Err(why) => return status(400, "BadRequest", why, None),
                Ok((version, _)) if version <= inner.compacted => {
                    return status(
                        410,
                        "Expired",
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.".into(),
                        None,
                    );
                }
                Ok(found) => found,
            }
        }
    };
    let mut objects = objects;
    objects.sort_by(|a, b| a.0.cmp(&b.0));
    let mut items = Vec::new();
    let mut last_key = None;
    for (key, object) in objects.iter().filter(|(key, _)| *key >= start) {
        if limit.is_some_and(|limit| items.len() >= limit) {
            break;
        }
        if test(object) {
            items.push(object.clone());
        }
        last_key = Some(key.as_str());
    }
    let left = last_key.map_or(0, |last| objects.iter().filter(|(k, _)| k.as_str() > last).count());
    let mut metadata = json!({ "resourceVersion": version.to_string() });
    if let (Some(_), Some(last), true) = (limit, last_key, left > 0) {
        metadata["continue"] = json!(encode_continue(version, last));
        if !filtered {
            metadata["remainingItemCount"] = json!(left);
        }
        if std::mem::take(&mut inner.compact_after_page) {
            inner.compacted = version;
        }
    }
    let body = json!({
        "kind": kind,
        "apiVersion": "v1",
        "metadata": metadata,
        "items": items,
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

impl FakeKube {
    /// Compacts the fake's history as etcd does: the continue token of every list read so far
    /// answers 410 Expired from now on.
    pub fn compact_lists(&self) {
        let mut inner = self.lock();
        inner.compacted = inner.next_version.max(1);
    }

    /// [`FakeKube::compact_lists`] right after the next list page that has a continue token is
    /// answered, as if etcd compacted while a client was paging: that token answers 410.
    pub fn compact_after_next_page(&self) {
        self.lock().compact_after_page = true;
    }
}

/// A `GET` of a cluster-wide list: recorded, a queued GET fault answered, other methods 405.
fn cluster_list_request(
    inner: &mut Inner,
    method: &Method,
    path: &str,
    query: Option<String>,
) -> Result<Request, Box<Response>> {
    let request = Request::received(method, path.to_owned(), query, None);
    inner.requests.push(request.clone());
    if *method != Method::GET {
        return Err(Box::new(status(
            405,
            "MethodNotAllowed",
            format!("the fake only lists {path}"),
            None,
        )));
    }
    if let Some(fault) = inner
        .faults
        .iter_mut()
        .find(|f| f.method == Method::GET && f.remaining > 0)
    {
        fault.remaining -= 1;
        let code = fault.status;
        return Err(Box::new(status(
            code,
            reason_for(code),
            format!("injected fault {code}"),
            None,
        )));
    }
    Ok(request)
}

/// A cluster-wide list at `path`: recorded, faults answered ([`cluster_list_request`]), then the
/// objects `items` picks from the fake's state (each under its storage key), paged and
/// filtered as a `kind` with these `supported_fields`.
fn cluster_list(
    state: &Shared,
    method: &Method,
    query: Option<String>,
    (path, kind, supported_fields): (&str, &str, &[&str]),
    items: impl FnOnce(&Inner) -> Vec<(String, Value)>,
) -> Response {
    let mut inner = state.lock().expect("state");
    let request = match cluster_list_request(&mut inner, method, path, query) {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let all = items(&inner);
    page(&mut inner, &request, kind, supported_fields, all)
}

/// An object as the API server lists it: without `apiVersion` and `kind`.
fn as_listed(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("apiVersion");
        map.remove("kind");
    }
    object
}

/// `GET /api/v1/namespaces`: the seeded namespaces, by name, filtered by `labelSelector` and
/// a `fieldSelector` on `metadata.name` / `status.phase`.
pub(super) async fn namespaces(
    State(state): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
) -> Response {
    let list = (
        "/api/v1/namespaces",
        "NamespaceList",
        &["metadata.name", "status.phase"][..],
    );
    cluster_list(&state, &method, query, list, |inner| {
        let objects = inner.namespace_objects.iter();
        objects.map(|(name, o)| (name.clone(), o.clone())).collect()
    })
}

/// `GET /api/v1/secrets`: every namespace's Secrets (with their managedFields), by namespace
/// and name, filtered by `labelSelector` and a `fieldSelector` on `metadata.name`,
/// `metadata.namespace` and `type`. Forbidden namespaces are not special here (RBAC on a
/// cluster-wide list is all or nothing; see [`FakeKube::fail_next`]).
pub(super) async fn all_secrets(
    State(state): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
) -> Response {
    let list = (
        "/api/v1/secrets",
        "SecretList",
        &["metadata.name", "metadata.namespace", "type"][..],
    );
    cluster_list(&state, &method, query, list, |inner| {
        let objects = inner.objects.iter();
        let key = |(ns, name): &(String, String)| format!("{ns}/{name}");
        objects.map(|(k, stored)| (key(k), as_listed(rendered(stored)))).collect()
    })
}

/// `GET /api/v1/serviceaccounts`: every namespace's ServiceAccounts, paged like the Secrets,
/// filtered by `labelSelector` and a `fieldSelector` on `metadata.name` / `metadata.namespace`.
pub(super) async fn all_service_accounts(
    State(state): State<Shared>,
    method: Method,
    RawQuery(query): RawQuery,
) -> Response {
    let list = (
        "/api/v1/serviceaccounts",
        "ServiceAccountList",
        &["metadata.name", "metadata.namespace"][..],
    );
    cluster_list(&state, &method, query, list, |inner| {
        let objects = inner.service_accounts.iter();
        let key = |(ns, name): &(String, String)| format!("{ns}/{name}");
        objects.map(|(k, o)| (key(k), as_listed(o.clone()))).collect()
    })
}
