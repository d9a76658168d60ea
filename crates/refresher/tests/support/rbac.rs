//! kube-apiserver's RBAC decision, small: the attributes of a recorded request as
//! `staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go` derives them, and whether
//! the rendered Roles/ClusterRoles bound to a ServiceAccount allow them, as
//! `plugin/pkg/auth/authorizer/rbac/rbac.go` (`RuleAllows`) decides.
//!
//! What it follows:
//! - Verb from the method: GET/HEAD `get` (`list`, or `watch` with `watch=true`, when the URL
//!   names no object), POST `create`, PUT `update`, PATCH `patch`, DELETE `delete`
//!   (`deletecollection` without a name).
//! - `/api/v1/...` is the core group `""`, `/apis/{group}/{version}/...` that group; other paths
//!   are non-resource requests. `namespaces/{ns}/{resource}/...` sets the namespace; a bare
//!   `namespaces/{ns}` is resource `namespaces`, name and namespace `{ns}`.
//! - A list (or watch) with a `fieldSelector` requiring `metadata.name=X` is authorised with name
//!   `X` (requestinfo.go: `FieldSelector.RequiresExactMatch("metadata.name")`), so a rule with
//!   `resourceNames` can allow it.
//! - A server-side apply (`application/apply-patch+yaml`) that creates the object is also
//!   authorised as `create` on that name (`handlers/patch.go`, `createAuthorizerAttributes`).
//!   The recorder does not say whether an apply created, so every apply needs both (stricter).
//! - A rule matches when verb, API group, resource (`resource/subresource` if any) and, if the
//!   rule has `resourceNames`, the request's name (a request without one never matches) all
//!   match; `*` matches anything. A ClusterRoleBinding's rules hold in every namespace and for
//!   cluster-scoped requests; a RoleBinding's (to a Role or a ClusterRole) only in its own
//!   namespace.
//!
//! Not followed (the refresher never sends them): the deprecated `/watch/` path prefix and
//! `proxy`/`connect` subresource verbs, impersonation, aggregated ClusterRoles.

use axum::http::Method;
use serde_json::Value;

use super::fake_kube::Request;

/// What the authorizer is asked about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub resource_request: bool,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    /// Empty for cluster-scoped requests.
    pub namespace: String,
    /// Empty when the request names no object.
    pub name: String,
    pub path: String,
}

impl std::fmt::Display for Attributes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.resource_request {
            return write!(f, "{} {}", self.verb, self.path);
        }
        let resource = if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        write!(
            f,
            "{} {}.{} name={:?} namespace={:?} ({})",
            self.verb, resource, self.api_group, self.name, self.namespace, self.path
        )
    }
}

/// Subresources of a namespace itself (`namespaces/{ns}/status`), not namespaced resources.
const NAMESPACE_SUBRESOURCES: [&str; 2] = ["status", "finalize"];

/// `%XX` and `+` decoded, as Go's `url.ParseQuery` does.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded value of query parameter `key`.
fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// The name a field selector requires exactly (`metadata.name=X` or `==X` as one of its
/// comma-separated terms), as `fields.Selector.RequiresExactMatch` answers.
fn exact_name(selector: &str) -> Option<String> {
    selector.split(',').find_map(|term| {
        let term = term.trim();
        let value = term
            .strip_prefix("metadata.name==")
            .or_else(|| term.strip_prefix("metadata.name="))?;
        Some(value.to_owned())
    })
}

/// The attributes kube-apiserver authorises for `request`: one set, or two for a server-side
/// apply (`patch`, then `create` on the same name).
pub fn attributes(request: &Request) -> Vec<Attributes> {
    let path = request.path.clone();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (api_group, rest) = match parts.as_slice() {
        ["api", _version, rest @ ..] if !rest.is_empty() => (String::new(), rest.to_vec()),
        ["apis", group, _version, rest @ ..] if !rest.is_empty() => {
            ((*group).to_owned(), rest.to_vec())
        }
        _ => {
            return vec![Attributes {
                verb: request.method.as_str().to_lowercase(),
                resource_request: false,
                api_group: String::new(),
                resource: String::new(),
                subresource: String::new(),
                namespace: String::new(),
                name: String::new(),
                path,
            }];
        }
    };
    let mut verb = match request.method {
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "",
    }
    .to_owned();
    let mut current = rest;
    let mut namespace = String::new();
    if current[0] == "namespaces" && current.len() > 1 {
        namespace = current[1].to_owned();
        if current.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&current[2]) {
            current = current[2..].to_vec();
        }
    }
    let resource = current[0].to_owned();
    let mut name = current.get(1).map(|s| (*s).to_owned()).unwrap_or_default();
    let subresource = current.get(2).map(|s| (*s).to_owned()).unwrap_or_default();
    if name.is_empty() && verb == "get" {
        verb = match query_param(&request.query, "watch").as_deref() {
            Some("false" | "0") | None => "list",
            Some(_) => "watch",
        }
        .to_owned();
        if let Some(selected) = query_param(&request.query, "fieldSelector")
            .as_deref()
            .and_then(exact_name)
        {
            name = selected;
        }
    }
    if name.is_empty() && verb == "delete" {
        verb = "deletecollection".to_owned();
    }
    let asked = Attributes {
        verb,
        resource_request: true,
        api_group,
        resource,
        subresource,
        namespace,
        name,
        path,
    };
    let apply = request.method == Method::PATCH
        && request
            .content_type
            .as_deref()
            .is_some_and(|t| t.starts_with("application/apply-patch"));
    if apply {
        let create = Attributes {
            verb: "create".to_owned(),
            ..asked.clone()
        };
        vec![asked, create]
    } else {
        vec![asked]
    }
}

