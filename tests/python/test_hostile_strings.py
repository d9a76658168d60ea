"""Hostile strings come back byte-identical from Go's YAML reader, or are refused.

Every free-text field (annotations, label values, image, keyPrefix, remoteKeyTemplate, the
store name, affinity, tolerations and resources, map keys among them, keys longer than YAML's
1 024-character implicit-key limit) is given each string of tests/fixtures/hostile/strings/
(DEL, C1 controls, U+0085, U+2028/9, BOM, U+FFFE/F, NUL and other C0, tabs, non-BMP, quotes,
`: `, `#`, spaces, YAML-looking words). `ecr-chart render` must then either refuse the values
(exit 2, naming the field) or print objects that tests/yaml-oracle (gopkg.in/yaml.v2, the
reader under sigs.k8s.io/yaml: kubectl, Helm, ArgoCD) reads as exactly what it meant: the
objects it renders for a placeholder, with the placeholder replaced by the hostile string.
The chart `ecr-chart chart` writes for the same values renders the same text in the real Helm
engine, and its guard accepts the values given again.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
from conftest import DEFAULT_NAMESPACE, DEFAULT_RELEASE, MANIFESTS, REPO

STRINGS = REPO / "tests/fixtures/hostile/strings"
ORACLE = REPO / "tests/yaml-oracle"
GO_HINT = "run scripts/test (installs golang-go golang-gopkg-yaml.v2-dev)"
# A plain word every field takes, that no rendered text holds otherwise.
PLACEHOLDER = "zqx7placeholder"
REGISTRY = {"name": "primary", "region": "eu-central-1", "namespace": "argocd"}


def hostile_strings() -> list[tuple[str, str]]:
    """`(id, string)` of strings.json: JSON, so every character is written as an escape."""
    table = json.loads((STRINGS / "strings.json").read_text(encoding="utf-8"))
    return [(case["id"], case["text"]) for case in table["strings"]]


def long_keys() -> list[tuple[str, str]]:
    table = json.loads((STRINGS / "strings.json").read_text(encoding="utf-8"))
    return [(case["id"], case["text"] * case["repeat"]) for case in table["longKeys"]]


def yaml_string(text: str) -> str:
    """`text` as a YAML double-quoted scalar holding only printable ASCII: every other
    character as an escape, so the values file itself is valid for any reader."""
    out = ['"']
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif " " <= c <= "~":
            out.append(c)
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


def yaml_key(key: str) -> str:
    """A key: explicit (`? key`) when too long for an implicit key (1 024 characters)."""
    text = yaml_string(key)
    return f"? {text} " if len(text) > 1000 else text


def yaml_flow(value: Any) -> str:
    """A JSON-like value as one YAML flow node, its strings through `yaml_string`."""
    if isinstance(value, str):
        return yaml_string(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{yaml_key(k)}: {yaml_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_flow(v) for v in value) + "]"
    return json.dumps(value)


def values_file(path: Path, values: dict) -> Path:
    path.write_text(
        "".join(f"{yaml_string(k)}: {yaml_flow(v)}\n" for k, v in values.items()),
        encoding="utf-8",
    )
    return path


@dataclass(frozen=True)
class Field:
    """A place for a hostile string: the values that put `text` there, and the field path
    an error about it names."""

    id: str
    path: str
    values: Callable[[str], dict]
    # Kubernetes takes any text here: refusing it would be a bug of ours.
    free_text: bool = False
    # An empty string here means "not set" (the default tag, no priority class).
    empty_is_unset: bool = False


def affinity(key: str = "app", value: str = "web", topology: str = "kubernetes.io/hostname") -> dict:
    return {
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 1,
                    "podAffinityTerm": {
                        "topologyKey": topology,
                        "labelSelector": {"matchLabels": {key: value}},
                    },
                }
            ]
        }
    }


def toleration(key: str = "dedicated", value: str = "tools") -> list:
    return [{"key": key, "operator": "Equal", "value": value, "effect": "NoSchedule"}]


FIELDS = [
    Field("pod-annotation", "podAnnotations", lambda t: {"podAnnotations": {"note": t}}, True),
    Field(
        "service-account-annotation",
        "serviceAccount.annotations",
        lambda t: {"serviceAccount": {"annotations": {"note": t}}},
        True,
    ),
    Field("common-label", "commonLabels", lambda t: {"commonLabels": {"team": t}}),
    Field("pod-label", "podLabels", lambda t: {"podLabels": {"team": t}}),
    Field("node-selector", "nodeSelector", lambda t: {"nodeSelector": {"pool": t}}),
    Field("image-repository", "image", lambda t: {"image": {"repository": "ghcr.io/o/" + t}}),
    Field("image-tag", "image", lambda t: {"image": {"tag": t}}, empty_is_unset=True),
    Field("key-prefix", "externalSecret.keyPrefix", lambda t: {"externalSecret": {"keyPrefix": t}}),
    Field(
        "remote-key-template",
        "externalSecret.remoteKeyTemplate",
        lambda t: {"externalSecret": {"remoteKeyTemplate": "{prefix}/" + t + "/{name}/{key}"}},
    ),
    Field(
        "store-name",
        "externalSecret.secretStoreRef.name",
        lambda t: {"externalSecret": {"secretStoreRef": {"name": t}}},
    ),
    Field("priority-class", "priorityClassName", lambda t: {"priorityClassName": t}, empty_is_unset=True),
    Field("affinity-key", "affinity", lambda t: {"affinity": affinity(key=t)}),
    Field("affinity-value", "affinity", lambda t: {"affinity": affinity(value=t)}),
    Field("affinity-topology", "affinity", lambda t: {"affinity": affinity(topology=t)}),
    Field("toleration-key", "tolerations", lambda t: {"tolerations": toleration(key=t)}),
    Field("toleration-value", "tolerations", lambda t: {"tolerations": toleration(value=t)}),
    Field("resources-key", "resources", lambda t: {"resources": {"limits": {t: "1"}}}),
]
# Map keys that Kubernetes takes as any string: where keys longer than 1 024 bytes go.
KEY_FIELDS = [f for f in FIELDS if f.id in ("affinity-key", "resources-key")] + [
    Field("annotation-key", "podAnnotations", lambda t: {"podAnnotations": {t: "v"}}),
]


@pytest.fixture(scope="session")
def yaml_oracle(tmp_path_factory) -> Callable[[str], list]:
    """Reads a YAML stream with tests/yaml-oracle (built here) and returns its documents."""
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"go not found on PATH; {GO_HINT}", pytrace=False)
    out = tmp_path_factory.mktemp("yaml-oracle")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": os.fspath(REPO / "target/yaml-oracle-go-build"),
        "GOFLAGS": "",
        "CGO_ENABLED": "0",
    }
    build = subprocess.run(
        [go, "build", "-o", out / "yaml-oracle", "."],
        cwd=ORACLE,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if build.returncode != 0:
        pytest.fail(f"cannot build tests/yaml-oracle ({build.stderr.strip()}); {GO_HINT}", pytrace=False)

    def read(stream: str) -> list:
        proc = subprocess.run(
            [out / "yaml-oracle"],
            input=stream.encode("utf-8"),
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert proc.returncode == 0, f"Go's YAML reader refuses the output: {proc.stderr.decode()}"
        return json.loads(proc.stdout)

    return read


def replaced(value: Any, old: str, new: str) -> Any:
    """`value` with `old` replaced by `new` in every string and every key."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {k.replace(old, new): replaced(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [replaced(v, old, new) for v in value]
    return value


