"""``parse_string`` against Connect's ``Values.parseString`` rules (reference §7.15; Kafka's
ValuesTest cases)."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from connectors.sdk.data import (
    BOOLEAN_SCHEMA,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    Schema,
    SchemaType,
    array_schema,
    map_schema,
)
from connectors.sdk.logical import Date, Decimal, Time, Timestamp
from connectors.sdk.values import parse_string


@pytest.mark.parametrize(
    ("text", "schema", "value"),
    [
        ("true", BOOLEAN_SCHEMA, True),
        ("false", BOOLEAN_SCHEMA, False),
        (" true ", BOOLEAN_SCHEMA, True),
        ("42", INT8_SCHEMA, 42),
        ("-128", INT8_SCHEMA, -128),
        ("128", INT16_SCHEMA, 128),
        ("40000", INT32_SCHEMA, 40000),
        ("3000000000", INT64_SCHEMA, 3_000_000_000),
        ("1.0", INT8_SCHEMA, 1),  # an integral decimal is an integer
        ("1.5", FLOAT32_SCHEMA, 1.5),
        ("-2.25", FLOAT32_SCHEMA, -2.25),
        ("1e300", FLOAT64_SCHEMA, 1e300),  # beyond float32, and its scale (-300) is not 0
        ("hello", STRING_SCHEMA, "hello"),
        ("hello world", STRING_SCHEMA, "hello world"),
        ("", STRING_SCHEMA, ""),
        (" ", STRING_SCHEMA, " "),
        ("true}", STRING_SCHEMA, "true}"),  # a literal followed by more is a string
        ("[1,2", STRING_SCHEMA, "[1,2"),  # a broken array is a string
        ("{a:1}", STRING_SCHEMA, "{a:1}"),  # unquoted text inside a map is not a value
        ("12:30", STRING_SCHEMA, "12:30"),
        ("2023-11-14", Date.schema(), date(2023, 11, 14)),
        ("22:13:20.123Z", Time.schema(), time(22, 13, 20, 123000)),
        (
            "2023-11-14T22:13:20.123Z",
            Timestamp.schema(),
            datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC),
        ),
    ],
)
def test_scalars(text: str, schema: Schema, value: Any) -> None:
    parsed = parse_string(text)
    assert parsed.schema == schema
    assert parsed.value == value
    assert type(parsed.value) is type(value)


def test_null_and_none() -> None:
    assert parse_string(None).schema is None and parse_string(None).value is None
    assert parse_string("null").schema is None and parse_string("null").value is None


def test_big_integers_and_huge_numbers_are_decimals() -> None:
    parsed = parse_string("99999999999999999999")
    assert parsed.schema == Decimal.schema(0)
    assert parsed.value == decimal.Decimal("99999999999999999999")
    parsed = parse_string("1.5e400")
    assert parsed.schema == Decimal.schema(-399)


def test_float32_values_are_rounded_to_single_precision() -> None:
    parsed = parse_string("0.1")
    assert parsed.schema == FLOAT32_SCHEMA
    assert parsed.value == pytest.approx(0.1, abs=1e-8) and parsed.value != 0.1


def test_arrays_take_the_widest_numeric_type() -> None:
    parsed = parse_string("[1, 2, 1000]")
    assert parsed.schema == array_schema(INT16_SCHEMA)
    assert parsed.value == [1, 2, 1000]
    parsed = parse_string("[1, 2.5]")
    assert parsed.schema == array_schema(FLOAT32_SCHEMA)
    assert parsed.value == [1.0, 2.5] and isinstance(parsed.value[0], float)


def test_quoted_strings_in_arrays_and_temporal_values_in_quotes() -> None:
    parsed = parse_string('["a", "b,c"]')
    assert parsed.schema == array_schema(STRING_SCHEMA)
    assert parsed.value == ["a", "b,c"]
    parsed = parse_string('["2023-11-14"]')
    assert parsed.schema == array_schema(Date.schema())
    assert parsed.value == [date(2023, 11, 14)]


def test_mixed_and_empty_arrays_have_no_element_schema() -> None:
    parsed = parse_string('[1, "a"]')
    assert parsed.schema == Schema(SchemaType.ARRAY)
    assert parsed.value == [1, "a"]
    assert parse_string("[]").value == []
    assert parse_string("[]").schema == Schema(SchemaType.ARRAY)


def test_maps() -> None:
    parsed = parse_string('{"a": 1, "b": 2}')
    assert parsed.schema == map_schema(STRING_SCHEMA, INT8_SCHEMA)
    assert parsed.value == {"a": 1, "b": 2}
    parsed = parse_string('{"a": null}')
    assert parsed.schema == Schema(SchemaType.MAP, key_schema=STRING_SCHEMA)
    assert parsed.value == {"a": None}
    assert parse_string("{}").schema == Schema(SchemaType.MAP)


def test_nested_collections() -> None:
    parsed = parse_string('{"k": [1, 2]}')
    assert parsed.schema == map_schema(STRING_SCHEMA, array_schema(INT8_SCHEMA))
    assert parsed.value == {"k": [1, 2]}
