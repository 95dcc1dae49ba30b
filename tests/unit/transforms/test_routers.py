"""RegexRouter (§7.11) and TimestampRouter (§7.10); expected topics written from the reference
and Kafka's documentation examples."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.sdk import DataError, SchemaBuilder, SinkRecord, SourceRecord, Struct
from connectors.sdk.data import INT64_SCHEMA, STRING_SCHEMA
from connectors.transforms.regex_router import RegexRouter, RegexRouterConfig, ReplacementFailed
from connectors.transforms.timestamp_router import TimestampRouter, TimestampRouterConfig
from tests.unit.transforms.support import configured

SCHEMA = SchemaBuilder.struct().field("id", INT64_SCHEMA).build()


def record(
    topic: str, value: Any = None, schema: Any = None, timestamp: int | None = 1_700_000_000_123
) -> SinkRecord:
    return SinkRecord(
        topic=topic,
        partition=3,
        value=value,
        value_schema=schema,
        key="k",
        key_schema=STRING_SCHEMA,
        timestamp=timestamp,
        kafka_offset=7,
    )


def route(props: dict[str, str], topic: str) -> str:
    out = configured(RegexRouter, props).apply(record(topic, {"id": 1}))
    assert out is not None
    return out.topic


@pytest.mark.parametrize(
    ("regex", "replacement", "topic", "expected"),
    [
        # Kafka's documentation example: drop a prefix
        ("(.*)-(.*)-(.*)", "$3", "mysql-server-orders", "orders"),
        (
            "dbserver1\\.inventory\\.(.*)",
            "inventory_$1",
            "dbserver1.inventory.customers",
            "inventory_customers",
        ),
        ("(?<env>prod|dev)\\.(?<table>.*)", "${table}_${env}", "prod.orders", "orders_prod"),
        ("(.*)", "\\$$1", "orders", "$orders"),
        ("orders", "orders-v2", "orders", "orders-v2"),
        # must match the whole topic: a partial match leaves it alone
        ("order", "x", "orders", "orders"),
        ("(.*)", "$12", "orders", "orders2"),
        # matches() then replaceFirst(): the replaced span is the first one a search finds
        ("a|ab", "X", "ab", "Xb"),
    ],
)
def test_regex_router_renames_on_whole_topic_match(
    regex: str, replacement: str, topic: str, expected: str
) -> None:
    assert route({"regex": regex, "replacement": replacement}, topic) == expected


def test_regex_router_keeps_everything_but_the_topic_with_and_without_schema() -> None:
    router = configured(RegexRouter, {"regex": "(.*)", "replacement": "new-$1"})
    struct = Struct(SCHEMA, {"id": 1})
    original = record("t", struct, SCHEMA)
    out = router.apply(original)
    assert out == original.new_record(topic="new-t")
    assert out.value is struct and out.kafka_offset == 7 and out.partition == 3
    schemaless = record("t", {"id": 1})
    assert router.apply(schemaless) == schemaless.new_record(topic="new-t")


def test_regex_router_gives_each_record_of_a_topic_the_same_route() -> None:
    router = configured(RegexRouter, {"regex": "db\\.(.*)", "replacement": "$1"})
    topics = [router.apply(record(t)) for t in ("db.a", "db.b", "db.a", "other", "db.b")]
    assert [r.topic for r in topics if r is not None] == ["a", "b", "a", "other", "b"]


def test_regex_router_on_source_records() -> None:
    source = SourceRecord(topic="db.orders", value="v", source_partition={"p": 1}, source_offset={"o": 2})
    out = configured(RegexRouter, {"regex": "db\\.(.*)", "replacement": "$1"}).apply(source)
    assert out == source.new_record(topic="orders")


def test_regex_router_unchanged_record_is_the_same_object() -> None:
    original = record("other")
    assert configured(RegexRouter, {"regex": "orders", "replacement": "x"}).apply(original) is original


def test_trailing_backslash_fails_each_matching_record_like_kafka() -> None:
    router = configured(RegexRouter, {"regex": "orders", "replacement": "x\\"})
    for _ in range(2):  # every matching record, not only the first
        with pytest.raises(ReplacementFailed) as caught:
            router.apply(record("orders"))
        assert str(caught.value) == "character to be escaped is missing"
        assert caught.value.java_class == "java.lang.IllegalArgumentException"
    untouched = record("other")
    assert router.apply(untouched) is untouched  # only matching records fail


def test_regex_router_config_errors() -> None:
    errors = RegexRouterConfig.errors_by_key({})
    assert errors == {
        "regex": ['Missing required configuration "regex" which has no default value.'],
        "replacement": ['Missing required configuration "replacement" which has no default value.'],
    }
    errors = RegexRouterConfig.errors_by_key({"regex": "(orders", "replacement": "x"})
    assert errors["regex"] == [
        "Invalid value (orders for configuration regex: Invalid regex: Unclosed group near index 7\n(orders"
    ]


@pytest.mark.parametrize(
    ("replacement", "start"),
    [
        ("$topic-v2", "Illegal group reference at index 0: '$topic' is not a group reference"),
        ("$2", "No group 2 at index 0: the regex has 1 capturing group(s)"),
        ("v2-${name}", "No group with name {name} at index 3"),
        ("x$", "Illegal group reference: group index is missing at index 1"),
    ],
)
def test_invalid_group_references_are_validation_errors_that_say_how_to_write_them(
    replacement: str, start: str
) -> None:
    errors = RegexRouterConfig.errors_by_key({"regex": "(.*)", "replacement": replacement})
    assert list(errors) == ["replacement"]
    [message] = errors["replacement"]
    assert message.startswith(f"Invalid value {replacement} for configuration replacement: {start}")
    assert (
        "write $n for group n (e.g. $1), ${name} for a named group (?<name>...), and \\$ for a literal '$'"
        in message
    )


def test_timestamp_router_defaults() -> None:
    out = configured(TimestampRouter, {}).apply(record("orders", {"id": 1}))
    assert out is not None
    assert out.topic == "orders-20231114"  # ${topic}-${timestamp}, yyyyMMdd, UTC
    assert out.value == {"id": 1}


def test_timestamp_router_custom_formats_with_schema() -> None:
    struct = Struct(SCHEMA, {"id": 1})
    props = {"topic.format": "${timestamp}_${topic}_${timestamp}", "timestamp.format": "yyyy.MM.dd-HH'h'"}
    out = configured(TimestampRouter, props).apply(record("orders", struct, SCHEMA))
    assert out is not None
    assert out.topic == "2023.11.14-22h_orders_2023.11.14-22h"
    assert out.value is struct and out.value_schema is SCHEMA


def test_timestamp_router_without_timestamp_fails() -> None:
    with pytest.raises(DataError, match=r"^Timestamp missing on record: "):
        configured(TimestampRouter, {}).apply(record("orders", timestamp=None))


def test_timestamp_router_refuses_an_invalid_pattern_up_front() -> None:
    errors = TimestampRouterConfig.errors_by_key({"timestamp.format": "yyyy-MM-dd-q"})
    assert errors == {
        "timestamp.format": [
            "Invalid value yyyy-MM-dd-q for configuration timestamp.format: Illegal pattern character 'q'"
        ]
    }
