"""Filter (§7.13), InsertHeader (§7.15), DropHeaders (§7.16) and the predicates (§7.17)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from connectors.sdk import SchemaBuilder, SinkRecord, SourceRecord, Struct
from connectors.sdk.data import BOOLEAN_SCHEMA, INT8_SCHEMA, INT64_SCHEMA, STRING_SCHEMA, Schema, array_schema
from connectors.sdk.logical import Date
from connectors.sdk.records import Header
from connectors.transforms.filter import Filter
from connectors.transforms.headers import DropHeaders, DropHeadersConfig, InsertHeader, InsertHeaderConfig
from connectors.transforms.predicates import (
    HasHeaderKey,
    HasHeaderKeyConfig,
    RecordIsTombstone,
    TopicNameMatches,
    TopicNameMatchesConfig,
)
from tests.unit.transforms.support import configured

SCHEMA = SchemaBuilder.struct().field("id", INT64_SCHEMA).build()
HEADERS = (Header("a", "1", STRING_SCHEMA), Header("b", 2), Header("a", "3"))


def record(
    value: Any = None, schema: Any = None, topic: str = "orders", headers: tuple[Header, ...] = HEADERS
) -> SinkRecord:
    return SinkRecord(
        topic=topic, partition=0, value=value, value_schema=schema, headers=headers, kafka_offset=1
    )


@pytest.mark.parametrize("value", [None, {"id": 1}, Struct(SCHEMA, {"id": 1})])
def test_filter_drops_every_record(value: Any) -> None:
    assert Filter().apply(record(value, SCHEMA if isinstance(value, Struct) else None)) is None


@pytest.mark.parametrize(
    ("literal", "schema", "value"),
    [
        ("my-source", STRING_SCHEMA, "my-source"),
        ("true", BOOLEAN_SCHEMA, True),
        ("42", INT8_SCHEMA, 42),
        ("[1, 2]", array_schema(INT8_SCHEMA), [1, 2]),
        ("2023-11-14", Date.schema(), date(2023, 11, 14)),
    ],
)
def test_insert_header_adds_a_parsed_literal_after_existing_headers(
    literal: str, schema: Schema, value: Any
) -> None:
    transform = configured(InsertHeader, {"header": "origin", "value.literal": literal})
    for original in (record({"id": 1}), record(Struct(SCHEMA, {"id": 1}), SCHEMA)):
        out = transform.apply(original)
        assert out is not None
        assert out.headers == (*HEADERS, Header("origin", value, schema))
        assert out.value == original.value and out.value_schema == original.value_schema


def test_insert_header_keeps_a_header_of_the_same_name() -> None:
    out = configured(InsertHeader, {"header": "a", "value.literal": "x"}).apply(record())
    assert out is not None
    assert [h.key for h in out.headers] == ["a", "b", "a", "a"]


def test_insert_header_config_errors() -> None:
    assert InsertHeaderConfig.errors_by_key({"value.literal": "x"}) == {
        "header": ['Missing required configuration "header" which has no default value.']
    }
    assert InsertHeaderConfig.errors_by_key({"header": "", "value.literal": "x"}) == {
        "header": ["Invalid value  for configuration header: String must be non-empty"]
    }
    assert InsertHeaderConfig.errors_by_key({"header": "h"}) == {
        "value.literal": ['Missing required configuration "value.literal" which has no default value.']
    }


def test_drop_headers_removes_every_header_with_a_listed_name() -> None:
    out = configured(DropHeaders, {"headers": "a, c"}).apply(record({"id": 1}))
    assert out is not None
    assert out.headers == (Header("b", 2),)
    struct = Struct(SCHEMA, {"id": 1})
    out = configured(DropHeaders, {"headers": "b"}).apply(record(struct, SCHEMA))
    assert out is not None
    assert out.headers == (HEADERS[0], HEADERS[2])
    assert out.value is struct


def test_drop_headers_without_a_match_returns_the_record() -> None:
    original = record()
    assert configured(DropHeaders, {"headers": "zzz"}).apply(original) is original


def test_drop_headers_config_errors() -> None:
    assert DropHeadersConfig.errors_by_key({"headers": ""}) == {
        "headers": ["Invalid value  for configuration headers: Empty list"]
    }


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("orders", "orders", True),
        ("order", "orders", False),  # the whole name must match
        ("db\\.inventory\\..*", "db.inventory.customers", True),
        ("(?i)ORDERS", "orders", True),
        ("logs-\\d+", "logs-2024", True),
    ],
)
def test_topic_name_matches(pattern: str, topic: str, expected: bool) -> None:
    predicate = configured(TopicNameMatches, {"pattern": pattern})
    assert predicate.test(record(topic=topic)) is expected
    assert predicate.test(SourceRecord(topic=topic, value=None)) is expected


def test_topic_name_matches_config_errors() -> None:
    assert TopicNameMatchesConfig.errors_by_key({}) == {
        "pattern": ['Missing required configuration "pattern" which has no default value.']
    }
    assert TopicNameMatchesConfig.errors_by_key({"pattern": ""}) == {
        "pattern": ["Invalid value  for configuration pattern: String must be non-empty"]
    }
    assert TopicNameMatchesConfig.errors_by_key({"pattern": "a{"}) == {
        "pattern": [
            "Invalid value a{ for configuration pattern: Invalid regex: Illegal repetition near index 1\na{"
        ]
    }


def test_has_header_key() -> None:
    assert configured(HasHeaderKey, {"name": "b"}).test(record()) is True
    assert configured(HasHeaderKey, {"name": "c"}).test(record()) is False
    assert configured(HasHeaderKey, {"name": "a"}).test(record(headers=())) is False
    assert HasHeaderKeyConfig.errors_by_key({"name": ""}) == {
        "name": ["Invalid value  for configuration name: String must be non-empty"]
    }


def test_record_is_tombstone_looks_only_at_the_value() -> None:
    predicate = RecordIsTombstone()
    assert predicate.test(record(None)) is True
    assert predicate.test(record(None, SCHEMA.as_optional())) is True  # schema not checked
    assert predicate.test(record({"id": 1})) is False
    assert predicate.test(record(Struct(SCHEMA, {"id": 1}), SCHEMA)) is False
    assert predicate.test(SourceRecord(topic="t", value=None, key="k")) is True
