"""ecr-chart reads values files the way Helm does, or refuses them: every plain scalar of
tests/fixtures/hostile/reading/plain-scalars.txt, as a value and as a key, is accepted exactly
when Helm's own reader (values_from_yaml, sigs.k8s.io/yaml over yaml.v2) reads it as the same
string; and what is accepted comes out as Helm reads it (the generated chart's values.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures/hostile/reading"
REGISTRY = (
    "ecrRegistries:\n"
    "  - name: primary\n"
    "    region: eu-central-1\n"
    "    namespace: argocd\n"
)


def plain_scalars() -> list[str]:
    lines = (HOSTILE / "plain-scalars.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def without_nulls(value):
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    return value


def chart_values(ecr_chart, values: Path, out: Path) -> dict:
    result = ecr_chart("chart", "-f", values, "-o", out)
    assert result.returncode == 0, result.stderr
    return json.loads("".join(
        line for line in (out / "values.yaml").read_text(encoding="utf-8").splitlines(True)
        if not line.startswith("#")
    ))


@pytest.mark.parametrize("scalar", plain_scalars())
def test_a_plain_value_is_accepted_exactly_when_helm_reads_the_same_string(
    scalar, ecr_chart, helm, tmp_path
):
    values = tmp_path / "values.yaml"
    values.write_text(REGISTRY + f"podAnnotations:\n  k: {scalar}\n", encoding="utf-8")
    try:
        helm_reads = helm.values_from_yaml(values.read_text(encoding="utf-8"))["podAnnotations"]["k"]
    except helm.HelmError:  # Helm refuses the file (NaN, infinity): so must we
        helm_reads = ...
    result = ecr_chart("validate", "-f", values)
    assert result.returncode in (0, 2), result.stderr
    # A null (`~`, `null`) is null for both readers, and deletes the key.
    same = helm_reads == scalar or helm_reads is None
    assert (result.returncode == 0) == same, (
        f"Helm reads {scalar!r} as {helm_reads!r}; ecr-chart exit {result.returncode}\n{result.stderr}"
    )
    if result.returncode == 2:
        if "invalid YAML" not in result.stderr:  # a syntax error has no field path
            assert f"values.yaml:{REGISTRY.count(chr(10)) + 2}:6" in result.stderr, result.stderr
            assert "podAnnotations.k" in result.stderr, result.stderr
    else:
        got = chart_values(ecr_chart, values, tmp_path / "chart")
        assert got.get("podAnnotations", {}).get("k") == helm_reads


@pytest.mark.parametrize("scalar", [s for s in plain_scalars() if s not in ("-", ".")])
def test_a_plain_key_is_read_as_helm_reads_it_or_refused(scalar, ecr_chart, helm, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(REGISTRY + f"podAnnotations:\n  {scalar}: v\n", encoding="utf-8")
    try:
        helm_keys = list(helm.values_from_yaml(values.read_text(encoding="utf-8"))["podAnnotations"])
    except helm.HelmError:  # Helm cannot read the key at all (null): so must we
        helm_keys = None
    result = ecr_chart("chart", "-f", values, "-o", tmp_path / "chart")
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 0:
        got = chart_values(ecr_chart, values, tmp_path / "chart")
        assert list(got["podAnnotations"]) == helm_keys, f"{scalar!r}: Helm reads {helm_keys}"
    elif "for Helm" in result.stderr:
        # Refused as read differently (always allowed: the message says how Helm reads it).
        assert "values.yaml:6:3" in result.stderr, result.stderr
    else:
        # Refused by the annotation-key rule: for the key Helm has too.
        assert helm_keys is not None and any(
            f'podAnnotations["{key}"]' in result.stderr or f"podAnnotations.{key}:" in result.stderr
            for key in helm_keys
        ), f"{scalar!r}: Helm reads {helm_keys}\n{result.stderr}"


def test_accepted_values_are_read_as_helm_reads_them(ecr_chart, helm, tmp_path):
    values = HOSTILE / "accepted.yaml"
    helm_reads = without_nulls(helm.values_from_yaml(values.read_text(encoding="utf-8")))
    assert chart_values(ecr_chart, values, tmp_path / "chart") == helm_reads
