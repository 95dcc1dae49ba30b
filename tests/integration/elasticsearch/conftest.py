"""Fixtures of the Elasticsearch sink's end-to-end tests: a fresh topic (and index) name per test,
a client that deletes the test indices afterwards, and an in-memory worker with the connector."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from connectors.elasticsearch.connector import ElasticsearchSinkConnector
from tests.integration.postgres.test_pg_e2e import db  # noqa: F401 - a fixture, for the CDC pipeline test
from tests.unit.runtime.memory_runtime import MemoryRuntime, memory_runtime


@pytest.fixture
def topic() -> str:
    return f"es-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def es(elasticsearch_url: str, topic: str) -> AsyncIterator[AsyncElasticsearch]:
    client = AsyncElasticsearch(elasticsearch_url)
    yield client
    await client.indices.delete(index=topic, ignore_unavailable=True)  # only this test's index
    await client.close()


@pytest.fixture
async def rt() -> AsyncIterator[MemoryRuntime]:
    async with memory_runtime(("sink", ElasticsearchSinkConnector)) as runtime:
        yield runtime
