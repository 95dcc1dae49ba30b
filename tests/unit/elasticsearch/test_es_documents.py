"""Index names (§6.2), document ids and versions (§6.3), bodies (§6.4) and mappings (§6.5)."""

from __future__ import annotations

import datetime as dt
import decimal

import orjson
import pytest

from connectors.elasticsearch.config import ElasticsearchSinkConfig
from connectors.elasticsearch.documents import ActionBuilder, document_id
from connectors.elasticsearch.mapping import build_mapping
from connectors.elasticsearch.naming import IndexNames, index_for_topic
from connectors.sdk import (
    DataError,
    Decimal,
    Header,
    SchemaBuilder,
    SinkRecord,
    Struct,
    Timestamp,
    map_schema,
    struct_schema,
)
from connectors.sdk.data import BOOLEAN_SCHEMA, INT32_SCHEMA, INT64_SCHEMA, STRING_SCHEMA, array_schema
from connectors.sdk.logical import Date


def config(**props: str) -> ElasticsearchSinkConfig:
    return ElasticsearchSinkConfig.parse({"connection.url": "http://es:9200", **props})


def record(value: object = None, key: object = None, **kw: object) -> SinkRecord:
    return SinkRecord(topic="Orders", value=value, key=key, partition=2, kafka_offset=42, **kw)  # type: ignore[arg-type]


def lines(action_lines: bytes) -> list[object]:
    return [orjson.loads(line) for line in action_lines.splitlines()]


@pytest.mark.parametrize(
    ("topic", "index"),
    [
        ("Orders", "orders"),
        ("_private", "private"),
        ("-x", "x"),
        (".", "dot"),
        ("..", "dotdot"),
        ("a" * 300, "a" * 255),
    ],
)
def test_index_names_follow_confluent(topic: str, index: str) -> None:
    assert index_for_topic(topic) == index


def test_data_stream_and_legacy_topic_index_map_names() -> None:
    names = IndexNames(config(**{"data.stream.type": "logs", "data.stream.dataset": "app"}))
    assert names("Orders") == "logs-app-orders"
    assert IndexNames(config(**{"topic.index.map": "Orders:sales"}))("Orders") == "sales"


def test_document_ids() -> None:
    assert document_id(record({}, key="k1"), ignore_key=False) == "k1"
    assert document_id(record({}, key=7), ignore_key=False) == "7"
    assert document_id(record({}, key="k1"), ignore_key=True) == "Orders+2+42"
    for bad in (None, "", 1.5, {"id": 1}, b"x", True):
        with pytest.raises(DataError):
            document_id(record({}, key=bad), ignore_key=False)
    struct_key = Struct(struct_schema([("id", INT32_SCHEMA)]), {"id": 1})
    with pytest.raises(DataError, match="not supported as the document id"):
        document_id(record({}, key=struct_key, key_schema=struct_key.schema), ignore_key=False)


def test_insert_is_versioned_by_offset_or_header_unless_the_key_is_ignored() -> None:
    action = ActionBuilder(config()).build(record({"a": 1}, key="k"))
    assert action is not None
    head, source = lines(action.lines)
    assert head == {"index": {"_index": "orders", "_id": "k", "version": 42, "version_type": "external"}}
    assert source == {"a": 1}
    versioned = ActionBuilder(config(**{"external.version.header": "v"})).build(
        record({"a": 1}, key="k", headers=(Header("v", b"1234"),))
    )
    assert versioned is not None and lines(versioned.lines)[0]["index"]["version"] == 1234  # type: ignore[index]
    plain = ActionBuilder(config(**{"key.ignore": "true"})).build(record({"a": 1}, key="k"))
    assert plain is not None and lines(plain.lines)[0] == {
        "index": {"_index": "orders", "_id": "Orders+2+42"}
    }


