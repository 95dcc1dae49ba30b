"""HoistField$Key / $Value against the reference (§7.6); expected values written from it, not
from running the code."""

from __future__ import annotations

from connectors.sdk import SchemaBuilder, Struct
from connectors.sdk.data import INT32_SCHEMA, OPTIONAL_STRING_SCHEMA
from connectors.transforms.hoist_field import HoistField, HoistFieldKey, HoistFieldValue
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured


def test_schemaless_wraps_in_a_map() -> None:
    out = configured(HoistFieldKey, {"field": "magic"}).apply(sink_record("v", key=42))
    assert out is not None
    assert (out.key, out.key_schema, out.value) == ({"magic": 42}, None, "v")


def test_with_schema_wraps_in_an_unnamed_one_field_struct() -> None:
    out = configured(HoistFieldKey, {"field": "magic"}).apply(
        sink_record("v", key=42, key_schema=INT32_SCHEMA)
    )
    assert out is not None
    schema = out.key_schema
    assert (schema.name, schema.optional) == (None, False)
    assert [(f.name, f.schema) for f in schema.fields] == [("magic", INT32_SCHEMA)]
    assert isinstance(out.key, Struct) and out.key.schema is schema and out.key.get("magic") == 42


def test_struct_values_are_wrapped_whole() -> None:
    inner = SchemaBuilder.struct().name("Inner").field("a", INT32_SCHEMA).build()
    value = Struct(inner, {"a": 1})
    out = configured(HoistFieldValue, {"field": "payload"}).apply(sink_record(value, inner))
    assert out is not None
    assert out.value_schema.field("payload").schema is inner  # type: ignore[union-attr]
    assert out.value.get("payload") is value


def test_null_values_are_wrapped_too() -> None:
    out = configured(HoistFieldValue, {"field": "f"}).apply(sink_record(None))
    assert out is not None and out.value == {"f": None}
    out = configured(HoistFieldValue, {"field": "f"}).apply(sink_record(None, OPTIONAL_STRING_SCHEMA))
    assert out is not None and out.value.get("f") is None
    out.value.validate()


def test_the_wrapper_schema_is_reused() -> None:
    transform = configured(HoistFieldValue, {"field": "f"})
    first = transform.apply(sink_record(1, INT32_SCHEMA))
    second = transform.apply(sink_record(2, INT32_SCHEMA))
    assert first is not None and second is not None and first.value_schema is second.value_schema


def test_field_is_required() -> None:
    assert HoistField.config_model.errors_by_key({}) == {
        "field": ['Missing required configuration "field" which has no default value.']
    }
