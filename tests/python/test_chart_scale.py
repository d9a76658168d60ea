"""The generated chart at scale, through the real Helm engine (helm-python-sdk): its release
record stays within 1.5× of benches/reference-chart's (a values-driven chart with the same
objects) and the factored templates (one pattern per kind, the rows of hole values it ranges
over) render exactly what `ecr-chart render` prints, hostile strings included."""

from __future__ import annotations

import importlib
import json
import sys

import pytest
from conftest import MANIFEST_PREFIXES, REPO, manifest_templates, registries_values

# The bound the issue sets on the release record against the values-driven chart.
MAX_RATIO = 1.5


def release_size_module(helm):
    """benches/release_size.py (imported after the `helm` fixture checked helm-python-sdk)."""
    sys.path.insert(0, str(REPO / "benches"))
    try:
        return importlib.import_module("release_size")
    finally:
        sys.path.pop(0)


def test_the_release_record_of_a_1000_registry_chart_is_within_1_5_times_the_reference_charts(
    helm, chart_dir, tmp_path
):
    values = registries_values(tmp_path / "values-1000.yaml", 1000)
    release_size = release_size_module(helm)

    generated = release_size.release_record(chart_dir(values), None)
    reference = release_size.release_record(
        REPO / "benches/reference-chart", helm.values_from_yaml(values.read_text(encoding="utf-8"))
    )

    ratio = generated["stored"] / reference["stored"]
    assert ratio <= MAX_RATIO, (ratio, generated, reference)
    assert generated["stored_templates"] < generated["stored_manifest"] / 2, generated


def test_runs_of_one_kind_are_one_pattern_each_and_the_templates_hold_no_registrys_document(
    chart_dir, tmp_path
):
    chart = chart_dir(registries_values(tmp_path / "values-300.yaml", 300))
    blocks = (chart / "templates/_blocks.tpl").read_text(encoding="utf-8")
    manifests = "".join(
        p.read_text(encoding="utf-8")
        for p in sorted((chart / "templates").rglob("*.yaml"))
        if f"ecr-registry-helper/{p.relative_to(chart)}".startswith(MANIFEST_PREFIXES)
    )

    assert blocks.count('{{ define "ecr-registry-helper.doc.') >= 4, "ConfigMaps, CronJobs, ExternalSecrets, Jobs"
    assert "{{ range $i, $_ := $c" in manifests
    # Once in the registry-name column the kinds share, once in the Roles' rows (its namespace's
    # secret names): not once per ConfigMap, CronJob, ExternalSecret and Job.
    assert manifests.count('"r0150"') <= 2, "the name column is declared once and shared"
    assert "kind: \"CronJob\"" not in manifests, "each CronJob's text is in the pattern only"


def test_the_factored_chart_renders_hostile_strings_exactly_as_ecr_chart_render_prints(
    ecr_chart, helm, tmp_path
):
    strings = json.loads((REPO / "tests/fixtures/hostile/strings/strings.json").read_text(encoding="utf-8"))
    rendered = 0
    for entry in strings["strings"]:
        text = entry["text"] + " {{ x }} {"
        extra = [
            "podAnnotations:",
            f"  note: {json.dumps(text)}",
            "serviceAccount:",
            "  annotations:",
            f"    note: {json.dumps(text)}",
        ]
        values = registries_values(tmp_path / f"values-{entry['id']}.yaml", 5, extra)
        expected = ecr_chart("render", "-f", values, "--release-name", "hostile", "-n", "ecr-system")
        if expected.returncode == 2:
            continue  # refused at validation: tests/python/test_hostile_strings.py covers why
        assert expected.returncode == 0, expected.stderr
        chart = tmp_path / f"chart-{entry['id']}"
        made = ecr_chart("chart", "-f", values, "-o", chart)
        assert made.returncode == 0, made.stderr

        with helm.Chart.load(chart) as loaded:
            actual = manifest_templates(loaded.render(None, name="hostile", namespace="ecr-system"))

        assert "ecr-registry-helper.doc." in (chart / "templates/_blocks.tpl").read_text(encoding="utf-8")
        assert actual == expected.stdout, entry["id"]
        rendered += 1
    assert rendered >= len(strings["strings"]) // 2, f"only {rendered} hostile strings were accepted"


@pytest.mark.parametrize("count", [3, 25])
def test_a_factored_chart_renders_for_any_release_as_ecr_chart_render_prints(
    ecr_chart, helm, chart_dir, tmp_path, count
):
    values = registries_values(tmp_path / f"values-{count}.yaml", count)
    chart = chart_dir(values)
    for release, namespace in [("r", "n"), ("a-release-name-of-fifty-three-characters-for-helm-abc", "kube-system")]:
        expected = ecr_chart("render", "-f", values, "--release-name", release, "-n", namespace)
        assert expected.returncode == 0, expected.stderr
        with helm.Chart.load(chart) as loaded:
            rendered = loaded.render(None, name=release, namespace=namespace)
        assert manifest_templates(rendered) == expected.stdout
