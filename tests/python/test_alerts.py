"""The alerts (`monitoring.prometheusRule`) for real: the rendered rules pass `promtool check
rules`; `promtool test rules` with synthetic kube-state-metrics series shows each alert firing
at its registry's own threshold and not a minute before, for two schedules
(tests/fixtures/alerts/*.test.yaml); the PrometheusRule validates strictly against the
Prometheus Operator's schema (npm @kubernetes-models/prometheus-operator, see tests/schemas).
The Helm equivalence, lint, Kubernetes schema and Pod Security tests take the same scenario
(tests/fixtures/values/40-monitoring.yaml) with the other values files."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, SEED_VALUES, manifest_templates, require_module

ALERTS = REPO / "tests/fixtures/alerts"
MONITORING = REPO / "tests/fixtures/values/40-monitoring.yaml"
ENABLE = ALERTS / "enable.yaml"
SUSPENDED = ALERTS / "suspended.yaml"
# The release the promtool tests were written for.
RELEASE = {"release": "rel", "namespace": "ops"}
PROMTOOL_HINT = "run scripts/test (installs prometheus for promtool)"


@pytest.fixture(scope="session")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(f"promtool not found on PATH; {PROMTOOL_HINT}", pytrace=False)
    return path


def _prometheus_rules(documents, values, **release) -> list[dict]:
    return [d for d in documents(values, **release) if d["kind"] == "PrometheusRule"]


def _rule_file(rule: dict, directory: Path, annotations: bool = True) -> Path:
    """The rule object's `spec` as a Prometheus rule file (`groups:`), in `directory`."""
    spec = copy.deepcopy(rule["spec"])
    if not annotations:
        for group in spec["groups"]:
            for r in group["rules"]:
                r.pop("annotations", None)
    path = directory / "rules.yaml"
    path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return path