/// One PolicyRule.
#[derive(Debug, Clone, Default)]
pub struct Rule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Rule {
    fn from_json(rule: &Value) -> Self {
        Rule {
            verbs: strings(&rule["verbs"]),
            api_groups: strings(&rule["apiGroups"]),
            resources: strings(&rule["resources"]),
            resource_names: strings(&rule["resourceNames"]),
            non_resource_urls: strings(&rule["nonResourceURLs"]),
        }
    }

    /// `RuleAllows` of rbac.go.
    pub fn allows(&self, a: &Attributes) -> bool {
        let any = |list: &[String], wanted: &str| list.iter().any(|v| v == "*" || v == wanted);
        if !any(&self.verbs, &a.verb) {
            return false;
        }
        if !a.resource_request {
            return self.non_resource_urls.iter().any(|url| {
                url == "*"
                    || url == &a.path
                    || url
                        .strip_suffix('*')
                        .is_some_and(|prefix| a.path.starts_with(prefix))
            });
        }
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let resource_matches = self.resources.iter().any(|r| {
            r == "*"
                || r == &combined
                || (!a.subresource.is_empty() && r == &format!("*/{}", a.subresource))
        });
        let name_matches = self.resource_names.is_empty()
            || (!a.name.is_empty() && self.resource_names.contains(&a.name));
        any(&self.api_groups, &a.api_group) && resource_matches && name_matches
    }
}

/// The rules bound to one subject: `None` = cluster-wide (a ClusterRoleBinding), `Some(ns)` =
/// that namespace only (a RoleBinding).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub rules: Vec<(Option<String>, Rule)>,
}

fn text<'v>(value: &'v Value, path: &[&str]) -> &'v str {
    path.iter()
        .fold(value, |node, key| &node[*key])
        .as_str()
        .unwrap_or_default()
}

impl Policy {
    /// The rules that the (Cluster)RoleBindings among `objects` grant ServiceAccount
    /// `namespace/name`.
    pub fn of_service_account(objects: &[Value], namespace: &str, name: &str) -> Self {
        let binds = |binding: &Value| {
            binding["subjects"].as_array().is_some_and(|subjects| {
                subjects.iter().any(|s| {
                    text(s, &["kind"]) == "ServiceAccount"
                        && text(s, &["name"]) == name
                        && text(s, &["namespace"]) == namespace
                })
            })
        };
        let role = |kind: &str, role_namespace: Option<&str>, role_name: &str| {
            objects.iter().find(|o| {
                text(o, &["kind"]) == kind
                    && text(o, &["metadata", "name"]) == role_name
                    && role_namespace.is_none_or(|ns| text(o, &["metadata", "namespace"]) == ns)
            })
        };
        let mut rules = Vec::new();
        for binding in objects.iter().filter(|o| binds(o)) {
            let ref_kind = text(binding, &["roleRef", "kind"]);
            let ref_name = text(binding, &["roleRef", "name"]);
            let (scope, found) = match text(binding, &["kind"]) {
                "ClusterRoleBinding" if ref_kind == "ClusterRole" => {
                    (None, role("ClusterRole", None, ref_name))
                }
                "RoleBinding" => {
                    let ns = text(binding, &["metadata", "namespace"]);
                    let found = if ref_kind == "ClusterRole" {
                        role("ClusterRole", None, ref_name)
                    } else {
                        role("Role", Some(ns), ref_name)
                    };
                    (Some(ns.to_owned()), found)
                }
                _ => continue,
            };
            // A binding to a missing role grants nothing, as in the API server.
            let Some(found) = found else { continue };
            for rule in found["rules"].as_array().into_iter().flatten() {
                rules.push((scope.clone(), Rule::from_json(rule)));
            }
        }
        Policy { rules }
    }

    /// Whether some bound rule allows these attributes.
    pub fn allows(&self, a: &Attributes) -> bool {
        self.rules.iter().any(|(scope, rule)| {
            let in_scope = match scope {
                None => true,
                Some(ns) => !a.namespace.is_empty() && ns == &a.namespace,
            };
            in_scope && rule.allows(a)
        })
    }

    /// Every request (or apply's create) this policy does not allow, described.
    pub fn denied(&self, requests: &[Request]) -> Vec<String> {
        requests
            .iter()
            .flat_map(attributes)
            .filter(|a| !self.allows(a))
            .map(|a| a.to_string())
            .collect()
    }

    /// Every right a bound rule grants that none of `requests` used: each verb × resource ×
    /// resourceName (or any name) of each resource rule, in its scope. Empty means the runs
    /// needed every right the rules give.
    pub fn unused(&self, requests: &[Request]) -> Vec<String> {
        let asked: Vec<Attributes> = requests.iter().flat_map(attributes).collect();
        let mut unused = Vec::new();
        for (scope, rule) in &self.rules {
            if rule.resources.is_empty() {
                continue;
            }
            let names: Vec<&str> = if rule.resource_names.is_empty() {
                vec![""]
            } else {
                rule.resource_names.iter().map(String::as_str).collect()
            };
            for verb in &rule.verbs {
                for resource in &rule.resources {
                    for name in &names {
                        let used = asked.iter().any(|a| {
                            a.resource_request
                                && &a.verb == verb
                                && &a.resource == resource
                                && rule
                                    .api_groups
                                    .iter()
                                    .any(|g| g == "*" || g == &a.api_group)
                                && (name.is_empty() || a.name == *name)
                                && scope.as_ref().is_none_or(|ns| &a.namespace == ns)
                        });
                        if !used {
                            unused.push(format!(
                                "{verb} {resource} name={name:?} in {}",
                                scope.as_deref().unwrap_or("the cluster (ClusterRole)")
                            ));
                        }
                    }
                }
            }
        }
        unused
    }
}
