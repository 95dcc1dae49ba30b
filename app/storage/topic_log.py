"""Kafka's topic/partition/offset model, independent of where the records are kept.

:class:`TopicLog` holds what every embedded log shares: the topics and their partitions, the
next and first offset of every partition, Kafka's partitioner (keyed records by murmur2, unkeyed
batches sticky to one partition), the readers whose lag holds back writers
(``log.max.lag.records``) and the retention plan that keeps what a reader has not read. A
subclass stores the records: :class:`app.storage.sqlite.log.EmbeddedLog` in SQLite (durable),
:class:`app.storage.memory.MemoryLog` in memory (tests, throw-away pipelines). The consumer
group coordinator and the data bus on top of it (:mod:`app.storage.log_bus`) work on either.
"""

from __future__ import annotations

import asyncio
import re
import time
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.storage.base import (
    ConsumerRecord,
    Delivered,
    LazyDeliveries,
    ProducerRecord,
    SourceOffsetWrite,
    TopicDescription,
)
from app.storage.partitioner import partition_for_key
from app.supervision import spawn
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import TopicPartition

DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(slots=True)
class Placement:
    """Where the records of one batch go: each partition's records in order, from its next offset.

    ``partitions[tp] = (first offset, records)``; ``now`` is the timestamp of records without one.
    ``where``/``offsets`` say, per record of the batch, its partition and offset (for
    :class:`LogDeliveries`).
    """

    partitions: dict[TopicPartition, tuple[int, list[ProducerRecord]]]
    where: list[TopicPartition]
    offsets: list[int]
    now: int
    sticky_used: set[str]

    def rows(self, tp: TopicPartition) -> Iterable[tuple[int, int, ProducerRecord]]:
        """(offset, timestamp, record) of ``tp``'s records."""
        first, records = self.partitions[tp]
        now = self.now
        for offset, r in enumerate(records, first):
            yield offset, r.timestamp if r.timestamp is not None else now, r


class LogDeliveries(LazyDeliveries):
    """Where each record of one batch landed, built only when asked (most sources never ask)."""

    __slots__ = ("_placement", "_records")

    def __init__(self, records: Sequence[ProducerRecord], placement: Placement) -> None:
        self._records = records
        self._placement = placement

    def __len__(self) -> int:
        return len(self._records)

    def _at(self, index: int) -> Delivered:
        tp, record = self._placement.where[index], self._records[index]
        timestamp = record.timestamp if record.timestamp is not None else self._placement.now
        return Delivered(tp.topic, tp.partition, self._placement.offsets[index], timestamp)


@dataclass(slots=True)
class RetentionCut:
    """Delete records of ``tp`` older than ``cutoff_ms`` with an offset below ``keep_from``."""

    tp: TopicPartition
    cutoff_ms: int
    keep_from: int


