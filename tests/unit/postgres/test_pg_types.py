"""PostgreSQL text values -> Connect schemas and values, per type and mode (reference §2.6, §2.9).

Expected values are worked out by hand from the reference and Debezium's documented encodings,
not produced by the code under test.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from connectors.converters.json import JsonConverter
from connectors.postgres.pgoutput import UNCHANGED
from connectors.postgres.types import (
    BinaryHandlingMode,
    CopyTextParser,
    DecimalHandlingMode,
    HStoreHandlingMode,
    IntervalHandlingMode,
    PgType,
    TimePrecisionMode,
    TypeRegistry,
    ValueConverters,
    ValueOptions,
    civil_from_days,
    copy_select,
    days_from_civil,
    parse_array,
    parse_hstore,
)
from connectors.sdk import Schema, SchemaType, Struct, struct_schema, validate_value
from connectors.sdk.errors import DataError

NUMERIC_10_2 = (10 << 16 | 2) + 4  # atttypmod of numeric(10,2)


def conv(oid: int, typmod: int = -1, *, optional: bool = True, **options: Any) -> Any:
    return ValueConverters(ValueOptions(**options)).for_column(oid, typmod, optional=optional)


def value(oid: int, text: str | None, typmod: int = -1, **options: Any) -> Any:
    converter = conv(oid, typmod, **options)
    result = converter.convert(text)
    validate_value(converter.schema, result)  # every value fits the schema it is sent with
    return result


def field_json(schema: Schema, name: str = "f") -> dict[str, Any]:
    rendered = JsonConverter().schema_json(struct_schema([(name, schema)]))
    field: dict[str, Any] = json.loads(rendered)["fields"][0]
    return field


# -- integers, floats, booleans, strings -----------------------------------------------------------


@pytest.mark.parametrize(
    ("oid", "text", "schema_type", "expected"),
    [
        (21, "-32768", SchemaType.INT16, -32768),
        (23, "2147483647", SchemaType.INT32, 2147483647),
        (20, "-9223372036854775808", SchemaType.INT64, -(2**63)),
        (26, "4294967295", SchemaType.INT64, 4294967295),
        (700, "0.1", SchemaType.FLOAT32, 0.1),
        (701, "1e+20", SchemaType.FLOAT64, 1e20),
        (701, "-Infinity", SchemaType.FLOAT64, float("-inf")),
        (16, "t", SchemaType.BOOLEAN, True),
        (16, "f", SchemaType.BOOLEAN, False),
        (25, "héllo", SchemaType.STRING, "héllo"),
        (1043, "x", SchemaType.STRING, "x"),
        (1042, "ab  ", SchemaType.STRING, "ab  "),  # char(4) keeps its padding
        (19, "pg_class", SchemaType.STRING, "pg_class"),
        (18, "c", SchemaType.STRING, "c"),
        (869, "192.168.0.1", SchemaType.STRING, "192.168.0.1"),
        (650, "10.0.0.0/8", SchemaType.STRING, "10.0.0.0/8"),
        (829, "08:00:2b:01:02:03", SchemaType.STRING, "08:00:2b:01:02:03"),
        (3904, "[1,5)", SchemaType.STRING, "[1,5)"),
    ],
)
def test_plain_types(oid: int, text: str, schema_type: SchemaType, expected: Any) -> None:
    converter = conv(oid)
    assert converter.schema == Schema(schema_type, optional=True)
    assert value(oid, text) == expected


def test_float_nan() -> None:
    assert value(701, "NaN") != value(701, "NaN")


def test_null_and_required_schemas() -> None:
    assert value(23, None) is None
    assert conv(23, optional=False).schema == Schema(SchemaType.INT32)


@pytest.mark.parametrize(
    ("oid", "name"),
    [(114, "io.debezium.data.Json"), (3802, "io.debezium.data.Json"), (2950, "io.debezium.data.Uuid"),
     (142, "io.debezium.data.Xml")],
)  # fmt: skip
def test_semantic_string_types(oid: int, name: str) -> None:
    schema = conv(oid).schema
    assert (schema.type, schema.name, schema.version, schema.optional) == (SchemaType.STRING, name, 1, True)
    assert value(oid, '{"a": [1, 2]}') == '{"a": [1, 2]}'


# -- numeric and money ------------------------------------------------------------------------------


def test_numeric_precise_is_a_connect_decimal_with_scale_and_precision() -> None:
    schema = conv(1700, NUMERIC_10_2).schema
    assert field_json(schema, "price") == {
        "type": "bytes",
        "optional": True,
        "name": "org.apache.kafka.connect.data.Decimal",
        "version": 1,
        "parameters": {"scale": "2", "connect.decimal.precision": "10"},
        "field": "price",
    }
    assert value(1700, "10.50", NUMERIC_10_2) == Decimal("10.50")
    # The reference's rendering: 10.50 at scale 2 is the unscaled 1050 = 0x041A, base64 "BBo=".
    rendered = JsonConverter().from_connect_data("t", schema, Decimal("10.50"))
    assert rendered is not None and json.loads(rendered)["payload"] == "BBo="


def test_numeric_negative_scale() -> None:
    typmod = (5 << 16 | (-2 & 0x7FF)) + 4  # numeric(5,-2), PostgreSQL 15
    schema = conv(1700, typmod).schema
    assert schema.parameters == {"scale": "-2", "connect.decimal.precision": "5"}
    assert value(1700, "12300", typmod) == Decimal("12300")


def test_unconstrained_numeric_is_variable_scale_decimal() -> None:
    converter = conv(1700)
    schema = converter.schema
    assert (schema.type, schema.name, schema.version, schema.doc) == (
        SchemaType.STRUCT,
        "io.debezium.data.VariableScaleDecimal",
        1,
        "Variable scaled decimal",
    )
    assert [(f.name, f.schema.type) for f in schema.fields] == [
        ("scale", SchemaType.INT32),
        ("value", SchemaType.BYTES),
    ]
    one_and_half = value(1700, "1.500")
    assert isinstance(one_and_half, Struct)
    assert one_and_half.values == {"scale": 1, "value": b"\x0f"}  # trailing zeros stripped: 15 x 10^-1
    assert value(1700, "1200").values == {"scale": 0, "value": b"\x04\xb0"}  # never a negative scale
    assert value(1700, "-0.001").values == {"scale": 3, "value": b"\xff"}
    assert value(1700, "0").values == {"scale": 0, "value": b"\x00"}


def test_numeric_special_values_need_string_or_double_mode() -> None:
    with pytest.raises(DataError, match=r"decimal.handling.mode to 'string'"):
        value(1700, "NaN", NUMERIC_10_2)
    with pytest.raises(DataError, match="special value"):
        value(1700, "Infinity")
    assert value(1700, "NaN", decimal_handling_mode=DecimalHandlingMode.STRING) == "NAN"
    assert value(1700, "-Infinity", decimal_handling_mode=DecimalHandlingMode.STRING) == "NEGATIVE_INFINITY"
    assert value(1700, "Infinity", decimal_handling_mode=DecimalHandlingMode.DOUBLE) == float("inf")


@pytest.mark.parametrize(
    ("mode", "schema", "expected"),
    [
        (DecimalHandlingMode.DOUBLE, Schema(SchemaType.FLOAT64, optional=True), 1234.5),
        (DecimalHandlingMode.STRING, Schema(SchemaType.STRING, optional=True), "1234.50"),
    ],
)
def test_numeric_double_and_string_modes(mode: DecimalHandlingMode, schema: Schema, expected: Any) -> None:
    assert conv(1700, NUMERIC_10_2, decimal_handling_mode=mode).schema == schema
    assert conv(1700, decimal_handling_mode=mode).schema == schema
    assert value(1700, "1234.50", NUMERIC_10_2, decimal_handling_mode=mode) == expected
    assert value(1700, "0.0000001", decimal_handling_mode=DecimalHandlingMode.STRING) == "0.0000001"


def test_money_in_each_mode() -> None:
    precise = conv(790)
    assert precise.schema.name == "org.apache.kafka.connect.data.Decimal"
    assert precise.schema.parameters == {"scale": "2"}
    assert value(790, "$1,234.50") == Decimal("1234.50")
    assert value(790, "-$1,234.50") == Decimal("-1234.50")
    assert value(790, "($0.99)") == Decimal("-0.99")
    assert value(790, "$1.00", money_fraction_digits=3) == Decimal("1.000")
    assert value(790, "$1,234.50", decimal_handling_mode=DecimalHandlingMode.DOUBLE) == 1234.5
    assert value(790, "-$1,234.50", decimal_handling_mode=DecimalHandlingMode.STRING) == "-1234.50"


# -- binary ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "schema_type", "expected"),
    [
        (BinaryHandlingMode.BYTES, SchemaType.BYTES, b"\x01\x02\xfb\xff"),
        (BinaryHandlingMode.BASE64, SchemaType.STRING, "AQL7/w=="),
        (BinaryHandlingMode.BASE64_URL_SAFE, SchemaType.STRING, "AQL7_w=="),
        (BinaryHandlingMode.HEX, SchemaType.STRING, "0102fbff"),
    ],
)
def test_bytea_in_each_binary_mode(mode: BinaryHandlingMode, schema_type: SchemaType, expected: Any) -> None:
    assert conv(17, binary_handling_mode=mode).schema == Schema(schema_type, optional=True)
    assert value(17, "\\x0102fbff", binary_handling_mode=mode) == expected


def test_bytea_escape_format() -> None:
    assert value(17, "a\\\\b\\001") == b"a\\b\x01"


def test_bits() -> None:
    assert conv(1560, 1).schema == Schema(SchemaType.BOOLEAN, optional=True)
    assert value(1560, "1", 1) is True
    bits = conv(1560, 3).schema
    assert (bits.name, bits.parameters, bits.version) == ("io.debezium.data.Bits", {"length": "3"}, 1)
    assert value(1560, "101", 3) == b"\x05"  # BitSet {0, 2}: the last character is bit 0
    assert value(1562, "1000000001", 10) == b"\x01\x02"  # little-endian bytes
    assert value(1562, "000", 3) == b""


# -- dates and times -------------------------------------------------------------------------------


def test_date_is_days_since_epoch() -> None:
    schema = conv(1082).schema
    assert field_json(schema, "born") == {
        "type": "int32", "optional": True, "name": "io.debezium.time.Date", "version": 1, "field": "born"
    }  # fmt: skip
    assert value(1082, "2024-01-02") == 19724
    assert value(1082, "1969-12-31") == -1
    assert value(1082, "0001-01-01 BC") == -719528  # year 0 (astronomical)
    assert value(1082, "10000-01-01") == 2932897
    assert value(1082, "infinity") == 2**31 - 1


def test_timestamp_adaptive_precision() -> None:
    micro = conv(1114)
    assert field_json(micro.schema, "created_at") == {
        "type": "int64", "optional": True, "name": "io.debezium.time.MicroTimestamp", "version": 1,
        "field": "created_at",
    }  # fmt: skip
    assert value(1114, "2024-01-02 03:04:05.123456") == 1704164645123456
    assert value(1114, "2024-01-02 03:04:05.123456", 6) == 1704164645123456
    assert value(1114, "2024-01-02 03:04:05.5", 4) == 1704164645500000
    assert value(1114, "1969-12-31 23:59:59.999999") == -1
    assert conv(1114, 3).schema.name == "io.debezium.time.Timestamp"
    assert value(1114, "2024-01-02 03:04:05.123", 3) == 1704164645123
    assert value(1114, "1969-12-31 23:59:59.999", 3) == -1
    # 44 BC = year -43; shifted by 400 years (146,097 days): date(357, 3, 15) - 146097 days
    assert value(1114, "0044-03-15 12:00:00 BC") == -63_517_780_800_000_000
    assert value(1114, "infinity") == 9223372036825200000
    assert value(1114, "-infinity", 3) == -9223372036832400


def test_time_adaptive_and_microseconds_modes() -> None:
    assert conv(1083).schema.name == "io.debezium.time.MicroTime"
    assert value(1083, "03:04:05.123456") == 11045123456
    assert value(1083, "24:00:00") == 86_400_000_000
    assert conv(1083, 3).schema == Schema(
        SchemaType.INT32, optional=True, name="io.debezium.time.Time", version=1
    )
    assert value(1083, "03:04:05.123", 3) == 11045123
    assert value(1083, "03:04:05", 0) == 11045000
    micro = conv(1083, 3, time_precision_mode=TimePrecisionMode.ADAPTIVE_TIME_MICROSECONDS)
    assert micro.schema.name == "io.debezium.time.MicroTime"
    assert micro.convert("03:04:05.123") == 11045123000
    # adaptive_time_microseconds changes time only
    assert conv(1114, 3, time_precision_mode=TimePrecisionMode.ADAPTIVE_TIME_MICROSECONDS).schema.name == (
        "io.debezium.time.Timestamp"
    )


def test_connect_time_precision_mode() -> None:
    mode = {"time_precision_mode": TimePrecisionMode.CONNECT}
    assert conv(1082, **mode).schema.name == "org.apache.kafka.connect.data.Date"
    assert value(1082, "2024-01-02", **mode) == date(2024, 1, 2)
    assert conv(1083, **mode).schema.name == "org.apache.kafka.connect.data.Time"
    assert value(1083, "03:04:05.123456", **mode) == time(3, 4, 5, 123456)
    assert conv(1114, **mode).schema.name == "org.apache.kafka.connect.data.Timestamp"
    assert value(1114, "2024-01-02 03:04:05.123456", **mode) == datetime(2024, 1, 2, 3, 4, 5, 123456, UTC)
    rendered = JsonConverter().from_connect_data(
        "t", conv(1114, **mode).schema, value(1114, "2024-01-02 03:04:05.123456", **mode)
    )
    assert rendered is not None and json.loads(rendered)["payload"] == 1704164645123  # ms, sub-ms lost
    assert conv(1184, **mode).schema.name == "io.debezium.time.ZonedTimestamp"
    with pytest.raises(DataError, match=r"time\.precision\.mode=adaptive"):
        value(1082, "10000-01-01", **mode)


def test_timestamptz_is_a_zoned_timestamp_string_in_utc() -> None:
    schema = conv(1184).schema
    assert field_json(schema, "updated_at") == {
        "type": "string", "optional": True, "name": "io.debezium.time.ZonedTimestamp", "version": 1,
        "field": "updated_at",
    }  # fmt: skip
    assert value(1184, "2024-05-01 10:15:30.123456+00") == "2024-05-01T10:15:30.123456Z"
    assert value(1184, "2024-01-02 03:04:05.123456+05:30") == "2024-01-01T21:34:05.123456Z"
    assert value(1184, "2024-01-02 03:04:05.1234-03") == "2024-01-02T06:04:05.123400Z"
    assert value(1184, "2024-01-02 03:04:05+00") == "2024-01-02T03:04:05.000000Z"
    assert value(1184, "2024-01-02 03:04:05.5+00", 3) == "2024-01-02T03:04:05.500Z"
    assert value(1184, "2024-01-02 03:04:05+00", 0) == "2024-01-02T03:04:05Z"
    assert value(1184, "1900-01-01 00:00:00+00:19:32") == "1899-12-31T23:40:28.000000Z"
    assert value(1184, "0044-03-15 12:00:00+00 BC") == "-0043-03-15T12:00:00.000000Z"
    assert value(1184, "infinity") == "infinity"
    # Older Debezium printed only the needed digits.
    unpadded = {"pad_zoned_timestamp_fraction": False}
    assert value(1184, "2024-01-02 03:04:05.1234-03", **unpadded) == "2024-01-02T06:04:05.1234Z"
    assert value(1184, "2024-01-02 03:04:05+00", **unpadded) == "2024-01-02T03:04:05Z"


def test_timetz_is_a_zoned_time_string_in_utc() -> None:
    assert conv(1266).schema == Schema(
        SchemaType.STRING, optional=True, name="io.debezium.time.ZonedTime", version=1
    )
    assert value(1266, "03:04:05.12+05:30:15") == "21:33:50.12Z"
    assert value(1266, "10:15:30-02") == "12:15:30Z"
    assert value(1266, "24:00:00+00") == "24:00:00Z"


def test_interval_micro_duration_and_iso_string() -> None:
    assert conv(1186).schema == Schema(
        SchemaType.INT64, optional=True, name="io.debezium.time.MicroDuration", version=1
    )
    # (14 months x 30.4375 + 3) days = 429.125 days = 37,076,400 s; + 04:05:06.789
    assert value(1186, "1 year 2 mons 3 days 04:05:06.789") == 37_091_106_789_000
    assert value(1186, "00:00:00") == 0
    assert value(1186, "-00:00:01") == -1_000_000
    assert value(1186, "100:00:00") == 360_000_000_000
    assert value(1186, "1 mon") == 2_629_800_000_000  # 30.4375 days
    string = {"interval_handling_mode": IntervalHandlingMode.STRING}
    assert conv(1186, **string).schema.name == "io.debezium.time.Interval"
    assert value(1186, "1 year 2 mons 3 days 04:05:06.789", **string) == "P1Y2M3DT4H5M6.789S"
    assert value(1186, "-1 years -2 mons +3 days -04:05:06.5", **string) == "P-1Y-2M3DT-4H-5M-6.5S"
    assert value(1186, "00:00:00", **string) == "P0Y0M0DT0H0M0S"


# -- arrays, enums, domains, unknown types ---------------------------------------------------------


def test_array_literal_parsing() -> None:
    assert parse_array("{}") == []
    assert parse_array("{1,NULL,3}") == ["1", None, "3"]
    assert parse_array(r'{"a b","x\"y",NULL,"NULL","","{}","c,d","back\\slash"}') == [
        "a b", 'x"y', None, "NULL", "", "{}", "c,d", "back\\slash"
    ]  # fmt: skip
    assert parse_array("[0:1]={1,2}") == ["1", "2"]
    with pytest.raises(DataError, match="Multi-dimensional"):
        parse_array("{{1,2},{3,4}}")


def test_arrays_have_optional_elements_of_the_element_schema() -> None:
    ints = conv(1007)
    assert ints.schema == Schema(
        SchemaType.ARRAY, optional=True, value_schema=Schema(SchemaType.INT32, optional=True)
    )
    assert value(1007, "{1,NULL,3}") == [1, None, 3]
    numerics = conv(1231, NUMERIC_10_2)  # the column typmod applies to the elements
    assert numerics.schema.value_schema is not None
    assert numerics.schema.value_schema.parameters == {"scale": "2", "connect.decimal.precision": "10"}
    assert value(1231, "{1.50,NULL}", NUMERIC_10_2) == [Decimal("1.50"), None]
    variable = value(1231, "{1.5}")
    assert isinstance(variable[0], Struct) and variable[0].values == {"scale": 1, "value": b"\x0f"}
    assert value(1185, '{"2024-01-01 00:00:00+00"}') == ["2024-01-01T00:00:00.000000Z"]
    assert value(1009, '{"a,b",c}') == ["a,b", "c"]
    assert value(1001, '{"\\\\x01ff"}') == [b"\x01\xff"]


def test_enum_schema_lists_the_allowed_labels() -> None:
    registry = TypeRegistry([PgType(70000, "mood", "public", kind="e", enum_labels=("sad", "ok", "happy"))])
    registry.add(PgType(70001, "_mood", "public", element_oid=70000))
    converters = ValueConverters(ValueOptions(), registry)
    enum = converters.for_column(70000)
    assert enum.schema == Schema(
        SchemaType.STRING,
        optional=True,
        name="io.debezium.data.Enum",
        version=1,
        parameters={"allowed": "sad,ok,happy"},
    )
    assert enum.convert("ok") == "ok"
    array = converters.for_column(70001)
    assert array.schema.value_schema == enum.schema
    assert array.convert("{sad,happy}") == ["sad", "happy"]


def test_domain_resolves_to_its_base_type_and_modifier() -> None:
    registry = TypeRegistry(
        [PgType(70010, "price", "public", kind="d", base_oid=1700, base_type_modifier=NUMERIC_10_2)]
    )
    converter = ValueConverters(ValueOptions(), registry).for_column(70010)
    assert converter.schema.parameters == {"scale": "2", "connect.decimal.precision": "10"}
    assert converter.convert("3.10") == Decimal("3.10")


def test_unknown_type_is_a_string_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    registry = TypeRegistry([PgType(70020, "geometry", "public")])
    converters = ValueConverters(ValueOptions(), registry)
    with caplog.at_level(logging.WARNING, logger="connectors.postgres.types"):
        first = converters.for_column(70020, column="public.t.shape")
        converters.for_column(70020, column="public.t.other")
        converters.for_column(99999)
    assert first.schema == Schema(SchemaType.STRING, optional=True)
    assert first.convert("POINT(1 2)") == "POINT(1 2)"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "public.geometry (column public.t.shape)" in messages[0] and "string" in messages[0]
    assert "OID 99999" in messages[1]


def test_point_is_debeziums_geometry_point() -> None:
    schema = conv(600).schema
    assert (schema.name, schema.version, schema.doc) == (
        "io.debezium.data.geometry.Point",
        1,
        "Geometry (POINT)",
    )
    assert [(f.name, f.schema.type, f.schema.optional) for f in schema.fields] == [
        ("x", SchemaType.FLOAT64, False),
        ("y", SchemaType.FLOAT64, False),
        ("wkb", SchemaType.BYTES, True),
        ("srid", SchemaType.INT32, True),
    ]
    point = value(600, "(1.5,-2)")
    wkb = bytes([1, 1, 0, 0, 0]) + bytes.fromhex("000000000000f83f") + bytes.fromhex("00000000000000c0")
    assert point.values == {"x": 1.5, "y": -2.0, "wkb": wkb, "srid": None}


def test_citext_is_a_plain_string_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    registry = TypeRegistry([PgType(70030, "citext", "public")])
    with caplog.at_level(logging.WARNING):
        converter = ValueConverters(ValueOptions(), registry).for_column(70030)
    assert converter.schema == Schema(SchemaType.STRING, optional=True)
    assert not caplog.records


def test_unchanged_toast_placeholder_per_type() -> None:
    placeholder = "__debezium_unavailable_value"
    assert conv(25).convert(UNCHANGED) == placeholder
    assert conv(3802).convert(UNCHANGED) == placeholder
    assert conv(17).convert(UNCHANGED) == placeholder.encode()
    assert conv(17, binary_handling_mode=BinaryHandlingMode.HEX).convert(UNCHANGED) == placeholder
    assert conv(1009).convert(UNCHANGED) == [placeholder]
    assert conv(25, unavailable_value_placeholder="??").convert(UNCHANGED) == "??"
    assert conv(23).convert(UNCHANGED) is None


# -- options from config ---------------------------------------------------------------------------


def test_options_from_connector_config() -> None:
    options = ValueOptions.from_config(
        {
            "decimal.handling.mode": "STRING",
            "time.precision.mode": "connect",
            "binary.handling.mode": "base64-url-safe",
            "interval.handling.mode": "string",
            "hstore.handling.mode": "map",
            "money.fraction.digits": "4",
        }
    )
    assert options == ValueOptions(
        decimal_handling_mode=DecimalHandlingMode.STRING,
        time_precision_mode=TimePrecisionMode.CONNECT,
        binary_handling_mode=BinaryHandlingMode.BASE64_URL_SAFE,
        interval_handling_mode=IntervalHandlingMode.STRING,
        hstore_handling_mode=HStoreHandlingMode.MAP,
        money_fraction_digits=4,
    )
    assert ValueOptions.from_config({}) == ValueOptions()
    with pytest.raises(DataError, match=r"decimal\.handling\.mode; expected one of: precise, double, string"):
        ValueOptions.from_config({"decimal.handling.mode": "exact"})


# -- calendar arithmetic and COPY text -------------------------------------------------------------


@pytest.mark.parametrize("days", [-719893, -1, 0, 1, 19724, 2932897, 2_000_000_000, -2_000_000_000])
def test_civil_round_trip(days: int) -> None:
    assert days_from_civil(*civil_from_days(days)) == days


def test_civil_matches_python_dates() -> None:
    for ordinal in range(1, 3_652_059, 997):
        day = date.fromordinal(ordinal)
        assert days_from_civil(day.year, day.month, day.day) == ordinal - date(1970, 1, 1).toordinal()


def test_copy_text_parser_handles_split_chunks_escapes_and_nulls() -> None:
    data = "1\tAnne\t\\N\n2\ta\\tb\\\\c\\nd\t\\x41\n3\tZoë\t\n".encode()
    parser = CopyTextParser()
    rows = []
    for index in range(len(data)):  # one byte at a time: splits inside escapes and UTF-8 characters
        rows.extend(parser.feed(data[index : index + 1]))
    parser.close()
    assert rows == [["1", "Anne", None], ["2", "a\tb\\c\nd", "A"], ["3", "Zoë", ""]]
    with pytest.raises(DataError, match="ended inside a row"):
        partial = CopyTextParser()
        partial.feed(b"1\t2")
        partial.close()


def test_copy_select_quotes_column_names() -> None:
    assert copy_select('"s"."t"', ["id", 'we"ird']) == 'SELECT "id", "we""ird" FROM "s"."t"'


def test_hstore_text_parsing() -> None:
    text = r'"a"=>"1", "b"=>NULL, "q\"k"=>"v\\x", "NULL"=>""'
    assert parse_hstore(text) == {"a": "1", "b": None, 'q"k': "v\\x", "NULL": ""}
    assert parse_hstore("") == {}
    with pytest.raises(DataError, match="Malformed hstore"):
        parse_hstore('"a"=>1')


def test_hstore_modes() -> None:
    registry = TypeRegistry([PgType(70040, "hstore", "public")])
    as_json = ValueConverters(ValueOptions(), registry).for_column(70040)
    assert as_json.schema == Schema(SchemaType.STRING, optional=True, name="io.debezium.data.Json", version=1)
    assert as_json.convert('"k"=>"v", "n"=>NULL') == '{"k":"v","n":null}'
    as_map = ValueConverters(ValueOptions(hstore_handling_mode=HStoreHandlingMode.MAP), registry).for_column(
        70040
    )
    assert as_map.schema.type is SchemaType.MAP
    assert as_map.schema.key_schema == Schema(SchemaType.STRING)
    assert as_map.schema.value_schema == Schema(SchemaType.STRING, optional=True)
    assert as_map.convert('"k"=>"v"') == {"k": "v"}


def test_unparsable_text_is_a_data_error_naming_the_type() -> None:
    with pytest.raises(DataError, match=r"Cannot convert the interval value '@ 1 day'.*SESSION_SETTINGS"):
        conv(1186).convert("@ 1 day")
    with pytest.raises(DataError, match="Cannot convert the int4 value 'x'"):
        conv(23).convert("x")
    with pytest.raises(DataError, match="Cannot convert the numeric value 'abc'"):
        conv(1700, NUMERIC_10_2).convert("abc")


@pytest.mark.parametrize("width", [0, 3, 6, 9])
def test_the_utc_fast_path_of_zoned_timestamps_agrees_with_the_full_parser(width: int) -> None:
    """``zoned_timestamp`` rewrites UTC text directly; the general parser gives the same answer."""
    import random

    from connectors.postgres.types import (
        _fraction,
        _iso_year,
        civil_from_days,
        timestamptz_us,
        zoned_timestamp,
    )

    def parsed(text: str) -> str:
        days, us_of_day = divmod(timestamptz_us(text), 86_400_000_000)
        year, month, day = civil_from_days(days)
        seconds, us = divmod(us_of_day, 1_000_000)
        clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return f"{_iso_year(year)}-{month:02d}-{day:02d}T{clock}{_fraction(us, width)}Z"

    rng = random.Random(width)
    for _ in range(20_000):
        us = rng.choice([0, rng.randrange(1_000_000), rng.randrange(10) * 100_000])
        when = datetime(
            rng.randrange(1, 10000),
            rng.randrange(1, 13),
            rng.randrange(1, 29),
            rng.randrange(24),
            rng.randrange(60),
            rng.randrange(60),
            us,
        )
        text = f"{when.year:04d}-{when:%m-%d %H:%M:%S}" + (f".{us:06d}".rstrip("0") if us else "") + "+00"
        assert zoned_timestamp(text, width) == parsed(text), text
