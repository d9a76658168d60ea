"""Times the real Helm engine (helm-python-sdk) rendering the reference chart.

For each values file: parse the YAML (Helm's own parser, like `helm template -f FILE`), coalesce
with the chart defaults and render every template, the same work `ecr-chart render -f FILE` does.
Prints one JSON object: {"<N>": {"median_s", "min_s", "max_s", "runs", "documents"}, ...} where N
is taken from the file name `values-<N>.yaml`.

    .venv/bin/python benches/helm_render.py --chart benches/reference-chart values-*.yaml
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import helm_python as helm

RELEASE = "bench"
NAMESPACE = "ecr-system"


def render_once(chart: helm.Chart, text: str) -> dict[str, str]:
    values = helm.values_from_yaml(text)
    return chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)


def documents(manifests: dict[str, str]) -> int:
    """Kubernetes objects in the output (each has one top-level `kind:`)."""
    return sum(len(re.findall(r"^kind: ", text, re.M)) for text in manifests.values())


def measure(chart: helm.Chart, text: str, budget_s: float, min_runs: int, max_runs: int):
    render_once(chart, text)  # warm-up: first call loads caches in the Go runtime
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < max_runs and (
        len(times) < min_runs or time.perf_counter() - started < budget_s
    ):
        t0 = time.perf_counter()
        render_once(chart, text)
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", required=True, type=Path)
    parser.add_argument("--budget", type=float, default=5.0, help="seconds per size (default 5)")
    parser.add_argument("--min-runs", type=int, default=3)
    parser.add_argument("--max-runs", type=int, default=200)
    parser.add_argument(
        "--once", action="store_true", help="render each file once, print nothing (process timing)"
    )
    parser.add_argument("values", nargs="+", type=Path)
    args = parser.parse_args()

    helm.disable_logging()
    with helm.Chart.load(args.chart) as chart:
        if args.once:
            for path in args.values:
                render_once(chart, path.read_text())
            return 0
        results = {}
        for path in args.values:
            match = re.search(r"values-(\d+)\.yaml$", path.name)
            if not match:
                print(f"error: {path}: expected a name values-<N>.yaml", file=sys.stderr)
                return 2
            text = path.read_text()
            times = measure(chart, text, args.budget, args.min_runs, args.max_runs)
            results[match.group(1)] = {
                "median_s": statistics.median(times),
                "min_s": min(times),
                "max_s": max(times),
                "runs": len(times),
                "documents": documents(render_once(chart, text)),
            }
            print(
                f"helm {match.group(1):>5} registries: median {results[match.group(1)]['median_s'] * 1e3:9.2f} ms"
                f" over {len(times)} runs",
                file=sys.stderr,
            )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
