"""Interfaces between the runtime and a storage backend (embedded SQLite or Kafka).

Records on the bus are bytes: converters run in the task runners, not here. The runners see
only these protocols, so a pipeline runs unchanged on either backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
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


@dataclass(slots=True)
class Subscription:
    """What a sink task consumes: ``topics`` and/or ``topics.regex``."""

    topics: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None

    def matches(self, topic: str) -> bool:
        return topic in self.topics or bool(self.pattern and self.pattern.fullmatch(topic))


class SourceWriter(Protocol):
    """Where a source task's converted records go.

    ``atomic_offsets`` writers store ``offsets`` with the records (embedded log, Kafka
    transactions); otherwise the runner flushes offsets itself after the records are acknowledged.
    """

    atomic_offsets: bool

    async def send_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite] = ()
    ) -> list[Delivered]: ...

    async def close(self) -> None: ...


class SinkConsumer(Protocol):
    """One sink task's member of its connector's consumer group."""

    assignment: set[TopicPartition]
    records_lost: int
    """Records deleted (retention) before this member read them; always 0 on Kafka here."""
    commit_after_every_batch: bool
    """Commits are cheap (embedded log): the runner commits after every successful put."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    def set_active(self, active: bool) -> None: ...
    async def poll_rebalance(self) -> tuple[set[TopicPartition], set[TopicPartition]] | None: ...
    def release(self, partitions: Iterable[TopicPartition]) -> None: ...
    async def fetch(self, timeout: float) -> list[ConsumerRecord]: ...
    async def commit(self, offsets: Mapping[TopicPartition, int]) -> bool: ...
    def lag(self) -> int | None: ...
    def seek(self, tp: TopicPartition, offset: int) -> None: ...
    def pause(self, partitions: Iterable[TopicPartition]) -> None: ...
    def resume(self, partitions: Iterable[TopicPartition]) -> None: ...


class DataBus(Protocol):
    """The topics the pipelines read and write, with their consumer groups."""

    async def source_writer(self, task_id: str, config: Mapping[str, str]) -> SourceWriter: ...
    def sink_consumer(
        self, group: str, member: str, subscription: Subscription, config: Mapping[str, str]
    ) -> SinkConsumer: ...
    async def send_batch(self, records: Sequence[ProducerRecord]) -> list[Delivered]: ...
    async def ensure_topic(
        self,
        name: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None: ...
    async def group_offsets(self, group: str) -> dict[TopicPartition, int]: ...
    async def commit_group(self, group: str, offsets: Mapping[TopicPartition, int]) -> None: ...
    async def delete_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> None: ...
    async def group_active(self, group: str) -> bool: ...


class OffsetStore(Protocol):
    """Source offsets: (connector, partition map) -> offset map."""

    async def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None: ...
    async def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]: ...
    async def write(self, offsets: list[SourceOffsetWrite]) -> None: ...
