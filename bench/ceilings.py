"""Ceilings: what the services themselves take on this machine, next to what the connectors reach.

Not interleaved pairs and no worker process: one run of each tool, reported as a ceiling row
beside the cases it bounds.

* Kafka: Apache Kafka's own ``kafka-producer-perf-test`` / ``kafka-consumer-perf-test``
  (``ProducerPerformance`` / ``ConsumerPerformance`` from ``kafka-tools``, ``java -cp``), with their
  default client settings, on a fresh one-partition topic; the consumer figure is its
  ``fetch.nMsg.sec`` (the group join excluded, as the suite's first-to-last record clock does).
* Elasticsearch: ``AsyncElasticsearch.bulk`` with the request bodies built beforehand, 2,000
  documents a request and 5 requests in flight (the Elasticsearch sink's defaults), explicit ids.
* PostgreSQL: ``COPY`` of the upsert case's rows (asyncpg ``copy_records_to_table``) into a table
  of the same shape, against the JDBC sink's upserts.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg

from bench import es_io, kafka_io
from bench.scenario4 import dsn, es_url
from scripts.penstock_services.common import require_tool
from scripts.penstock_services.kafka import JVM_FLAGS

ES_BULK_DOCS, ES_IN_FLIGHT = 2_000, 5


@dataclass
class Ceiling:
    name: str
    tool: str
    records: int
    record_bytes: int
    seconds: float
    records_per_s: float
    mb_per_s: float
    bounds: str  # the cases this ceiling bounds

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ceiling(name: str, tool: str, records: int, size: int, seconds: float, bounds: str) -> Ceiling:
    return Ceiling(
        name, tool, records, size, round(seconds, 3), round(records / seconds),
        round(records * size / seconds / 1e6, 2), bounds,
    )  # fmt: skip


def parse_producer(output: str) -> tuple[float, float]:
    """records/s and MB/s from ProducerPerformance's summary line (the last one)."""
    match = re.findall(r"records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\)", output)
    if not match:
        raise RuntimeError(f"no summary in the producer tool's output: {output[-500:]}")
    records, mib = match[-1]
    return float(records), float(mib)


def parse_consumer(output: str) -> dict[str, float]:
    """ConsumerPerformance's CSV line, by its header: ``{"fetch.nMsg.sec": ..., ...}``."""
    lines = [line for line in output.splitlines() if line.count(",") >= 9]
    header = next((i for i, line in enumerate(lines) if line.startswith("start.time")), None)
    if header is None or header + 1 >= len(lines):
        raise RuntimeError(f"no result in the consumer tool's output: {output[-500:]}")
    names = [n.strip() for n in lines[header].split(",")]
    values = [v.strip() for v in lines[header + 1].split(",")]
    return {n: float(v) for n, v in zip(names, values, strict=True) if n not in ("start.time", "end.time")}


