"""Helpers of the Elasticsearch sink's end-to-end tests: connector props, producing keyed JSON to
the in-memory log, and a view of an index."""

from __future__ import annotations

from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch

from app.storage.base import ProducerRecord
from tests.unit.runtime.memory_runtime import MemoryRuntime


def sink_props(topic: str, url: str, **extra: str) -> dict[str, str]:
    return {
        "name": "es",
        "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
        "topics": topic,
        "connection.url": url,
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "linger.ms": "5",
        **extra,
    }


async def produce(rt: MemoryRuntime, topic: str, items: list[tuple[Any, Any]]) -> None:
    """(key, value) pairs; values are JSON-encoded (None is a tombstone), keys sent as text."""
    await rt.log.send_batch(
        [
            ProducerRecord(
                topic,
                None if v is None else (v if isinstance(v, bytes) else orjson.dumps(v)),
                key=None if k is None else str(k).encode(),
                partition=0,
            )
            for k, v in items
        ]
    )


async def documents(es: AsyncElasticsearch, index: str) -> dict[str, dict[str, Any]]:
    """Every document of ``index`` by id (empty while the index does not exist)."""
    if not await es.indices.exists(index=index):
        return {}
    await es.indices.refresh(index=index)
    found = await es.search(index=index, size=10000, query={"match_all": {}})
    return {hit["_id"]: hit["_source"] for hit in found["hits"]["hits"]}


async def count(es: AsyncElasticsearch, index: str) -> int:
    if not await es.indices.exists(index=index):
        return 0
    await es.indices.refresh(index=index)
    return int((await es.count(index=index))["count"])
