"""Shared pieces of the Elasticsearch sink's end-to-end tests: a fresh index name per test, the
connector in an in-memory worker, and a small synchronous view of the index."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from elasticsearch import AsyncElasticsearch

from app.storage.base import ProducerRecord
from connectors.elasticsearch.connector import ElasticsearchSinkConnector
from tests.integration.postgres.test_pg_e2e import db  # noqa: F401 - a fixture, for the CDC pipeline test
from tests.unit.runtime.memory_runtime import MemoryRuntime, memory_runtime


@pytest.fixture
def topic() -> str:
    return f"es-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def es(elasticsearch_url: str) -> AsyncIterator[AsyncElasticsearch]:
    client = AsyncElasticsearch(elasticsearch_url)
    yield client
    await client.indices.delete(index="es-*", ignore_unavailable=True, allow_no_indices=True)
    await client.close()


@pytest.fixture
async def rt() -> AsyncIterator[MemoryRuntime]:
    async with memory_runtime(("sink", ElasticsearchSinkConnector)) as runtime:
        yield runtime


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
