"""Across every scenario: no RBAC rule, in a Role or the ClusterRole, reaches Secrets or
ServiceAccounts without naming them (`resourceNames`), and the ClusterRole (with its binding)
exists exactly when some registry has a namespace selector."""

from __future__ import annotations

import pytest
from conftest import VALUES_FILES, values_id
from test_access_modes import selects, values_of

NAMED_ONLY = {"secrets", "serviceaccounts"}


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_no_rule_reaches_secrets_or_service_accounts_without_names(values, documents):
    docs = documents(values)
    roles = [d for d in docs if d["kind"] in ("Role", "ClusterRole")]
    assert roles, "the chart always has the Jobs' events Role"
    for role in roles:
        for rule in role["rules"]:
            reached = NAMED_ONLY & set(rule["resources"])
            if not reached:
                continue
            assert "*" not in rule["resources"] and "*" not in rule["verbs"], rule
            names = rule.get("resourceNames") or []
            assert names and "" not in names, (
                f"{role['kind']} {role['metadata']['name']}: {sorted(reached)} without resourceNames"
            )


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_the_cluster_role_exists_only_when_a_registry_selects(values, documents, yaml):
    docs = documents(values)
    given = values_of(values, yaml)
    selecting = [r for r in given.get("ecrRegistries") or [] if selects(r, given)]
    cluster_roles = [d for d in docs if d["kind"] == "ClusterRole"]
    bindings = [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    if not selecting:
        assert cluster_roles == [] and bindings == []
        assert not any(d["metadata"]["name"] == "ecr-registry-helper-sync" for d in docs)
        return
    [role] = cluster_roles
    [binding] = bindings
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    [secrets] = [r for r in role["rules"] if r["resources"] == ["secrets"]]
    assert secrets["resourceNames"] == [f"regcred-{r['name']}" for r in selecting]
    assert {"get", "list", "create", "patch"} <= set(secrets["verbs"])
    # Nothing but list on namespaces, and no write anywhere else.
    [namespaces] = [r for r in role["rules"] if r["resources"] == ["namespaces"]]
    assert namespaces["verbs"] == ["list"] and "resourceNames" not in namespaces
    kinds = {resource for rule in role["rules"] for resource in rule["resources"]}
    assert kinds <= {"namespaces", "secrets", "serviceaccounts", "events"}
