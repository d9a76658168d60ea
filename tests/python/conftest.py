"""Shared fixtures for the Python tests: the real ecr-chart binary, the real Helm
engine (helm-python-sdk), the Kubernetes and External Secrets schemas (the latter from
the npm package in tests/schemas).

A missing real part fails the test with an install hint; nothing is skipped.
Third-party modules are imported here only, so a missing one fails each test
with the hint instead of breaking collection.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL_HINT = (
    "run scripts/test (or: python3 -m venv .venv && "
    ".venv/bin/pip install -r tests/requirements.txt) and use .venv/bin/python"
)
CHART_NAME = "ecr-registry-helper"
MANIFESTS = f"{CHART_NAME}/templates/manifests.yaml"
# Past about 1 MiB the manifests go on in templates/manifests/0002.yaml and on.
MANIFEST_PREFIXES = (MANIFESTS, f"{CHART_NAME}/templates/manifests/")


# The regions the bench's values files cycle through (benches/render.rs).
BENCH_REGIONS = ["eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]


def registries_values(path: Path, count: int, extra: list[str] = ()) -> Path:
    """A values file with `count` registries as benches/render.rs writes them: distinct names,
    cycling regions, 20 target namespaces and schedules."""
    lines = ["ecrRegistries:"]
    for i in range(1, count + 1):
        lines += [
            f"  - name: r{i:04}",
            f"    region: {BENCH_REGIONS[i % len(BENCH_REGIONS)]}",
            f"    namespace: team-{i % 20:02}",
            f'    schedule: "{i % 60} */10 * * *"',
        ]
    lines += ["image:", "  repository: registry.example.com/ecr-refresher", '  tag: "1.2.3"', *extra]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def manifest_templates(rendered: dict[str, str]) -> str:
    """The generated chart's manifest templates as Helm rendered them, joined in path order
    (Helm reads template files in path order): what `ecr-chart render` prints."""
    return "".join(rendered[k] for k in sorted(rendered) if k.startswith(MANIFEST_PREFIXES))
DEFAULT_RELEASE = "ecr-registry-helper"
DEFAULT_NAMESPACE = "default"

# Every scenario: the lead's fixtures, ours, and the embedded values.example.yaml (None).
VALUES_FILES: list[Path | None] = [
    None,
    *sorted((REPO / "tests/fixtures/values").glob("*.yaml")),
    *sorted((Path(__file__).parent / "fixtures/values").glob("*.yaml")),
]
SEED_VALUES = REPO / "tests/fixtures/values/00-seed.yaml"


def values_id(path: Path | None) -> str:
    return "embedded-example" if path is None else path.stem


def require_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError as err:
        pytest.fail(f"cannot import {name} ({err}); {INSTALL_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def helm() -> ModuleType:
    """The real Helm engine: `helm_python` from PyPI helm-python-sdk."""
    return require_module("helm_python")


@pytest.fixture(scope="session")
def yaml() -> ModuleType:
    return require_module("yaml")


@pytest.fixture(scope="session")
def ecr_chart_bin() -> Path:
    """The ecr-chart binary that scripts/test builds (override with ECR_CHART_BIN)."""
    path = Path(os.environ.get("ECR_CHART_BIN", REPO / "target/debug/ecr-chart"))
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"ecr-chart binary not found at {path}; run `cargo build -p ecr-chart` "
            "(scripts/test does) or set ECR_CHART_BIN",
            pytrace=False,
        )
    return path


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="session")
def ecr_chart(ecr_chart_bin: Path):
    """Runs `ecr-chart ARGS...` and returns its exit code and output."""

    def run(*args: str | os.PathLike[str]) -> Run:
        proc = subprocess.run(
            [ecr_chart_bin, *map(os.fspath, args)],
            capture_output=True,
            text=True,
            encoding="utf-8",
            stdin=subprocess.DEVNULL,
            check=False,
            timeout=60,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr)

    return run


def values_args(values: Path | list[Path] | None) -> list[str]:
    if values is None:
        return []
    files = values if isinstance(values, list) else [values]
    return [arg for f in files for arg in ("-f", os.fspath(f))]


@pytest.fixture(scope="session")
def render(ecr_chart):
    """`ecr-chart render` stdout; fails the test if the command fails."""

    def run(
        values: Path | list[Path] | None,
        release: str = DEFAULT_RELEASE,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> str:
        args = ["render", *values_args(values), "--release-name", release, "--namespace", namespace]
        result = ecr_chart(*args)
        assert result.returncode == 0, f"ecr-chart {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout

    return run


@pytest.fixture(scope="session")
def chart_dir(ecr_chart, tmp_path_factory):
    """`ecr-chart chart -o DIR` for a values file (or list), generated once per session."""
    made: dict[tuple[str, ...], Path] = {}

    def make(values: Path | list[Path] | None) -> Path:
        key = tuple(values_args(values))
        if key not in made:
            out = tmp_path_factory.mktemp("chart") / CHART_NAME
            result = ecr_chart("chart", *key, "-o", out)
            assert result.returncode == 0, f"ecr-chart chart {key} failed:\n{result.stderr}"
            made[key] = out
        return made[key]

    return make


_DOC_START = re.compile(r"^---[ \t]*$", re.MULTILINE)


def split_documents(stream: str) -> list[str]:
    """Split a YAML stream on its `---` lines (indented `---` in block scalars stay)."""
    parts = _DOC_START.split(stream)
    return parts[1:] if parts[0].strip() == "" else parts


@pytest.fixture(scope="session")
def documents(render, yaml):
    """The rendered objects of one scenario, parsed."""

    def parse(values: Path | list[Path] | None, **kwargs: str) -> list[dict]:
        docs = [d for d in yaml.safe_load_all(render(values, **kwargs)) if d is not None]
        assert docs, "ecr-chart render printed no objects"
        return docs

    return parse


SCHEMAS = REPO / "tests/schemas"
NODE_INSTALL_HINT = (
    "run scripts/test (or: npm ci --prefix tests/schemas); it needs node and npm "
    "(Debian: apt-get install nodejs npm)"
)


@pytest.fixture(scope="session")
def custom_resource_problems():
    """Checks custom resources against their operators' schemas from npm @kubernetes-models
    packages (ExternalSecret: ESO v1; PrometheusRule: prometheus-operator v1), by kind.

    One node process (tests/schemas/validate-custom-resources.mjs) serves the session: the
    returned function sends a list of objects and gets, per object, its list of problems.
    """
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node not found on PATH; {NODE_INSTALL_HINT}", pytrace=False)
    pinned = json.loads((SCHEMAS / "package.json").read_text(encoding="utf-8"))["dependencies"]
    for name, version in pinned.items():
        installed = SCHEMAS / "node_modules" / name / "package.json"
        if not installed.is_file():
            pytest.fail(f"npm package {name} is not installed in {SCHEMAS}; {NODE_INSTALL_HINT}", pytrace=False)
        found = json.loads(installed.read_text(encoding="utf-8"))["version"]
        if found != version:
            pytest.fail(f"npm package {name} is {found}, tests/schemas pins {version}; {NODE_INSTALL_HINT}", pytrace=False)
    proc = subprocess.Popen(
        [node, SCHEMAS / "validate-custom-resources.mjs"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        cwd=SCHEMAS,
    )

    def check(objects: list[dict]) -> list[list[str]]:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(objects) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            pytest.fail(f"the custom resource validator exited with {proc.wait(timeout=10)}", pytrace=False)
        problems = json.loads(line)
        assert len(problems) == len(objects)
        return problems

    yield check
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0, "the custom resource validator failed"


def pod_specs(doc: dict) -> list[tuple[str, dict]]:
    """Every pod spec an object would create, with its path for messages."""
    kind, spec = doc.get("kind"), doc.get("spec") or {}
    if kind == "Pod":
        return [("spec", spec)]
    if kind == "CronJob":
        return [("spec.jobTemplate.spec.template.spec", spec["jobTemplate"]["spec"]["template"]["spec"])]
    if kind in {"Job", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"}:
        return [("spec.template.spec", spec["template"]["spec"])]
    return []
