"""JsonConverter: byte-exact compatibility with Kafka's JsonConverter (reference section 8.1)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest

from connectors.converters.json import DecimalFormat, JsonConverter, JsonConverterConfig
from connectors.sdk.config import ConfigType
from connectors.sdk.data import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    DATE_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    TIME_SCHEMA,
    TIMESTAMP_SCHEMA,
    Schema,
    SchemaAndValue,
    SchemaType,
    Struct,
    array_schema,
    decimal_schema,
    map_schema,
    struct_schema,
)
from connectors.sdk.errors import ConfigError, DataError

ENVELOPE_ERROR = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain '
    "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false "
    "in your converter configuration."
)
OPTIONAL_INT64 = Schema(SchemaType.INT64, optional=True)


def converter(**settings: str) -> JsonConverter:
    instance = JsonConverter()
    instance.configure(JsonConverterConfig.parse(settings), is_key=False)
    return instance


def plain() -> JsonConverter:
    return converter(**{"schemas.enable": "false"})


# --------------------------------------------------------------------------- configuration


def test_config_keys_defaults_and_types() -> None:
    described = {key.name: key for key in JsonConverterConfig.describe()}
    assert list(described) == [
        "schemas.enable",
        "schemas.cache.size",
        "decimal.format",
        "replace.null.with.default",
    ]
    assert described["schemas.enable"].default_value == "true"
    assert described["schemas.enable"].type is ConfigType.BOOLEAN
    assert described["schemas.cache.size"].default_value == "1000"
    assert described["schemas.cache.size"].type is ConfigType.INT
    assert described["decimal.format"].default_value == "BASE64"
    assert described["decimal.format"].type is ConfigType.STRING
    assert described["replace.null.with.default"].default_value == "true"


def test_decimal_format_is_case_insensitive() -> None:
    assert JsonConverterConfig.parse({"decimal.format": "numeric"}).decimal_format is DecimalFormat.NUMERIC
    assert JsonConverterConfig.parse({"decimal.format": "Base64"}).decimal_format is DecimalFormat.BASE64


def test_invalid_settings_raise_config_error() -> None:
    with pytest.raises(ConfigError) as excinfo:
        converter(**{"decimal.format": "hex"})
    assert str(excinfo.value) == (
        "Invalid value hex for configuration decimal.format: String must be one of: BASE64 or NUMERIC"
    )
    with pytest.raises(ConfigError, match=r"schemas\.enable"):
        converter(**{"schemas.enable": "maybe"})


def test_unconfigured_converter_uses_defaults_and_ignores_unknown_keys() -> None:
    assert JsonConverter().from_connect_data("t", INT32_SCHEMA, 1) == (
        b'{"schema":{"type":"int32","optional":false},"payload":1}'
    )
    configured = converter(**{"converter.type": "value", "unrelated": "x"})
    assert configured.from_connect_data("t", None, 1) == b'{"schema":null,"payload":1}'


def test_aliases() -> None:
    assert JsonConverter.aliases == ("org.apache.kafka.connect.json.JsonConverter",)


# --------------------------------------------------------------------------- schema JSON grammar


def test_optional_string_field_schema_json() -> None:
    schema = struct_schema([("email", OPTIONAL_STRING_SCHEMA)])
    assert JsonConverter().schema_json(schema) == (
        b'{"type":"struct","fields":[{"type":"string","optional":true,"field":"email"}],"optional":false}'
    )


def test_array_schema_json() -> None:
    assert JsonConverter().schema_json(array_schema(INT32_SCHEMA)) == (
        b'{"type":"array","items":{"type":"int32","optional":false},"optional":false}'
    )


def test_map_schema_json() -> None:
    assert JsonConverter().schema_json(map_schema(STRING_SCHEMA, OPTIONAL_INT64)) == (
        b'{"type":"map","keys":{"type":"string","optional":false},'
        b'"values":{"type":"int64","optional":true},"optional":false}'
    )


def test_decimal_schema_json() -> None:
    assert JsonConverter().schema_json(decimal_schema(2)) == (
        b'{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal",'
        b'"version":1,"parameters":{"scale":"2"}}'
    )


def test_date_time_timestamp_schema_json() -> None:
    json = JsonConverter()
    assert json.schema_json(DATE_SCHEMA) == (
        b'{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1}'
    )
    assert json.schema_json(TIME_SCHEMA) == (
        b'{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1}'
    )
    assert json.schema_json(TIMESTAMP_SCHEMA) == (
        b'{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1}'
    )


def test_struct_schema_json_keeps_field_order_and_trailing_field_key() -> None:
    schema = struct_schema(
        [("z", INT32_SCHEMA), ("a", OPTIONAL_STRING_SCHEMA), ("m", BOOLEAN_SCHEMA)], name="my.Record"
    )
    assert JsonConverter().schema_json(schema) == (
        b'{"type":"struct","fields":['
        b'{"type":"int32","optional":false,"field":"z"},'
        b'{"type":"string","optional":true,"field":"a"},'
        b'{"type":"boolean","optional":false,"field":"m"}],'
        b'"optional":false,"name":"my.Record"}'
    )


def test_debezium_key_schema_json_matches_reference() -> None:
    key = struct_schema([("id", INT32_SCHEMA)], name="dbserver1.public.customers.Key")
    assert JsonConverter().schema_json(key) == (
        b'{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],'
        b'"optional":false,"name":"dbserver1.public.customers.Key"}'
    )


def test_every_optional_key_in_order_with_default_last() -> None:
    allowed = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"
    snapshot = Schema(
        SchemaType.STRING,
        optional=True,
        default="false",
        name="io.debezium.data.Enum",
        version=1,
        parameters={"allowed": allowed},
    )
    documented = Schema(SchemaType.INT8, doc="a small one", version=3, name="n", default=7)
    schema = struct_schema([("snapshot", snapshot), ("small", documented)])
    assert JsonConverter().schema_json(schema) == (
        b'{"type":"struct","fields":['
        b'{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,'
        b'"parameters":{"allowed":"' + allowed.encode() + b'"},"default":"false","field":"snapshot"},'
        b'{"type":"int8","optional":false,"name":"n","version":3,"doc":"a small one","default":7,'
        b'"field":"small"}],"optional":false}'
    )


def test_float_types_use_kafka_type_names() -> None:
    json = JsonConverter()
    assert json.schema_json(Schema(SchemaType.FLOAT32)) == b'{"type":"float","optional":false}'
    assert json.schema_json(FLOAT64_SCHEMA) == b'{"type":"double","optional":false}'


# --------------------------------------------------------------------------- write


def test_write_envelope_and_plain() -> None:
    assert JsonConverter().from_connect_data("t", INT32_SCHEMA, 42) == (
        b'{"schema":{"type":"int32","optional":false},"payload":42}'
    )
    assert plain().from_connect_data("t", INT32_SCHEMA, 42) == b"42"
    assert plain().from_connect_data("t", STRING_SCHEMA, "h\u00e9") == '"h\u00e9"'.encode()


def test_tombstone_only_when_schema_and_value_are_null() -> None:
    assert JsonConverter().from_connect_data("t", None, None) is None
    assert plain().from_connect_data("t", None, None) is None
    assert JsonConverter().from_connect_data("t", OPTIONAL_STRING_SCHEMA, None) == (
        b'{"schema":{"type":"string","optional":true},"payload":null}'
    )
    assert plain().from_connect_data("t", OPTIONAL_STRING_SCHEMA, None) == b"null"


def test_null_for_required_schema_is_an_error() -> None:
    with pytest.raises(DataError) as excinfo:
        JsonConverter().from_connect_data("t", INT32_SCHEMA, None)
    assert str(excinfo.value) == (
        "Conversion error: null value for field that is required and has no default value"
    )
    schema = struct_schema([("id", INT32_SCHEMA), ("name", STRING_SCHEMA)])
    with pytest.raises(DataError, match="null value for field that is required"):
        plain().from_connect_data("t", schema, Struct(schema, {"id": 1}))


def test_null_with_default_writes_default_unless_disabled() -> None:
    schema = struct_schema([("n", Schema(SchemaType.INT32, optional=True, default=5))])
    value = Struct(schema, {"n": None})
    assert plain().from_connect_data("t", schema, value) == b'{"n":5}'
    keep_null = converter(**{"schemas.enable": "false", "replace.null.with.default": "false"})
    assert keep_null.from_connect_data("t", schema, value) == b'{"n":null}'


def test_struct_written_in_schema_field_order() -> None:
    schema = struct_schema([("b", INT32_SCHEMA), ("a", STRING_SCHEMA)])
    value = Struct(schema, {"a": "x", "b": 1})
    assert plain().from_connect_data("t", schema, value) == b'{"b":1,"a":"x"}'


def test_bytes_written_as_base64() -> None:
    assert plain().from_connect_data("t", BYTES_SCHEMA, b"\x00\x01\xff") == b'"AAH/"'
    assert plain().from_connect_data("t", BYTES_SCHEMA, bytearray(b"hi")) == b'"aGk="'


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (Decimal("10.50"), 2, b'"BBo="'),  # unscaled 1050 = 0x041A, as in the reference
        (Decimal("10.5"), 2, b'"BBo="'),  # rescaled exactly
        (Decimal("0"), 2, b'"AA=="'),
        (Decimal("-0.01"), 2, b'"/w=="'),  # unscaled -1 = 0xFF
        (Decimal("1.28"), 2, b'"AIA="'),  # unscaled 128 needs a sign byte: 0x0080
        (Decimal("-1.29"), 2, b'"/38="'),  # unscaled -129 = 0xFF7F
        (7, 0, b'"Bw=="'),
    ],
)
def test_decimal_base64(value: Decimal | int, scale: int, expected: bytes) -> None:
    assert plain().from_connect_data("t", decimal_schema(scale), value) == expected


@pytest.mark.parametrize(
    ("value", "scale", "expected"),
    [
        (Decimal("10.50"), 2, b"10.50"),
        (Decimal("10.5"), 2, b"10.50"),
        (Decimal("-0.05"), 2, b"-0.05"),
        (Decimal("0.0000001"), 7, b"0.0000001"),
        (Decimal("12"), 0, b"12"),
    ],
)
def test_decimal_numeric(value: Decimal, scale: int, expected: bytes) -> None:
    numeric = converter(**{"schemas.enable": "false", "decimal.format": "NUMERIC"})
    assert numeric.from_connect_data("t", decimal_schema(scale), value) == expected


def test_decimal_that_does_not_fit_the_scale_is_an_error() -> None:
    with pytest.raises(DataError, match="does not fit the schema's scale 2"):
        plain().from_connect_data("t", decimal_schema(2), Decimal("10.555"))
    with pytest.raises(DataError, match="expected Decimal"):
        plain().from_connect_data("t", decimal_schema(2), 10.5)


def test_logical_dates_and_times() -> None:
    json = plain()
    assert json.from_connect_data("t", DATE_SCHEMA, date(2024, 5, 1)) == b"19844"
    assert json.from_connect_data("t", DATE_SCHEMA, date(1969, 12, 31)) == b"-1"
    assert json.from_connect_data("t", DATE_SCHEMA, 19844) == b"19844"
    assert json.from_connect_data("t", TIME_SCHEMA, time(10, 15, 30, 123456)) == b"36930123"
    assert json.from_connect_data("t", TIME_SCHEMA, 5) == b"5"
    naive = datetime(2024, 5, 1, 10, 15, 30, 123000)
    assert json.from_connect_data("t", TIMESTAMP_SCHEMA, naive) == b"1714558530123"
    aware = datetime(2024, 5, 1, 12, 15, 30, 123000, tzinfo=timezone(timedelta(hours=2)))
    assert json.from_connect_data("t", TIMESTAMP_SCHEMA, aware) == b"1714558530123"
    assert json.from_connect_data("t", TIMESTAMP_SCHEMA, -1) == b"-1"
    with pytest.raises(DataError, match="should not have any time fields"):
        json.from_connect_data("t", DATE_SCHEMA, datetime(2024, 5, 1, 1))
    with pytest.raises(DataError, match="expected datetime"):
        json.from_connect_data("t", TIMESTAMP_SCHEMA, "2024-05-01")


def test_map_with_non_string_keys_written_as_pairs() -> None:
    schema = map_schema(INT32_SCHEMA, STRING_SCHEMA)
    assert plain().from_connect_data("t", schema, {1: "a", 2: "b"}) == b'[[1,"a"],[2,"b"]]'
    assert plain().from_connect_data("t", map_schema(STRING_SCHEMA, INT32_SCHEMA), {"k": 1}) == b'{"k":1}'


def test_type_mismatches_on_write() -> None:
    with pytest.raises(DataError, match="Invalid type for INT32: <class 'str'>"):
        plain().from_connect_data("t", INT32_SCHEMA, "1")
    with pytest.raises(DataError, match="Invalid type for INT32"):
        plain().from_connect_data("t", INT32_SCHEMA, True)
    with pytest.raises(DataError, match="Invalid value for INT8: 128 is out of range"):
        plain().from_connect_data("t", INT8_SCHEMA, 128)
    with pytest.raises(DataError, match="Invalid type for STRUCT"):
        plain().from_connect_data("t", struct_schema([("a", INT32_SCHEMA)]), {"a": 1})


def test_struct_with_other_schema_is_rejected() -> None:
    declared = struct_schema([("a", INT32_SCHEMA)])
    other = struct_schema([("a", INT64_SCHEMA)])
    with pytest.raises(DataError) as excinfo:
        plain().from_connect_data("t", declared, Struct(other, {"a": 1}))
    assert str(excinfo.value) == "Mismatching schema."


def test_struct_with_equal_rebuilt_schema_is_accepted() -> None:
    json = JsonConverter()
    first = struct_schema([("a", decimal_schema(2))], name="r")
    second = struct_schema([("a", decimal_schema(2))], name="r")
    assert first is not second
    out1 = json.from_connect_data("t", first, Struct(first, {"a": Decimal("1.00")}))
    out2 = json.from_connect_data("t", second, Struct(second, {"a": Decimal("1.00")}))
    assert out1 == out2
    assert out1 == (
        b'{"schema":{"type":"struct","fields":[{"type":"bytes","optional":false,'
        b'"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},'
        b'"field":"a"}],"optional":false,"name":"r"},"payload":{"a":"ZA=="}}'
    )


def test_non_finite_floats_are_quoted_like_jackson() -> None:
    schema = array_schema(FLOAT64_SCHEMA)
    assert plain().from_connect_data("t", schema, [float("nan"), float("inf"), -float("inf"), 1]) == (
        b'["NaN","Infinity","-Infinity",1.0]'
    )


def test_schemaless_write() -> None:
    json = JsonConverter()
    assert json.from_connect_data("t", None, {"a": [1, 2.5, True, None, "s"]}) == (
        b'{"schema":null,"payload":{"a":[1,2.5,true,null,"s"]}}'
    )
    assert plain().from_connect_data("t", None, {"b": b"\x01"}) == b'{"b":"AQ=="}'
    assert plain().from_connect_data("t", None, {1: "a", 2: {"x": b"\x02"}}) == (
        b'[[1,"a"],[2,{"x":"Ag=="}]]'
    )


def test_schemaless_struct_written_as_object() -> None:
    schema = struct_schema([("id", INT32_SCHEMA), ("price", decimal_schema(2))])
    value = Struct(schema, {"id": 1, "price": Decimal("10.50")})
    assert JsonConverter().from_connect_data("t", None, {"row": value}) == (
        b'{"schema":null,"payload":{"row":{"id":1,"price":"BBo="}}}'
    )


def test_schemaless_unsupported_type_is_an_error() -> None:
    with pytest.raises(DataError, match="does not have a corresponding Kafka Connect schema type"):
        plain().from_connect_data("t", None, {"when": datetime(2024, 1, 1)})
    with pytest.raises(DataError, match="does not have a corresponding Kafka Connect schema type"):
        plain().from_connect_data("t", None, Decimal("1.5"))


# --------------------------------------------------------------------------- read


def test_read_null_bytes() -> None:
    assert JsonConverter().to_connect_data("t", None) == SchemaAndValue(None, None)
    assert plain().to_connect_data("t", None) == SchemaAndValue(None, None)


def test_read_envelope_primitive() -> None:
    result = JsonConverter().to_connect_data(
        "t", b'{"schema":{"type":"int32","optional":false},"payload":42}'
    )
    assert result == SchemaAndValue(INT32_SCHEMA, 42)


def test_read_envelope_with_null_schema_is_schemaless() -> None:
    result = JsonConverter().to_connect_data("t", b'{"schema":null,"payload":{"a":1,"b":[1.5,"x"]}}')
    assert result == SchemaAndValue(None, {"a": 1, "b": [1.5, "x"]})


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1}',
        b'{"schema":null}',
        b'{"payload":1}',
        b'{"schema":null,"payload":1,"extra":2}',
        b"[1,2]",
        b"42",
        b"",
    ],
)
def test_read_without_proper_envelope_fails_with_kafka_message(data: bytes) -> None:
    with pytest.raises(DataError) as excinfo:
        JsonConverter().to_connect_data("t", data)
    assert str(excinfo.value) == ENVELOPE_ERROR


def test_read_bad_json() -> None:
    for json in (JsonConverter(), plain()):
        with pytest.raises(DataError) as excinfo:
            json.to_connect_data("t", b'{"schema":')
        assert str(excinfo.value).startswith(
            "Converting byte[] to Kafka Connect data failed due to serialization error: "
        )


def test_read_plain_json_is_inferred() -> None:
    json = plain()
    assert json.to_connect_data("t", b'{"a":1,"b":2.5,"c":"s","d":true,"e":null,"f":[1]}') == SchemaAndValue(
        None, {"a": 1, "b": 2.5, "c": "s", "d": True, "e": None, "f": [1]}
    )
    assert json.to_connect_data("t", b"7") == SchemaAndValue(None, 7)
    assert json.to_connect_data("t", b"null") == SchemaAndValue(None, None)
    assert json.to_connect_data("t", b"") == SchemaAndValue(None, None)
    # An envelope is just an object when schemas are disabled.
    assert json.to_connect_data("t", b'{"schema":null,"payload":1}') == SchemaAndValue(
        None, {"schema": None, "payload": 1}
    )


def test_read_debezium_key_from_reference() -> None:
    data = (
        b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],'
        b'"optional":false,"name":"dbserver1.public.customers.Key"},"payload":{"id":1}}'
    )
    result = JsonConverter().to_connect_data("t", data)
    expected_schema = struct_schema([("id", INT32_SCHEMA)], name="dbserver1.public.customers.Key")
    assert result.schema == expected_schema
    assert result.value == Struct(expected_schema, {"id": 1})


def test_read_schema_with_all_keys() -> None:
    data = (
        b'{"schema":{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,'
        b'"doc":"d","parameters":{"allowed":"a,b"},"default":"a"},"payload":null}'
    )
    result = JsonConverter().to_connect_data("t", data)
    assert result.schema == Schema(
        SchemaType.STRING,
        optional=True,
        default="a",
        name="io.debezium.data.Enum",
        version=1,
        doc="d",
        parameters={"allowed": "a,b"},
    )
    assert result.value == "a"  # null replaced with the default
    keep = converter(**{"replace.null.with.default": "false"})
    assert keep.to_connect_data("t", data).value is None


def test_read_logical_types() -> None:
    data = (
        b'{"schema":{"type":"struct","fields":['
        b'{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,'
        b'"parameters":{"scale":"2"},"field":"b64"},'
        b'{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,'
        b'"parameters":{"scale":"2"},"field":"num"},'
        b'{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"d"},'
        b'{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"t"},'
        b'{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,'
        b'"field":"ts"}],"optional":false},'
        b'"payload":{"b64":"BBo=","num":10.50,"d":19844,"t":36930123,"ts":1714558530123}}'
    )
    value = JsonConverter().to_connect_data("t", data).value
    assert isinstance(value, Struct)
    assert value.values == {
        "b64": Decimal("10.50"),
        "num": Decimal("10.50"),
        "d": date(2024, 5, 1),
        "t": time(10, 15, 30, 123000),
        "ts": datetime(2024, 5, 1, 10, 15, 30, 123000, tzinfo=UTC),
    }
    assert str(value.values["num"]) == "10.50"  # exact digits, not a float round trip


def test_read_numeric_decimal_keeps_every_digit() -> None:
    numeric = converter(**{"decimal.format": "NUMERIC"})
    schema = decimal_schema(9)
    big = Decimal("12345678901234567890.123456789")
    data = numeric.from_connect_data("t", schema, big)
    assert data is not None
    assert data.endswith(b'"payload":12345678901234567890.123456789}')
    result = numeric.to_connect_data("t", data)
    assert result.value == big
    assert str(result.value) == "12345678901234567890.123456789"
    # BASE64 readers accept NUMERIC data and vice versa.
    assert JsonConverter().to_connect_data("t", data).value == big


def test_read_type_errors() -> None:
    json = JsonConverter()
    with pytest.raises(DataError) as excinfo:
        json.to_connect_data("t", b'{"schema":{"type":"int32","optional":false},"payload":null}')
    assert str(excinfo.value) == "Invalid null value for required INT32 field"
    with pytest.raises(DataError) as excinfo:
        json.to_connect_data(
            "t",
            b'{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"a"}],'
            b'"optional":false},"payload":{}}',
        )
    assert str(excinfo.value) == "Invalid null value for required STRING field"
    with pytest.raises(DataError, match="Invalid type for INT32: expected an integer but found STRING"):
        json.to_connect_data("t", b'{"schema":{"type":"int32"},"payload":"5"}')
    with pytest.raises(DataError, match="Structs should be encoded as JSON objects, but found ARRAY"):
        json.to_connect_data("t", b'{"schema":{"type":"struct","fields":[]},"payload":[]}')
    with pytest.raises(DataError, match="Invalid bytes field"):
        json.to_connect_data("t", b'{"schema":{"type":"bytes"},"payload":"not base64!"}')
    with pytest.raises(DataError, match="Invalid type for Date, underlying representation should be integer"):
        json.to_connect_data(
            "t",
            b'{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":"x"}',
        )
    with pytest.raises(
        DataError, match="Maps with non-string fields should be encoded as JSON array of tuples"
    ):
        json.to_connect_data(
            "t", b'{"schema":{"type":"map","keys":{"type":"int32"},"values":{"type":"int32"}},"payload":{}}'
        )


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (b'{"optional":true}', "Schema must contain 'type' field"),
        (b'"int32"', "Schema must contain 'type' field"),
        (b'{"type":"decimal"}', "Unknown schema type: decimal"),
        (b'{"type":"array"}', "Array schema did not specify the element type"),
        (b'{"type":"map","values":{"type":"int32"}}', "Map schema did not specify the key type"),
        (b'{"type":"map","keys":{"type":"int32"}}', "Map schema did not specify the value type"),
        (b'{"type":"struct"}', 'Struct schema\'s "fields" argument is not an array.'),
        (
            b'{"type":"struct","fields":[{"type":"int32"}]}',
            "Struct schema's field name not specified properly",
        ),
        (b'{"type":"string","parameters":{"a":1}}', "Schema parameters must have string values."),
    ],
)
def test_read_invalid_schema(schema: bytes, message: str) -> None:
    with pytest.raises(DataError) as excinfo:
        JsonConverter().to_connect_data("t", b'{"schema":' + schema + b',"payload":null}')
    assert str(excinfo.value) == message


def test_optional_absent_means_required() -> None:
    result = JsonConverter().to_connect_data("t", b'{"schema":{"type":"string"},"payload":"x"}')
    assert result == SchemaAndValue(STRING_SCHEMA, "x")


def test_read_non_compact_envelope() -> None:
    spaced = (
        b'{ "payload" : {"a": 1},\n'
        b' "schema" : {"type": "struct", "fields": [{"type": "int32", "field": "a"}]} }'
    )
    result = JsonConverter().to_connect_data("t", spaced)
    schema = struct_schema([("a", INT32_SCHEMA)])
    assert result == SchemaAndValue(schema, Struct(schema, {"a": 1}))


def test_payload_text_inside_schema_does_not_confuse_the_fast_path() -> None:
    data = b'{"schema":{"type":"string","optional":false,"doc":",\\"payload\\":"},"payload":"v"}'
    result = JsonConverter().to_connect_data("t", data)
    assert result == SchemaAndValue(Schema(SchemaType.STRING, doc=',"payload":'), "v")


def test_parsed_schemas_are_cached_and_bounded() -> None:
    json = converter(**{"schemas.cache.size": "1"})
    first = json.to_connect_data("t", b'{"schema":{"type":"int32","optional":false},"payload":1}')
    again = json.to_connect_data("t", b'{"schema":{"type":"int32","optional":false},"payload":2}')
    assert again.schema is first.schema
    assert again.value == 2
    json.to_connect_data("t", b'{"schema":{"type":"int64","optional":false},"payload":1}')
    evicted = json.to_connect_data("t", b'{"schema":{"type":"int32","optional":false},"payload":3}')
    assert evicted.schema == first.schema
    assert evicted.schema is not first.schema


# --------------------------------------------------------------------------- round trips


def nested_schema() -> Schema:
    address = struct_schema([("city", STRING_SCHEMA), ("zip", OPTIONAL_STRING_SCHEMA)], name="Address")
    return struct_schema(
        [
            ("id", INT64_SCHEMA),
            ("tags", array_schema(STRING_SCHEMA)),
            ("scores", map_schema(STRING_SCHEMA, array_schema(FLOAT64_SCHEMA))),
            ("by_code", map_schema(INT32_SCHEMA, address)),
            ("addresses", array_schema(address, optional=True)),
            ("home", address),
            ("price", decimal_schema(2, optional=True)),
            ("raw", BYTES_SCHEMA),
            ("born", DATE_SCHEMA),
            ("seen", TIMESTAMP_SCHEMA),
        ],
        name="Person",
        version=2,
        doc="people",
    )


def nested_value(schema: Schema) -> Struct:
    address = schema.fields[5].schema
    home = Struct(address, {"city": "Oslo", "zip": None})
    work = Struct(address, {"city": "Bergen", "zip": "5003"})
    return Struct(
        schema,
        {
            "id": 2**40,
            "tags": ["a", "b"],
            "scores": {"x": [1.5, -2.0], "y": []},
            "by_code": {47: work},
            "addresses": [home, work],
            "home": home,
            "price": Decimal("-3.07"),
            "raw": b"\x00\xff",
            "born": date(1990, 2, 3),
            "seen": datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
        },
    )


@pytest.mark.parametrize("decimal_format", ["BASE64", "NUMERIC"])
def test_round_trip_nested_struct(decimal_format: str) -> None:
    json = converter(**{"decimal.format": decimal_format})
    schema = nested_schema()
    value = nested_value(schema)
    data = json.from_connect_data("t", schema, value)
    result = json.to_connect_data("t", data)
    assert result.schema == schema
    assert result.value == value
    # and the bytes are stable through a second round
    assert json.from_connect_data("t", result.schema, result.value) == data


def test_round_trip_nested_struct_payload() -> None:
    schema = nested_schema()
    data = plain().from_connect_data("t", schema, nested_value(schema))
    assert data == (
        b'{"id":1099511627776,"tags":["a","b"],"scores":{"x":[1.5,-2.0],"y":[]},'
        b'"by_code":[[47,{"city":"Bergen","zip":"5003"}]],'
        b'"addresses":[{"city":"Oslo","zip":null},{"city":"Bergen","zip":"5003"}],'
        b'"home":{"city":"Oslo","zip":null},"price":"/s0=","raw":"AP8=","born":7338,"seen":1704164645006}'
    )


def test_round_trip_struct_default_value() -> None:
    inner = struct_schema([("a", INT32_SCHEMA)], optional=True)
    with_default = Schema(
        SchemaType.STRUCT, fields=inner.fields, optional=True, default=Struct(inner, {"a": 9})
    )
    outer = struct_schema([("s", with_default)])
    json = JsonConverter()
    data = json.from_connect_data("t", outer, Struct(outer, {"s": None}))
    assert data == (
        b'{"schema":{"type":"struct","fields":[{"type":"struct","fields":[{"type":"int32","optional":false,'
        b'"field":"a"}],"optional":true,"default":{"a":9},"field":"s"}],"optional":false},'
        b'"payload":{"s":{"a":9}}}'
    )
    result = json.to_connect_data("t", data)
    assert result.value.values["s"].values == {"a": 9}
    assert json.from_connect_data("t", result.schema, result.value) == data


def test_header_role_is_value_conversion() -> None:
    json = JsonConverter()
    json.configure(JsonConverterConfig.parse({"converter.type": "header"}))
    data = json.from_connect_header("t", "h", INT32_SCHEMA, 3)
    assert data == b'{"schema":{"type":"int32","optional":false},"payload":3}'
    assert json.to_connect_header("t", "h", data) == SchemaAndValue(INT32_SCHEMA, 3)
    assert json.from_connect_header("t", "h", None, None) is None
