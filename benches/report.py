"""Prints the scripts/bench results as one Markdown report (the README's Performance figures).

Reads what scripts/bench left in --out: criterion's estimates (under --target-dir/criterion),
helm.json, docs-<N>, chart-process.json and helm-process.json (hyperfine), chart-chart-<N>.json
(hyperfine) and scale.json (benches/chart_scale.py), refresher.time,
seed.time and baseline.time (`wall user sys maxrss_kib` lines from benches/proc_stats.py). Standard library only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

SIZES = [1, 10, 100, 1000, 5000]
SCALE_SIZES = [100, 1000, 5000]
GROUP = "load_validate_render"

# Issue 11: Helm's per-file limit, Kubernetes' Secret limit (the release record) and the goal
# for the release record against the values-driven reference chart.
HELM_MAX_FILE_BYTES = 5 * 1024 * 1024
SECRET_MAX_BYTES = 1024 * 1024
RELEASE_RATIO_GOAL = 1.5
# The budgets of issues 3 and 5.
CHART_PROCESS_BUDGET_S = 0.100
HELM_RATIO_BUDGET = 10.0
REFRESH_RATIO_BUDGET = 10.0
RSS_BUDGET_ISSUE5_KIB = 20 * 1024
RSS_BUDGET_ISSUE3_KIB = 16 * 1024
BINARY_BUDGET_BYTES = 10_000_000
# The refresher's budgets since the TLS fix: one refresh against an HTTPS API server, its peak
# RSS and the image's static binary.
REFRESH_TLS_WALL_BUDGET_S = 0.025
RSS_BUDGET_KIB = 8 * 1024
STATIC_BINARY_BUDGET_BYTES = 9_000_000

# Sums the files of awscli and every distribution it requires, as installed in the bench venv.
AWSCLI_SIZE = r"""
import importlib.metadata as md, re
seen, todo, total = set(), ["awscli"], 0
while todo:
    name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
    if name in seen:
        continue
    seen.add(name)
    dist = md.distribution(name)
    for f in dist.files or []:
        path = f.locate()
        if path.is_file():
            total += path.stat().st_size
    for req in dist.requires or []:
        if "extra ==" not in req:
            todo.append(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0])
