"""Values with template braces, quotes, '#', newlines and unicode come out of
`ecr-chart render` exactly as written (Helm's copy is compared in test_helm_chart)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import pod_specs

TRICKY = Path(__file__).parent / "fixtures/values/50-tricky-strings.yaml"


@pytest.fixture(scope="module")
def tricky(yaml):
    return yaml.safe_load(TRICKY.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rendered(documents):
    return documents(TRICKY)


def test_pod_annotations_reach_every_pod_template_verbatim(tricky, rendered):
    pods = [(d["metadata"]["name"], d) for d in rendered if pod_specs(d)]
    assert pods, "no pod templates rendered"
    for name, doc in pods:
        template = doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]
        annotations = template["metadata"].get("annotations") or {}
        for key, value in tricky["podAnnotations"].items():
            assert annotations.get(key) == value, f"{name}: {key}"


def test_common_labels_reach_every_object_verbatim_as_strings(tricky, rendered):
    for doc in rendered:
        labels = doc["metadata"].get("labels") or {}
        for key, value in tricky["commonLabels"].items():
            assert labels.get(key) == value, f"{doc['kind']}/{doc['metadata']['name']}: {key}"


def test_service_account_annotations_stay_verbatim(tricky, rendered):
    [sa] = [d for d in rendered if d["kind"] == "ServiceAccount"]
    assert sa["metadata"]["annotations"] == tricky["serviceAccount"]["annotations"]
