"""The generated Helm chart, through the real Helm engine (helm-python-sdk):
it renders exactly what `ecr-chart render` prints, lints clean, refuses values it
was not generated with, and Helm's install order matches ours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import (
    CHART_NAME,
    DEFAULT_NAMESPACE,
    DEFAULT_RELEASE,
    MANIFESTS,
    manifest_templates,
    registries_values,
    REPO,
    SEED_VALUES,
    VALUES_FILES,
    split_documents,
    values_id,
)

RELEASES = [
    (DEFAULT_RELEASE, DEFAULT_NAMESPACE),
    ("ecr", "platform-tools"),
    ("a-release-name-of-fifty-three-characters-for-helm-abc", "kube-system"),
]
REGENERATE = re.compile(r"regenerate.*ecr-chart chart", re.IGNORECASE | re.DOTALL)

# A kubeconfig for a server that does not exist: a client-only dry run must not need it.
UNREACHABLE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
users: [{name: none, user: {token: not-a-real-token}}]
current-context: none
"""


def helm_values(helm, files: Path | list[Path] | None) -> dict | None:
    """Values files parsed and merged as `helm -f a -f b` does (later wins)."""
    if files is None:
        return None
    merged: dict = {}
    for f in files if isinstance(files, list) else [files]:
        merged = _merge(merged, helm.values_from_yaml(f.read_text(encoding="utf-8")))
    return merged


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def helm_render(helm, chart: Path, values: dict | None, release: str, namespace: str) -> str:
    """The manifest templates Helm rendered, in path order (the order Helm reads them in:
    `templates/manifests.yaml`, then `templates/manifests/0002.yaml` and on)."""
    with helm.Chart.load(chart) as loaded:
        rendered = loaded.render(values, name=release, namespace=namespace)
    assert MANIFESTS in rendered, f"Helm rendered no {MANIFESTS}: {sorted(rendered)}"
    return manifest_templates(rendered)


@pytest.mark.parametrize("release,namespace", RELEASES)
@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_helm_renders_the_generated_chart_exactly_as_ecr_chart_render_prints(
    helm, render, chart_dir, values, release, namespace
):
    expected = render(values, release=release, namespace=namespace)
    assert expected.startswith("---\n"), "every document must start with a `---` line"

    actual = helm_render(helm, chart_dir(values), None, release, namespace)

    assert actual == expected


def test_generated_chart_is_named_and_holds_the_contracted_files(helm, chart_dir):
    chart = chart_dir(SEED_VALUES)
    with helm.Chart.load(chart) as loaded:
        assert loaded.name == CHART_NAME
        assert loaded.schema is not None, "values.schema.json missing"
    for name in ("Chart.yaml", "values.yaml", "values.schema.json", "templates/manifests.yaml", "templates/NOTES.txt"):
        assert (chart / name).is_file(), f"{name} missing from the generated chart"


def test_generated_chart_uses_only_release_name_and_namespace(chart_dir):
    builtins = set()
    for template in (p for p in (chart_dir(VALUES_FILES[-1]) / "templates").rglob("*") if p.is_file()):
        builtins |= set(re.findall(r"\.(Release|Chart|Capabilities|Files|Template)\.(\w+)", template.read_text()))
    assert builtins <= {("Release", "Name"), ("Release", "Namespace")}, builtins


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_helm_lint_strict_reports_no_warning_or_error(helm, chart_dir, values):
    report = helm.lint(chart_dir(values), strict=True, namespace="platform-tools")

    problems = [m for m in report["messages"] if m["severity"] >= 2]
    assert problems == [] and report["errors"] == [], report


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_passing_the_same_values_files_again_renders_the_same_manifests(
    helm, render, chart_dir, values
):
    if values is None:
        values = REPO / "values.example.yaml"
    expected = render(values, release="again", namespace="ns")

    actual = helm_render(helm, chart_dir(values), helm_values(helm, values), "again", "ns")

    assert actual == expected