@pytest.fixture(scope="session")
def meant(ecr_chart, yaml_oracle, tmp_path_factory):
    """The objects ecr-chart means for `field` holding a string: rendered for the placeholder
    (read by the oracle once per field), the placeholder then replaced by the string."""

    @functools.cache
    def objects(values: str) -> list:
        path = tmp_path_factory.mktemp("placeholder") / "values.yaml"
        path.write_text(values, encoding="utf-8")
        result = ecr_chart("render", "-f", path)
        assert result.returncode == 0, f"refused: {values}\n{result.stderr}"
        return yaml_oracle(result.stdout)

    def of(field: Field, text: str) -> list:
        if text == "" and field.empty_is_unset:
            return objects(yaml_flow(with_registry({})))
        placeholder = objects(yaml_flow(with_registry(field.values(PLACEHOLDER))))
        assert PLACEHOLDER in json.dumps(placeholder), f"{field.id} does not reach the output"
        return replaced(placeholder, PLACEHOLDER, text)

    return of


# An immediate Job's name ends in a hash of its pod's settings (so a changed setting makes a new
# Job): a string in a pod setting changes it. Only the hash is left out of the comparison.
SETTINGS_HASH = re.compile(r"^(ecr-registry-helper-immediate-.+)-[0-9a-f]{8}$")