def _promtool(promtool: str, *args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [promtool, *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )


def _unit_test(promtool: str, rule: dict, test_file: str, tmp_path: Path, annotations: bool) -> subprocess.CompletedProcess:
    _rule_file(rule, tmp_path, annotations)
    shutil.copy(ALERTS / test_file, tmp_path / test_file)
    return _promtool(promtool, "test", "rules", tmp_path / test_file)


def test_the_rule_is_rendered_only_when_monitoring_is_enabled(documents):
    assert _prometheus_rules(documents, None) == []
    assert _prometheus_rules(documents, SEED_VALUES) == []
    [rule] = _prometheus_rules(documents, MONITORING, **RELEASE)
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["name"] == "rel-regcred-alerts"
    assert rule["metadata"]["namespace"] == "ops"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    [elsewhere] = _prometheus_rules(documents, [SEED_VALUES, ENABLE], **RELEASE)
    assert elsewhere["metadata"]["namespace"] == "monitoring"


def test_each_registry_keeps_its_own_threshold_from_its_schedule(documents):
    [rule] = _prometheus_rules(documents, MONITORING, **RELEASE)
    thresholds = {
        r["labels"]["registry"]: (r["expr"], r["labels"]["target_namespaces"])
        for r in rule["spec"]["groups"][0]["rules"]
        if r.get("record") == "ecr_registry_helper:refresh_late_after_seconds"
    }
    # Longest gap + 30m: "0 */10 * * *" 10h, "30 */6 * * *" 6h.
    assert thresholds == {"ten-hours": ("vector(37800)", "apps,web"), "six-hours": ("vector(23400)", "batch")}


@pytest.mark.parametrize(
    "values",
    [MONITORING, [SEED_VALUES, ENABLE], [SEED_VALUES, ENABLE, SUSPENDED]],
    ids=["40-monitoring", "seed", "seed-suspended"],
)
def test_promtool_accepts_the_rendered_rules(documents, promtool, tmp_path, values):
    [rule] = _prometheus_rules(documents, values)
    result = _promtool(promtool, "check", "rules", _rule_file(rule, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_suspension_the_values_ask_for_is_not_alerted(documents):
    [suspended] = _prometheus_rules(documents, [SEED_VALUES, ENABLE, SUSPENDED])
    [not_suspended] = _prometheus_rules(documents, [SEED_VALUES, ENABLE])
    alerts = lambda rule: [r["alert"] for r in rule["spec"]["groups"][0]["rules"] if "alert" in r]  # noqa: E731
    assert "EcrPullSecretRefreshSuspended" not in alerts(suspended)
    assert "EcrPullSecretRefreshSuspended" in alerts(not_suspended)


def test_each_alert_fires_at_its_registrys_time_and_not_before(documents, promtool, tmp_path):
    [rule] = _prometheus_rules(documents, MONITORING, **RELEASE)
    result = _unit_test(promtool, rule, "timing.test.yaml", tmp_path, annotations=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_timing_test_fails_when_a_threshold_is_a_minute_early(documents, promtool, tmp_path):
    [rule] = _prometheus_rules(documents, MONITORING, **RELEASE)
    early = copy.deepcopy(rule)
    for r in early["spec"]["groups"][0]["rules"]:
        if r.get("expr") == "vector(37800)":
            r["expr"] = "vector(37740)"
    result = _unit_test(promtool, early, "timing.test.yaml", tmp_path, annotations=False)
    assert result.returncode != 0
    assert "time: 10h30m" in result.stdout + result.stderr


def test_the_alerts_name_the_registry_its_namespaces_and_the_kubectl_commands(documents, promtool, tmp_path):
    [rule] = _prometheus_rules(documents, MONITORING, **RELEASE)
    result = _unit_test(promtool, rule, "annotations.test.yaml", tmp_path, annotations=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("values", [MONITORING, [SEED_VALUES, ENABLE]], ids=["40-monitoring", "seed"])
def test_the_prometheus_rule_validates_strictly_against_the_operator_schema(
    documents, custom_resource_problems, values
):
    kubernetes_validate = require_module("kubernetes_validate")
    [rule] = _prometheus_rules(documents, values)
    assert custom_resource_problems([rule]) == [[]]
    # ObjectMeta again, as the API server checks it (strictly, with Kubernetes' schema).
    as_configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": rule["metadata"]}
    kubernetes_validate.validate(as_configmap, "1.33", strict=True)


def test_the_operator_schema_check_refuses_unknown_and_mistyped_fields(documents, custom_resource_problems):
    [rule] = _prometheus_rules(documents, MONITORING, **RELEASE)
    unknown = copy.deepcopy(rule)
    unknown["spec"]["groups"][0]["rules"][0]["notAField"] = True
    mistyped = copy.deepcopy(rule)
    mistyped["spec"]["groups"][0]["rules"][-1]["for"] = "ten minutes"
    assert custom_resource_problems([unknown, mistyped]) == [
        ["/spec/groups/0/rules/0/notAField: field not in the PrometheusRule v1 schema"],
        [
            "/spec/groups/0/rules/7/for: must match pattern "
            '"^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$"'
        ],
    ]


def test_a_runbook_url_reads_back_as_written_and_prometheus_may_template_it(documents, promtool, tmp_path):
    url = 'https://wiki.example.com/ecr/{{ $labels.registry }}?q="a: b" #x'
    extra = tmp_path / "runbook.yaml"
    extra.write_text(
        "monitoring:\n  prometheusRule:\n    enabled: true\n    runbookUrl: " + json.dumps(url) + "\n",
        encoding="utf-8",
    )
    [rule] = _prometheus_rules(documents, [SEED_VALUES, extra])
    alerts = [r for r in rule["spec"]["groups"][0]["rules"] if "alert" in r]
    assert alerts and all(r["annotations"]["runbook_url"] == url for r in alerts)
    result = _promtool(promtool, "check", "rules", _rule_file(rule, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


def _many_registries(tmp_path: Path, count: int, last_schedule: str) -> Path:
    lines = ["monitoring:\n  prometheusRule:\n    enabled: true\nexternalSecret:\n  enabled: false\necrRegistries:\n"]
    for n in range(count):
        schedule = last_schedule if n == count - 1 else "0 */10 * * *"
        lines.append(f"  - {{name: r{n:04d}, region: eu-central-1, namespace: apps, schedule: {json.dumps(schedule)}}}\n")
    path = tmp_path / "many.yaml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_past_five_hundred_registries_the_rules_stay_small_objects_that_still_alert(
    documents, promtool, custom_resource_problems, tmp_path
):
    values = _many_registries(tmp_path, 1001, "30 */6 * * *")
    rules = _prometheus_rules(documents, values, **RELEASE)
    assert [r["metadata"]["name"] for r in rules] == ["rel-regcred-alerts", "rel-regcred-alerts-2", "rel-regcred-alerts-3"]
    # kubectl's (ArgoCD's client-side) apply keeps each object whole in an annotation of 256 KiB.
    assert all(len(json.dumps(r, separators=(",", ":"))) < 256 * 1024 for r in rules)
    assert custom_resource_problems(rules) == [[], [], []]
    # Every group in one rule file (annotations left out), the thresholds' groups after the
    # alerts' (as Prometheus may evaluate them): the last registry, alone in the third object,
    # is late after 6h30m and not before; the first, every 10 hours, is not.
    groups = [group for r in rules for group in copy.deepcopy(r["spec"]["groups"])]
    for group in groups:
        for r in group["rules"]:
            r.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(json.dumps({"groups": groups}), encoding="utf-8")
    check = _promtool(promtool, "check", "rules", tmp_path / "rules.yaml")
    assert check.returncode == 0, check.stdout + check.stderr
    late = {
        "helm_release": "rel",
        "namespace": "ops",
        "cronjob": "ecr-registry-helper-r1000",
        "registry": "r1000",
        "target_namespaces": "apps",
        "severity": "warning",
    }
    test = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": 'kube_cronjob_status_last_successful_time{namespace="ops", cronjob="ecr-registry-helper-r1000"}', "values": "0x500"},
                {"series": 'kube_cronjob_status_last_successful_time{namespace="ops", cronjob="ecr-registry-helper-r0000"}', "values": "0x500"},
            ],
            "alert_rule_test": [
                {"eval_time": "6h30m", "alertname": "EcrPullSecretRefreshLate", "exp_alerts": []},
                {"eval_time": "6h31m", "alertname": "EcrPullSecretRefreshLate", "exp_alerts": [{"exp_labels": late}]},
            ],
        }],
    }
    (tmp_path / "many.test.yaml").write_text(json.dumps(test), encoding="utf-8")
    result = _promtool(promtool, "test", "rules", tmp_path / "many.test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_chart_renders_every_rule_object_like_ecr_chart(helm, render, chart_dir, tmp_path):
    values = _many_registries(tmp_path, 501, "0 */10 * * *")
    expected = render(values, release="rel", namespace="ops")
    assert expected.count('kind: "PrometheusRule"') == 2
    with helm.Chart.load(chart_dir(values)) as loaded:
        rendered = loaded.render(None, name="rel", namespace="ops")
    assert manifest_templates(rendered) == expected
