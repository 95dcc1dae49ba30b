"""InsertField$Key / $Value against the reference's rules (§7.1); expected values written from the
reference, not from running the code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.sdk import ConfigError, DataError, SchemaBuilder, SinkRecord, SourceRecord, Struct
from connectors.sdk.data import INT32_SCHEMA, INT64_SCHEMA, OPTIONAL_STRING_SCHEMA, STRING_SCHEMA
from connectors.sdk.logical import Timestamp
from connectors.transforms.insert_field import InsertField, InsertFieldKey, InsertFieldValue
from tests.unit.transforms.support import configured

ALL = {
    "topic.field": "topic_field!",
    "partition.field": "partition_field",
    "offset.field": "offset_field!",
    "timestamp.field": "timestamp_field?",
    "static.field": "instance_id",
    "static.value": "my-instance-id",
}


def sink_record(value: Any, schema: Any = None, **extra: Any) -> SinkRecord:
    return SinkRecord(
        topic="test",
        partition=0,
        value=value,
        value_schema=schema,
        kafka_offset=42,
        timestamp=1_700_000_000_123,
        **extra,
    )


def test_schemaless_value_gets_every_field() -> None:
    out = configured(InsertFieldValue, ALL).apply(sink_record({"magic": 42}))
    assert out is not None
    assert out.value == {
        "magic": 42,
        "topic_field": "test",
        "partition_field": 0,
        "offset_field": 42,
        "timestamp_field": 1_700_000_000_123,
        "instance_id": "my-instance-id",
    }
    assert out.value_schema is None


def test_struct_value_keeps_basics_and_appends_fields_in_order() -> None:
    schema = SchemaBuilder.struct().name("name").version(1).doc("doc").field("magic", INT64_SCHEMA).build()
    out = configured(InsertFieldValue, ALL).apply(sink_record(Struct(schema, {"magic": 42}), schema))
    assert out is not None
    new = out.value_schema
    assert (new.name, new.version, new.doc) == ("name", 1, "doc")
    assert [f.name for f in new.fields] == [
        "magic",
        "topic_field",
        "partition_field",
        "offset_field",
        "timestamp_field",
        "instance_id",
    ]
    assert new.field("topic_field").schema == STRING_SCHEMA  # "!" -> required
    assert new.field("partition_field").schema == INT32_SCHEMA.as_optional()  # nothing -> optional
    assert new.field("offset_field").schema == INT64_SCHEMA
    assert new.field("timestamp_field").schema == Timestamp.schema(optional=True)
    assert new.field("instance_id").schema == OPTIONAL_STRING_SCHEMA
    value = out.value
    assert value.get("magic") == 42
    assert value.get("topic_field") == "test"
    assert value.get("offset_field") == 42
    assert value.get("timestamp_field") == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert value.get("instance_id") == "my-instance-id"
    value.validate()


def test_the_derived_schema_is_reused_for_records_of_one_schema() -> None:
    schema = SchemaBuilder.struct().field("magic", INT64_SCHEMA).build()
    transform = configured(InsertFieldValue, {"topic.field": "t"})
    first = transform.apply(sink_record(Struct(schema, {"magic": 1}), schema))
    second = transform.apply(sink_record(Struct(schema, {"magic": 2}), schema))
    assert first is not None and second is not None
    assert first.value_schema is second.value_schema


def test_tombstone_passes_unchanged() -> None:
    record = sink_record(None)
    assert configured(InsertFieldValue, {"topic.field": "t"}).apply(record) is record


def test_key_variant_works_on_the_key() -> None:
    record = sink_record("v", key={"id": 1})
    out = configured(InsertFieldKey, {"topic.field": "t"}).apply(record)
    assert out is not None
    assert out.key == {"id": 1, "t": "test"}
    assert out.value == "v"


def test_null_partition_and_timestamp_are_skipped() -> None:
    record = SourceRecord(topic="x", value={}, partition=None, timestamp=None)
    out = configured(
        InsertFieldValue, {"partition.field": "p", "timestamp.field": "ts", "topic.field": "t"}
    ).apply(record)
    assert out is not None and out.value == {"t": "x"}


def test_offset_on_a_source_record_is_a_data_error() -> None:
    with pytest.raises(
        DataError,
        match=r"Only SinkRecord supported for \[field insertion\], found: org.apache.kafka.connect.source.SourceRecord",
    ):
        configured(InsertFieldValue, {"offset.field": "o"}).apply(SourceRecord(topic="x", value={}))


def test_a_value_that_is_neither_struct_nor_map_is_a_data_error() -> None:
    with pytest.raises(
        DataError,
        match=r"Only Map objects supported in absence of schema for \[field insertion\], found: java.lang.String",
    ):
        configured(InsertFieldValue, {"topic.field": "t"}).apply(sink_record("text"))
    with pytest.raises(
        DataError, match=r"Only Struct objects supported for \[field insertion\], found: java.lang.String"
    ):
        configured(InsertFieldValue, {"topic.field": "t"}).apply(sink_record("text", STRING_SCHEMA))


def test_null_fields_take_their_default_unless_told_otherwise() -> None:
    schema = (
        SchemaBuilder.struct().field("n", SchemaBuilder.string().optional().default_value("dflt")).build()
    )
    record = sink_record(Struct(schema, {"n": None}), schema)
    assert configured(InsertFieldValue, {"topic.field": "t"}).apply(record).value.get("n") == "dflt"  # type: ignore[union-attr]
    kept = configured(InsertFieldValue, {"topic.field": "t", "replace.null.with.default": "false"}).apply(
        record
    )
    assert kept is not None and kept.value.get("n") is None


def test_config_errors_in_kafka_wording_on_the_key() -> None:
    assert InsertField.config_model.errors_by_key({}) == {
        "topic.field": ["Invalid value null for configuration topic.field: No field insertion configured"]
    }
    errors = InsertField.config_model.errors_by_key({"static.field": "s"})
    assert errors == {
        "static.value": [
            "Invalid value null for configuration static.value: No value specified for static field: s"
        ]
    }
    with pytest.raises(ConfigError, match="No field insertion configured"):
        InsertField.config_model.parse({})
