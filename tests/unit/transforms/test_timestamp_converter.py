"""TimestampConverter$Key / $Value (§7.9); cases follow Kafka's TimestampConverterTest: the
instant 1970-01-02T00:00:01Z (86_401_000 ms) in each representation."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from connectors.sdk import DataError, SchemaBuilder, SinkRecord, Struct
from connectors.sdk.data import (
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
)
from connectors.sdk.logical import Date, Time, Timestamp
from connectors.transforms.timestamp_converter import (
    TimestampConverterConfig,
    TimestampConverterKey,
    TimestampConverterValue,
)
from tests.unit.transforms.support import configured

MILLIS = 86_401_000
MOMENT = datetime(1970, 1, 2, 0, 0, 1, tzinfo=UTC)
FORMAT = "yyyy MM dd HH mm ss SSS z"
TEXT = "1970 01 02 00 00 01 000 UTC"


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


def convert(props: dict[str, str], value: Any, schema: Any = None) -> SinkRecord:
    out = configured(TimestampConverterValue, props).apply(record(value, schema))
    assert out is not None
    return out


@pytest.mark.parametrize(
    ("props", "value", "expected"),
    [
        ({"target.type": "Timestamp", "format": FORMAT}, TEXT, MOMENT),
        ({"target.type": "string", "format": FORMAT}, MOMENT, TEXT),
        ({"target.type": "unix"}, MOMENT, MILLIS),
        ({"target.type": "Timestamp"}, MILLIS, MOMENT),
        ({"target.type": "Date"}, MILLIS, date(1970, 1, 2)),  # truncated to midnight
        ({"target.type": "Time"}, MILLIS, time(0, 0, 1)),  # only the time of day
        ({"target.type": "unix", "format": FORMAT}, TEXT, MILLIS),
        ({"target.type": "string", "format": "yyyy-MM-dd"}, MILLIS, "1970-01-02"),
        ({"target.type": "Timestamp", "unix.precision": "seconds"}, 86_401, MOMENT),
        ({"target.type": "Timestamp", "unix.precision": "microseconds"}, 86_401_000_999, MOMENT),
        ({"target.type": "Timestamp", "unix.precision": "nanoseconds"}, 86_401_000_999_999, MOMENT),
        ({"target.type": "unix", "unix.precision": "seconds"}, MOMENT, 86_401),
        ({"target.type": "unix", "unix.precision": "microseconds"}, MOMENT, 86_401_000_000),
        ({"target.type": "unix", "unix.precision": "nanoseconds"}, MOMENT, 86_401_000_000_000),
        # TimeUnit conversions truncate towards zero: -1500 µs is -1 ms
        (
            {"target.type": "Timestamp", "unix.precision": "microseconds"},
            -1500,
            datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        ),
        ({"target.type": "unix"}, date(1970, 1, 2), 86_400_000),  # a date is a java.util.Date too
    ],
)
def test_schemaless_whole_value(props: dict[str, str], value: Any, expected: Any) -> None:
    out = convert(props, value)
    assert out.value == expected and type(out.value) is type(expected)
    assert out.value_schema is None


def test_schemaless_field() -> None:
    value = {"ts": MILLIS, "other": "x"}
    out = convert({"target.type": "string", "format": FORMAT, "field": "ts"}, value)
    assert out.value == {"ts": TEXT, "other": "x"}
    assert value == {"ts": MILLIS, "other": "x"}
    absent = convert({"target.type": "Timestamp", "field": "ts"}, {"other": "x"})
    assert absent.value == {"other": "x", "ts": None}


@pytest.mark.parametrize(
    ("target", "schema", "value", "new_schema", "expected"),
    [
        ("unix", Timestamp.schema(), MOMENT, INT64_SCHEMA, MILLIS),
        ("Timestamp", INT64_SCHEMA, MILLIS, Timestamp.schema(), MOMENT),
        ("Date", Timestamp.schema(), MOMENT, Date.schema(), date(1970, 1, 2)),
        ("Time", Timestamp.schema(), MOMENT, Time.schema(), time(0, 0, 1)),
        ("string", Timestamp.schema(), MOMENT, STRING_SCHEMA, TEXT),
        ("Timestamp", STRING_SCHEMA, TEXT, Timestamp.schema(), MOMENT),
        ("unix", Date.schema(), date(1970, 1, 2), INT64_SCHEMA, 86_400_000),
        ("unix", Time.schema(), time(0, 0, 1), INT64_SCHEMA, 1000),
        ("unix", Timestamp.schema(optional=True), MOMENT, OPTIONAL_INT64_SCHEMA, MILLIS),
        ("string", OPTIONAL_INT64_SCHEMA, None, OPTIONAL_STRING_SCHEMA, None),  # null passes
    ],
)
def test_with_schema_whole_value(
    target: str, schema: Any, value: Any, new_schema: Any, expected: Any
) -> None:
    out = convert({"target.type": target, "format": FORMAT}, value, schema)
    assert out.value_schema == new_schema
    assert out.value == expected


def test_with_schema_field_keeps_other_fields_and_is_cached() -> None:
    schema = (
        SchemaBuilder.struct()
        .name("event")
        .version(2)
        .field("ts", Timestamp.schema(optional=True))
        .field("other", STRING_SCHEMA)
        .build()
    )
    transform = configured(TimestampConverterValue, {"target.type": "unix", "field": "ts"})
    out = transform.apply(record(Struct(schema, {"ts": MOMENT, "other": "x"}), schema))
    assert out is not None
    assert (out.value_schema.name, out.value_schema.version) == ("event", 2)
    assert out.value_schema.field("ts").schema == OPTIONAL_INT64_SCHEMA
    assert out.value_schema.field("other").schema == STRING_SCHEMA
    assert out.value.values == {"ts": MILLIS, "other": "x"}
    out.value.validate()
    again = transform.apply(record(Struct(schema, {"ts": None, "other": "y"}), schema))
    assert again is not None
    assert again.value_schema is out.value_schema
    assert again.value.values == {"ts": None, "other": "y"}


def test_with_schema_field_and_null_struct() -> None:
    schema = SchemaBuilder.struct().optional().field("ts", Timestamp.schema()).build()
    out = convert({"target.type": "unix", "field": "ts"}, None, schema)
    assert out.value is None
    assert out.value_schema.optional and out.value_schema.field("ts").schema == INT64_SCHEMA


def test_default_replaces_null_field_unless_disabled() -> None:
    schema = (
        SchemaBuilder.struct()
        .field("ts", SchemaBuilder.int64().optional().default_value(MILLIS).build())
        .build()
    )
    on = convert({"target.type": "Timestamp", "field": "ts"}, Struct(schema, {"ts": None}), schema)
    assert on.value.values == {"ts": MOMENT}
    off = convert(
        {"target.type": "Timestamp", "field": "ts", "replace.null.with.default": "false"},
        Struct(schema, {"ts": None}),
        schema,
    )
    assert off.value.values == {"ts": None}


def test_key_variant() -> None:
    out = configured(TimestampConverterKey, {"target.type": "Date"}).apply(
        record("v", STRING_SCHEMA, MILLIS, INT64_SCHEMA)
    )
    assert out is not None
    assert (out.key, out.key_schema) == (date(1970, 1, 2), Date.schema())
    assert out.value == "v"


@pytest.mark.parametrize(
    ("props", "value", "schema", "message"),
    [
        (
            {"target.type": "unix", "format": FORMAT},
            "yesterday",
            None,
            f"Could not parse timestamp: value (yesterday) does not match pattern ({FORMAT})",
        ),
        (
            {"target.type": "unix"},
            5,
            INT32_SCHEMA,
            "Schema Schema{INT32} does not correspond to a known timestamp type format",
        ),
        (
            {"target.type": "unix"},
            True,
            None,
            "TimestampConverter does not support class java.lang.Boolean objects as timestamps",
        ),
        (
            {"target.type": "Timestamp"},
            "x",
            INT64_SCHEMA,
            "Expected Unix timestamp to be a Long, but found class java.lang.String",
        ),
        (
            {"target.type": "unix"},
            5,
            Timestamp.schema(),
            "Expected Timestamp to be a java.util.Date, but found class java.lang.Long",
        ),
        (
            {"target.type": "unix", "field": "ts"},
            "x",
            None,
            "Only Map objects supported in absence of schema for [converting timestamp formats], found: java.lang.String",
        ),
    ],
)
def test_conversion_errors(props: dict[str, str], value: Any, schema: Any, message: str) -> None:
    with pytest.raises(DataError) as caught:
        convert(props, value, schema)
    assert str(caught.value) == message


def test_config_errors_in_kafkas_words() -> None:
    assert TimestampConverterConfig.errors_by_key({}) == {
        "target.type": ['Missing required configuration "target.type" which has no default value.']
    }
    assert TimestampConverterConfig.errors_by_key({"target.type": "timestamp"}) == {
        "target.type": [
            "Invalid value timestamp for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp"
        ]
    }
    [message] = TimestampConverterConfig.errors_by_key({"target.type": "string"})["format"]
    assert message.endswith(
        " for configuration format: TimestampConverter requires format option to be specified when using string timestamps"
    )
    assert TimestampConverterConfig.errors_by_key({"target.type": "unix", "format": "yyyy-qq"}) == {
        "format": [
            "Invalid value yyyy-qq for configuration format: TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: yyyy-qq"
        ]
    }
    assert TimestampConverterConfig.errors_by_key({"target.type": "unix", "unix.precision": "ms"}) == {
        "unix.precision": [
            "Invalid value ms for configuration unix.precision: String must be one of: nanoseconds, microseconds, milliseconds, seconds"
        ]
    }
