"""Interfaces between the runtime and a storage backend (embedded SQLite now, Kafka later).

Records on the bus are bytes: converters run in the task runners, not here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.sdk.records import TopicPartition

HeaderBytes = tuple[str, bytes | None]


@dataclass(slots=True)
class ProducerRecord:
    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int | None = None
    timestamp: int | None = None
    headers: Sequence[HeaderBytes] = ()


@dataclass(slots=True)
class ConsumerRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[HeaderBytes] = ()

    def size(self) -> int:
        return len(self.key or b"") + len(self.value or b"")


@dataclass(slots=True)
class Delivered:
    topic: str
    partition: int
    offset: int
    timestamp: int


@dataclass(slots=True)
class SourceOffsetWrite:
    connector: str
    partition: dict[str, Any]
    offset: dict[str, Any] | None


@dataclass(slots=True)
class TopicDescription:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


class Producer(Protocol):
    """Writes records; ``offsets`` are stored atomically with them where the backend can."""

    atomic_offsets: bool

    async def send_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite] = ()
    ) -> list[Delivered]: ...


class Admin(Protocol):
    async def create_topic(
        self, name: str, partitions: int, config: Mapping[str, str] | None = None
    ) -> bool: ...
    async def describe_topics(self) -> dict[str, TopicDescription]: ...
    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]: ...
