"""MaskField$Key / $Value against the reference (§7.3) and Kafka's documented behaviour;
expected values written from those, not from running the code."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from connectors.sdk import DataError, SchemaBuilder, Struct
from connectors.sdk.data import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    array_schema,
    map_schema,
)
from connectors.sdk.logical import Date, Time, Timestamp
from connectors.sdk.logical import Decimal as DecimalType
from connectors.transforms.mask_field import MaskField, MaskFieldKey, MaskFieldValue
from tests.unit.transforms.records import sink_record
from tests.unit.transforms.support import configured

SCHEMA = (
    SchemaBuilder.struct()
    .field("magic", INT32_SCHEMA)
    .field("bool", BOOLEAN_SCHEMA)
    .field("byte", INT8_SCHEMA)
    .field("short", INT16_SCHEMA)
    .field("int", INT32_SCHEMA)
    .field("long", INT64_SCHEMA)
    .field("float", FLOAT32_SCHEMA)
    .field("double", FLOAT64_SCHEMA)
    .field("string", STRING_SCHEMA)
    .field("date", Date.schema())
    .field("time", Time.schema())
    .field("timestamp", Timestamp.schema())
    .field("decimal", DecimalType.schema(2))
    .field("array", array_schema(INT32_SCHEMA))
    .field("map", map_schema(STRING_SCHEMA, STRING_SCHEMA))
    .field("opt", SchemaBuilder.string().optional().build())
    .build()
)
MASKED = [f.name for f in SCHEMA.fields if f.name != "magic"]

VALUES: dict[str, Any] = {
    "magic": 42,
    "bool": True,
    "byte": 42,
    "short": 42,
    "int": 42,
    "long": 42,
    "float": 42.0,
    "double": 42.0,
    "string": "55.121.20.20",
    "date": date(2020, 5, 1),
    "time": time(12, 30),
    "timestamp": datetime(2020, 5, 1, 12, 30, tzinfo=UTC),
    "decimal": Decimal("42.00"),
    "array": [1, 2, 3],
    "map": {"what": "what"},
    "opt": None,
}

EMPTY: dict[str, Any] = {
    "magic": 42,
    "bool": False,
    "byte": 0,
    "short": 0,
    "int": 0,
    "long": 0,
    "float": 0.0,
    "double": 0.0,
    "string": "",
    "date": date(1970, 1, 1),
    "time": time(0),
    "timestamp": datetime(1970, 1, 1, tzinfo=UTC),
    "decimal": Decimal(0),
    "array": [],
    "map": {},
    "opt": None,
}


def test_with_schema_every_type_gets_its_empty_value() -> None:
    transform = configured(MaskFieldValue, {"fields": ",".join(MASKED)})
    out = transform.apply(sink_record(Struct(SCHEMA, dict(VALUES)), SCHEMA))
    assert out is not None
    assert out.value_schema is SCHEMA
    assert out.value.values == EMPTY
    out.value.validate()


def test_schemaless_every_type_gets_its_empty_value() -> None:
    transform = configured(MaskFieldValue, {"fields": ",".join(MASKED)})
    out = transform.apply(sink_record(dict(VALUES)))
    assert out is not None
    assert out.value == EMPTY
    assert isinstance(out.value["bool"], bool)
    assert isinstance(out.value["float"], float)


def test_schemaless_adds_a_null_entry_for_an_absent_masked_field() -> None:
    out = configured(MaskFieldValue, {"fields": "ssn"}).apply(sink_record({"name": "n"}))
    assert out is not None and out.value == {"name": "n", "ssn": None}


def test_replacement_converted_to_numbers_and_strings() -> None:
    numeric = ["byte", "short", "int", "long", "float", "double", "decimal"]
    transform = configured(MaskFieldValue, {"fields": ",".join([*numeric, "string"]), "replacement": "123"})
    out = transform.apply(sink_record(Struct(SCHEMA, dict(VALUES)), SCHEMA))
    assert out is not None
    masked = out.value.values
    assert [masked[n] for n in numeric] == [123, 123, 123, 123, 123.0, 123.0, Decimal(123)]
    assert isinstance(masked["float"], float) and isinstance(masked["long"], int)
    assert masked["string"] == "123"
    assert masked["magic"] == 42
    out.value.validate()
    out = transform.apply(sink_record({"long": 1, "double": 1.5, "string": "s", "decimal": Decimal(1)}))
    assert out is not None
    assert out.value["long"] == 123 and out.value["double"] == 123.0 and out.value["string"] == "123"
    assert out.value["decimal"] == Decimal(123)


def test_replacement_that_is_not_a_number_fails_on_numeric_fields() -> None:
    transform = configured(MaskFieldValue, {"fields": "int", "replacement": "foo"})
    with pytest.raises(DataError, match=r"^Unable to convert foo \(class java.lang.String\) to number$"):
        transform.apply(sink_record(Struct(SCHEMA, dict(VALUES)), SCHEMA))
    with pytest.raises(DataError, match="Unable to convert foo"):
        transform.apply(sink_record({"int": 1}))


@pytest.mark.parametrize(
    ("field", "java"),
    [("bool", "java.lang.Boolean"), ("date", "java.util.Date"), ("array", "java.util.ArrayList")],
)
def test_replacement_on_other_types_fails(field: str, java: str) -> None:
    transform = configured(MaskFieldValue, {"fields": field, "replacement": "x"})
    with pytest.raises(DataError, match=f"^Cannot mask value of type class {java} with custom replacement.$"):
        transform.apply(sink_record(Struct(SCHEMA, dict(VALUES)), SCHEMA))


def test_struct_and_bytes_cannot_be_masked() -> None:
    inner = SchemaBuilder.struct().field("a", INT32_SCHEMA).build()
    schema = SchemaBuilder.struct().field("s", inner).field("b", BYTES_SCHEMA).build()
    value = Struct(schema, {"s": Struct(inner, {"a": 1}), "b": b"\x01"})
    with pytest.raises(
        DataError, match=r"^Cannot mask value of type: class org.apache.kafka.connect.data.Struct$"
    ):
        configured(MaskFieldValue, {"fields": "s"}).apply(sink_record(value, schema))
    with pytest.raises(DataError, match=r"^Cannot mask value of type: class \[B$"):
        configured(MaskFieldValue, {"fields": "b"}).apply(sink_record({"b": b"\x01"}))


def test_a_null_operand_fails() -> None:
    with pytest.raises(
        DataError, match=r"^Only Map objects supported in absence of schema for \[mask fields\], found: null$"
    ):
        configured(MaskFieldValue, {"fields": "a"}).apply(sink_record(None))
    with pytest.raises(DataError, match=r"^Only Struct objects supported for \[mask fields\], found: null$"):
        configured(MaskFieldValue, {"fields": "a"}).apply(sink_record(None, SCHEMA))


def test_key_variant() -> None:
    out = configured(MaskFieldKey, {"fields": "id"}).apply(sink_record("v", key={"id": "secret"}))
    assert out is not None and (out.key, out.value) == ({"id": ""}, "v")


def test_a_null_with_a_default_is_masked_from_the_default_unless_told_otherwise() -> None:
    schema = SchemaBuilder.struct().field("n", SchemaBuilder.string().optional().default_value("d")).build()
    record = sink_record(Struct(schema, {"n": None}), schema)
    out = configured(MaskFieldValue, {"fields": "n"}).apply(record)
    assert out is not None and out.value.get("n") == ""
    out = configured(MaskFieldValue, {"fields": "n", "replace.null.with.default": "false"}).apply(record)
    assert out is not None and out.value.get("n") is None


def test_config_errors() -> None:
    model = MaskField.config_model
    assert model.errors_by_key({}) == {
        "fields": ['Missing required configuration "fields" which has no default value.']
    }
    assert model.errors_by_key({"fields": ""}) == {
        "fields": ["Invalid value  for configuration fields: Empty list"]
    }
    assert model.errors_by_key({"fields": "a", "replacement": ""}) == {
        "replacement": ["Invalid value  for configuration replacement: String must be non-empty"]
    }
