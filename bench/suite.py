"""Runs cases: builds each run's job for each system, interleaves the systems, cleans up.

Every run gets fresh names (connector, topic, consumer group, offsets file), so no run resumes
from another's offsets; the topics and groups are deleted right after the run. The input of a
Kafka → file case is produced once per case, before its first run, and shared by its runs (the
sinks only read it, each with its own group).
"""

from __future__ import annotations

import shutil
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bench import kafka_io, scenario4
from bench.runner import Job, RunResult, System, file_progress, measure
from bench.scenarios import FILE_SINK, FILE_SOURCE, SCENARIO_4, Case, Flow, topic_values, write_lines

Progress = Callable[[str], None]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_properties(case: Case, bootstrap: str, workdir: Path) -> dict[str, str]:
    """One worker, the same file for both systems (Kafka Connect ignores Penstock's ``log.level``)."""
    props = {
        "bootstrap.servers": bootstrap,
        "key.converter": case.converter_class,
        "value.converter": case.converter_class,
        "offset.storage.file.filename": str(workdir / "connect.offsets"),
        "offset.flush.interval.ms": "10000",  # the upstream quickstart's connect-standalone.properties
        "listeners": f"http://127.0.0.1:{free_port()}",
        "log.level": "WARN",
    }
    if case.converter == "json":
        props |= {"key.converter.schemas.enable": "false", "value.converter.schemas.enable": "false"}
    elif case.converter == "json-schemas":  # JsonConverter's default, said out loud
        props |= {"key.converter.schemas.enable": "true", "value.converter.schemas.enable": "true"}
    return props


def systems_for(case: Case, systems: Sequence[System]) -> list[System]:
    """The systems that run ``case``: Penstock alone where there is no baseline to run."""
    return [s for s in systems if s.name == "penstock" or case.has_baseline]


def run_timeout(case: Case) -> float:
    """Generous: a run slower than 2,000 records/s is broken, not slow."""
    return 90 + case.lines / 2_000


async def run_case(
    case: Case,
    systems: Sequence[System],
    pairs: int,
    workroot: Path,
    bootstrap: str,
    say: Progress = print,
) -> list[RunResult]:
    """``pairs`` rounds of every system in turn (A B A B …) on ``case``."""
    systems = systems_for(case, systems)
    if case.flow in SCENARIO_4:
        results = []
        for pair in range(1, pairs + 1):
            for system in systems:
                result = await scenario4.run_once(
                    case, system, pair, workroot, bootstrap, lambda d: worker_properties(case, bootstrap, d)
                )
                say(_line(case, pair, result))
                results.append(result)
        return results
    data = write_lines(
        workroot / "input" / f"{case.lines}x{case.line_bytes}.txt", case.lines, case.line_bytes
    )
    shared_topic = ""
    if case.flow == Flow.KAFKA_TO_FILE:
        shared_topic = f"bench-{uuid.uuid4().hex[:8]}-input"
        await kafka_io.create_topic(bootstrap, shared_topic)
        started = time.monotonic()
        await kafka_io.fill(bootstrap, shared_topic, topic_values(data, case.converter))
        say(f"  filled {shared_topic} with {case.lines:,} records in {time.monotonic() - started:.1f} s")
    results = []
    try:
        for pair in range(1, pairs + 1):
            for system in systems:
                result = await _run_once(case, system, pair, data, shared_topic, workroot, bootstrap)
                say(_line(case, pair, result))
                results.append(result)
    finally:
        if shared_topic:
            await kafka_io.delete(bootstrap, [shared_topic])
    return results


def _line(case: Case, pair: int, result: RunResult) -> str:
    latency = ""
    if result.latency_p50_ms is not None:
        latency += f", commit -> searchable p50 {result.latency_p50_ms} ms p99 {result.latency_p99_ms} ms"
    if result.achieved_rows_per_s is not None:
        latency += f", rows inserted at {result.achieved_rows_per_s:,.0f} rows/s"
    return (
        f"  {case.name} pair {pair} {result.system}: {result.records_per_s:,.0f} records/s, "
        f"{result.mb_per_s} MB/s, peak RSS {result.peak_rss_mib} MiB, "
        f"{result.cpu_us_per_record} µs CPU/record, first record after "
        f"{result.start_to_first_record_s} s{latency}"
    )


async def _run_once(
    case: Case, system: System, pair: int, data: Path, shared_topic: str, workroot: Path, bootstrap: str
) -> RunResult:
    run = f"bench-{uuid.uuid4().hex[:8]}"
    workdir = workroot / run
    workdir.mkdir(parents=True)
    topic, out = f"{run}-data", workdir / "out.txt"
    source = {"name": f"{run}-source", "connector.class": FILE_SOURCE, "file": str(data), "topic": topic}
    sink = {"name": f"{run}-sink", "connector.class": FILE_SINK, "file": str(out), "topics": topic}
    connectors = {
        Flow.FILE_TO_KAFKA: [source],
        Flow.KAFKA_TO_FILE: [sink | {"topics": shared_topic}],
        Flow.FILE_TO_FILE: [source, sink],
    }[case.flow]
    embedded = case.flow == Flow.FILE_TO_FILE and system.name == "penstock"
    job = Job(workdir, worker_properties(case, bootstrap, workdir), connectors, embedded=embedded)
    own_topics = [topic] if case.flow != Flow.KAFKA_TO_FILE and not embedded else []
    for name in own_topics:
        await kafka_io.create_topic(bootstrap, name)

    async def go(progress: Callable[[], Awaitable[int]]) -> RunResult:
        return await measure(
            system,
            job,
            case=case.name,
            pair=pair,
            records=case.lines,
            payload_bytes=case.payload_bytes,
            progress=progress,
            timeout=run_timeout(case),
        )

    try:
        if case.flow == Flow.FILE_TO_KAFKA:
            async with kafka_io.EndOffsets(bootstrap, topic) as offsets:
                return await go(offsets.count)
        return await go(file_progress(out, case.line_bytes))
    finally:
        await kafka_io.delete(bootstrap, own_topics, [f"connect-{run}-sink"])
        # keep the logs, drop the bulk (sink output, embedded database)
        out.unlink(missing_ok=True)
        shutil.rmtree(workdir / "data", ignore_errors=True)
