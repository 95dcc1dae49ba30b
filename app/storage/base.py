"""Interfaces between the runtime and a storage backend (embedded SQLite, Kafka, or memory).

Records on the bus are bytes: converters run in the task runners, not here. The herder and the
runners see only these protocols and records, so a pipeline runs unchanged on any backend:
``DataBus`` (topics and consumer groups), ``ConfigStore`` (connector configs, target states,
task configs), ``OffsetStore`` (source offsets) and the status records in
:mod:`app.storage.status`.
"""

from __future__ import annotations

import datetime as dt
import re
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, overload

import orjson

from connectors.sdk.records import TopicPartition

HeaderBytes = tuple[str, bytes | None]


# -- connector and task states ----------------------------------------------------------------
class State(StrEnum):
    UNASSIGNED = "UNASSIGNED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"
    FAILED = "FAILED"
    RESTARTING = "RESTARTING"


class TargetState(StrEnum):
    """What the user asked for; STARTED is shown as RUNNING."""

    STARTED = "STARTED"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


class TaskId(NamedTuple):
    connector: str
    task: int

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"


@dataclass(slots=True)
class AutoRestart:
    """Progress of the automatic restart policy for one failed connector or task."""

    attempts: int = 0
    max_attempts: int = 0
    next_attempt_at: float | None = None  # epoch seconds

    def as_json(self) -> dict[str, object]:
        when = (
            dt.datetime.fromtimestamp(self.next_attempt_at, dt.UTC).isoformat(timespec="milliseconds")
            if self.next_attempt_at
            else None
        )
        return {"attempts": self.attempts, "max_attempts": self.max_attempts, "next_attempt_at": when}


@dataclass(slots=True)
class Status:
    state: State
    worker_id: str
    trace: str | None = None
    auto_restart: AutoRestart | None = None
    consumer_lag: int | None = None
    """Sink tasks: records on their partitions not yet read (end offset minus position)."""
    records_lost: int = 0
    """Sink tasks (embedded): records retention deleted before the task read them."""
    dead_lettered: int = 0
    """Records this task run sent to the dead-letter queue (``errors.tolerance=all``)."""
    details: Mapping[str, Any] | None = None
    """What the task reports about its own progress (``context.details``)."""


@dataclass(slots=True)
class ConnectorStatus:
    connector: Status
    tasks: dict[int, Status] = field(default_factory=dict)
    type: str = "unknown"


@dataclass(slots=True)
class Load:
    """What one worker runs in a distributed cluster: its share of the group's assignment."""

    connectors: set[str] = field(default_factory=set)
    tasks: set[TaskId] = field(default_factory=set)


class StatusListener(Protocol):
    """Told about every status change (the worker's metrics)."""

    def connector_status(self, name: str, state: State, worker_id: str) -> None: ...
    def task_status(self, connector: str, task: int, state: State, worker_id: str) -> None: ...
    def task_removed(self, connector: str, task: int) -> None: ...
    def connector_removed(self, name: str) -> None: ...


class StatusStore(Protocol):
    """Current state of every connector and task, as ``/status`` shows it."""

    listener: StatusListener | None

    def get(self, name: str) -> ConnectorStatus | None: ...
    def task(self, task: TaskId) -> Status | None: ...
    def put_connector(self, name: str, status: Status, type_: str | None = None) -> None: ...
    def put_task(self, task: TaskId, status: Status) -> None: ...
    def remove_task(self, task: TaskId) -> None: ...
    def remove(self, name: str) -> None: ...


# -- records on the bus -----------------------------------------------------------------------


def offset_key(partition: Mapping[str, Any]) -> str:
    """A source partition as stored: compact JSON with sorted keys, so dict order never matters."""
    return orjson.dumps(partition, option=orjson.OPT_SORT_KEYS).decode()


@dataclass(slots=True)
class ConnectorRecord:
    """A connector's desired state: its config, target state and the task configs it generated."""

    name: str
    config: dict[str, str]
    target_state: str
    task_configs: list[dict[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class ProducerRecord:
    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int | None = None
    timestamp: int | None = None
    headers: Sequence[HeaderBytes] = ()


class FetchedRecord(Protocol):
    """A record as a sink consumer hands it over, still in bytes.

    A protocol rather than one class so that a consumer can pass its client's own records through
    (aiokafka's have these attributes): one object less per record on the sink path.
    """

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[HeaderBytes]: ...


@dataclass(slots=True)
class ConsumerRecord:
    """The embedded log's :class:`FetchedRecord` (also what the dead-letter queue writes)."""

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


class LazyDeliveries(Sequence[Delivered]):
    """Where each record of one written batch landed, built only when asked.

    Most sources never ask (no ``commit_record``), so a writer keeps what it already knows (base
    offsets, placements) and subclasses turn one index into a :class:`Delivered` on demand.
    """

    __slots__ = ()

    @abstractmethod
    def _at(self, index: int) -> Delivered: ...

    @overload
    def __getitem__(self, index: int) -> Delivered: ...

    @overload
    def __getitem__(self, index: slice) -> list[Delivered]: ...

    def __getitem__(self, index: int | slice) -> Delivered | list[Delivered]:
        if isinstance(index, slice):
            return [self._at(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._at(index)


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
    ) -> Sequence[Delivered]: ...

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
    async def fetch(self, timeout: float) -> Sequence[FetchedRecord]: ...
    async def commit(self, offsets: Mapping[TopicPartition, int]) -> bool: ...
    def lag(self) -> int | None: ...
    async def end_offsets(self) -> dict[TopicPartition, int]:
        """The next offset to be written on each assigned partition (where a read "now" ends)."""
        ...

    def seek(self, tp: TopicPartition, offset: int) -> None: ...
    def pause(self, partitions: Iterable[TopicPartition]) -> None: ...
    def resume(self, partitions: Iterable[TopicPartition]) -> None: ...


class DataBus(Protocol):
    """The topics the pipelines read and write, with their consumer groups."""

    async def source_writer(self, task_id: str, config: Mapping[str, str]) -> SourceWriter: ...
    def sink_consumer(
        self, group: str, member: str, subscription: Subscription, config: Mapping[str, str]
    ) -> SinkConsumer: ...
    async def send_batch(self, records: Sequence[ProducerRecord]) -> Sequence[Delivered]: ...
    async def ensure_topic(  # replication_setting: the key to name if the cluster cannot replicate
        self,
        name: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, str] | None = None,
        replication_setting: str | None = None,
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


class ConfigStore(Protocol):
    """Desired state of every connector; reads are local, writes return once durable."""

    def names(self) -> list[str]: ...
    def get(self, name: str) -> ConnectorRecord | None: ...
    async def put_config(
        self, name: str, config: dict[str, str], target_state: str | None = None
    ) -> None: ...
    async def put_target_state(self, name: str, state: str) -> None: ...
    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None: ...
    async def remove(self, name: str) -> None: ...


class TopicTracker(Protocol):
    """Topics each connector has used since creation or the last reset (``/connectors/{c}/topics``)."""

    def topics(self, connector: str) -> list[str]: ...
    async def record(self, connector: str, topics: set[str]) -> None: ...
    async def reset(self, connector: str) -> None: ...
