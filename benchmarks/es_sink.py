"""The Elasticsearch sink end to end: 1 KB JSON documents in a topic -> indexed in Elasticsearch.

    python -m benchmarks.es_sink [--docs 200000] [--json]

Needs ELASTICSEARCH_URL (``scripts/services up elasticsearch``). The topic is filled first (the
in-memory log of a worker running in this process), then the connector is created with the
settings a Confluent user would write (JsonConverter without schemas, ``key.ignore=true``,
``schema.ignore=true``, Confluent's defaults for batching: 2,000 records a bulk, 5 in flight);
the clock runs from the create until Elasticsearch's indexing statistics count every document
(polled every 250 ms without refreshing, so the poll costs the server nothing), then the index is
refreshed and its document count checked. The index is created
beforehand with ``refresh_interval=-1`` and no replicas, as a bulk load is usually tuned.

Where the time goes: ``penstock_busy_share`` is this process's CPU time over the wall time (the
worker is one event loop: the rest of the time it waited, on Elasticsearch); ``es_cpu_cores`` is
the CPU Elasticsearch used, in cores (the machine has 2, shared by both).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import psutil
from elasticsearch import AsyncElasticsearch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.storage.base import ProducerRecord
from benchmarks import print_results
from connectors.elasticsearch.connector import ElasticsearchSinkConnector
from tests.unit.runtime.memory_runtime import memory_runtime


def document(i: int) -> bytes:
    """About 1 KB of JSON: a few typed fields and a text body."""
    doc = {
        "id": i,
        "customer": f"customer-{i % 5000}",
        "amount": round(i * 0.37 % 1000, 2),
        "status": ("new", "paid", "shipped", "returned")[i % 4],
        "created_at": 1_700_000_000_000 + i,
        "text": ("lorem ipsum dolor sit amet " * 40)[:860],
    }
    return orjson.dumps(doc)


def es_process(url: str) -> psutil.Process | None:
    port = urlsplit(url).port
    for conn in psutil.net_connections("tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return psutil.Process(conn.pid)
    return None


async def run(url: str, docs: int) -> dict[str, Any]:
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
            size = len(document(1))
            props = {
                "name": "bench-es",
                "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
                "topics": topic,
                "connection.url": url,
                "key.ignore": "true",
                "schema.ignore": "true",
                "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable": "false",
            }
            cpu0, es_cpu0 = time.process_time(), _cpu(es_proc)
            started = time.monotonic()
            await rt.herder.create("bench-es", props, None)
            while True:
                await asyncio.sleep(0.25)
                stats = await es.indices.stats(index=topic, metric="indexing")
                indexed = int(stats["_all"]["primaries"]["indexing"]["index_total"])
                if indexed >= docs:
                    break
                if time.monotonic() - started > 600:
                    raise SystemExit(f"only {indexed} of {docs} documents after 10 minutes")
            wall = time.monotonic() - started
            cpu, es_cpu = time.process_time() - cpu0, _cpu(es_proc) - es_cpu0
            state = rt.task_state("bench-es")
            await es.indices.refresh(index=topic)
            stored = int((await es.count(index=topic))["count"])
    finally:
        await es.indices.delete(index=topic, ignore_unavailable=True)
        await es.close()
    return {
        "es_sink": {
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


def _cpu(proc: psutil.Process | None) -> float:
    if proc is None:
        return 0.0
    times = proc.cpu_times()
    return float(times.user + times.system + times.children_user + times.children_system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("ELASTICSEARCH_URL")
    if not url:
        raise SystemExit("ELASTICSEARCH_URL is not set: run `scripts/services up elasticsearch` first")
    print_results(asyncio.run(run(url, args.docs)), as_json=args.json)


if __name__ == "__main__":
    main()
