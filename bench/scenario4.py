"""Scenario 4: the connectors on the real databases, one run of one system at a time.

* ``pg-kafka``: Debezium's PostgreSQL connector streaming (``snapshot.mode=no_data``, pgoutput) a
  fresh table into which the suite inserts the rows once the run's slot is active; progress is the
  topic's end offset. Streaming, not a snapshot, because that is what CDC is for.
* ``kafka-pg``: the JDBC sink upserting a topic of JsonConverter records with schemas (Struct key)
  into a table it creates; progress is ``max(id)`` of that table (one partition, ids in order).
* ``kafka-es``: the Elasticsearch sink indexing 1 KB JSON documents; progress is the index's
  indexing statistics, the count checked after a refresh.
* ``pg-es``: the embedded pipeline (``penstock run``: the PostgreSQL connector with
  ``ExtractNewRecordState``, then the Elasticsearch sink) at a fixed rate; each transaction's
  latency is from its COMMIT returning to the search count covering its rows.

The sinks' topics are filled before the worker starts, one topic per run, because both sinks name
their table or index after the topic. Everything a run creates is dropped after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

import orjson

from bench import es_io, kafka_io, pg_io
from bench.runner import Job, RunResult, System, measure
from bench.scenarios import ES_SINK, JDBC_SINK, LATENCY_RATE, Case, Flow

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/penstock"
DEFAULT_ES = "http://127.0.0.1:9200"
UNWRAP = "io.debezium.transforms.ExtractNewRecordState"
LATENCY_POLL_S = 0.01
WARMUP_S = 2.0  # transactions committed in the load's first seconds wait for the sink to start

_KEY_SCHEMA = {
    "type": "struct",
    "name": "bench.Key",
    "optional": False,
    "fields": [
        {"field": "id", "type": "int64", "optional": False},
    ],
}
_VALUE_SCHEMA = {
    "type": "struct",
    "name": "bench.Value",
    "optional": False,
    "fields": [
        {"field": "name", "type": "string", "optional": False},
        {"field": "qty", "type": "int32", "optional": False},
        {"field": "score", "type": "double", "optional": True},
        {"field": "note", "type": "string", "optional": True},
    ],
}


def dsn() -> str:
    return os.environ.get("POSTGRES_DSN") or DEFAULT_DSN


def es_url() -> str:
    return os.environ.get("ELASTICSEARCH_URL") or DEFAULT_ES


def upsert_records(rows: int) -> tuple[list[bytes], list[bytes]]:
    """Keys and values as JsonConverter (schemas on) writes them: ids 1..rows, ~100 B of row each."""
    keys, values = [], []
    for i in range(1, rows + 1):
        keys.append(orjson.dumps({"schema": _KEY_SCHEMA, "payload": {"id": i}}))
        payload = {
            "name": f"customer-{i}",
            "qty": i % 7,
            "score": i * 0.5,
            "note": f"note-{i}".ljust(64, "x"),
        }
        values.append(orjson.dumps({"schema": _VALUE_SCHEMA, "payload": payload}))
    return keys, values


def latencies_ms(
    commits: list[tuple[float, int]], seen: list[tuple[float, int]], warmup_s: float = 0.0
) -> list[float]:
    """Per transaction: when ``seen`` first covers its last row minus when its COMMIT returned.

    ``seen`` is (time, rows visible) in time order; transactions never seen are left out, and so
    are those committed less than ``warmup_s`` after the first.
    """
    out, j = [], 0
    start = commits[0][0] + warmup_s if commits else 0.0
    for committed, rows in commits:
        if committed < start:
            continue
        while j < len(seen) and seen[j][1] < rows:
            j += 1
        if j == len(seen):
            break
        out.append(max(0.0, seen[j][0] - committed) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_once(
    case: Case,
    system: System,
    pair: int,
    workroot: Path,
    bootstrap: str,
    worker: Callable[[Path], dict[str, str]],
) -> RunResult:
    """One run of ``case`` on ``system``; ``worker(workdir)`` gives the shared worker properties."""
    run = f"bench_{uuid.uuid4().hex[:8]}"
    workdir = workroot / run
    workdir.mkdir(parents=True)
    props = worker(workdir)

    async def go(job: Job, progress: Callable[[], Awaitable[int]]) -> RunResult:
        return await measure(
            system,
            job,
            case=case.name,
            pair=pair,
            records=case.lines,
            payload_bytes=case.payload_bytes,
            progress=progress,
            timeout=120 + case.lines / 1_000,
        )

    if case.flow == Flow.PG_TO_KAFKA:
        return await _pg_to_kafka(case, run, workdir, props, bootstrap, go)
    if case.flow == Flow.KAFKA_TO_PG:
        return await _kafka_to_pg(case, run, workdir, props, bootstrap, go)
    if case.flow == Flow.KAFKA_TO_ES:
        return await _kafka_to_es(case, run, workdir, props, bootstrap, go)
    return await _pg_to_es(case, run, workdir, props, go)


Go = Callable[[Job, Callable[[], Awaitable[int]]], Awaitable[RunResult]]


async def _pg_to_kafka(
    case: Case, run: str, workdir: Path, props: dict[str, str], bootstrap: str, go: Go
) -> RunResult:
    table = pg_io.CdcTable(dsn(), run, case.lines)
    topic = pg_io.cdc_topic(run)
    await table.create()
    await kafka_io.create_topic(bootstrap, topic)
    source = {"name": f"{run}-source", **pg_io.source_properties(dsn(), run)}
    job = Job(workdir, props, [source], java_plugins=True)
    try:
        async with kafka_io.EndOffsets(bootstrap, topic) as offsets, _Feeding(table) as feeding:

            async def progress() -> int:
                feeding.check()
                return await offsets.count()

            result = await go(job, progress)
            result.achieved_rows_per_s = round(table.achieved_rate)  # the inserts' own rate, a bound
            return result
    finally:
        await kafka_io.delete(bootstrap, [topic])
        await table.drop()


async def _kafka_to_pg(
    case: Case, run: str, workdir: Path, props: dict[str, str], bootstrap: str, go: Go
) -> RunResult:
    keys, values = upsert_records(case.lines)
    await kafka_io.create_topic(bootstrap, run)
    sink = {
        "name": f"{run}-sink",
        "connector.class": JDBC_SINK,
        "topics": run,
        "connection.url": pg_io.jdbc_url(dsn()),
        "connection.username": urlparse(dsn()).username or "postgres",
        "connection.password": urlparse(dsn()).password or "",
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "schema.evolution": "basic",
    }
    job = Job(workdir, props, [sink], java_plugins=True)
    try:
        await kafka_io.fill(bootstrap, run, values, keys)
        del keys, values
        async with pg_io.SinkTable(dsn(), run) as table:
            result = await go(job, table.count)
            rows = await table.exact_count()
            if rows != case.lines:
                raise RuntimeError(f"{job.workdir}: {rows:,} rows in {run}, expected {case.lines:,}")
            return result
    finally:
        await kafka_io.delete(bootstrap, [run], [f"connect-{run}-sink"])


async def _kafka_to_es(
    case: Case, run: str, workdir: Path, props: dict[str, str], bootstrap: str, go: Go
) -> RunResult:
    topic = run.replace("_", "-")
    await kafka_io.create_topic(bootstrap, topic)
    sink = {
        "name": f"{run}-sink",
        "connector.class": ES_SINK,
        "topics": topic,
        "connection.url": es_url(),
        "key.ignore": "true",
        "schema.ignore": "true",
    }
    job = Job(workdir, props, [sink])
    try:
        await kafka_io.fill(bootstrap, topic, [es_io.document(i) for i in range(case.lines)])
        async with es_io.Index(es_url(), topic, case.lines) as index:
            result = await go(job, index.indexed)
            docs = await index.exact_count()
            if docs != case.lines:
                raise RuntimeError(f"{job.workdir}: {docs:,} documents in {topic}, expected {case.lines:,}")
            return result
    finally:
        await kafka_io.delete(bootstrap, [topic], [f"connect-{run}-sink"])


async def _pg_to_es(case: Case, run: str, workdir: Path, props: dict[str, str], go: Go) -> RunResult:
    table = pg_io.CdcTable(dsn(), run, case.lines, rate=LATENCY_RATE)
    topic = pg_io.cdc_topic(run)
    await table.create()
    source = {
        "name": f"{run}-source",
        **pg_io.source_properties(dsn(), run),
        "transforms": "unwrap",
        "transforms.unwrap.type": UNWRAP,
    }
    sink = {
        "name": f"{run}-sink",
        "connector.class": ES_SINK,
        "topics": topic,
        "connection.url": es_url(),
        "key.ignore": "true",
        "schema.ignore": "true",
    }
    job = Job(workdir, props, [source, sink], embedded=True)
    seen: list[tuple[float, int]] = []
    try:
        async with es_io.Index(es_url(), topic) as index, _Feeding(table) as feeding:

            async def watch() -> None:
                while True:
                    count = await index.searchable()
                    if not seen or count > seen[-1][1]:
                        seen.append((time.perf_counter(), count))
                    await asyncio.sleep(LATENCY_POLL_S)

            watcher = asyncio.create_task(watch())

            async def progress() -> int:
                feeding.check()
                if watcher.done():
                    watcher.result()
                return seen[-1][1] if seen else 0

            try:
                result = await go(job, progress)
            finally:
                watcher.cancel()
                with contextlib.suppress(BaseException):
                    await watcher
        # a load shorter than the warm-up (--quick, --lines) keeps every transaction
        lags = latencies_ms(table.commits, seen, WARMUP_S) or latencies_ms(table.commits, seen)
        if not lags:
            raise RuntimeError(f"{job.workdir}: no transaction became searchable")
        result.latency_p50_ms = round(percentile(lags, 0.50), 1)
        result.latency_p99_ms = round(percentile(lags, 0.99), 1)
        result.achieved_rows_per_s = round(table.achieved_rate)
        return result
    finally:
        await table.drop()


class _Feeding:
    """The inserts of a CDC run as a task beside the measurement; its failure fails the run."""

    def __init__(self, table: pg_io.CdcTable) -> None:
        self.table = table
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> _Feeding:
        self.task = asyncio.create_task(self.table.feed())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task

    def check(self) -> None:
        if self.task is not None and self.task.done() and not self.task.cancelled():
            self.task.result()
