"""The Elasticsearch sink end to end: in-memory worker -> connector -> the real Elasticsearch."""

from __future__ import annotations

import pytest
from elasticsearch import AsyncElasticsearch

from tests.integration.elasticsearch.es_support import count, documents, produce, sink_props
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch]


async def test_schemaless_json_with_keys_updates_and_deletes(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    props = sink_props(
        topic, elasticsearch_url, **{"schema.ignore": "true", "behavior.on.null.values": "delete"}
    )
    await rt.herder.create("es", props, None)
    await produce(
        rt, topic, [(1, {"name": "a", "n": 1}), (2, {"name": "b", "n": 2}), (3, {"name": "c", "n": 3})]
    )
    await eventually(lambda: count(es, topic), timeout=20)
    await eventually(lambda: _count_is(es, topic, 3), timeout=20)
    await produce(rt, topic, [(1, {"name": "a2", "n": 10}), (2, None)])
    await eventually(lambda: _count_is(es, topic, 2), timeout=20)
    docs = await eventually(
        lambda: _docs_when(es, topic, lambda d: d.get("1", {}).get("n") == 10), timeout=20
    )
    assert docs == {"1": {"name": "a2", "n": 10}, "3": {"name": "c", "n": 3}}
    assert rt.task_state("es") == "RUNNING"


async def test_json_with_schema_gets_mapping_and_offset_ids(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    schema = {
        "type": "struct",
        "fields": [
            {"field": "id", "type": "int32"},
            {"field": "name", "type": "string"},
            {
                "field": "price",
                "type": "bytes",
                "name": "org.apache.kafka.connect.data.Decimal",
                "parameters": {"scale": "2"},
            },
            {"field": "at", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp"},
            {"field": "tags", "type": "map", "keys": {"type": "string"}, "values": {"type": "int64"}},
        ],
    }
    props = sink_props(
        topic, elasticsearch_url, **{"key.ignore": "true", "value.converter.schemas.enable": "true"}
    )
    await rt.herder.create("es", props, None)
    value = {"id": 7, "name": "widget", "price": "AQ==", "at": 1700000000000, "tags": {"x": 1}}
    await produce(rt, topic, [(None, {"schema": schema, "payload": value})] * 2)
    docs = await eventually(lambda: _docs_when(es, topic, lambda d: len(d) == 2), timeout=20)
    assert docs[f"{topic}+0+0"] == {
        "id": 7,
        "name": "widget",
        "price": 0.01,
        "at": 1700000000000,
        "tags": {"x": 1},
    }
    assert set(docs) == {f"{topic}+0+0", f"{topic}+0+1"}
    mapping = (await es.indices.get_mapping(index=topic))[topic]["mappings"]["properties"]
    assert mapping["id"] == {"type": "integer"}
    assert mapping["name"]["type"] == "text" and mapping["name"]["fields"]["keyword"]["type"] == "keyword"
    assert mapping["price"] == {"type": "double"}
    assert mapping["at"] == {"type": "date"}
    assert mapping["tags"]["properties"]["key"]["type"] == "text"


async def _count_is(es: AsyncElasticsearch, index: str, n: int) -> bool:
    return await count(es, index) == n


async def _docs_when(es: AsyncElasticsearch, index: str, check) -> dict:  # type: ignore[no-untyped-def]
    docs = await documents(es, index)
    return docs if check(docs) else {}


async def test_validate_connection_checks_the_server(elasticsearch_url: str) -> None:
    """Reachability and version through the nodes API (this distribution has no ``GET /``)."""
    from connectors.elasticsearch.connector import ElasticsearchSinkConnector

    connector = ElasticsearchSinkConnector()
    assert await connector.validate_connection({"connection.url": elasticsearch_url}) == {}
    found = await connector.validate_connection({"connection.url": "http://127.0.0.1:1"})
    assert found == {"connection.url": ["Could not connect to Elasticsearch: connection refused"]}


async def test_upsert_merges_fields_and_a_bad_index_name_fails_clearly(
    rt: MemoryRuntime, es: AsyncElasticsearch, elasticsearch_url: str, topic: str
) -> None:
    props = sink_props(topic, elasticsearch_url, **{"schema.ignore": "true", "write.method": "UPSERT"})
    await rt.herder.create("es", props, None)
    await produce(rt, topic, [("k", {"a": 1, "b": 1}), ("k", {"b": 2, "c": 3})])
    docs = await eventually(lambda: _docs_when(es, topic, lambda d: d.get("k", {}).get("c") == 3), timeout=20)
    assert docs == {"k": {"a": 1, "b": 2, "c": 3}}

    bad = f"-_{topic}"  # one leading "-" removed, as Confluent does: "_..." is still refused
    bad_props = {**sink_props(bad, elasticsearch_url), "name": "es-bad", "schema.ignore": "true"}
    await rt.herder.create("es-bad", bad_props, None)
    await produce(rt, bad, [("k", {"a": 1})])
    await eventually(lambda: rt.task_state("es-bad") == "FAILED", timeout=20)
    trace = rt.herder.status("es-bad")["tasks"][0]["trace"]
    assert f"Could not create index {bad[1:]}" in trace and "invalid_index_name_exception" in trace
