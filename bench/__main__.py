"""Penstock side by side with Apache Kafka Connect, on the real services.

python -m bench                         # every scenario, 3 interleaved pairs (A B A B A B) per case
python -m bench file-kafka --runs 5     # one scenario group (or 1, 2, 3), or one case: file-kafka/100B-json
python -m bench all --quick             # a tenth of the sizes, one pair: a quick look
python -m bench 1 --systems penstock    # Penstock alone (no JVM, no Maven)
python -m bench 4 ceilings --runs 3     # scenario 4 and the ceilings in one report

Scenarios: 1 file-kafka (FileStreamSource -> topic), 2 kafka-file (topic -> FileStreamSink),
3 file-file (Penstock embedded vs Kafka Connect + the broker); 1,000,000 lines of 100 B and
200,000 of 1 KB each, StringConverter and JsonConverter (schemas off) for 1 and 2.
4: pg-kafka (Debezium's PostgreSQL connector, 200,000 rows streamed), kafka-pg (JDBC sink,
200,000 upserts), kafka-es (Elasticsearch sink, 200,000 1 KB documents; Penstock alone) and
pg-es (embedded CDC -> Elasticsearch latency at 5,000 rows/s; Penstock alone); baseline
Debezium 3.6 on Kafka Connect. ceilings: Kafka's perf tools, the Elasticsearch bulk client,
PostgreSQL COPY (with ``all``, or named).
Needs KAFKA_BOOTSTRAP_SERVERS (eval "$(scripts/services up kafka)"), and for 4 and the ceilings
POSTGRES_DSN and ELASTICSEARCH_URL (scripts/services up), Java 17 and Maven for the baseline.
Writes bench/results/<timestamp>/: results.json, results.md and one PNG per metric.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import tempfile
import time
from pathlib import Path

import psutil

from bench import ceilings, report
from bench.penstock import Penstock, compile_bytecode
from bench.runner import RunResult, System
from bench.scenarios import Case, all_cases, needs_debezium, select, wants_ceilings
from bench.suite import run_case

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", default=["all"], help="all, a group, or a case name")
    parser.add_argument(
        "--runs", type=int, default=None, help="interleaved pairs per case (default 3; 1 with --quick)"
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes and one pair")
    parser.add_argument("--lines", type=int, default=None, help="lines for every case (overrides the sizes)")
    parser.add_argument(
        "--systems",
        default="penstock,kafka-connect",
        help="comma-separated, in run order (default: penstock,kafka-connect)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="results folder (default bench/results/<timestamp>)"
    )
    parser.add_argument(
        "--render", type=Path, default=None, help="only render DIR/results.json again (Markdown, charts)"
    )
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    return parser.parse_args(argv)


def build_systems(names: str, cases: list[Case]) -> tuple[list[System], str]:
    """The systems to run and the Kafka Connect version (Maven runs once, on first use, if needed)."""
    systems: list[System] = []
    version = "(not run)"
    for name in names.split(","):
        if name == "penstock":
            compile_bytecode()
            systems.append(Penstock())
        elif name == "kafka-connect":
            from bench import kafka_connect, plugins

            plugin_path = plugins.debezium_plugin_path() if needs_debezium(cases) else None
            systems.append(kafka_connect.KafkaConnect(kafka_connect.install(), plugin_path))
            version = kafka_connect.version()
            if plugin_path is not None:
                version += (
                    f" + Debezium {plugins.DEBEZIUM_VERSION} (JDBC sink {plugins.DEBEZIUM_JDBC_VERSION})"
                )
        else:
            raise SystemExit(f"unknown system {name!r}: penstock or kafka-connect")
    return systems, version


async def run(args: argparse.Namespace) -> Path:
    cases = select(args.scenarios, all_cases(args.quick, args.lines))
    pairs = args.runs or (1 if args.quick else 3)
    systems, version = build_systems(args.systems, cases)
    started = dt.datetime.now(dt.UTC)
    out = args.out or RESULTS / started.strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "pairs": pairs,
        "quick": bool(args.quick),
        "systems": [s.name for s in systems],
        "kafka_connect_version": version,
        "bootstrap": args.bootstrap,
        "machine": f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}",
        "cases": {c.name: c.describe() for c in cases},
    }
    results: list[RunResult] = []
    bounds: list[ceilings.Ceiling] = []
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="penstock-bench-") as tmp:
        for case in cases:
            print(f"{case.name}: {case.describe()}, {pairs} pair(s)", flush=True)
            results += await run_case(case, systems, pairs, Path(tmp), args.bootstrap)
            # written after every case, so an interrupted suite still leaves its numbers
            report.write_all(out, meta, results, charts=False)
    if wants_ceilings(args.scenarios):
        print("ceilings: Kafka's perf tools, the Elasticsearch bulk client, PostgreSQL COPY", flush=True)
        bounds = await ceilings.run_all(args.bootstrap, 10 if args.quick else 1, args.lines)
    meta["seconds"] = round(time.monotonic() - clock)
    report.write_all(out, meta, results, charts=True, ceilings=bounds)
    return out


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    if args.render:
        meta, results, bounds = report.read_json(args.render / "results.json")
        report.write_all(args.render, meta, results, charts=True, ceilings=bounds)
        out: Path = args.render
    else:
        out = asyncio.run(run(args))
    print(f"\n{(out / 'results.md').read_text()}\nwritten to {out}", flush=True)
    return out


if __name__ == "__main__":
    main()
