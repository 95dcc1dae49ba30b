"""SimpleHeaderConverter: header values as UTF-8 text, with a small predictable inference."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from connectors.converters.simple_header import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    SimpleHeaderConverter,
)
from connectors.sdk.data import (
    INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaAndValue,
    Struct,
    struct_schema,
)


def converter() -> SimpleHeaderConverter:
    instance = SimpleHeaderConverter()
    instance.configure(SimpleHeaderConverter.config_model.parse({"converter.type": "header"}))
    return instance


def test_aliases() -> None:
    assert SimpleHeaderConverter.aliases == ("org.apache.kafka.connect.storage.SimpleHeaderConverter",)


def test_write() -> None:
    c = converter()
    assert c.from_connect_header("t", "k", None, None) is None
    assert c.from_connect_header("t", "k", STRING_SCHEMA, "h\u00e9") == b"h\xc3\xa9"
    assert c.from_connect_header("t", "k", None, b"\x00raw") == b"\x00raw"
    assert c.from_connect_header("t", "k", None, True) == b"true"
    assert c.from_connect_header("t", "k", None, False) == b"false"
    assert c.from_connect_header("t", "k", None, -12) == b"-12"
    assert c.from_connect_header("t", "k", None, 2.5) == b"2.5"
    assert c.from_connect_header("t", "k", None, {"a": [1, "x", None]}) == b'{"a":[1,"x",null]}'
    assert c.from_connect_header("t", "k", None, [1, 2]) == b"[1,2]"
    assert c.from_connect_header("t", "k", None, date(2024, 5, 1)) == b"2024-05-01"
    assert c.from_connect_header("t", "k", None, datetime(2024, 5, 1, 10, 15)) == b"2024-05-01T10:15:00"
    schema = struct_schema([("id", INT32_SCHEMA), ("name", STRING_SCHEMA)])
    assert c.from_connect_header("t", "k", schema, Struct(schema, {"name": "n", "id": 1})) == (
        b'{"id":1,"name":"n"}'
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"true", SchemaAndValue(OPTIONAL_BOOLEAN_SCHEMA, True)),
        (b"false", SchemaAndValue(OPTIONAL_BOOLEAN_SCHEMA, False)),
        (b"42", SchemaAndValue(OPTIONAL_INT64_SCHEMA, 42)),
        (b"-7", SchemaAndValue(OPTIONAL_INT64_SCHEMA, -7)),
        (b"0", SchemaAndValue(OPTIONAL_INT64_SCHEMA, 0)),
        (b"9223372036854775807", SchemaAndValue(OPTIONAL_INT64_SCHEMA, 2**63 - 1)),
        (b"9223372036854775808", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "9223372036854775808")),
        (b"2.5", SchemaAndValue(OPTIONAL_FLOAT64_SCHEMA, 2.5)),
        (b"-1e3", SchemaAndValue(OPTIONAL_FLOAT64_SCHEMA, -1000.0)),
        (b"1e999", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "1e999")),
        (b'{"a":[1,"x"]}', SchemaAndValue(None, {"a": [1, "x"]})),
        (b"[1,true]", SchemaAndValue(None, [1, True])),
        (b"{not json", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "{not json")),
        (b"007", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "007")),
        (b"True", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "True")),
        (b"NaN", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "NaN")),
        (b" 1", SchemaAndValue(OPTIONAL_STRING_SCHEMA, " 1")),
        (b"hello", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "hello")),
        (b"", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "")),
        (b"h\xc3\xa9", SchemaAndValue(OPTIONAL_STRING_SCHEMA, "h\u00e9")),
    ],
)
def test_read_infers_types(data: bytes, expected: SchemaAndValue) -> None:
    assert converter().to_connect_header("t", "k", data) == expected


def test_read_null() -> None:
    assert converter().to_connect_header("t", "k", None) == SchemaAndValue(None, None)


def test_round_trip_of_typed_values() -> None:
    c = converter()
    for value, schema in (
        (True, OPTIONAL_BOOLEAN_SCHEMA),
        (123, OPTIONAL_INT64_SCHEMA),
        (0.25, OPTIONAL_FLOAT64_SCHEMA),
        ("text", OPTIONAL_STRING_SCHEMA),
    ):
        data = c.from_connect_header("t", "k", None, value)
        assert c.to_connect_header("t", "k", data) == SchemaAndValue(schema, value)


def test_inferred_schemas_are_optional() -> None:
    for schema in (OPTIONAL_BOOLEAN_SCHEMA, OPTIONAL_INT64_SCHEMA, OPTIONAL_FLOAT64_SCHEMA):
        assert isinstance(schema, Schema)
        assert schema.optional
