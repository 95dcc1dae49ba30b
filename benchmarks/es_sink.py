"""The Elasticsearch sink end to end: 1 KB JSON documents in a topic -> indexed in Elasticsearch.

    python -m benchmarks.es_sink [--docs 200000] [--in-process] [--json]

Needs ELASTICSEARCH_URL (``scripts/services up elasticsearch``). The topic is filled first, then
the connector is created with the settings a Confluent user would write (JsonConverter without schemas, ``key.ignore=true``,
``schema.ignore=true``, Confluent's defaults for batching: 2,000 records a bulk, 5 in flight);
the clock runs from the create until Elasticsearch's indexing statistics count every document
(polled every 250 ms without refreshing, so the poll costs the server nothing), then the index is
refreshed and its document count checked. The index is created
beforehand with ``refresh_interval=-1`` and no replicas, as a bulk load is usually tuned.

Two set-ups: by default a real embedded worker (``penstock run``, SQLite log) whose topic a
FileStreamSource fills from a file of JSON lines (StringConverter, so the topic holds the JSON
bytes), the clock starting when the source has read the whole file; with ``--in-process`` the
in-memory log of a worker running in the benchmark's own process.

Where the time goes: ``penstock_busy_share`` is the worker's CPU time over the wall time (the
worker is one event loop: the rest of the time it waited, on Elasticsearch); ``es_cpu_cores`` is
the CPU Elasticsearch used, in cores (the machine has 2, shared by both).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
from elasticsearch import AsyncElasticsearch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.storage.base import ProducerRecord
from bench.es_io import document
from benchmarks import print_results
from connectors.elasticsearch.connector import ElasticsearchSinkConnector
from tests.unit.runtime.memory_runtime import memory_runtime


def es_process(url: str) -> psutil.Process | None:
    port = urlsplit(url).port
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    return None


async def run(url: str, docs: int) -> dict[str, Any]:
    """In this process: the in-memory log, filled directly."""
    topic = f"bench-es-{uuid.uuid4().hex[:8]}"
    es = AsyncElasticsearch(url, request_timeout=60)
    await es.indices.create(index=topic, settings={"refresh_interval": "-1", "number_of_replicas": 0})
    es_proc = es_process(url)
    try:
        async with memory_runtime(("sink", ElasticsearchSinkConnector)) as rt:
            for start in range(0, docs, 10_000):
                batch = [
                    ProducerRecord(topic, document(i), partition=0)
                    for i in range(start, min(docs, start + 10_000))
                ]
                await rt.log.send_batch(batch)
            props = {**SINK_PROPS, "name": "bench-es", "topics": topic, "connection.url": url}
            cpu0, es_cpu0 = time.process_time(), _cpu(es_proc)
            started = time.monotonic()
            await rt.herder.create("bench-es", props, None)
            while await _indexed(es, topic) < docs:
                await asyncio.sleep(0.25)
                if time.monotonic() - started > 600:
                    raise SystemExit(f"not every document indexed after 10 minutes ({docs} expected)")
            wall = time.monotonic() - started
            cpu, es_cpu = time.process_time() - cpu0, _cpu(es_proc) - es_cpu0
            state = rt.task_state("bench-es")
            await es.indices.refresh(index=topic)
            stored = int((await es.count(index=topic))["count"])
    finally:
        await es.indices.delete(index=topic, ignore_unavailable=True)
        await es.close()
    return _results("es_sink_in_process", docs, len(document(1)), wall, cpu, es_cpu, es_proc, stored, state)


def _cpu(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    times = proc.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


SINK_PROPS = {
    "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
    "key.ignore": "true",
    "schema.ignore": "true",
    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    "value.converter.schemas.enable": "false",
}


async def _indexed(es: AsyncElasticsearch, index: str) -> int:
    """Documents indexed so far, from the indexing statistics (no refresh: costs the server nothing)."""
    stats = await es.indices.stats(index=index, metric="indexing")
    return int(stats["_all"]["primaries"]["indexing"]["index_total"])


async def run_worker(url: str, docs: int) -> dict[str, Any]:
    """Through a real ``penstock run`` process: FileStreamSource fills the topic, then the sink."""
    from tests.support.server import ServerProcess, wait_until

    topic = f"bench-es-{uuid.uuid4().hex[:8]}"
    es = AsyncElasticsearch(url, request_timeout=60)
    await es.indices.create(index=topic, settings={"refresh_interval": "-1", "number_of_replicas": 0})
    es_proc = es_process(url)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "docs.jsonl"
        with source.open("wb") as f:
            for i in range(docs):
                f.write(document(i) + b"\n")
        size = source.stat().st_size
        server = ServerProcess(root / "data", {"offset.flush.interval.ms": "1000"}).start(60)
        try:
            worker = psutil.Process(server.process.pid)  # type: ignore[union-attr]
            server.create(
                "bench-source",
                {
                    "connector.class": "FileStreamSource",
                    "file": str(source),
                    "topic": topic,
                    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                },
            )
            wait_until(
                lambda: (
                    (got := server.client.get("/connectors/bench-source/offsets").json().get("offsets"))
                    and got[0]["offset"]["position"] >= size
                ),
                300,
                0.2,
                "the source read the file",
            )
            server.client.put("/connectors/bench-source/pause")
            cpu0, es_cpu0 = _cpu(worker), _cpu(es_proc)
            started = time.monotonic()
            server.create("bench-es", {**SINK_PROPS, "topics": topic, "connection.url": url})
            while await _indexed(es, topic) < docs:
                await asyncio.sleep(0.25)
                if time.monotonic() - started > 600:
                    raise SystemExit(f"not every document indexed after 10 minutes ({docs} expected)")
            wall = time.monotonic() - started
            cpu, es_cpu = _cpu(worker) - cpu0, _cpu(es_proc) - es_cpu0
            state = server.client.get("/connectors/bench-es/status").json()["tasks"][0]["state"]
        finally:
            server.close()
    try:
        await es.indices.refresh(index=topic)
        stored = int((await es.count(index=topic))["count"])
    finally:
        await es.indices.delete(index=topic, ignore_unavailable=True)
        await es.close()
    return _results(
        "es_sink_embedded_worker", docs, len(document(1)), wall, cpu, es_cpu, es_proc, stored, state
    )


def _results(
    name: str,
    docs: int,
    size: int,
    wall: float,
    cpu: float,
    es_cpu: float,
    es_proc: psutil.Process | None,
    stored: int,
    state: str | None,
) -> dict[str, Any]:
    return {
        name: {
            "documents": docs,
            "document_bytes": size,
            "seconds": round(wall, 2),
            "documents_per_s": round(docs / wall),
            "mb_per_s": round(docs * size / wall / 1e6, 1),
            "penstock_busy_share": round(cpu / wall, 2),
            "waiting_share": round(max(0.0, 1 - cpu / wall), 2),
            "es_cpu_cores": round(es_cpu / wall, 2) if es_proc else "unknown",
            "documents_in_index": stored,
            "task_state": state,
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--in-process", action="store_true", help="in-memory log, worker in this process")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        raise SystemExit("ELASTICSEARCH_URL is not set: run `scripts/services up elasticsearch` first")
    bench = run if args.in_process else run_worker
    print_results(asyncio.run(bench(url, args.docs)), as_json=args.json)


if __name__ == "__main__":
    main()
