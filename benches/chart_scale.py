"""Scale of the generated chart against benches/reference-chart, through the real Helm engine.

For each `values-<N>.yaml`: the chart `ecr-chart chart` wrote for it (`--charts DIR`, holding
`chart-<N>/`) is loaded and rendered by helm-python-sdk (median of a few runs each, as
`helm template` does it: no values given), its largest file measured against Helm's 5 MiB
limit, and the release record Helm would store sized by benches/release_size.py, beside the
reference chart rendered and sized with the same values file given as `-f`. Prints one JSON
object keyed by N.

    .venv/bin/python benches/chart_scale.py --charts DIR --reference benches/reference-chart values-*.yaml
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
from release_size import NAMESPACE, RELEASE, release_record

RUNS = 3


def timed(action) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def load_and_render(chart_dir: Path, values: dict | None) -> tuple[float, float]:
    def load():
        with helm.Chart.load(chart_dir):
            pass

    def render():
        with helm.Chart.load(chart_dir) as chart:
            chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)

    load_s = timed(load)
    return load_s, max(timed(render) - load_s, 0.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", required=True, type=Path)
    parser.add_argument("--reference", required=True, type=Path)
    parser.add_argument("values", nargs="+", type=Path)
    args = parser.parse_args()
    helm.disable_logging()
    results = {}
    for path in args.values:
        n = re.search(r"values-(\d+)\.yaml$", path.name).group(1)
        values = helm.values_from_yaml(path.read_text())
        chart_dir = args.charts / f"chart-{n}"
        load_s, render_s = load_and_render(chart_dir, None)
        ref_load_s, ref_render_s = load_and_render(args.reference, values)
        results[n] = {
            "generated": {"load_s": load_s, "render_s": render_s, **release_record(chart_dir, None)},
            "reference": {
                "load_s": ref_load_s,
                "render_s": ref_render_s,
                **release_record(args.reference, values),
            },
        }
        ratio = results[n]["generated"]["stored"] / results[n]["reference"]["stored"]
        print(f"scale {n:>5} registries: release record {ratio:.2f}× the reference's", file=sys.stderr)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