def without_settings_hash(objects: list) -> list:
    """`objects` with every immediate Job's settings hash replaced by a fixed stand-in."""
    for obj in objects:
        if obj.get("kind") == "Job":
            name = obj["metadata"]["name"]
            obj["metadata"]["name"] = SETTINGS_HASH.sub(r"\1-HASH", name)
    return objects


def with_registry(values: dict) -> dict:
    return {"ecrRegistries": [REGISTRY], **values}


def rendered_or_refused(ecr_chart, tmp_path: Path, field: Field, text: str):
    """The render of `field` holding `text`, or None when refused (exit 2, naming the field)."""
    path = values_file(tmp_path / "values.yaml", with_registry(field.values(text)))
    result = ecr_chart("render", "-f", path)
    if result.returncode == 2:
        assert not field.free_text, f"{field.id} is free text, yet refused:\n{result.stderr}"
        assert f"× {field.path}" in result.stderr, f"the refusal names no {field.path}:\n{result.stderr}"
        assert "values.yaml:" in result.stderr, result.stderr
        return None
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("text", [t for _, t in hostile_strings()], ids=[i for i, _ in hostile_strings()])
@pytest.mark.parametrize("field", FIELDS, ids=[f.id for f in FIELDS])
def test_a_hostile_string_reads_back_from_go_yaml_as_given_or_is_refused(
    ecr_chart, yaml_oracle, meant, tmp_path, field, text
):
    rendered = rendered_or_refused(ecr_chart, tmp_path, field, text)
    if rendered is None:
        return

    assert without_settings_hash(yaml_oracle(rendered)) == without_settings_hash(meant(field, text))


@pytest.mark.parametrize("key", [k for _, k in long_keys()], ids=[i for i, _ in long_keys()])
@pytest.mark.parametrize("field", KEY_FIELDS, ids=[f.id for f in KEY_FIELDS])
def test_a_key_over_the_implicit_key_limit_reads_back_from_go_yaml_or_is_refused(
    ecr_chart, yaml_oracle, meant, tmp_path, field, key
):
    rendered = rendered_or_refused(ecr_chart, tmp_path, field, key)
    if rendered is None:
        return

    assert without_settings_hash(yaml_oracle(rendered)) == without_settings_hash(meant(field, key))


def accepted_everywhere(ecr_chart, tmp_path: Path, text: str) -> dict:
    """Values holding `text` in every field that takes it (fields whose refusal names them
    are left out, one validation at a time)."""
    fields = list(FIELDS)
    while True:
        values: dict = {}
        for field in fields:
            values = merged(values, field.values(text))
        path = values_file(tmp_path / "values.yaml", with_registry(values))
        result = ecr_chart("validate", "-f", path)
        if result.returncode == 0:
            return values
        assert result.returncode == 2, result.stderr
        kept = [f for f in fields if f"× {f.path}" not in result.stderr]
        assert len(kept) < len(fields), f"a refusal that names no field:\n{result.stderr}"
        fields = kept


def merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def test_the_free_text_fields_take_every_hostile_string(ecr_chart, tmp_path):
    for _, text in hostile_strings():
        values = accepted_everywhere(ecr_chart, tmp_path, text)
        assert values["podAnnotations"] == {"note": text}
        assert values["serviceAccount"]["annotations"] == {"note": text}


@pytest.mark.parametrize("text", [t for _, t in hostile_strings()], ids=[i for i, _ in hostile_strings()])
def test_the_generated_chart_renders_hostile_strings_in_helm_as_ecr_chart_does(
    ecr_chart, helm, tmp_path, text
):
    values = accepted_everywhere(ecr_chart, tmp_path, text)
    path = values_file(tmp_path / "values.yaml", with_registry(values))
    expected = ecr_chart("render", "-f", path)
    assert expected.returncode == 0, expected.stderr
    chart = tmp_path / "chart"
    result = ecr_chart("chart", "-f", path, "-o", chart)
    assert result.returncode == 0, result.stderr

    with helm.Chart.load(chart) as loaded:
        bare = loaded.render(None, name=DEFAULT_RELEASE, namespace=DEFAULT_NAMESPACE)
        # The same values given again (as `helm upgrade -f values.yaml`): the guard accepts them.
        again = loaded.render(
            helm.values_from_yaml(path.read_text(encoding="utf-8")),
            name=DEFAULT_RELEASE,
            namespace=DEFAULT_NAMESPACE,
        )

    assert bare[MANIFESTS] == expected.stdout
    assert again[MANIFESTS] == expected.stdout
