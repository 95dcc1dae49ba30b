"""Records and SchemaAndValue get a faster ``__init__`` (connectors/sdk/frozen.py): they must
still behave exactly like the frozen dataclasses they are."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from connectors.sdk.data import STRING_SCHEMA, SchemaAndValue
from connectors.sdk.records import Header, SinkRecord, SourceRecord


def test_defaults_keywords_and_positions_fill_every_field() -> None:
    record = SinkRecord("t", "v", kafka_offset=7, headers=(Header("h", 1),))
    assert record == SinkRecord(
        topic="t",
        value="v",
        value_schema=None,
        key=None,
        key_schema=None,
        partition=None,
        timestamp=None,
        headers=(Header("h", 1, None),),
        kafka_offset=7,
        original_topic="",
        original_partition=0,
        original_offset=0,
    )
    source = SourceRecord("t", "v", STRING_SCHEMA, source_partition={"f": 1}, source_offset={"p": 2})
    assert (source.value_schema, source.source_partition, source.source_offset) == (
        STRING_SCHEMA,
        {"f": 1},
        {"p": 2},
    )
    assert SchemaAndValue(None, 3).value == 3


def test_still_frozen_hashable_and_replaceable() -> None:
    record = SinkRecord("t", "v", key=b"k")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.topic = "other"  # type: ignore[misc]
    assert hash(record) == hash(SinkRecord("t", "v", key=b"k"))
    renamed = record.new_record(topic="u")
    assert (renamed.topic, renamed.key, record.topic) == ("u", b"k", "t")
    assert pickle.loads(pickle.dumps(record)) == record


def test_missing_or_unknown_arguments_are_refused_as_before() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'value'"):
        SinkRecord("t")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'offset'"):
        SinkRecord("t", "v", offset=1)  # type: ignore[call-arg]