def _java(lib: str, main: str, args: Sequence[str], timeout: float) -> str:
    argv = [require_tool("java"), "-Xmx1G", *JVM_FLAGS, "-cp", f"{lib}/*", main, *args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{main} exited with {done.returncode}: {done.stderr[-1000:]}")
    return done.stdout


async def kafka(bootstrap: str, records: int, size: int, bounds: tuple[str, str]) -> list[Ceiling]:
    """The producer tool fills a fresh topic, then the consumer tool reads it back."""
    from bench import plugins

    lib = str(plugins.kafka_tools_lib())
    topic = f"bench-{uuid.uuid4().hex[:8]}-perf"
    await kafka_io.create_topic(bootstrap, topic)
    label = "1KB" if size == 1024 else f"{size}B"
    try:
        out = await asyncio.to_thread(
            _java,
            lib,
            "org.apache.kafka.tools.ProducerPerformance",
            ["--topic", topic, "--num-records", str(records), "--record-size", str(size),
             "--throughput", "-1", "--producer-props", f"bootstrap.servers={bootstrap}"],
            600,
        )  # fmt: skip
        rate, _ = parse_producer(out)
        producer = _ceiling(
            f"kafka-producer/{label}", "kafka-producer-perf-test", records, size, records / rate, bounds[0]
        )
        group = f"{topic}-group"
        out = await asyncio.to_thread(
            _java,
            lib,
            "org.apache.kafka.tools.ConsumerPerformance",
            ["--bootstrap-server", bootstrap, "--topic", topic, "--num-records", str(records),
             "--group", group, "--timeout", "60000"],
            600,
        )  # fmt: skip
        stats = parse_consumer(out)
        fetch_rate = stats["fetch.nMsg.sec"]
        consumer = _ceiling(
            f"kafka-consumer/{label}",
            "kafka-consumer-perf-test",
            records,
            size,
            records / fetch_rate,
            bounds[1],
        )
        return [producer, consumer]
    finally:
        await kafka_io.delete(bootstrap, [topic], [f"{topic}-group"])


async def elasticsearch(docs: int) -> Ceiling:
    """Bulk requests built before the clock starts, ``ES_IN_FLIGHT`` at a time."""
    name = f"bench-{uuid.uuid4().hex[:8]}-bulk"
    bodies = []
    for start in range(0, docs, ES_BULK_DOCS):
        lines = []
        for i in range(start, min(docs, start + ES_BULK_DOCS)):
            lines.append(b'{"index":{"_id":"%s+0+%d"}}' % (name.encode(), i))
            lines.append(es_io.document(i))
        bodies.append(b"\n".join(lines) + b"\n")
    async with es_io.Index(es_url(), name) as index:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        for body in bodies:
            queue.put_nowait(body)

        async def sender() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                response = await index.es.bulk(index=name, operations=body)
                if response["errors"]:
                    raise RuntimeError(f"bulk errors: {str(response)[:500]}")

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(ES_IN_FLIGHT)))
        seconds = time.perf_counter() - started
        count = await index.exact_count()
        if count != docs:
            raise RuntimeError(f"{count:,} documents after the bulk load, expected {docs:,}")
    return _ceiling(
        "elasticsearch-bulk/1KB", f"AsyncElasticsearch.bulk, {ES_BULK_DOCS:,} a request, {ES_IN_FLIGHT} in flight",
        docs, es_io.DOC_BYTES, seconds, "kafka-es/1KB-json",
    )  # fmt: skip


async def postgres_copy(rows: int) -> Ceiling:
    """COPY of the upsert case's rows (the same columns and values) into an empty table."""
    table = f"bench_{uuid.uuid4().hex[:8]}_copy"
    records = [(i, f"customer-{i}", i % 7, i * 0.5, f"note-{i}".ljust(64, "x")) for i in range(1, rows + 1)]
    pg = await asyncpg.connect(dsn())
    try:
        await pg.execute(
            f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL, "
            "score double precision, note text)"
        )
        started = time.perf_counter()
        await pg.copy_records_to_table(table, records=records)
        seconds = time.perf_counter() - started
        if await pg.fetchval(f"SELECT count(*) FROM {table}") != rows:
            raise RuntimeError("COPY did not load every row")
    finally:
        await pg.execute(f"DROP TABLE IF EXISTS {table}")
        await pg.close()
    return _ceiling("postgres-copy/100B", "asyncpg copy_records_to_table (COPY)", rows, 100, seconds,
                    "kafka-pg/100B-json-schemas")  # fmt: skip


async def run_all(
    bootstrap: str, scale: int = 1, lines: int | None = None, say: Any = print
) -> list[Ceiling]:
    """Every ceiling at the suite's sizes (``scale`` 10 with ``--quick``; ``lines`` overrides)."""
    out: list[Ceiling] = []
    for records, size, bounds in (
        (1_000_000, 100, ("file-kafka/100B-*", "kafka-file/100B-*")),
        (200_000, 1024, ("file-kafka/1KB-*", "kafka-file/1KB-*")),
    ):
        out += await kafka(bootstrap, lines or records // scale, size, bounds)
    out.append(await elasticsearch(lines or 200_000 // scale))
    out.append(await postgres_copy(lines or 200_000 // scale))
    for c in out:
        say(f"  ceiling {c.name} ({c.tool}): {c.records_per_s:,.0f} records/s, {c.mb_per_s} MB/s")
    return out
