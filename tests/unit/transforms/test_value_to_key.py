"""ValueToKey against the reference (§7.4) and Kafka's documented examples; expected values
written from those, not from running the code."""

from __future__ import annotations

import pytest

from connectors.sdk import DataError, SchemaBuilder, SourceRecord, Struct
from connectors.sdk.data import INT32_SCHEMA, STRING_SCHEMA
from connectors.transforms.value_to_key import ValueToKey
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured

SCHEMA = (
    SchemaBuilder.struct()
    .field("a", INT32_SCHEMA)
    .field("b", INT32_SCHEMA)
    .field("c", STRING_SCHEMA)
    .field("d", SchemaBuilder.int32().optional().default_value(9))
    .build()
)


def test_schemaless_key_from_fields_with_null_for_missing_ones() -> None:
    record = sink_record({"a": 1, "b": 2, "c": 3}, key="old")
    out = configured(ValueToKey, {"fields": "a,b,z"}).apply(record)
    assert out is not None
    assert (out.key, out.key_schema) == ({"a": 1, "b": 2, "z": None}, None)
    assert out.value == {"a": 1, "b": 2, "c": 3}


def test_with_schema_key_struct_in_listed_order() -> None:
    value = Struct(SCHEMA, {"a": 1, "b": 2, "c": "x", "d": None})
    out = configured(ValueToKey, {"fields": "c,a"}).apply(sink_record(value, SCHEMA))
    assert out is not None
    assert out.key_schema.name is None
    assert [(f.name, f.schema) for f in out.key_schema.fields] == [("c", STRING_SCHEMA), ("a", INT32_SCHEMA)]
    assert out.key.schema is out.key_schema
    assert out.key.values == {"c": "x", "a": 1}
    assert out.value is value and out.value_schema is SCHEMA
    out.key.validate()


def test_with_schema_a_missing_field_fails() -> None:
    value = Struct(SCHEMA, {"a": 1, "b": 2, "c": "x"})
    with pytest.raises(DataError, match=r"^Field does not exist: z$"):
        configured(ValueToKey, {"fields": "a,z"}).apply(sink_record(value, SCHEMA))


def test_the_key_schema_is_reused() -> None:
    transform = configured(ValueToKey, {"fields": "a"})
    first = transform.apply(sink_record(Struct(SCHEMA, {"a": 1}), SCHEMA))
    second = transform.apply(sink_record(Struct(SCHEMA, {"a": 2}), SCHEMA))
    assert first is not None and second is not None
    assert first.key_schema is second.key_schema


def test_null_fields_take_their_default_unless_told_otherwise() -> None:
    record = sink_record(Struct(SCHEMA, {"a": 1, "d": None}), SCHEMA)
    out = configured(ValueToKey, {"fields": "d"}).apply(record)
    assert out is not None and out.key.get("d") == 9
    out = configured(ValueToKey, {"fields": "d", "replace.null.with.default": "false"}).apply(record)
    assert out is not None and out.key.get("d") is None


def test_a_null_value_fails() -> None:
    purpose = r"\[copying fields from value to key\]"
    with pytest.raises(
        DataError, match=f"^Only Map objects supported in absence of schema for {purpose}, found: null$"
    ):
        configured(ValueToKey, {"fields": "a"}).apply(SourceRecord(topic="t", value=None))
    with pytest.raises(DataError, match=f"^Only Struct objects supported for {purpose}, found: null$"):
        configured(ValueToKey, {"fields": "a"}).apply(sink_record(None, SCHEMA))


def test_answers_to_its_kafka_name_and_needs_fields() -> None:
    assert ValueToKey.aliases == ("org.apache.kafka.connect.transforms.ValueToKey",)
    assert ValueToKey.config_model.errors_by_key({}) == {
        "fields": ['Missing required configuration "fields" which has no default value.']
    }
    assert ValueToKey.config_model.errors_by_key({"fields": " "}) == {
        "fields": ["Invalid value   for configuration fields: Empty list"]
    }