def test_passing_the_same_values_split_over_two_files_renders_the_same_manifests(
    helm, render, chart_dir, tmp_path
):
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(SEED_VALUES.read_text(encoding="utf-8"), encoding="utf-8")
    second.write_text("cronJob:\n  suspend: true\npodAnnotations:\n  team: platform\n", encoding="utf-8")
    files = [first, second]

    actual = helm_render(helm, chart_dir(files), helm_values(helm, files), "two", "ns")

    assert actual == render(files, release="two", namespace="ns")


def test_passing_the_same_values_with_nulls_again_renders_the_same_manifests(
    helm, render, chart_dir, tmp_path
):
    # null restores a default; Helm keeps it in .Values, and inside a list it keeps it even
    # with no values file given, so both views must pass the guard.
    values = tmp_path / "nulls.yaml"
    values.write_text(
        "image:\n  tag: null\ncronJob:\n  timeZone: null\npodLabels: null\n"
        "ecrRegistries:\n  - name: nulls\n    region: eu-west-1\n    namespace: apps\n"
        "    schedule: null\n    registryIds: null\n",
        encoding="utf-8",
    )
    chart = chart_dir(values)
    expected = render(values, release="nulls", namespace="ns")

    assert helm_render(helm, chart, helm_values(helm, values), "nulls", "ns") == expected
    assert helm_render(helm, chart, None, "nulls", "ns") == expected
    with pytest.raises(helm.HelmError) as failure:
        helm_render(helm, chart, {"cronJob": {"suspend": True}}, "nulls", "ns")
    assert REGENERATE.search(str(failure.value)), str(failure.value)


def _changed_values(helm, yaml) -> dict[str, dict]:
    seed = helm_values(helm, SEED_VALUES)
    assert seed is not None
    new_schedule = yaml.safe_load(yaml.safe_dump(seed))
    new_schedule["ecrRegistries"][0]["schedule"] = "0 */6 * * *"
    extra_registry = yaml.safe_load(yaml.safe_dump(seed))
    extra_registry["ecrRegistries"].append({"name": "third", "region": "us-east-1", "namespace": "apps"})
    return {
        "changed-schedule": new_schedule,
        "added-registry": extra_registry,
        "suspended-cronjobs": {"cronJob": {"suspend": True}},
        "new-annotation": {"podAnnotations": {"example.com/new": "x"}},
        "image-tag": {"image": {"tag": "9.9.9"}},
    }


@pytest.mark.parametrize(
    "change", ["changed-schedule", "added-registry", "suspended-cronjobs", "new-annotation", "image-tag"]
)
def test_values_that_differ_from_the_generated_ones_fail_with_a_regenerate_message(
    helm, yaml, chart_dir, change
):
    values = _changed_values(helm, yaml)[change]

    with pytest.raises(helm.HelmError) as failure:
        helm_render(helm, chart_dir(SEED_VALUES), values, DEFAULT_RELEASE, DEFAULT_NAMESPACE)

    assert REGENERATE.search(str(failure.value)), str(failure.value)


def test_a_knob_left_unset_at_generation_fails_with_a_regenerate_message(helm, chart_dir):
    with pytest.raises(helm.HelmError) as failure:
        helm_render(
            helm, chart_dir(SEED_VALUES), {"cronJob": {"timeZone": "Europe/Berlin"}}, "r", "ns"
        )

    assert REGENERATE.search(str(failure.value)), str(failure.value)


def test_an_unknown_values_key_fails_and_names_the_key(helm, chart_dir):
    with pytest.raises(helm.HelmError) as failure:
        helm_render(helm, chart_dir(SEED_VALUES), {"notAKey": 1}, "r", "ns")

    assert "notAKey" in str(failure.value) or REGENERATE.search(str(failure.value)), str(failure.value)


def _without_source_lines(stream: str) -> list[str]:
    text = "\n".join(line for line in stream.split("\n") if not line.startswith("# Source: "))
    return [doc.strip("\n") for doc in split_documents(text) if doc.strip()]


def _is_hook(doc: str) -> bool:
    return re.search(r"^\s+\"?helm\.sh/hook\"?:", doc, re.MULTILINE) is not None


