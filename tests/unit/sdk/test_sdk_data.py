"""Public data helpers of the SDK: logical types, SchemaBuilder, validate/infer/convert, Struct.put."""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from connectors.sdk import (
    DATE_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    TIMESTAMP_SCHEMA,
    DataError,
    Date,
    Decimal,
    Schema,
    SchemaBuilder,
    SchemaType,
    Struct,
    Time,
    Timestamp,
    array_schema,
    convert_value,
    decimal_schema,
    infer_schema,
    logical_name,
    map_schema,
    validate_value,
)

# --------------------------------------------------------------------------- logical types


@pytest.mark.parametrize(
    ("value", "scale", "raw"),
    [
        (decimal.Decimal("10.50"), 2, b"\x04\x1a"),  # 1050
        (decimal.Decimal("10.5"), 2, b"\x04\x1a"),  # rescaled exactly
        (decimal.Decimal("-1"), 0, b"\xff"),
        (decimal.Decimal("128"), 0, b"\x00\x80"),  # sign bit needs a leading zero byte
        (decimal.Decimal("0"), 3, b"\x00"),
        (decimal.Decimal("1.2E+3"), -2, b"\x0c"),  # negative scale: 12 hundreds
    ],
)
def test_decimal_round_trips_through_unscaled_bytes(value: decimal.Decimal, scale: int, raw: bytes) -> None:
    schema = Decimal.schema(scale)
    assert Decimal.from_logical(schema, value) == raw
    back = Decimal.to_logical(schema, raw)
    assert back == value
    assert back.as_tuple().exponent == -scale


def test_decimal_refuses_to_round_and_checks_its_schema() -> None:
    with pytest.raises(DataError, match="does not fit the schema's scale 1"):
        Decimal.from_logical(Decimal.schema(1), decimal.Decimal("1.25"))
    with pytest.raises(DataError, match="cannot be represented"):
        Decimal.from_logical(Decimal.schema(1), decimal.Decimal("NaN"))
    with pytest.raises(
        DataError, match="Requested conversion of Decimal object but the schema does not match"
    ):
        Decimal.from_logical(INT32_SCHEMA, decimal.Decimal(1))
    with pytest.raises(DataError, match="scale parameter not found"):
        Decimal.scale(Schema(SchemaType.BYTES, name=Decimal.LOGICAL_NAME))


def test_date_time_timestamp_conversions() -> None:
    assert Date.from_logical(Date.schema(), date(1970, 1, 2)) == 1
    assert Date.to_logical(Date.schema(), -1) == date(1969, 12, 31)
    assert Date.to_days(datetime(2024, 3, 1, tzinfo=UTC)) == Date.to_days(date(2024, 3, 1))
    with pytest.raises(DataError, match="should not have any time fields"):
        Date.to_days(datetime(2024, 3, 1, 12))

    assert Time.from_logical(Time.schema(), time(1, 2, 3, 456_789)) == 3_723_456
    assert Time.to_logical(Time.schema(), 3_723_456) == time(1, 2, 3, 456_000)
    with pytest.raises(DataError, match="within one day"):
        Time.from_millis(86_400_000)

    moment = datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert Timestamp.from_logical(Timestamp.schema(), moment) == 1_704_067_200_000
    assert Timestamp.to_logical(Timestamp.schema(), 1_704_067_200_000) == datetime(2024, 1, 1, tzinfo=UTC)
    assert Timestamp.to_millis(datetime(1970, 1, 1, 0, 0, 1)) == 1000  # naive means UTC
    with pytest.raises(DataError, match="Requested conversion of Timestamp"):
        Timestamp.to_logical(INT64_SCHEMA, 0)


def test_logical_classes_are_not_value_types() -> None:
    with pytest.raises(TypeError, match="only groups schema helpers"):
        Decimal()


def test_logical_name_needs_the_right_primitive() -> None:
    assert logical_name(DATE_SCHEMA) == Date.LOGICAL_NAME
    assert logical_name(Schema(SchemaType.STRING, name=Date.LOGICAL_NAME)) is None
    assert logical_name(STRING_SCHEMA) is None


# --------------------------------------------------------------------------- SchemaBuilder


def test_builder_builds_the_same_schema_as_the_helpers() -> None:
    built = (
        SchemaBuilder.struct()
        .name("com.example.Order")
        .version(2)
        .doc("an order")
        .field("id", SchemaBuilder.int64())
        .field("price", Decimal.builder(2).optional())
        .field("tags", SchemaBuilder.array(STRING_SCHEMA))
        .field("attrs", SchemaBuilder.map_(STRING_SCHEMA, SchemaBuilder.int32().optional()))
        .optional()
        .build()
    )
    assert built.type is SchemaType.STRUCT
    assert (
        built.optional
        and built.name == "com.example.Order"
        and built.version == 2
        and built.doc == "an order"
    )
    assert [(f.name, f.index) for f in built.fields] == [("id", 0), ("price", 1), ("tags", 2), ("attrs", 3)]
    assert built.fields[0].schema == INT64_SCHEMA
    assert built.fields[1].schema == decimal_schema(2, optional=True)
    assert built.fields[2].schema == array_schema(STRING_SCHEMA)
    assert built.fields[3].schema == map_schema(STRING_SCHEMA, Schema(SchemaType.INT32, optional=True))


def test_builder_parameters_and_defaults() -> None:
    schema = SchemaBuilder.string().parameter("a", "1").parameters({"b": "2"}).default_value("x").build()
    assert schema.parameters == {"a": "1", "b": "2"}
    assert schema.default == "x"


