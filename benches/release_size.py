"""Sizes a Helm release record the way Helm v4 stores it, for a chart and values files.

Helm's Secret storage driver keeps one release as `base64(gzip(json.Marshal(release)))`
(pkg/storage/driver/util.go: gzip.BestCompression) in the `sh.helm.release.v1.<name>.v<N>`
Secret's `release` key; Kubernetes caps a Secret's data at 1 MiB. The release JSON
(pkg/release/v1/release.go, pkg/chart/v2/chart.go) holds the chart (metadata, every template as
base64 `data`, the chart's default values, the schema as base64, other files), the user's
values (`config`), the rendered non-hook `manifest`, every hook with its own `manifest`, and
`info.notes`. This rebuilds that JSON from what the real Helm engine (helm-python-sdk) loads and
renders, so the figure moves with the chart, not with a model of it.

    .venv/bin/python benches/release_size.py --chart DIR [--values FILE] [--json]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import re
import sys
from pathlib import Path

import helm_python as helm

RELEASE = "bench"
NAMESPACE = "ecr-system"
# A kubeconfig for a server that does not exist: a client-only dry run never contacts it.
UNREACHABLE_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
users: [{name: none, user: {token: not-a-real-token}}]
current-context: none
"""
HOOK = re.compile(r"^\s+\"?helm\.sh/hook\"?:\s*\"?([^\"\n]+)", re.MULTILINE)
KIND = re.compile(r"^kind:\s*\"?([^\"\n]+)", re.MULTILINE)
DELETE_POLICY = re.compile(r"^\s+\"?helm\.sh/hook-delete-policy\"?:\s*\"?([^\"\n]+)", re.MULTILINE)
NAME = re.compile(r"^metadata:\n(?:\s+.*\n)*?\s+name:\s*\"?([^\"\n]+)", re.MULTILINE)


def go_json(value) -> bytes:
    """json.Marshal's bytes: compact, `<`, `>`, `&`, U+2028 and U+2029 escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


def b64(data: str) -> str:
    return base64.b64encode(data.encode()).decode()


def hooks(rendered: dict[str, str]) -> list[dict]:
    """The hook documents of a render, as Helm records them (one entry per document)."""
    out = []
    for path in sorted(rendered):
        if path.endswith("NOTES.txt"):
            continue
        for doc in re.split(r"^---\n", rendered[path], flags=re.MULTILINE):
            events = HOOK.search(doc)
            if not events:
                continue
            kind, name = KIND.search(doc), NAME.search(doc)
            policies = DELETE_POLICY.search(doc)
            out.append(
                {
                    "name": name.group(1) if name else "",
                    "kind": kind.group(1) if kind else "",
                    "path": path,
                    "manifest": doc.strip("\n"),
                    "events": [e.strip() for e in events.group(1).split(",")],
                    "last_run": {"started_at": "", "completed_at": "", "phase": ""},
                    "delete_policies": [p.strip() for p in policies.group(1).split(",")] if policies else [],
                }
            )
    return out


def release_record(chart_dir: Path, values: dict | None) -> dict[str, int]:
    """Byte sizes of the parts of the release JSON and of what Helm stores."""
    with helm.Chart.load(chart_dir) as chart:
        metadata, defaults = chart.metadata, chart.values
        templates = chart.templates
        schema = chart.schema
        files = chart.files
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    with helm.Config(kubeconfig_content=UNREACHABLE_KUBECONFIG, storage_driver="memory") as cfg:
        summary = cfg.install(chart_dir, RELEASE, values, namespace=NAMESPACE, dry_run="client")
    schema_text = "" if schema is None else json.dumps(schema, indent=2)
    parts = {
        "templates": [
            {"name": t["name"], "data": b64(t["data"])} for t in templates
        ],
        "values": defaults,
        "schema": b64(schema_text),
        "files": [{"name": f["name"], "data": b64(f["data"])} for f in files],
        "config": values or {},
        "manifest": summary["manifest"],
        "hooks": hooks(rendered),
        "notes": summary.get("notes", ""),
    }
    release = {
        "name": RELEASE,
        "info": {
            "first_deployed": "2026-01-01T00:00:00.000000000Z",
            "last_deployed": "2026-01-01T00:00:00.000000000Z",
            "deleted": "",
            "description": "Install complete",
            "status": "deployed",
            "notes": parts["notes"],
        },
        "chart": {
            "metadata": metadata,
            "lock": None,
            "templates": parts["templates"],
            "values": parts["values"],
            "schema": parts["schema"],
            "files": parts["files"],
        },
        "config": parts["config"],
        "manifest": parts["manifest"],
        "hooks": parts["hooks"],
        "version": 1,
        "namespace": NAMESPACE,
    }
    encoded = go_json(release)
    stored = base64.b64encode(gzip.compress(encoded, compresslevel=9))
    sizes = {"release_json": len(encoded), "stored": len(stored)}
    # What each part costs in the stored record: the record without it, subtracted.
    for part in ("templates", "values", "schema", "config", "manifest", "hooks", "notes"):
        trimmed = json.loads(encoded)
        if part in ("templates", "values", "schema"):
            trimmed["chart"][part] = [] if part == "templates" else None
        elif part == "notes":
            trimmed["info"]["notes"] = ""
        else:
            trimmed[part] = None
        without = base64.b64encode(gzip.compress(go_json(trimmed), compresslevel=9))
        sizes[f"stored_{part}"] = len(stored) - len(without)
    sizes["largest_file"] = max(
        p.stat().st_size for p in chart_dir.rglob("*") if p.is_file()
    )
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", required=True, type=Path)
    parser.add_argument("--values", type=Path, help="a values file passed as `-f` (default: none)")
    args = parser.parse_args()
    helm.disable_logging()
    values = None if args.values is None else helm.values_from_yaml(args.values.read_text())
    print(json.dumps(release_record(args.chart, values), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
