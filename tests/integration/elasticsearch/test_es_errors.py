"""Records Elasticsearch or the connector cannot take: malformed documents per
``behavior.on.malformed.documents`` (and the DLQ under ``errors.tolerance=all``), unusable keys per
``drop.invalid.message``, tombstones per ``behavior.on.null.values``."""

from __future__ import annotations

import pytest
from elasticsearch import AsyncElasticsearch

from tests.integration.elasticsearch.es_support import documents, produce, sink_props
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch]

DLQ = {"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq"}


async def _with_int_mapping(es: AsyncElasticsearch, index: str) -> None:
    await es.indices.create(index=index, mappings={"properties": {"n": {"type": "integer"}}})


async def _ids_when(es: AsyncElasticsearch, index: str, wanted: set[str]) -> bool:
    return set(await documents(es, index)) == wanted


@pytest.mark.parametrize("behavior", ["ignore", "warn"])
async def test_malformed_document_is_skipped_and_dead_lettered(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str, behavior: str
) -> None:
    await _with_int_mapping(es, topic)
    props = sink_props(
        topic,
        elasticsearch_url,
        **{"schema.ignore": "true", "behavior.on.malformed.documents": behavior},
        **DLQ,
    )
    await rt.herder.create("es", props, None)
    await produce(rt, topic, [("a", {"n": 1}), ("b", {"n": "not a number"}), ("c", {"n": 3})])
    await eventually(lambda: _ids_when(es, topic, {"a", "c"}), timeout=20)
    dead = await eventually(lambda: rt.values("dlq"), timeout=10)
    assert dead == [b'{"n":"not a number"}']
    assert rt.task_state("es") == "RUNNING"


async def test_malformed_document_skipped_without_dlq_under_tolerance_none(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    await _with_int_mapping(es, topic)
    props = sink_props(
        topic, elasticsearch_url, **{"schema.ignore": "true", "behavior.on.malformed.documents": "warn"}
    )
    await rt.herder.create("es", props, None)
    await produce(rt, topic, [("a", {"n": 1}), ("b", {"n": "x"}), ("c", {"n": 3})])
    await eventually(lambda: _ids_when(es, topic, {"a", "c"}), timeout=20)
    assert rt.task_state("es") == "RUNNING"


async def test_malformed_document_fails_the_task_and_is_dead_lettered(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    await _with_int_mapping(es, topic)
    props = sink_props(topic, elasticsearch_url, **{"schema.ignore": "true"}, **DLQ)  # default: fail
    await rt.herder.create("es", props, None)
    await produce(rt, topic, [("a", {"n": 1}), ("b", {"n": "x"})])
    await eventually(lambda: rt.task_state("es") == "FAILED", timeout=20)
    trace = rt.herder.status("es")["tasks"][0]["trace"]
    assert "Indexing record failed" in trace and "parsing" in trace
    assert await rt.values("dlq") == [b'{"n":"x"}']


async def test_unusable_key_dropped_with_drop_invalid_message(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    props = sink_props(
        topic,
        elasticsearch_url,
        **{"schema.ignore": "true", "drop.invalid.message": "true", "behavior.on.null.values": "ignore"},
        **DLQ,
    )
    await rt.herder.create("es", props, None)
    await produce(rt, topic, [("a", {"n": 1}), (None, {"n": 2}), ("c", None), ("d", {"n": 4})])
    await eventually(lambda: _ids_when(es, topic, {"a", "d"}), timeout=20)
    assert await eventually(lambda: rt.values("dlq"), timeout=10) == [b'{"n":2}']


async def test_tombstone_fails_the_task_by_default(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    await rt.herder.create("es", sink_props(topic, elasticsearch_url, **{"schema.ignore": "true"}), None)
    await produce(rt, topic, [("a", None)])
    await eventually(lambda: rt.task_state("es") == "FAILED", timeout=20)
    assert "behavior.on.null.values" in rt.herder.status("es")["tasks"][0]["trace"]


async def test_schemaless_value_without_schema_ignore_fails_with_confluent_message(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    await rt.herder.create("es", sink_props(topic, elasticsearch_url), None)
    await produce(rt, topic, [("a", {"n": 1})])
    await eventually(lambda: rt.task_state("es") == "FAILED", timeout=20)
    assert "Cannot infer mapping without schema." in rt.herder.status("es")["tasks"][0]["trace"]