def test_builder_rejects_kafkas_mistakes() -> None:
    with pytest.raises(DataError, match="Invalid SchemaBuilder call: name has already been set"):
        SchemaBuilder.string().name("a").name("b")
    with pytest.raises(DataError, match="Cannot create fields on type INT32"):
        SchemaBuilder.int32().field("a", STRING_SCHEMA)
    with pytest.raises(DataError, match="field name duplication a"):
        SchemaBuilder.struct().field("a", STRING_SCHEMA).field("a", INT32_SCHEMA)
    with pytest.raises(DataError, match="Invalid default value"):
        SchemaBuilder.int8().default_value(1000).build()
    with pytest.raises(DataError, match="Invalid default value"):
        SchemaBuilder.string().default_value(5).build()


# --------------------------------------------------------------------------- validate_value


def test_validate_value_kafka_messages() -> None:
    with pytest.raises(DataError) as excinfo:
        validate_value(INT32_SCHEMA, None, field="id")
    assert str(excinfo.value) == 'Invalid value: null used for required field: "id", schema type: INT32'
    with pytest.raises(DataError) as excinfo:
        validate_value(INT32_SCHEMA, "7")
    assert str(excinfo.value) == "Invalid Python object for schema with type INT32: <class 'str'> for value"
    with pytest.raises(DataError) as excinfo:
        validate_value(DATE_SCHEMA, 7, field="day")
    assert str(excinfo.value) == (
        'Invalid Python object for schema "org.apache.kafka.connect.data.Date" with type INT32: '
        "<class 'int'> for field: \"day\""
    )
    with pytest.raises(DataError, match="out of range"):
        validate_value(Schema(SchemaType.INT8), 128)
    with pytest.raises(DataError, match="with type INT64: <class 'bool'>"):
        validate_value(INT64_SCHEMA, True)
    with pytest.raises(DataError, match="element of array value"):
        validate_value(array_schema(INT32_SCHEMA), [1, "2"])
    with pytest.raises(DataError, match="key of map value"):
        validate_value(map_schema(STRING_SCHEMA, INT32_SCHEMA), {1: 1})


def test_validate_value_accepts_what_converters_write() -> None:
    validate_value(Schema(SchemaType.FLOAT64), 3)
    validate_value(TIMESTAMP_SCHEMA, datetime.now(UTC))
    validate_value(decimal_schema(2), decimal.Decimal("1.5"))
    validate_value(Schema(SchemaType.BYTES), bytearray(b"x"))
    validate_value(OPTIONAL_STRING_SCHEMA, None)


def test_struct_put_validates_and_validate_checks_required_fields() -> None:
    schema = (
        SchemaBuilder.struct()
        .field("id", INT32_SCHEMA)
        .field("name", OPTIONAL_STRING_SCHEMA)
        .field("kind", SchemaBuilder.string().default_value("plain"))
        .build()
    )
    with pytest.raises(DataError, match='for field: "id"'):
        Struct(schema).put("id", "one")
    struct = Struct(schema).put("name", "n")
    with pytest.raises(DataError, match='null used for required field: "id"'):
        struct.validate()
    struct.put("id", 1).validate()  # "kind" is null but has a default
    other = SchemaBuilder.struct().field("id", INT32_SCHEMA).build()
    with pytest.raises(DataError, match="Struct schemas do not match"):
        validate_value(schema, Struct(other, {"id": 1}))


# --------------------------------------------------------------------------- infer / convert


def test_infer_schema() -> None:
    assert infer_schema(True) == Schema(SchemaType.BOOLEAN)
    assert infer_schema(5) == INT64_SCHEMA
    assert infer_schema(2**70) == decimal_schema(0)
    assert infer_schema(decimal.Decimal("1.25")) == decimal_schema(2)
    assert infer_schema(date(2024, 1, 1)) == DATE_SCHEMA
    assert infer_schema(datetime(2024, 1, 1)) == TIMESTAMP_SCHEMA
    assert infer_schema(["a", None]) == array_schema(OPTIONAL_STRING_SCHEMA)
    assert infer_schema({"a": 1}) == map_schema(STRING_SCHEMA, INT64_SCHEMA)
    assert infer_schema([1, "a"]) is None
    assert infer_schema([]) is None
    assert infer_schema(None) is None
    assert infer_schema(object()) is None


def test_convert_value() -> None:
    assert convert_value(INT32_SCHEMA, " 42 ") == 42
    assert convert_value(Schema(SchemaType.BOOLEAN), "TRUE") is True
    assert convert_value(Schema(SchemaType.FLOAT64), 3) == 3.0
    assert convert_value(STRING_SCHEMA, 7) == "7"
    assert convert_value(decimal_schema(2), "10.5") == decimal.Decimal("10.50")
    assert convert_value(DATE_SCHEMA, "2024-02-29") == date(2024, 2, 29)
    assert convert_value(DATE_SCHEMA, 1) == date(1970, 1, 2)
    assert convert_value(TIMESTAMP_SCHEMA, 0) == datetime(1970, 1, 1, tzinfo=UTC)
    with pytest.raises(DataError, match="Cannot convert 'x' to schema type INT32"):
        convert_value(INT32_SCHEMA, "x")
    with pytest.raises(DataError, match="out of range"):
        convert_value(Schema(SchemaType.INT8), "300")
    with pytest.raises(DataError, match="does not fit"):
        convert_value(decimal_schema(1), "1.25")
