"""Cast$Key / $Value (§7.8) with Java's cast semantics; expected values from the reference and
Kafka's CastTest cases."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from connectors.sdk import DataError, SchemaBuilder, SinkRecord, Struct
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
    SchemaType,
    array_schema,
)
from connectors.sdk.logical import Date, Decimal, Time, Timestamp
from connectors.transforms.cast import CastConfig, CastKey, CastValue, cast_value, java_double_string
from tests.unit.transforms.support import configured

MOMENT = datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)  # 1_700_000_000_123


def record(value: Any, schema: Any = None, key: Any = None, key_schema: Any = None) -> SinkRecord:
    return SinkRecord(
        topic="t",
        partition=0,
        value=value,
        value_schema=schema,
        key=key,
        key_schema=key_schema,
        kafka_offset=0,
    )


def test_fields_with_schema() -> None:
    schema = (
        SchemaBuilder.struct()
        .name("shop.Order")
        .field("int8", INT8_SCHEMA)
        .field("int16", INT16_SCHEMA)
        .field("int32", INT32_SCHEMA)
        .field("int64", INT64_SCHEMA)
        .field("float32", FLOAT32_SCHEMA)
        .field("float64", FLOAT64_SCHEMA)
        .field("boolean", BOOLEAN_SCHEMA)
        .field("string", STRING_SCHEMA)
        .field("bigdecimal", Decimal.schema(3))
        .field("date", Date.schema())
        .field("timestamp", Timestamp.schema())
        .field("timestamp_raw", Timestamp.schema())
        .field("bytes", BYTES_SCHEMA)
        .field("optional", SchemaBuilder.int32().optional().default_value(5).build())
        .field("untouched", STRING_SCHEMA)
        .build()
    )
    spec = (
        "int8:int16,int16:int32,int32:int64,int64:boolean,float32:float64,float64:boolean,boolean:int8,"
        "string:int32,bigdecimal:string,date:string,timestamp:string,timestamp_raw:int64,bytes:string,optional:string"
    )
    value = Struct(
        schema,
        {
            "int8": 8,
            "int16": 16,
            "int32": 32,
            "int64": 64,
            "float32": 32.5,
            "float64": -64.0,
            "boolean": True,
            "string": "42",
            "bigdecimal": decimal.Decimal("42.123"),
            "date": date(2023, 11, 14),
            "timestamp": MOMENT,
            "timestamp_raw": MOMENT,
            "bytes": b"hi",
            "optional": None,
            "untouched": "x",
        },
    )
    out = configured(CastValue, {"spec": spec}).apply(record(value, schema))
    assert out is not None
    new = out.value_schema
    assert new.name == "shop.Order"
    types = {f.name: f.schema.type for f in new.fields}
    assert types == {
        "int8": SchemaType.INT16,
        "int16": SchemaType.INT32,
        "int32": SchemaType.INT64,
        "int64": SchemaType.BOOLEAN,
        "float32": SchemaType.FLOAT64,
        "float64": SchemaType.BOOLEAN,
        "boolean": SchemaType.INT8,
        "string": SchemaType.INT32,
        "bigdecimal": SchemaType.STRING,
        "date": SchemaType.STRING,
        "timestamp": SchemaType.STRING,
        "timestamp_raw": SchemaType.INT64,
        "bytes": SchemaType.STRING,
        "optional": SchemaType.STRING,
        "untouched": SchemaType.STRING,
    }
    assert new.field("timestamp_raw").schema.name is None  # a plain int64 now
    optional = new.field("optional").schema
    assert optional.optional and optional.default == "5"  # optionality kept, default cast
    assert out.value.values == {
        "int8": 8,
        "int16": 16,
        "int32": 32,
        "int64": True,
        "float32": 32.5,
        "float64": True,
        "boolean": 1,
        "string": 42,
        "bigdecimal": "42.123",
        "date": "2023-11-14",
        "timestamp": "2023-11-14T22:13:20.123Z",
        "timestamp_raw": 1_700_000_000_123,
        "bytes": "aGk=",
        "optional": "5",  # a null field with a default reads as the default (replace.null.with.default)
        "untouched": "x",
    }
    out.value.validate()


def test_fields_schemaless() -> None:
    value = {"a": 300, "b": "true", "c": 1.9, "d": 0.5, "e": "x"}
    out = configured(CastValue, {"spec": "a:int8, b:boolean, c:int32, d:boolean, missing:string"}).apply(
        record(value)
    )
    assert out is not None
    assert out.value_schema is None
    # 300 narrows like Java's (byte) cast; floats truncate; 0.5 != 0 is false after truncation;
    # a spec field that is absent is put as null, as Kafka does
    assert out.value == {"a": 44, "b": True, "c": 1, "d": False, "e": "x", "missing": None}
    assert value == {"a": 300, "b": "true", "c": 1.9, "d": 0.5, "e": "x"}  # input untouched


def test_whole_value_with_schema_keeps_name_and_optionality() -> None:
    schema = SchemaBuilder.int32().name("count").optional().default_value(7).build()
    out = configured(CastValue, {"spec": "int8"}).apply(record(42, schema))
    assert out is not None
    assert out.value == 42
    assert (
        out.value_schema.type,
        out.value_schema.name,
        out.value_schema.optional,
        out.value_schema.default,
    ) == (
        SchemaType.INT8,
        "count",
        True,
        7,
    )


def test_whole_key_schemaless() -> None:
    out = configured(CastKey, {"spec": "string"}).apply(record("v", STRING_SCHEMA, 1e10))
    assert out is not None
    assert out.key == "1.0E10" and out.key_schema is None
    assert out.value == "v"


def test_whole_timestamp_to_int64_drops_the_logical_name() -> None:
    out = configured(CastValue, {"spec": "int64"}).apply(record(MOMENT, Timestamp.schema()))
    assert out is not None
    assert out.value == 1_700_000_000_123
    assert out.value_schema == INT64_SCHEMA


def test_null_operand_is_unchanged() -> None:
    original = record(None, SchemaBuilder.struct().field("a", INT32_SCHEMA).optional().build())
    assert configured(CastValue, {"spec": "a:string"}).apply(original) is original
    tombstone = record(None)
    assert configured(CastValue, {"spec": "int8"}).apply(tombstone) is tombstone


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (128, SchemaType.INT8, -128),
        (70000, SchemaType.INT16, 4464),
        (2**31, SchemaType.INT32, -(2**31)),
        (1e20, SchemaType.INT64, 2**63 - 1),  # floats saturate
        (-1e20, SchemaType.INT32, -(2**31)),
        (1e10, SchemaType.INT8, -1),  # via int: saturates to 2147483647, low byte 0xff
        (float("nan"), SchemaType.INT32, 0),
        (True, SchemaType.FLOAT64, 1.0),
        (False, SchemaType.INT64, 0),
        ("-12", SchemaType.INT16, -12),
        ("+12", SchemaType.INT32, 12),
        (" 1.5 ", SchemaType.FLOAT64, 1.5),  # Double.parseDouble trims
        ("1.5f", SchemaType.FLOAT32, 1.5),
        ("NaN", SchemaType.FLOAT64, None),
        ("TRUE", SchemaType.BOOLEAN, True),
        ("yes", SchemaType.BOOLEAN, False),  # Boolean.parseBoolean
        (2, SchemaType.BOOLEAN, True),
        (0.1, SchemaType.FLOAT32, 0.10000000149011612),
        (123.456, SchemaType.STRING, "123.456"),
        (-2.5e-10, SchemaType.STRING, "-2.5E-10"),
        (True, SchemaType.STRING, "true"),
        (12345678.0, SchemaType.STRING, "1.2345678E7"),
    ],
)
def test_java_cast_semantics(value: Any, target: SchemaType, expected: Any) -> None:
    result = cast_value(None, value, target)
    if expected is None:
        assert result != result  # NaN
    else:
        assert result == expected
        assert type(result) is type(expected)


def test_decimals_with_a_schema_narrow_like_big_decimal_and_print_like_it() -> None:
    assert cast_value(Decimal.schema(1), decimal.Decimal("300.9"), SchemaType.INT8) == 44
    assert cast_value(Decimal.schema(1), decimal.Decimal("-0.5"), SchemaType.BOOLEAN) is False
    assert cast_value(Decimal.schema(-3), decimal.Decimal("1E+3"), SchemaType.STRING) == "1E+3"
    with pytest.raises(DataError, match=r"class java\.math\.BigDecimal which is not supported"):
        cast_value(None, decimal.Decimal("1"), SchemaType.INT8)  # schemaless BigDecimal: no Connect type


def test_float32_prints_like_float_to_string() -> None:
    single = cast_value(None, 0.1, SchemaType.FLOAT32)
    assert cast_value(FLOAT32_SCHEMA, single, SchemaType.STRING) == "0.1"
    assert cast_value(FLOAT64_SCHEMA, single, SchemaType.STRING) == "0.10000000149011612"
    assert java_double_string(float("inf")) == "Infinity" and java_double_string(-0.0) == "-0.0"


def test_temporal_values_to_text_and_numbers() -> None:
    assert cast_value(Time.schema(), time(1, 2, 3, 4000), SchemaType.STRING) == "01:02:03.004Z"
    assert cast_value(Time.schema(), time(1, 2, 3, 4000), SchemaType.INT32) == 3_723_004
    assert cast_value(Date.schema(), date(2023, 11, 14), SchemaType.INT32) == 19675
    # a Timestamp at midnight prints as a date: the format is chosen from the instant, as in Kafka
    midnight = datetime(2023, 11, 14, tzinfo=UTC)
    assert cast_value(Timestamp.schema(), midnight, SchemaType.STRING) == "2023-11-14"


@pytest.mark.parametrize(
    ("value", "target", "message"),
    [
        ("128", SchemaType.INT8, "Value (128) was out of range for requested data type"),
        ("abc", SchemaType.INT32, "Value (abc) was out of range for requested data type"),
        ("1.5", SchemaType.INT64, "Value (1.5) was out of range for requested data type"),
        ("x", SchemaType.FLOAT64, "Value (x) was out of range for requested data type"),
        (
            [1, 2],
            SchemaType.STRING,
            "Cast transformation does not support casting from ARRAY; supported types are "
            "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]",
        ),
        (b"x", SchemaType.INT32, "Unexpected type in Cast transformation: class bytes"),
        (
            datetime(2020, 1, 1),
            SchemaType.STRING,
            "Cast transformation was passed a value of type class java.util.Date which is not supported by Connect's data API",
        ),
    ],
)
def test_cast_errors(value: Any, target: SchemaType, message: str) -> None:
    with pytest.raises(DataError) as caught:
        cast_value(None, value, target)
    assert str(caught.value) == message


def test_array_field_with_schema_is_refused() -> None:
    schema = SchemaBuilder.struct().field("tags", array_schema(STRING_SCHEMA)).build()
    with pytest.raises(DataError, match="does not support casting from ARRAY"):
        configured(CastValue, {"spec": "tags:string"}).apply(record(Struct(schema, {"tags": ["a"]}), schema))


def test_operand_type_errors() -> None:
    with pytest.raises(
        DataError,
        match=r"^Only Map objects supported in absence of schema for \[cast types\], found: java.lang.String$",
    ):
        configured(CastValue, {"spec": "a:int8"}).apply(record("text"))
    with pytest.raises(
        DataError, match=r"^Only Struct objects supported for \[cast types\], found: java.lang.String$"
    ):
        configured(CastValue, {"spec": "a:int8"}).apply(
            record("text", SchemaBuilder.struct().field("a", INT8_SCHEMA).build())
        )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "Must specify at least one field to cast."),
        ("a:b:c", "Invalid rename mapping: a:b:c"),
        ("a:foo", "Invalid type found in casting spec: foo"),
        (
            "a:bytes",
            "Cast transformation does not support casting to BYTES; supported types are "
            "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]",
        ),
        (
            "int32,a:int8",
            "Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec",
        ),
    ],
)
def test_spec_errors(spec: str, message: str) -> None:
    assert CastConfig.errors_by_key({"spec": spec}) == {
        "spec": [f"Invalid value {spec} for configuration spec: {message}"]
    }


def test_spec_is_required_and_case_insensitive() -> None:
    assert CastConfig.errors_by_key({}) == {
        "spec": ['Missing required configuration "spec" which has no default value.']
    }
    out = configured(CastValue, {"spec": "a:INT16"}).apply(record({"a": "7"}))
    assert out is not None and out.value == {"a": 7}
