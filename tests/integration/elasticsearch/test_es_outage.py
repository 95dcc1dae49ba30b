"""Elasticsearch unreachable for 30 seconds mid-stream: the task stays RUNNING, says why it
waits, stops fetching at ``max.buffered.records``, and ends with every document indexed once."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from tests.integration.elasticsearch.es_support import count, documents, produce, sink_props
from tests.integration.elasticsearch.proxy import OutageProxy
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch]

OUTAGE_S = 30


@pytest.fixture
async def proxy(elasticsearch_url: str) -> AsyncIterator[OutageProxy]:
    p = OutageProxy(elasticsearch_url)
    await p.start()
    yield p
    await p.stop()


async def test_outage_of_30_s_loses_nothing_and_duplicates_nothing(
    rt: MemoryRuntime, es: AsyncElasticsearch, proxy: OutageProxy, topic: str
) -> None:
    props = sink_props(
        topic,
        proxy.url,
        **{
            "schema.ignore": "true",
            "batch.size": "50",
            "max.in.flight.requests": "2",
            "max.buffered.records": "200",
            "read.timeout.ms": "2000",
        },
    )
    await rt.herder.create("es", props, None)
    await produce(rt, topic, [(f"k{i}", {"i": i}) for i in range(300)])
    await eventually(lambda: _count_is(es, topic, 300), timeout=30)

    await proxy.stop()
    down_at = time.monotonic()
    await produce(rt, topic, [(f"k{i}", {"i": i}) for i in range(300, 2300)])
    waiting = await eventually(lambda: _waiting(rt), timeout=20)
    assert "waiting for Elasticsearch: connection refused, retry in" in waiting
    # Fetching paused: far fewer records taken than produced while Elasticsearch is away.
    lag = await eventually(lambda: rt.herder.status("es")["tasks"][0].get("consumer_lag"), timeout=10)
    assert lag > 1000
    while time.monotonic() - down_at < OUTAGE_S:
        assert rt.task_state("es") == "RUNNING"
        await _sleep(1)
    await proxy.start()

    await eventually(lambda: _count_is(es, topic, 2300), timeout=60)
    docs = await documents(es, topic)
    assert docs == {f"k{i}": {"i": i} for i in range(2300)}
    versions = await es.search(index=topic, size=1, query={"term": {"_id": "k2299"}}, version=True)
    assert versions["hits"]["hits"][0]["_version"] == 2299  # external version = the offset, written once
    await eventually(lambda: _waiting(rt) is None, timeout=10)
    assert rt.task_state("es") == "RUNNING"


def _waiting(rt: MemoryRuntime) -> str | None:
    task = rt.herder.status("es")["tasks"][0]
    return (task.get("details") or {}).get("waiting")


async def _count_is(es: AsyncElasticsearch, index: str, n: int) -> bool:
    return await count(es, index) == n


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def test_elasticsearch_down_at_the_first_record_is_waited_for(
    rt: MemoryRuntime, es: AsyncElasticsearch, proxy: OutageProxy, topic: str
) -> None:
    """The index cannot be created yet: the batch is offered again until it can. (Creating the
    connector checks the connection, as Confluent's validator does, so it goes down after that.)"""
    props = sink_props(topic, proxy.url, **{"schema.ignore": "true"})
    await rt.herder.create("es", props, None)
    await eventually(lambda: rt.task_state("es") == "RUNNING", timeout=10)
    await proxy.stop()
    await produce(rt, topic, [(f"k{i}", {"i": i}) for i in range(10)])
    waiting = await eventually(lambda: _waiting(rt), timeout=20)
    assert waiting == "waiting for Elasticsearch: connection refused, retry in 1 s"
    assert rt.task_state("es") == "RUNNING"
    await proxy.start()
    await eventually(lambda: _count_is(es, topic, 10), timeout=30)
    await eventually(lambda: _waiting(rt) is None, timeout=10)
