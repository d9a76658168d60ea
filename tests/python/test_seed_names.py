"""The seed chart's values.yaml renders with the seed chart's object names, so
existing monitoring commands and imagePullSecrets keep working."""

from __future__ import annotations

import pytest
from conftest import SEED_VALUES

SEED_REGISTRIES = ["primary", "secondary"]


@pytest.fixture(scope="module")
def seed_objects(documents):
    return {(d["kind"], d["metadata"]["name"]): d for d in documents(SEED_VALUES)}


@pytest.mark.parametrize("name", SEED_REGISTRIES)
def test_each_seed_registry_gets_the_seed_object_names(seed_objects, name):
    expected = {
        ("ConfigMap", f"ecr-registry-helper-cm-{name}"),
        ("CronJob", f"ecr-registry-helper-{name}"),
        ("ExternalSecret", f"ecr-registry-helper-secrets-{name}"),
    }
    assert expected <= set(seed_objects), sorted(expected - set(seed_objects))
    # The immediate Job keeps the seed name as its prefix, then a hash of its settings
    # (a changed setting gives a new Job instead of an immutable-field error).
    jobs = [n for kind, n in seed_objects if kind == "Job" and n.startswith(f"ecr-registry-helper-immediate-{name}-")]
    assert len(jobs) == 1, sorted(seed_objects)
    assert len(jobs[0]) == len(f"ecr-registry-helper-immediate-{name}-") + 8


def test_the_seed_service_account_is_sa_argocd_and_every_pod_uses_it(seed_objects):
    assert ("ServiceAccount", "sa-argocd") in seed_objects
    for (kind, name), doc in seed_objects.items():
        if kind == "CronJob":
            assert doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"] == "sa-argocd", name
        if kind == "Job":
            assert doc["spec"]["template"]["spec"]["serviceAccountName"] == "sa-argocd", name


@pytest.mark.parametrize("name", SEED_REGISTRIES)
def test_regcred_is_left_to_the_job_which_is_told_its_name_and_may_write_it(seed_objects, name):
    assert not [key for key in seed_objects if key[0] == "Secret"], "the chart must not render Secrets"
    settings = seed_objects[("ConfigMap", f"ecr-registry-helper-cm-{name}")]["data"]
    assert settings["SECRET_NAME"] == f"regcred-{name}"
    assert settings["TARGET_NAMESPACES"] == "argocd"
    assert settings["ECR_REGISTRY_NAME"] == name
    assert settings["AWS_REGION"] == "eu-central-1"
    roles = [d for (kind, _), d in seed_objects.items() if kind == "Role" and d["metadata"]["namespace"] == "argocd"]
    granted = {r for role in roles for rule in role["rules"] for r in rule.get("resourceNames", [])}
    assert f"regcred-{name}" in granted


@pytest.mark.parametrize("name", SEED_REGISTRIES)
def test_the_seed_external_secret_reads_the_seed_akeyless_keys(seed_objects, name):
    spec = seed_objects[("ExternalSecret", f"ecr-registry-helper-secrets-{name}")]["spec"]
    assert spec["target"]["name"] == f"ecr-registry-helper-secrets-{name}"
    keys = {item["secretKey"]: item["remoteRef"]["key"] for item in spec["data"]}
    assert set(keys) == {"AWS_ACCOUNT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    for secret_key, remote in keys.items():
        assert remote.endswith(f"/aws/ecr/{name}/{secret_key}"), remote


def test_the_seed_schedule_and_cronjob_settings_are_kept(seed_objects):
    for name in SEED_REGISTRIES:
        spec = seed_objects[("CronJob", f"ecr-registry-helper-{name}")]["spec"]
        assert spec["schedule"] == "0 */10 * * *"
        assert spec["successfulJobsHistoryLimit"] == 2
        assert spec["suspend"] is False
        assert spec["jobTemplate"]["spec"]["backoffLimit"] == 3
