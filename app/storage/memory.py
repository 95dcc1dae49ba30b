"""The in-memory backend: every storage protocol kept in this process's memory.

Nothing survives the process. It serves the unit tests of the runners, herders and restart
logic (no files, no processes), and it is what Kafka standalone mode keeps its connector
configs in (as Kafka's StandaloneHerder does). The embedded SQLite stores build on these
classes and write through to the database.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.storage.base import (
    ConnectorRecord,
    ConnectorStatus,
    ConsumerRecord,
    Delivered,
    ProducerRecord,
    SourceOffsetWrite,
    Status,
    StatusListener,
    TaskId,
)
from app.storage.offset_map import OffsetMap
from app.storage.topic_log import RetentionCut, TopicLog
from connectors.sdk.records import TopicPartition


class MemoryStatusStore:
    """Every status change passes here, so this is also where state metrics are reported."""

    def __init__(self, listener: StatusListener | None = None) -> None:
        self._connectors: dict[str, ConnectorStatus] = {}
        self.listener = listener

    def get(self, name: str) -> ConnectorStatus | None:
        return self._connectors.get(name)

    def task(self, task: TaskId) -> Status | None:
        entry = self._connectors.get(task.connector)
        return entry.tasks.get(task.task) if entry else None

    def put_connector(self, name: str, status: Status, type_: str | None = None) -> None:
        entry = self._connectors.get(name)
        if entry is None:
            self._connectors[name] = ConnectorStatus(status, type=type_ or "unknown")
        else:
            entry.connector = status
            if type_:
                entry.type = type_
        if self.listener is not None:
            self.listener.connector_status(name, status.state, status.worker_id)

    def put_task(self, task: TaskId, status: Status) -> None:
        entry = self._connectors.get(task.connector)
        if entry is not None:
            entry.tasks[task.task] = status
            if self.listener is not None:
                self.listener.task_status(task.connector, task.task, status.state, status.worker_id)

    def remove_task(self, task: TaskId) -> None:
        entry = self._connectors.get(task.connector)
        if entry is not None:
            entry.tasks.pop(task.task, None)
        if self.listener is not None:
            self.listener.task_removed(task.connector, task.task)

    def remove(self, name: str) -> None:
        self._connectors.pop(name, None)
        if self.listener is not None:
            self.listener.connector_removed(name)


class MemoryConfigStore:
    """Desired state of every connector, in memory."""

    def __init__(self) -> None:
        self._connectors: dict[str, ConnectorRecord] = {}

    def names(self) -> list[str]:
        return list(self._connectors)

    def get(self, name: str) -> ConnectorRecord | None:
        return self._connectors.get(name)

    async def put_config(self, name: str, config: dict[str, str], target_state: str | None = None) -> None:
        existing = self._connectors.get(name)
        state = target_state or (existing.target_state if existing else "STARTED")
        if existing:
            existing.config, existing.target_state = config, state
        else:
            self._connectors[name] = ConnectorRecord(name, config, state)

    async def put_target_state(self, name: str, state: str) -> None:
        self._connectors[name].target_state = state

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        self._connectors[name].task_configs = [dict(c) for c in configs]

    async def remove(self, name: str) -> None:
        self._connectors.pop(name, None)


class MemoryOffsetStore:
    """Source offsets: (connector, partition map) -> offset map."""

    def __init__(self) -> None:
        self.offsets = OffsetMap()

    async def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None:
        return self.offsets.get(connector, partition)

    async def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return self.offsets.all(connector)

    async def write(self, offsets: list[SourceOffsetWrite]) -> None:
        self.offsets.apply(offsets)


class MemoryTopicTracker:
    """Topics each connector has used since creation or the last reset (``/connectors/{c}/topics``)."""

    def __init__(self) -> None:
        self._known: dict[str, set[str]] = {}

    def topics(self, connector: str) -> list[str]:
        return sorted(self._known.get(connector, ()))

    async def record(self, connector: str, topics: set[str]) -> None:
        new = topics - self._known.get(connector, set())
        if new:
            self._known.setdefault(connector, set()).update(new)
            await self._stored(connector, new)

    async def _stored(self, connector: str, new: set[str]) -> None:
        """Persist newly used topics (the SQLite tracker writes them through)."""

    async def reset(self, connector: str) -> None:
        self._known.pop(connector, None)


class MemoryLog(TopicLog):
    """Topics as lists in memory; source offsets written with a batch go to ``offsets``."""

    def __init__(
        self,
        offsets: MemoryOffsetStore | None = None,
        *,
        default_partitions: int = 1,
        auto_create: bool = True,
        max_lag: int = -1,
        atomic_offsets: bool = True,
    ) -> None:
        super().__init__(default_partitions=default_partitions, auto_create=auto_create, max_lag=max_lag)
        self.offsets = offsets or MemoryOffsetStore()
        self.atomic_offsets = atomic_offsets
        """False makes it a writer like Kafka without transactions: the runner flushes offsets itself."""
        self._records: dict[TopicPartition, list[ConsumerRecord]] = {}
        self._groups: dict[str, dict[TopicPartition, int]] = {}

    async def _store_topic(self, name: str, partitions: int, config: dict[str, str]) -> None:
        for p in range(partitions):
            self._records.setdefault(TopicPartition(name, p), [])

    async def _store_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite]
    ) -> Sequence[Delivered]:
        placement = self._place(records)
        if offsets:
            self.offsets.offsets.apply(offsets)
        for tp in placement.partitions:
            self._records[tp] += [
                ConsumerRecord(tp.topic, tp.partition, offset, ts, r.key, r.value, list(r.headers))
                for offset, ts, r in placement.rows(tp)
            ]
        return self._advance(records, placement)

    async def read(
        self, tp: TopicPartition, offset: int, max_records: int, max_bytes: int = 1 << 60
    ) -> list[ConsumerRecord]:
        stored = self._records.get(tp, [])
        out: list[ConsumerRecord] = []
        size = 0
        for record in stored[bisect_left(stored, offset, key=lambda r: r.offset) :]:
            if len(out) >= max_records:
                break
            out.append(record)
            size += record.size()
            if size >= max_bytes:
                break
        return out

    async def _delete(self, cuts: Sequence[RetentionCut]) -> int:
        removed = 0
        for cut in cuts:
            stored = self._records[cut.tp]
            kept = [r for r in stored if not (r.timestamp < cut.cutoff_ms and r.offset < cut.keep_from)]
            removed += len(stored) - len(kept)
            self._records[cut.tp] = kept
            self._start[cut.tp] = kept[0].offset if kept else self._next[cut.tp]
        return removed

    async def commit_group(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        self._groups.setdefault(group, {}).update(offsets)

    async def group_offsets(self, group: str) -> dict[TopicPartition, int]:
        return dict(self._groups.get(group, {}))

    async def delete_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> None:
        if partitions is None:
            self._groups.pop(group, None)
        else:
            for tp in partitions:
                self._groups.get(group, {}).pop(tp, None)