class TopicLog(ABC):
    """Topics, partitions and offsets; the subclass stores records, group offsets and source offsets."""

    atomic_offsets = True
    """Records and their source offsets are stored in one step (what makes embedded sources exactly-once)."""

    def __init__(self, *, default_partitions: int = 1, auto_create: bool = True, max_lag: int = -1) -> None:
        self.default_partitions = default_partitions
        self.auto_create = auto_create
        self.max_lag = max_lag
        self._topics: dict[str, TopicDescription] = {}
        self._next: dict[TopicPartition, int] = {}
        self._start: dict[TopicPartition, int] = {}
        self._sticky: dict[str, int] = defaultdict(int)
        self._readers: dict[str, dict[TopicPartition, int]] = {}
        self._progress = asyncio.Condition()
        self._appended = asyncio.Condition()
        self._background: set[asyncio.Task[None]] = set()
        self.topics_version = 0
        """Bumped whenever a topic is created, so group assignments can be recomputed."""

    # -- storage, by the subclass ---------------------------------------------------------------
    @abstractmethod
    async def _store_topic(self, name: str, partitions: int, config: dict[str, str]) -> None:
        """Persist a new topic (name and partitions already checked)."""

    @abstractmethod
    async def _store_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite]
    ) -> Sequence[Delivered]:
        """Store ``records`` (placed with :meth:`_place`, then :meth:`_advance`) and ``offsets`` together."""

    @abstractmethod
    async def read(
        self, tp: TopicPartition, offset: int, max_records: int, max_bytes: int = 1 << 60
    ) -> list[ConsumerRecord]:
        """Records of ``tp`` from ``offset``: at most ``max_records``, stopping once ``max_bytes`` is reached."""

    @abstractmethod
    async def _delete(self, cuts: Sequence[RetentionCut]) -> int:
        """Apply retention; return how many records went and update ``_start``."""

    @abstractmethod
    async def commit_group(self, group: str, offsets: Mapping[TopicPartition, int]) -> None: ...

    @abstractmethod
    async def group_offsets(self, group: str) -> dict[TopicPartition, int]: ...

    @abstractmethod
    async def delete_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> None: ...

    # -- topics ---------------------------------------------------------------------------------
    async def create_topic(self, name: str, partitions: int, config: Mapping[str, str] | None = None) -> bool:
        """False when the topic already exists (its partition count is left as it is)."""
        if name in self._topics:
            return False
        if not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
            raise ConfigError(
                f"Invalid topic name '{name}': use 1-249 characters of ASCII letters, digits, '.', '_', '-' (not '.' or '..')"
            )
        if partitions < 1:
            raise ConfigError(f"Topic {name} needs at least one partition, not {partitions}")
        settings = dict(config or {})
        await self._store_topic(name, partitions, settings)
        if name in self._topics:  # created meanwhile by a concurrent call
            return False
        self._add_topic(TopicDescription(name, partitions, settings))
        return True

    def _add_topic(self, desc: TopicDescription, next_offsets: Mapping[int, tuple[int, int]] = {}) -> None:
        """Register a topic; ``next_offsets`` gives (first, next) offsets of partitions loaded from storage."""
        for p in range(desc.partitions):
            tp = TopicPartition(desc.name, p)
            self._start[tp], self._next[tp] = next_offsets.get(p, (0, 0))
        self._topics[desc.name] = desc
        self.topics_version += 1

    async def describe_topics(self) -> dict[str, TopicDescription]:
        return dict(self._topics)

    async def ensure_topic(self, name: str) -> TopicDescription | None:
        """The topic, created with the default partition count if auto-creation is on."""
        if name not in self._topics and self.auto_create:
            await self.create_topic(name, self.default_partitions)
        return self._topics.get(name)

    def topics_names(self) -> list[str]:
        return list(self._topics)

    def partitions(self, topic: str) -> list[TopicPartition]:
        desc = self._topics.get(topic)
        return [TopicPartition(topic, p) for p in range(desc.partitions)] if desc else []

    def start_offset(self, tp: TopicPartition) -> int:
        return self._start.get(tp, 0)

    def end_offset(self, tp: TopicPartition) -> int:
        return self._next.get(tp, 0)

    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.end_offset(tp) for tp in partitions}

    # -- produce --------------------------------------------------------------------------------
    async def close(self) -> None:  # noqa: B027 - a no-op on purpose
        """A source task is done writing; the shared log stays open."""

    async def send_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite] = ()
    ) -> Sequence[Delivered]:
        """Append ``records`` and store ``offsets`` in one step; returns where each landed."""
        for topic in {r.topic for r in records} - self._topics.keys():
            if await self.ensure_topic(topic) is None:
                raise ConfigError(f"Topic {topic} does not exist and automatic topic creation is disabled")
        if self.max_lag >= 0 and self._readers:
            await self._wait_for_readers({r.topic for r in records})
        delivered = await self._store_batch(records, offsets)
        async with self._appended:
            self._appended.notify_all()
        return delivered

    def _place(self, records: Sequence[ProducerRecord]) -> Placement:
        """Partition and offset for each record (Kafka's partitioner), without changing any state.

        Runs where the subclass stores the batch (the SQLite writer thread), which is the only
        place offsets are assigned; :meth:`_advance` then moves the next offsets on.
        """
        partitions: dict[TopicPartition, tuple[int, list[ProducerRecord]]] = {}
        where: list[TopicPartition] = []
        offsets: list[int] = []
        sticky_used: set[str] = set()
        last_topic, count = "", 0
        tp: TopicPartition | None = None
        group: list[ProducerRecord] = []
        first = 0
        for r in records:
            topic = r.topic
            if topic != last_topic:
                last_topic, count, tp = topic, self._topics[topic].partitions, None
            if r.partition is not None:
                if not 0 <= r.partition < count:
                    raise ConfigError(f"Partition {r.partition} of topic {topic} does not exist")
                p = r.partition
            elif count == 1:
                p = 0  # the hash could only say 0: not worth ~30 µs of pure-Python murmur2
            elif r.key is not None:
                p = partition_for_key(r.key, count)
            else:
                p = self._sticky[topic] % count
                sticky_used.add(topic)
            if tp is None or tp.partition != p:  # runs of one partition share their key
                tp = TopicPartition(topic, p)
                first, group = partitions.get(tp) or partitions.setdefault(tp, (self._next[tp], []))
            where.append(tp)
            offsets.append(first + len(group))
            group.append(r)
        return Placement(partitions, where, offsets, now_ms(), sticky_used)

    def _advance(self, records: Sequence[ProducerRecord], placement: Placement) -> LogDeliveries:
        """The placed records are stored: move each partition's next offset past them."""
        for tp, (first, group) in placement.partitions.items():
            self._next[tp] = first + len(group)
        for topic in placement.sticky_used:  # the next batch of unkeyed records goes to the next partition
            self._sticky[topic] += 1
        return LogDeliveries(records, placement)

    # -- backpressure ---------------------------------------------------------------------------
    def register_reader(self, member: str, positions: dict[TopicPartition, int]) -> None:
        """A consumer whose lag holds back writers (``positions`` is read live)."""
        self._readers[member] = positions

    def unregister_reader(self, member: str) -> None:
        if self._readers.pop(member, None) is not None:
            self._notify_progress()

    def _notify_progress(self) -> None:
        async def notify() -> None:
            async with self._progress:
                self._progress.notify_all()

        spawn(notify(), "log-reader-left", keep=self._background)

    async def reader_progressed(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    def _unread_floor(self, tp: TopicPartition) -> int | None:
        """The lowest position of a registered consumer on ``tp`` (None: nobody reads it)."""
        return min(
            (positions[tp] for positions in self._readers.values() if tp in positions),
            default=None,
        )

    def _worst_lag(self, topics: set[str]) -> int:
        return max(
            (
                self._next.get(tp, 0) - position
                for positions in self._readers.values()
                for tp, position in positions.items()
                if tp.topic in topics
            ),
            default=0,
        )

    async def _wait_for_readers(self, topics: set[str]) -> None:
        while self._worst_lag(topics) >= max(self.max_lag, 1):
            async with self._progress:
                try:
                    async with asyncio.timeout(1.0):
                        await self._progress.wait()
                except TimeoutError:
                    pass

    # -- consume --------------------------------------------------------------------------------
    async def wait_for_append(self, timeout: float) -> None:
        """Return after the next append, or after ``timeout`` seconds."""
        async with self._appended:
            try:
                async with asyncio.timeout(timeout):
                    await self._appended.wait()
            except TimeoutError:
                pass

    # -- retention ------------------------------------------------------------------------------
    async def enforce_retention(
        self, default_retention_ms: int = DEFAULT_RETENTION_MS, unread_max_records: int = -1
    ) -> int:
        """Delete records older than each topic's ``retention.ms``; returns how many went.

        The newest record of a partition is always kept, so its next offset survives a restart.
        Records a registered sink consumer (running or paused) has not read yet are kept too,
        unless more than ``unread_max_records`` of them wait on one partition (-1: no cap): then
        the oldest go anyway, and the consumer counts and logs them as lost when it reads on.
        """
        now = now_ms()
        cuts: list[RetentionCut] = []
        for name, desc in self._topics.items():
            retention = int(desc.config.get("retention.ms", default_retention_ms))
            if retention < 0:
                continue
            for tp in self.partitions(name):
                keep_from = self._next[tp] - 1
                unread = self._unread_floor(tp)
                if unread is not None:
                    within_cap = unread_max_records < 0 or self._next[tp] - unread <= unread_max_records
                    keep_from = min(keep_from, unread if within_cap else self._next[tp] - unread_max_records)
                cuts.append(RetentionCut(tp, now - retention, keep_from))
        return await self._delete(cuts) if cuts else 0
