"""The committed Kubernetes Affinity/Toleration schemas the chart embeds
(crates/chart/schemas/kubernetes-pod-scheduling.json) are exactly what
scripts/extract-kubernetes-schemas extracts from the installed kubernetes-validate."""

from __future__ import annotations

import importlib.machinery
import importlib.util

from conftest import REPO, require_module

SCRIPT = REPO / "scripts/extract-kubernetes-schemas"
COMMITTED = REPO / "crates/chart/schemas/kubernetes-pod-scheduling.json"


def load_script():
    loader = importlib.machinery.SourceFileLoader("extract_kubernetes_schemas", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_committed_affinity_and_toleration_schemas_equal_a_fresh_extraction():
    require_module("kubernetes_validate")
    fresh = load_script().extract()
    assert COMMITTED.read_text() == fresh, (
        "crates/chart/schemas/kubernetes-pod-scheduling.json is stale: "
        "run .venv/bin/python scripts/extract-kubernetes-schemas"
    )


def test_the_extraction_is_strict_for_every_object():
    require_module("kubernetes_validate")
    import json

    definitions = json.loads(load_script().extract())["definitions"]
    assert "io.k8s.api.core.v1.Affinity" in definitions
    assert "io.k8s.api.core.v1.Toleration" in definitions
    for name, schema in definitions.items():
        if "properties" in schema:
            assert schema.get("additionalProperties") is False, name
