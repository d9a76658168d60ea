"""Across every scenario: each pod reads credentials only from a Secret that the render or the
values account for (per access mode), the refresher's ConfigMap lists the target namespaces that
have RBAC, and ServiceAccount patching is granted by name with `get` and `patch` only (and, in
the ClusterRole of a release with the sync run, `list` by name)."""

from __future__ import annotations

import pytest
from conftest import VALUES_FILES, pod_specs, values_id

MODES = {"externalSecret", "existingSecret", "serviceAccount"}


def values_of(path, yaml) -> dict:
    if path is None:
        return {}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def selects(registry: dict, given: dict) -> bool:
    """The registry has a namespace selector: its own, or the top-level one when it names no
    namespace."""
    if registry.get("namespaceSelector") is not None:
        return True
    names_some = registry.get("namespace") is not None or bool(registry.get("namespaces"))
    return given.get("namespaceSelector") is not None and not names_some


def credentials_secret(name: str, registry: dict, default_mode: str) -> str | None:
    """The Secret a registry's pods read AWS keys from, by its access mode."""
    mode = registry.get("accessMode", default_mode)
    if mode == "existingSecret":
        return registry["existingSecret"]
    if mode == "externalSecret":
        return f"ecr-registry-helper-secrets-{name}"
    return None


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_pods_read_only_secrets_their_access_mode_provides(values, documents, yaml):
    docs = documents(values)
    given = values_of(values, yaml)
    default_mode = given.get("accessMode", "externalSecret")
    registries = {r["name"]: r for r in given.get("ecrRegistries") or []}
    made_by_eso = {d["spec"]["target"]["name"] for d in docs if d["kind"] == "ExternalSecret"}
    for doc in docs:
        for where, pod in pod_specs(doc):
            refs = [
                source["secretRef"]["name"]
                for container in pod["containers"]
                for source in container.get("envFrom") or []
                if "secretRef" in source
            ]
            registry = doc["metadata"]["labels"].get("ecr-registry-helper/registry")
            if doc["metadata"]["name"] == "ecr-registry-helper-sync":
                # The sync run: no `envFrom`; each selecting registry's credentials Secret (by
                # its access mode) mounted, optional, and no other Secret.
                assert all("envFrom" not in c for c in pod["containers"]), "sync: no envFrom"
                mounted = {
                    v["secret"]["secretName"] for v in pod.get("volumes") or [] if "secret" in v
                }
                assert all(
                    v["secret"].get("optional") is True
                    for v in pod.get("volumes") or []
                    if "secret" in v
                )
                want = {
                    credentials_secret(name, r, default_mode)
                    for name, r in registries.items()
                    if selects(r, given)
                } - {None}
                assert mounted == want, (mounted, want)
                continue
            if registry is None:
                # The uninstall hook and the `helm test` Pod belong to no registry and get no
                # AWS credentials.
                assert doc["metadata"]["name"] in (
                    "ecr-registry-helper-uninstall",
                    "ecr-registry-helper-check",
                ), doc["metadata"]
                assert refs == [] and all(
                    "envFrom" not in container for container in pod["containers"]
                ), f"{doc['metadata']['name']} reads no Secret"
                continue
            settings = registries.get(registry, {})
            mode = settings.get("accessMode", default_mode)
            assert mode in MODES
            label = f"{doc['kind']} {doc['metadata']['name']} {where}"
            if mode == "serviceAccount":
                assert refs == [], f"{label}: no static keys with serviceAccount access"
            elif mode == "existingSecret":
                assert refs == [settings["existingSecret"]], label
                assert refs[0] not in made_by_eso, label
            else:
                assert refs == [f"ecr-registry-helper-secrets-{registry}"], label
                eso_enabled = (given.get("externalSecret") or {}).get("enabled", True)
                assert (refs[0] in made_by_eso) == eso_enabled, label


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_every_target_namespace_has_rbac_and_patching_is_by_name(values, documents):
    docs = documents(values)
    events_roles = [d for d in docs if d["kind"] == "Role" and d["rules"] == [EVENTS_RULE]]
    roles = {
        d["metadata"]["namespace"]: d
        for d in docs
        if d["kind"] == "Role" and d["rules"] != [EVENTS_RULE]
    }
    bindings = {d["metadata"]["namespace"] for d in docs if d["kind"] == "RoleBinding"}
    # The Jobs' failure Events: one Role in the release namespace, with nothing else.
    [jobs_events] = events_roles
    job_namespaces = {d["metadata"]["namespace"] for d in docs if d["kind"] in ("CronJob", "Job")}
    assert job_namespaces <= {jobs_events["metadata"]["namespace"]}
    for config in (d for d in docs if d["kind"] == "ConfigMap"):
        if config["metadata"]["name"] in (
            "ecr-registry-helper-uninstall",
            "ecr-registry-helper-check",
        ):
            continue  # the uninstall and check plans, checked in test_lifecycle.py
        data = config["data"]
        assert "TARGET_NAMESPACES" in data or "NAMESPACE_SELECTOR" in data, data
        targets = list(filter(None, data.get("TARGET_NAMESPACES", "").split(",")))
        assert len(targets) == len(set(targets)), f"{config['metadata']['name']}: each once"
        patched = data.get("IMAGE_PULL_SECRET_FOR", "")
        for namespace in targets:
            assert namespace in roles and namespace in bindings, namespace
            rules = roles[namespace]["rules"]
            secrets = next(r for r in rules if r["resources"] == ["secrets"])
            assert data["SECRET_NAME"] in secrets["resourceNames"]
            if patched:
                [accounts] = [r for r in rules if r["resources"] == ["serviceaccounts"]]
                assert sorted(accounts["verbs"]) == ["get", "patch"]
                assert set(patched.split(",")) <= set(accounts["resourceNames"])
        if "NAMESPACE_SELECTOR" in data:
            # Namespaces known only at run time: the ClusterRole names the Secret (and the
            # ServiceAccounts) instead.
            [cluster_role] = [d for d in docs if d["kind"] == "ClusterRole"]
            rules = cluster_role["rules"]
            [secrets] = [r for r in rules if r["resources"] == ["secrets"]]
            assert data["SECRET_NAME"] in secrets["resourceNames"]
            if patched:
                [accounts] = [r for r in rules if r["resources"] == ["serviceaccounts"]]
                # `list` (by name, with a metadata.name field selector) only for the sync run,
                # which finds the ServiceAccounts still lacking the Secret in one request.
                sync = any(
                    d["kind"] == "CronJob" and d["metadata"]["name"] == "ecr-registry-helper-sync"
                    for d in docs
                )
                expected = ["get", "list", "patch"] if sync else ["get", "patch"]
                assert sorted(accounts["verbs"]) == expected
                assert set(patched.split(",")) <= set(accounts["resourceNames"])
        for key in ("AWS_ACCOUNT", "REGISTRY_IDS"):
            for account in filter(None, data.get(key, "").split(",")):
                assert len(account) == 12 and account.isdigit(), f"{key}={account}"
    for namespace, role in roles.items():
        for rule in role["rules"]:
            if rule == EVENTS_RULE:
                continue  # RBAC cannot limit `create` by name: an Event's name is new
            assert rule.get("resourceNames"), f"{namespace}: every rule names its objects"


# The one rule not limited by name: recording the runs' Events.
EVENTS_RULE = {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]}
