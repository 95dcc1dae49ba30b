"""Results on disk: ``results.json`` (every run), ``results.md`` (medians, min-max, ratios), PNG charts.

The ratio is always Penstock / baseline of the medians, whatever the metric's direction: above
1.0 is better for records/s and MB/s, below 1.0 is better for memory, CPU and start-up. Per-pair
ratios are kept in the JSON, because on a shared machine the spread says as much as the median.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ceilings import Ceiling
from bench.runner import RunResult

PENSTOCK, BASELINE = "penstock", "kafka-connect"
DASH, TIMES = "\u2013", "\u00d7"  # en dash for ranges and "none", multiplication sign for ratios


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    higher_is_better: bool
    digits: int


METRICS = (
    Metric("records_per_s", "records/s", True, 0),
    Metric("mb_per_s", "MB/s", True, 1),
    Metric("peak_rss_mib", "peak RSS (MiB)", False, 0),
    Metric("cpu_us_per_record", "CPU µs/record", False, 1),
    Metric("transfer_cpu_us_per_record", "CPU µs/record, first to last record", False, 1),
    Metric("start_to_first_record_s", "start → first record (s)", False, 2),
    # the latency case only (pg-es); other cases have no value and no row
    Metric("latency_p50_ms", "commit → searchable p50 (ms)", False, 0),
    Metric("latency_p99_ms", "commit → searchable p99 (ms)", False, 0),
)


def summarize(results: Sequence[RunResult]) -> dict[str, Any]:
    """``{case: {metric: {system: {median, min, max}, "ratio": r, "pair_ratios": [...]}}}``."""
    summary: dict[str, Any] = {}
    for case in dict.fromkeys(r.case for r in results):
        runs = [r for r in results if r.case == case]
        per_metric: dict[str, Any] = {}
        for metric in METRICS:
            entry: dict[str, Any] = {}
            for system in dict.fromkeys(r.system for r in runs):
                values = [
                    float(v) for r in runs if r.system == system and (v := getattr(r, metric.key)) is not None
                ]
                if not values:
                    continue
                entry[system] = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                }
            if PENSTOCK in entry and BASELINE in entry and entry[BASELINE]["median"]:
                entry["ratio"] = round(entry[PENSTOCK]["median"] / entry[BASELINE]["median"], 3)
                pairs = {(r.pair, r.system): float(getattr(r, metric.key) or 0) for r in runs}
                entry["pair_ratios"] = [
                    round(pairs[(p, PENSTOCK)] / pairs[(p, BASELINE)], 3)
                    for p in sorted({r.pair for r in runs})
                    if (p, PENSTOCK) in pairs and pairs.get((p, BASELINE))
                ]
            per_metric[metric.key] = entry
        summary[case] = per_metric
    return summary


def write_json(
    path: Path,
    meta: dict[str, Any],
    results: Sequence[RunResult],
    summary: dict[str, Any],
    ceilings: Sequence[Ceiling] = (),
) -> None:
    document = {
        "meta": meta,
        "runs": [r.as_dict() for r in results],
        "summary": summary,
        "ceilings": [c.as_dict() for c in ceilings],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def read_json(path: Path) -> tuple[dict[str, Any], list[RunResult], list[Ceiling]]:
    """A results file back as runs and ceilings, to render it again (``python -m bench --render DIR``)."""
    document = json.loads(path.read_text())
    runs = [RunResult(**run) for run in document["runs"]]
    return document["meta"], runs, [Ceiling(**c) for c in document.get("ceilings", [])]


def write_all(
    directory: Path,
    meta: dict[str, Any],
    results: Sequence[RunResult],
    charts: bool,
    ceilings: Sequence[Ceiling] = (),
) -> None:
    """``results.json`` and ``results.md`` (and the charts when ``charts``) in ``directory``."""
    summary = summarize(results)
    write_json(directory / "results.json", meta, results, summary, ceilings)
    text = markdown(meta, summary, meta["cases"])
    if ceilings:
        text += "\n" + ceilings_markdown(ceilings, summary)
    (directory / "results.md").write_text(text)
    if charts and summary:
        write_charts(directory, summary)


def ceilings_markdown(ceilings: Sequence[Ceiling], summary: dict[str, Any]) -> str:
    """One row per ceiling, with Penstock's median on the cases it bounds (as a share of it)."""
    lines = [
        "## Ceilings",
        "",
        "One run of each tool on the same services (not a pair): what the service itself takes.",
        "",
        "| ceiling | tool | records | records/s | MB/s | bounds | Penstock there (share of the ceiling) |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in ceilings:
        there = []
        for case in bounded_cases(c.bounds, summary):
            stats = summary[case]["records_per_s"].get(PENSTOCK)
            if stats:
                there.append(f"{case}: {stats['median']:,.0f} ({stats['median'] / c.records_per_s:.0%})")
        lines.append(
            f"| {c.name} | {c.tool} | {c.records:,} {TIMES} {c.record_bytes} B | {c.records_per_s:,.0f} | "
            f"{c.mb_per_s:,.1f} | {c.bounds} | {'; '.join(there) or DASH} |"
        )
    return "\n".join(lines) + "\n"


def bounded_cases(pattern: str, summary: dict[str, Any]) -> list[str]:
    """The summary's cases a ceiling's ``bounds`` names: a case name, or a prefix ending in ``*``."""
    if pattern.endswith("*"):
        return [case for case in summary if case.startswith(pattern[:-1])]
    return [case for case in summary if case == pattern]


def _cell(stats: dict[str, float] | None, digits: int) -> str:
    if stats is None:
        return DASH
    median = f"{stats['median']:,.{digits}f}"
    if stats["min"] == stats["max"]:
        return median
    return f"{median} ({stats['min']:,.{digits}f}{DASH}{stats['max']:,.{digits}f})"


def markdown(meta: dict[str, Any], summary: dict[str, Any], descriptions: dict[str, str]) -> str:
    """A headline table (records/s) and the full table (every metric, median and min-max)."""
    lines = [
        f"# Penstock vs Kafka Connect {meta['kafka_connect_version']} — {meta['started']}",
        "",
        f"{meta['pairs']} interleaved pair(s) per case{' (--quick sizes)' if meta['quick'] else ''}; "
        f"broker {meta['bootstrap']}; {meta['machine']}.",
        f"Cells: median (min{DASH}max). Ratio: Penstock / Kafka Connect of the medians "
        "(records/s, MB/s: higher is better; RSS, CPU, start-up: lower is better).",
        "",
        "| case | job | Penstock records/s | Kafka Connect records/s | ratio |",
        "|---|---|---|---|---|",
    ]
    for case, metrics in summary.items():
        entry = metrics["records_per_s"]
        lines.append(
            f"| {case} | {descriptions.get(case, '')} | {_cell(entry.get(PENSTOCK), 0)} | "
            f"{_cell(entry.get(BASELINE), 0)} | {_ratio(entry)} |"
        )
    lines += ["", "| case | metric | Penstock | Kafka Connect | ratio |", "|---|---|---|---|---|"]
    for case, metrics in summary.items():
        for metric in METRICS:
            entry = metrics[metric.key]
            if not entry:
                continue
            lines.append(
                f"| {case} | {metric.label} | {_cell(entry.get(PENSTOCK), metric.digits)} | "
                f"{_cell(entry.get(BASELINE), metric.digits)} | {_ratio(entry)} |"
            )
    return "\n".join(lines) + "\n"


def _ratio(entry: dict[str, Any]) -> str:
    return f"{entry['ratio']:.2f}{TIMES}" if "ratio" in entry else DASH


def write_charts(directory: Path, summary: dict[str, Any]) -> list[Path]:
    """One grouped bar chart per metric: a bar per system and case, whiskers from min to max."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    cases = list(summary)
    systems = [s for s in (PENSTOCK, BASELINE) if any(s in summary[c]["records_per_s"] for c in cases)]
    width = 0.8 / max(len(systems), 1)
    for metric in METRICS:
        if not any(summary[c][metric.key] for c in cases):
            continue
        fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(cases) + 2), 4.5))
        for i, system in enumerate(systems):
            stats = [summary[c][metric.key].get(system) for c in cases]
            xs = [j + (i - (len(systems) - 1) / 2) * width for j in range(len(cases))]
            medians = [s["median"] if s else 0.0 for s in stats]
            errors = [
                [s["median"] - s["min"] if s else 0.0 for s in stats],
                [s["max"] - s["median"] if s else 0.0 for s in stats],
            ]
            ax.bar(xs, medians, width, yerr=errors, capsize=3, label=system)
        ax.set_xticks(range(len(cases)), cases, rotation=30, ha="right", fontsize=8)
        better = "higher" if metric.higher_is_better else "lower"
        ax.set_title(f"{metric.label} ({better} is better)")
        ax.legend()
        fig.tight_layout()
        path = directory / f"{metric.key}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
