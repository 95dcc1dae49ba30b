"""Records as connectors see them. Frozen values; use ``new_record`` to derive a changed copy."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Self

from connectors.sdk.data import Schema
from connectors.sdk.frozen import slot_filling_init


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


@slot_filling_init
@dataclass(frozen=True, slots=True)
class Header:
    key: str
    value: Any
    schema: Schema | None = None


@slot_filling_init
@dataclass(frozen=True, slots=True)
class ConnectRecord:
    """What both source and sink records share (Kafka Connect's ``ConnectRecord``)."""

    topic: str
    value: Any
    value_schema: Schema | None = None
    key: Any = None
    key_schema: Schema | None = None
    partition: int | None = None
    timestamp: int | None = None
    headers: tuple[Header, ...] = ()

    def new_record(self, **changes: Any) -> Self:
        return replace(self, **changes)

    def with_header(self, key: str, value: Any, schema: Schema | None = None) -> Self:
        return replace(self, headers=(*self.headers, Header(key, value, schema)))


@slot_filling_init
@dataclass(frozen=True, slots=True)
class SourceRecord(ConnectRecord):
    """A record read from an external system.

    ``source_partition`` names where it came from (a file, a table, a replication slot) and
    ``source_offset`` how far the task had read; both are small JSON-able dicts. The runtime
    stores the offset once the record is safely written and hands it back on restart.
    """

    source_partition: dict[str, Any] | None = field(default=None)
    source_offset: dict[str, Any] | None = field(default=None)


@slot_filling_init
@dataclass(frozen=True, slots=True)
class SinkRecord(ConnectRecord):
    """A record read from a topic. ``kafka_offset`` is its position in ``topic``/``partition``.

    ``original_*`` keep the coordinates before transforms, so offsets commit correctly even when
    a transform renamed the topic.
    """

    kafka_offset: int = 0
    original_topic: str = ""
    original_partition: int = 0
    original_offset: int = 0

    @property
    def original_topic_partition(self) -> TopicPartition:
        return TopicPartition(self.original_topic or self.topic, self.original_partition)


@dataclass(frozen=True, slots=True)
class RecordMetadata:
    """Where a source record landed, handed to ``SourceTask.commit_record``."""

    topic: str
    partition: int
    offset: int
    timestamp: int