def test_upsert_and_data_stream_actions() -> None:
    action = ActionBuilder(config(**{"write.method": "upsert"})).build(record({"a": 1}, key="k"))
    assert action is not None
    assert lines(action.lines) == [
        {"update": {"_index": "orders", "_id": "k", "retry_on_conflict": 5}},
        {"doc": {"a": 1}, "upsert": {"a": 1}},
    ]
    stream = config(**{"data.stream.type": "logs", "data.stream.dataset": "app", "key.ignore": "true"})
    action = ActionBuilder(stream).build(record({"a": 1}, timestamp=1000))
    assert action is not None
    assert lines(action.lines) == [
        {"create": {"_index": "logs-app-orders", "_id": "Orders+2+42"}},
        {"a": 1, "@timestamp": 1000},
    ]


def test_tombstones_per_behavior() -> None:
    assert ActionBuilder(config(**{"behavior.on.null.values": "ignore"})).build(record(None, key="k")) is None
    deleting = ActionBuilder(config(**{"behavior.on.null.values": "delete"}))
    assert deleting.build(record(None, key=None)) is None
    action = deleting.build(record(None, key="k"))
    assert action is not None
    assert lines(action.lines) == [
        {"delete": {"_index": "orders", "_id": "k", "version": 42, "version_type": "external"}}
    ]
    with pytest.raises(DataError, match=r"behavior\.on\.null\.values"):
        ActionBuilder(config()).build(record(None, key="k"))


def test_body_preprocessing_with_schema_and_without() -> None:
    schema = (
        SchemaBuilder.struct()
        .field("price", Decimal.schema(2))
        .field("at", Timestamp.schema())
        .field("day", Date.schema())
        .field("tags", map_schema(STRING_SCHEMA, INT64_SCHEMA))
        .field("pairs", map_schema(INT32_SCHEMA, STRING_SCHEMA))
        .build()
    )
    when = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    value = Struct(
        schema,
        {
            "price": decimal.Decimal("1.25"),
            "at": when,
            "day": dt.date(1970, 1, 3),
            "tags": {"x": 1},
            "pairs": {1: "a"},
        },
    )
    action = ActionBuilder(config(**{"key.ignore": "true"})).build(record(value, value_schema=schema))
    assert action is not None
    assert lines(action.lines)[1] == {
        "price": 1.25,
        "at": 1704067200000,
        "day": 2,
        "tags": {"x": 1},
        "pairs": [{"key": 1, "value": "a"}],
    }
    expanded = ActionBuilder(config(**{"key.ignore": "true", "compact.map.entries": "false"}))
    action = expanded.build(record(value, value_schema=schema))
    assert action is not None and lines(action.lines)[1]["tags"] == [{"key": "x", "value": 1}]  # type: ignore[index]
    ignored = ActionBuilder(config(**{"key.ignore": "true", "schema.ignore": "true"}))
    action = ignored.build(record(value, value_schema=schema))
    assert action is not None and lines(action.lines)[
        1
    ] == {  # schema ignored: as JsonConverter writes it without schemas
        "price": "fQ==",  # base64 of the unscaled 125
        "at": 1704067200000,
        "day": 2,
        "tags": {"x": 1},
        "pairs": {"1": "a"},
    }


def test_mapping_from_schema() -> None:
    schema = (
        SchemaBuilder.struct()
        .field("id", INT32_SCHEMA)
        .field("name", STRING_SCHEMA)
        .field("at", Timestamp.schema())
        .field("price", Decimal.schema(2))
        .field("scores", array_schema(INT64_SCHEMA))
        .field("n", SchemaBuilder.int16().default_value(5).build())
        .field("inner", struct_schema([("ok", BOOLEAN_SCHEMA)]))
        .build()
    )
    assert build_mapping(schema) == {
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
            "at": {"type": "date"},
            "price": {"type": "double"},
            "scores": {"type": "long"},
            "n": {"type": "short", "null_value": 5},
            "inner": {"properties": {"ok": {"type": "boolean"}}},
        }
    }
    with pytest.raises(DataError, match=r"Cannot infer mapping without schema\."):
        build_mapping(None)