@pytest.mark.parametrize("values", VALUES_FILES, ids=values_id)
def test_helm_install_dry_run_orders_objects_as_ecr_chart_render_does(
    helm, render, chart_dir, values
):
    """`helm install --dry-run=client` sorts by kind the way `helm template` does. Its
    manifest leaves out hooks (the immediate Jobs), which ecr-chart prints last."""
    ours = _without_source_lines(render(values, release="order", namespace="ns"))
    hooks_at = next((i for i, doc in enumerate(ours) if _is_hook(doc)), len(ours))
    assert all(_is_hook(doc) for doc in ours[hooks_at:]), "hooks must come after every other object"

    with helm.Config(kubeconfig_content=UNREACHABLE_KUBECONFIG, storage_driver="memory") as cfg:
        release = cfg.install(chart_dir(values), "order", None, namespace="ns", dry_run="client")

    assert _without_source_lines(release["manifest"]) == ours[:hooks_at]


# Helm refuses to load a chart file over 5 MiB (MaxDecompressedFileSize in Helm's chart loader,
# since Helm 3.17.3 and in Helm 4), and a packaged chart over 100 MiB in all.
HELM_MAX_FILE_BYTES = 5 * 1024 * 1024
HELM_MAX_CHART_BYTES = 100 * 1024 * 1024
SCALE_REGISTRIES = 5000


@pytest.fixture(scope="module")
def scale_values(tmp_path_factory) -> Path:
    """A values file with 5 000 registries (as benches/render.rs writes them)."""
    path = tmp_path_factory.mktemp("scale") / f"values-{SCALE_REGISTRIES}.yaml"
    return registries_values(path, SCALE_REGISTRIES)


