"""Hostile values that the API server, the ESO CRD or Helm refuse
(tests/fixtures/hostile/refusals/): `ecr-chart` refuses each with exit 2, the file, line and
column and the field path, and accepts what they accept. Affinity and tolerations are also
checked against the real strict Kubernetes schema (kubernetes-validate) so both agree; release
names against the real Helm engine."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO, require_module

CASES = REPO / "tests/fixtures/hostile/refusals"
REFUSED = sorted((CASES / "refused").glob("*.yaml"))
ACCEPTED = sorted((CASES / "accepted").glob("*.yaml"))
RELEASE_NAMES = json.loads((CASES / "release-names.json").read_text(encoding="utf-8"))
UNREACHABLE_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
users: [{name: none, user: {token: not-a-real-token}}]
current-context: none
"""


def refused_at(case) -> str:
    first = case.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"# refused at: (.+)", first)
    assert match, f"{case.name}: the first line names the field (`# refused at: <path>`)"
    return match.group(1)


def pod_with(values: dict) -> dict:
    spec = {"containers": [{"name": "c", "image": "i"}]}
    for key in ("affinity", "tolerations"):
        if key in values:
            spec[key] = values[key]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize("case", REFUSED, ids=lambda p: p.stem)
def test_values_kubernetes_would_refuse_are_refused_with_the_field_and_its_place(ecr_chart, case):
    result = ecr_chart("validate", "-f", case)

    assert result.returncode == 2, result.stderr
    path = refused_at(case)
    assert f"× {path}:" in result.stderr, result.stderr
    assert re.search(rf"{re.escape(case.name)}:\d+:\d+\]", result.stderr), result.stderr
    assert "help:" in result.stderr, "a refusal says what to write instead"


@pytest.mark.parametrize("case", ACCEPTED, ids=lambda p: p.stem)
def test_values_kubernetes_accepts_are_accepted(ecr_chart, case):
    result = ecr_chart("validate", "-f", case)

    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize("case", REFUSED + ACCEPTED, ids=lambda p: p.stem)
def test_affinity_and_tolerations_get_the_verdict_of_the_strict_kubernetes_schema(
    ecr_chart, yaml, case
):
    kubernetes_validate = require_module("kubernetes_validate")
    values = yaml.safe_load(case.read_text(encoding="utf-8"))
    if "affinity" not in values and "tolerations" not in values:
        return  # nothing of the Pod schema in this case
    try:
        kubernetes_validate.validate(pod_with(values), kubernetes_validate.latest_version(), strict=True)
        kubernetes_accepts = True
    except kubernetes_validate.ValidationError:
        kubernetes_accepts = False

    ours = ecr_chart("validate", "-f", case)

    assert (ours.returncode == 0) == kubernetes_accepts, ours.stderr


@pytest.mark.parametrize("name", RELEASE_NAMES["refused"])
def test_release_names_helm_refuses_are_refused(ecr_chart, helm, chart_dir, name):
    ours = ecr_chart("render", f"--release-name={name}")
    with helm.Config(kubeconfig_content=UNREACHABLE_KUBECONFIG, storage_driver="memory") as cfg:
        with pytest.raises(helm.HelmError):
            cfg.install(chart_dir(None), name, None, namespace="ns", dry_run="client")

    assert ours.returncode == 2, ours.stderr
    assert "release name" in ours.stderr and "DNS-1123 subdomain" in ours.stderr, ours.stderr


@pytest.mark.parametrize("name", RELEASE_NAMES["accepted"])
def test_release_names_helm_accepts_are_accepted(ecr_chart, helm, chart_dir, name):
    ours = ecr_chart("render", f"--release-name={name}")
    with helm.Config(kubeconfig_content=UNREACHABLE_KUBECONFIG, storage_driver="memory") as cfg:
        release = cfg.install(chart_dir(None), name, None, namespace="ns", dry_run="client")

    assert ours.returncode == 0, ours.stderr
    assert release["name"] == name