print(total, ",".join(sorted(seen)))
"""


def ms(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 10:
        return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds:.1f} s"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs"


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def size(n: int) -> str:
    return f"{n / 1e3:.0f} kB" if n < 1e6 else f"{n / 1e6:.2f} MB"


def scale_section(out: Path, add) -> tuple[dict[int, float], int]:
    """The scale table (issue 11); returns the release-record ratios by size and the largest
    generated chart file."""
    scale = json.loads((out / "scale.json").read_text())
    add("#### Scale: the generated chart beside `benches/reference-chart` (issue 11)")
    add("")
    add(
        "`ecr-chart chart`: hyperfine, median of 5, release build. Helm engine: helm-python-sdk, "
        "median of 3; the generated chart rendered with no values, the reference with the values "
        "file as `-f`. Release record: base64(gzip(release JSON)) as Helm's Secret driver stores "
        "it (benches/release_size.py); Kubernetes refuses a Secret over 1 MiB."
    )
    add("")
    add(
        "| registries | `ecr-chart chart` | Helm load + render (generated / reference) "
        "| largest chart file (limit 5 MiB) | release record generated / reference | ratio "
        "| of which, generated: templates / manifest / schema / notes |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|")
    ratios_scale = {}
    for n in SCALE_SIZES:
        gen, ref = scale[str(n)]["generated"], scale[str(n)]["reference"]
        chart = json.loads((out / f"chart-chart-{n}.json").read_text())["results"][0]
        ratio = gen["stored"] / ref["stored"]
        ratios_scale[n] = ratio
        add(
            f"| {n:,} | {ms(chart['median'])} "
            f"| {ms(gen['load_s'] + gen['render_s'])} / {ms(ref['load_s'] + ref['render_s'])} "
            f"| {size(gen['largest_file'])} | {size(gen['stored'])} / {size(ref['stored'])} "
            f"| {ratio:.2f}× | {size(gen['stored_templates'])} / {size(gen['stored_manifest'])} "
            f"/ {size(gen['stored_schema'])} / {size(gen['stored_notes'])} |"
        )
    add("")
    largest = max(scale[str(n)]["generated"]["largest_file"] for n in SCALE_SIZES)
    return ratios_scale, largest


def criterion(target: Path, n: int) -> dict[str, float]:
    """Median, min and max time per iteration (seconds) of one criterion benchmark."""
    base = target / "criterion" / GROUP / str(n) / "new"
    estimates = json.loads((base / "estimates.json").read_text())
    sample = json.loads((base / "sample.json").read_text())
    per_iter = [t / i for t, i in zip(sample["times"], sample["iters"], strict=True)]
    return {
        "median": estimates["median"]["point_estimate"] / 1e9,
        "min": min(per_iter) / 1e9,
        "max": max(per_iter) / 1e9,
    }


def proc_stats(path: Path) -> dict[str, list[float]]:
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    rows = [r for r in rows if len(r) == 4]
    return {
        "wall": [float(r[0]) for r in rows],
        "cpu": [float(r[1]) + float(r[2]) for r in rows],
        "rss": [float(r[3]) for r in rows],
    }


def spread(values: list[float], fmt) -> str:
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    cpus = len(os.sched_getaffinity(0))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{cpus} CPUs (`nproc`), {model}, {mem_kib / 1024 / 1024:.1f} GiB RAM, "
        f"Linux {platform.release()}; load average when the report was written: {load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--target-dir", type=Path, required=True)
    parser.add_argument("--bench-venv", type=Path, required=True)
    parser.add_argument("--refresher-bin", type=Path, required=True)
    parser.add_argument("--chart-bin", type=Path, required=True)
    args = parser.parse_args()
    out = args.out

    helm = json.loads((out / "helm.json").read_text())
    lines: list[str] = []
    add = lines.append
    add(f"Measured {datetime.date.today().isoformat()} on {machine()}.")
    add("")
    add("#### ecr-chart: values text → load + validate + render (in-process)")
    add("")
    add(
        "ecr-chart: criterion, median (min–max) per render. Helm: helm-python-sdk "
        "(`values_from_yaml` + `Chart.render`) on `benches/reference-chart`, median (min–max)."
    )
    add("")
    add(
        "| registries | objects (ecr-chart / Helm) | ecr-chart | per registry "
        "| Helm engine | per registry | Helm ÷ ecr-chart |"
    )
    add("|---:|---:|---:|---:|---:|---:|---:|")
    ratios = {}
    for n in SIZES:
        ours = criterion(args.target_dir, n)
        theirs = helm[str(n)]
        docs = int((out / f"docs-{n}").read_text().strip())
        ratio = theirs["median_s"] / ours["median"]
        ratios[n] = ratio
        add(
            f"| {n:,} | {docs:,} / {theirs['documents']:,} "
            f"| {ms(ours['median'])} ({ms(ours['min'])}–{ms(ours['max'])}) "
            f"| {us(ours['median'] / n)} "
            f"| {ms(theirs['median_s'])} ({ms(theirs['min_s'])}–{ms(theirs['max_s'])}) "
            f"| {us(theirs['median_s'] / n)} | {ratio:.1f}× |"
        )
    add("")

    chart_proc = json.loads((out / "chart-process.json").read_text())["results"][0]
    helm_proc = json.loads((out / "helm-process.json").read_text())["results"][0]
    chart_median = chart_proc["median"]
    add("#### Whole process, 1 000 registries (hyperfine)")
    add("")
    add("| command | median | min–max | runs |")
    add("|---|---:|---:|---:|")
    add(
        f"| `ecr-chart render -f values-1000.yaml` (release) | {ms(chart_median)} "
        f"| {ms(chart_proc['min'])}–{ms(chart_proc['max'])} | {len(chart_proc['times'])} |"
    )
    add(
        "| `python benches/helm_render.py --once values-1000.yaml` (Helm engine, incl. Python "
        f"start-up) | {ms(helm_proc['median'])} | {ms(helm_proc['min'])}–{ms(helm_proc['max'])} "
        f"| {len(helm_proc['times'])} |"
    )
    add("")

    ratios_scale, largest_file = scale_section(out, add)

    ours = proc_stats(out / "refresher.time")
    seed = proc_stats(out / "seed.time")
    runs = len(ours["wall"])
    add(f"#### One refresh, whole process ({runs} runs each, alternating; median (min–max))")
    add("")
    add("| | wall | CPU user+sys | peak RSS |")
    add("|---|---:|---:|---:|")
    add(
        "| `ecr-refresher` (the image's static binary): ECR token from moto, server-side apply "
        "to the fake API over HTTPS "
        f"| {spread(ours['wall'], ms)} | {spread(ours['cpu'], ms)} | {spread(ours['rss'], mib)} |"
    )
    add(
        "| `aws ecr get-login-password` → `kubectl create secret docker-registry "
        "--dry-run=client -o yaml` "
        f"| {spread(seed['wall'], ms)} | {spread(seed['cpu'], ms)} | {spread(seed['rss'], mib)} |"
    )
    base = proc_stats(out / "baseline.time")
    add(
        "| `/bin/true`: the harness' own cost (GNU time start-up), included in both rows above "
        f"| {spread(base['wall'], ms)} | {spread(base['cpu'], ms)} | {spread(base['rss'], mib)} |"
    )
    wall_ratio = statistics.median(seed["wall"]) / statistics.median(ours["wall"])
    cpu_ratio = statistics.median(seed["cpu"]) / max(statistics.median(ours["cpu"]), 0.001)
    rss_ratio = statistics.median(seed["rss"]) / statistics.median(ours["rss"])
    add(f"| ratio (seed ÷ ecr-refresher) | {wall_ratio:.1f}× | {cpu_ratio:.1f}× | {rss_ratio:.1f}× |")
    add("")
    add(
        "`benches/proc_stats.py`: wall and CPU (user+sys, the process and the children it waited "
        "for) at µs resolution, peak RSS from GNU time (`%M`). Peak RSS of the seed pipeline is "
        "that of its largest process (aws and kubectl run one after the other); the seed's kubectl "
        "does not even contact the API server (`--dry-run=client`), ecr-refresher does a real "
        "server-side apply."
    )
    add("")

    binary = args.refresher_bin.stat().st_size
    aws_total, aws_dists = subprocess.run(
        [str(args.bench_venv / "bin" / "python"), "-c", AWSCLI_SIZE],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    aws_bytes = int(aws_total)
    kubectl = (args.bench_venv / "bin" / "kubectl").resolve().stat().st_size
    add("#### On disk")
    add("")
    add("| | size |")
    add("|---|---:|")
    add(f"| `ecr-refresher`, the image's stripped static binary | {mb(binary)} |")
    add(f"| awscli installed ({aws_dists.replace(',', ', ')}; without Python itself) | {mb(aws_bytes)} |")
    add(f"| kubectl binary | {mb(kubectl)} |")
    add(f"| awscli + kubectl ÷ ecr-refresher | {(aws_bytes + kubectl) / binary:.0f}× |")
    add("")

    rss = statistics.median(ours["rss"])
    add("#### Budgets")
    add("")
    add("| budget | measured | |")
    add("|---|---:|---|")
    add(
        f"| `ecr-chart render`, 1 000 registries, whole process < 100 ms | {ms(chart_median)} "
        f"| {met(chart_median < CHART_PROCESS_BUDGET_S)} |"
    )
    add(
        f"| ≥ 10× faster than the Helm engine, 1 000 registries | {ratios[1000]:.1f}× "
        f"| {met(ratios[1000] >= HELM_RATIO_BUDGET)} |"
    )
    worst = min(ratios, key=ratios.get)
    add(
        f"| … at every size (worst: {worst:,} {'registry' if worst == 1 else 'registries'}) "
        f"| {ratios[worst]:.1f}× "
        f"| {met(ratios[worst] >= HELM_RATIO_BUDGET)} |"
    )
    add(
        f"| refresh: ≥ 10× less wall time than aws-cli + kubectl | {wall_ratio:.1f}× "
        f"| {met(wall_ratio >= REFRESH_RATIO_BUDGET)} |"
    )
    add(
        f"| refresh: ≥ 10× less peak RSS than aws-cli + kubectl | {rss_ratio:.1f}× "
        f"| {met(rss_ratio >= REFRESH_RATIO_BUDGET)} |"
    )
    add(f"| refresh: peak RSS < 20 MiB (issue 5) | {mib(rss)} | {met(rss < RSS_BUDGET_ISSUE5_KIB)} |")
    add(f"| refresh: peak RSS < 16 MiB (issue 3) | {mib(rss)} | {met(rss < RSS_BUDGET_ISSUE3_KIB)} |")
    add(f"| stripped binary < 10 MB | {mb(binary)} | {met(binary < BINARY_BUDGET_BYTES)} |")
    wall = statistics.median(ours["wall"])
    add(
        f"| refresh against an HTTPS API server ≤ 25 ms wall | {ms(wall)} "
        f"| {met(wall <= REFRESH_TLS_WALL_BUDGET_S)} |"
    )
    add(f"| refresh: peak RSS ≤ 8 MiB | {mib(rss)} | {met(rss <= RSS_BUDGET_KIB)} |")
    add(
        f"| static image binary ≤ 9 MB | {mb(binary)} "
        f"| {met(binary <= STATIC_BINARY_BUDGET_BYTES)} |"
    )
    add(
        f"| generated chart: no file over Helm's 5 MiB, up to 5 000 registries | {size(largest_file)} "
        f"| {met(largest_file <= HELM_MAX_FILE_BYTES)} |"
    )
    stored = json.loads((out / "scale.json").read_text())["5000"]["generated"]["stored"]
    add(
        f"| generated chart's release record fits a Secret (1 MiB), 5 000 registries | {size(stored)} "
        f"| {met(stored <= SECRET_MAX_BYTES)} |"
    )
    add(
        f"| release record ≤ 1.5× the reference chart's, 5 000 registries | {ratios_scale[5000]:.2f}× "
        f"| {met(ratios_scale[5000] <= RELEASE_RATIO_GOAL)} |"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