def test_no_file_of_a_5000_registry_chart_reaches_helms_file_size_limit(chart_dir, scale_values):
    files = [p for p in chart_dir(scale_values).rglob("*") if p.is_file()]
    sizes = {str(p.relative_to(chart_dir(scale_values))): p.stat().st_size for p in files}

    too_big = {name: size for name, size in sizes.items() if size > HELM_MAX_FILE_BYTES // 2}
    assert too_big == {}, f"files over half of Helm's {HELM_MAX_FILE_BYTES}-byte limit: {too_big}"
    assert sum(sizes.values()) < HELM_MAX_CHART_BYTES // 2, sum(sizes.values())
    # Factored (one pattern per kind, rows of hole values), 5 000 registries' manifests fit in
    # one file under the 1 MiB cut; the cut itself is tested in crates/chart/src/chart.rs.
    manifests = sum(size for name, size in sizes.items() if name.startswith("templates/manifests"))
    assert manifests < 1024 * 1024, sizes


def test_helm_loads_lints_and_renders_a_5000_registry_chart_as_ecr_chart_render_prints(
    helm, render, chart_dir, scale_values
):
    chart = chart_dir(scale_values)
    expected = render(scale_values, release="scale", namespace="ecr-system")

    report = helm.lint(chart, strict=True, namespace="ecr-system")
    actual = helm_render(helm, chart, None, "scale", "ecr-system")
    again = helm_render(helm, chart, helm_values(helm, scale_values), "scale", "ecr-system")

    assert [m for m in report["messages"] if m["severity"] >= 2] == [] and report["errors"] == [], report
    assert expected.count("\nkind: \"CronJob\"\n") == SCALE_REGISTRIES
    assert actual == expected
    assert again == expected


def test_a_5000_registry_chart_still_refuses_other_values(helm, chart_dir, scale_values):
    values = helm_values(helm, scale_values)
    assert values is not None
    values["ecrRegistries"][-1]["schedule"] = "0 */6 * * *"

    with pytest.raises(helm.HelmError) as failure:
        helm_render(helm, chart_dir(scale_values), values, "scale", "ecr-system")

    assert REGENERATE.search(str(failure.value)), str(failure.value)


def test_helm_install_orders_a_5000_registry_chart_as_ecr_chart_render_does(
    helm, render, chart_dir, scale_values
):
    """Across the cut files too: Helm reads them in path order and sorts by kind, stably."""
    ours = _without_source_lines(render(scale_values, release="order", namespace="ns"))
    hooks_at = next((i for i, doc in enumerate(ours) if _is_hook(doc)), len(ours))

    with helm.Config(kubeconfig_content=UNREACHABLE_KUBECONFIG, storage_driver="memory") as cfg:
        release = cfg.install(chart_dir(scale_values), "order", None, namespace="ns", dry_run="client")

    assert _without_source_lines(release["manifest"]) == ours[:hooks_at]


def test_the_notes_of_a_5000_registry_chart_list_the_first_registries_and_commands_for_all(
    helm, chart_dir, scale_values
):
    """Helm stores the notes twice (the NOTES.txt template and the rendered notes): past 20
    registries they list the first 20 and a kubectl command that lists them all."""
    chart = chart_dir(scale_values)
    with helm.Chart.load(chart) as loaded:
        notes = loaded.render(None, name="scale", namespace="ecr-system")[f"{CHART_NAME}/templates/NOTES.txt"]

    assert list((chart / "templates").glob("_notes-*.tpl")) == []
    assert (chart / "templates/NOTES.txt").stat().st_size < 10_000
    assert "regcred-r0020 in namespace team-00" in notes and "regcred-r0021" not in notes
    assert "… and 4980 more (5000 registries in all)" in notes
    assert "kubectl get secrets -A -l app.kubernetes.io/managed-by=ecr-refresher" in notes
    assert "kubectl get jobs -n ecr-system -l app.kubernetes.io/instance=scale" in notes


# The API server refuses a ConfigMap whose data passes 1 MiB (ValidateConfigMap against
# core.MaxSecretSize): the hooks' plans (uninstall, `helm test`) each live in one.
CONFIG_MAP_MAX_BYTES = 1024 * 1024


def test_at_5000_registries_both_plans_are_configmaps_well_under_the_api_servers_limit(
    render, yaml, tmp_path
):
    values = registries_values(
        tmp_path / "values-helm-test.yaml", SCALE_REGISTRIES, ["helmTest:", "  enabled: true"]
    )
    # Only the plans' ConfigMaps and the Pod are parsed (PyYAML over all 5 000 registries is slow).
    wanted = ('name: "ecr-registry-helper-check"', 'name: "ecr-registry-helper-uninstall"')
    texts = [t for t in render(values).split("\n---\n") if any(w in t for w in wanted)]
    docs = [d for t in texts for d in yaml.safe_load_all(t) if d]
    plans = {
        d["metadata"]["name"]: d["data"]["plan"]
        for d in docs
        if d["kind"] == "ConfigMap" and set(d["data"]) == {"plan"}
    }
    assert sorted(plans) == ["ecr-registry-helper-check", "ecr-registry-helper-uninstall"]
    for name, plan in plans.items():
        assert len(plan.splitlines()) == SCALE_REGISTRIES, name
        # Measured: check 323 328 bytes (31 %), uninstall 150 000 (14 %); README "Plan size".
        assert len(plan.encode()) < 0.4 * CONFIG_MAP_MAX_BYTES, (name, len(plan.encode()))
    [pod] = [d for d in docs if d["kind"] == "Pod"]
    assert ".dkr.ecr." not in yaml.safe_dump(pod), "the Pod names the plan file, not its lines"


def test_a_check_plan_over_one_configmap_is_refused_with_exit_2_naming_the_value(ecr_chart, tmp_path):
    # 3 500 namespaces of 63 characters and five extra accounts: about 1.2 MB of check plan.
    namespaces = ", ".join(f"n{i:062}" for i in range(3500))
    ids = ", ".join(f'"21098765432{i}"' for i in range(5))
    values = tmp_path / "values-big.yaml"
    values.write_text(
        "uninstall: {keepPullSecrets: true}\nhelmTest: {enabled: true}\necrRegistries:\n"
        f"  - name: big\n    region: eu-west-1\n    namespaces: [{namespaces}]\n    registryIds: [{ids}]\n",
        encoding="utf-8",
    )
    result = ecr_chart("render", "-f", values)
    assert result.returncode == 2, result.stderr
    assert result.stdout == "", "nothing half-written"
    assert "the check plan is " in result.stderr, result.stderr
    assert "(3500 registry × namespace lines)" in result.stderr, result.stderr
    assert "helmTest.enabled: false" in result.stderr, result.stderr
