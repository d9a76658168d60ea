"""Install, upgrade and uninstall of a 100-registry generated chart as the real Helm engine
(helm-python-sdk) runs them: Helm sorts every immediate Job into the release's manifest
(created with the other objects, waited on by nothing) and finds one hook only, the
pre-delete uninstall Job; an upgrade that changes one registry changes one Job name. With
`helmTest.enabled` the `helm test` Pod is a second hook and its check plan a release object (a
ConfigMap the Pod mounts), so the plan is there whenever `helm test` runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CHART_NAME
from test_helm_chart import UNREACHABLE_KUBECONFIG, helm_render

REGISTRIES = 100


def values_text(changed: int | None = None, helm_test: bool = False) -> str:
    lines = ["helmTest:", "  enabled: true"] if helm_test else []
    lines += ["ecrRegistries:"]
    for i in range(REGISTRIES):
        region = "eu-central-1" if i == changed else "eu-west-1"
        lines += [
            f"  - name: reg-{i}",
            f"    region: {region}",
            f"    namespace: team-{i}",
            "    imagePullSecretFor: [default]",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def charts(ecr_chart, tmp_path_factory):
    """The generated chart of the 100 registries, and of the same with reg-42 changed."""

    def make(changed: int | None, helm_test: bool = False) -> Path:
        root = tmp_path_factory.mktemp("lifecycle")
        values = root / "values.yaml"
        values.write_text(values_text(changed, helm_test), encoding="utf-8")
        out = root / CHART_NAME
        result = ecr_chart("chart", "-f", values, "-o", out)
        assert result.returncode == 0, result.stderr
        return out

    return {"base": make(None), "changed": make(42), "tested": make(None, helm_test=True)}


def install_manifest(helm, chart: Path, yaml) -> list[dict]:
    """The objects `helm install --dry-run=client` puts in the release (hooks left out)."""
    with helm.Config(kubeconfig_content=UNREACHABLE_KUBECONFIG, storage_driver="memory") as cfg:
        release = cfg.install(chart, "lifecycle", None, namespace="ns", dry_run="client")
    return [d for d in yaml.safe_load_all(release["manifest"]) if d]


def job_names(objects: list[dict]) -> set[str]:
    return {d["metadata"]["name"] for d in objects if d["kind"] == "Job"}


def test_helm_finds_one_hook_and_puts_every_immediate_job_in_the_release(helm, charts, yaml):
    rendered = [d for d in yaml.safe_load_all(helm_render(helm, charts["base"], None, "lifecycle", "ns")) if d]
    hooks = [d for d in rendered if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]
    assert [(h["kind"], h["metadata"]["annotations"]["helm.sh/hook"]) for h in hooks] == [
        ("Job", "pre-delete")
    ], "install and upgrade run no hook; uninstall runs one Job"

    released = install_manifest(helm, charts["base"], yaml)
    immediate = job_names(released)
    assert len(immediate) == REGISTRIES, "every immediate Job is a release object, not a hook"
    assert all(n.startswith("ecr-registry-helper-immediate-reg-") for n in immediate)
    assert all(len(n) <= 63 for n in immediate)
    plan = next(d for d in released if d["metadata"]["name"] == "ecr-registry-helper-uninstall")
    assert plan["kind"] == "ConfigMap"
    assert len(plan["data"]["plan"].splitlines()) == REGISTRIES


def test_an_upgrade_changing_one_registry_changes_only_its_job(helm, charts, yaml):
    before = job_names(install_manifest(helm, charts["base"], yaml))
    after = job_names(install_manifest(helm, charts["changed"], yaml))
    gone, new = before - after, after - before
    assert len(gone) == 1 and len(new) == 1, (gone, new)
    assert next(iter(gone)).startswith("ecr-registry-helper-immediate-reg-42-")
    assert next(iter(new)).startswith("ecr-registry-helper-immediate-reg-42-")


def test_the_helm_test_pod_is_a_hook_and_its_plan_a_release_object_it_mounts(helm, charts, yaml):
    rendered = [
        d for d in yaml.safe_load_all(helm_render(helm, charts["tested"], None, "lifecycle", "ns")) if d
    ]
    hooks = [d for d in rendered if "helm.sh/hook" in (d["metadata"].get("annotations") or {})]
    assert [(h["kind"], h["metadata"]["annotations"]["helm.sh/hook"]) for h in hooks] == [
        ("Job", "pre-delete"),
        ("Pod", "test"),
    ], "the check plan's ConfigMap is no hook"
    pod = hooks[1]

    released = install_manifest(helm, charts["tested"], yaml)
    [plan] = [
        d for d in released if d["kind"] == "ConfigMap" and d["metadata"]["name"] == pod["metadata"]["name"]
    ]
    lines = plan["data"]["plan"].splitlines()
    assert len(lines) == REGISTRIES
    assert lines[0] == "reg-0 team-0 regcred-reg-0 *.dkr.ecr.eu-west-1.amazonaws.com"

    [container] = pod["spec"]["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    [mount] = container["volumeMounts"]
    [volume] = pod["spec"]["volumes"]
    assert volume == {"name": mount["name"], "configMap": {"name": plan["metadata"]["name"]}}
    assert mount["readOnly"] is True
    assert env["CHECK_PLAN"] == f"{mount['mountPath']}/plan", "the plan file, not its text"
