"""SourceHarness: start a source connector and its tasks in memory, poll, commit, restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any

from connectors.sdk.connector import ConnectorContext, SourceConnector
from connectors.sdk.errors import ConfigError, ConnectError, RetriableError
from connectors.sdk.records import RecordMetadata, SourceRecord
from connectors.sdk.source import CommittedOffsets, SourceTask, SourceTaskContext, partition_key
from connectors.sdk.testing.config import Harness, check_config


class InMemoryOffsetStore:
    """Stored source offsets, keyed by source partition: what a task reads back on start.

    Seed it to start a task from a given position; :class:`SourceHarness` writes to it on
    :meth:`SourceHarness.commit`.
    """

    def __init__(self, offsets: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = ()) -> None:
        self._offsets: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        for partition, offset in offsets:
            self.put(partition, offset)

    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        """What ``SourceTaskContext.offset`` returns for ``partition``."""
        return self.get(partition)

    def get(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        """The stored offset of ``partition`` (a copy), or None."""
        entry = self._offsets.get(partition_key(partition))
        return None if entry is None or entry[1] is None else dict(entry[1])

    def put(self, partition: Mapping[str, Any], offset: Mapping[str, Any] | None) -> None:
        """Store ``offset`` for ``partition`` (None resets it)."""
        self._offsets[partition_key(partition)] = (dict(partition), None if offset is None else dict(offset))

    def all(self) -> CommittedOffsets:
        """Every stored offset."""
        return CommittedOffsets(self._offsets.values())


class _ConnectorContext(ConnectorContext):
    def __init__(self) -> None:
        self.reconfiguration_requests = 0
        self.errors: list[Exception] = []

    def request_task_reconfiguration(self) -> None:
        self.reconfiguration_requests += 1

    def raise_error(self, error: Exception) -> None:
        self.errors.append(error)


class SourceHarness(Harness):
    """Runs a source connector's tasks the way the runtime does, with in-memory offsets.

    Every record a poll returns counts as written: ``commit_record`` is called for it with
    made-up metadata, and its source offset becomes *pending*. :meth:`commit` stores the pending
    offsets and then calls ``commit(CommittedOffsets)``, the order the runtime guarantees.
    """

    def __init__(
        self,
        connector: type[SourceConnector[Any]],
        props: Mapping[str, str],
        *,
        max_tasks: int = 1,
        offsets: InMemoryOffsetStore | None = None,
        poll_timeout: float = 0.1,
    ) -> None:
        self.connector_class = connector
        self.props = dict(props)
        self.max_tasks = max_tasks
        self.offsets = offsets if offsets is not None else InMemoryOffsetStore()
        self.poll_timeout = poll_timeout
        self.connector: SourceConnector[Any] | None = None
        self.context = _ConnectorContext()
        self.task_configs: list[dict[str, str]] = []
        self.tasks: dict[int, SourceTask[Any]] = {}
        self.records: list[SourceRecord] = []
        """Every record polled so far, from all tasks, in order."""
        self.commits: list[CommittedOffsets] = []
        """What each ``commit`` call handed a task."""
        self.retriable_errors: list[RetriableError] = []
        """``RetriableError``s raised by ``poll``; the harness polled again, as the runtime does."""
        self._pending: dict[int, dict[str, tuple[dict[str, Any], dict[str, Any] | None]]] = {}
        self._written = 0

    async def start(self) -> list[dict[str, str]]:
        """Validate, start the connector and return its task configs (``ConfigError`` if invalid)."""
        errors = check_config(self.connector_class, self.props)
        if errors:
            raise ConfigError("; ".join(message for messages in errors.values() for message in messages))
        connector = self.connector_class()
        connector.initialize(self.context)
        await connector.start(connector.config_model.parse(self.props))
        self.connector = connector
        self.task_configs = connector.task_configs(self.max_tasks)
        if not 0 < len(self.task_configs) <= self.max_tasks:
            raise ConnectError(
                f"task_configs({self.max_tasks}) returned {len(self.task_configs)} configs; "
                f"expected 1 to {self.max_tasks}"
            )
        return self.task_configs

    async def start_task(self, index: int = 0) -> SourceTask[Any]:
        """Start task ``index`` with its task config layered over the connector config."""
        if self.connector is None:
            await self.start()
        assert self.connector is not None
        task_class = self.connector.task_class
        task = task_class()
        task.initialize(SourceTaskContext(self.offsets, poll_timeout=self.poll_timeout))
        await task.start(task_class.config_model.parse({**self.props, **self.task_configs[index]}))
        self.tasks[index] = task
        self._pending[index] = {}
        return task

    def task(self, index: int = 0) -> SourceTask[Any]:
        """The running task ``index``."""
        try:
            return self.tasks[index]
        except KeyError:
            raise ConnectError(f"Task {index} is not running; call start_task({index}) first") from None

    async def poll(
        self, count: int | None = None, *, index: int = 0, timeout: float = 5.0
    ) -> list[SourceRecord]:
        """Poll task ``index`` once (``count`` None) or until ``count`` records or ``timeout`` seconds.

        Starts the task if needed. Returns the records of this call; fewer than ``count`` means
        the timeout passed.
        """
        if index not in self.tasks:
            await self.start_task(index)
        task = self.tasks[index]
        deadline = time.monotonic() + timeout
        got: list[SourceRecord] = []
        while True:
            try:
                batch = list(await asyncio.wait_for(task.poll(), max(0.0, deadline - time.monotonic())))
            except TimeoutError:
                break
            except RetriableError as exc:
                self.retriable_errors.append(exc)
                batch = []
            for record in batch:
                await self._written_record(index, task, record)
            got.extend(batch)
            if count is None or len(got) >= count or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0)
        return got

    async def _written_record(self, index: int, task: SourceTask[Any], record: SourceRecord) -> None:
        self.records.append(record)
        metadata = RecordMetadata(record.topic, record.partition or 0, self._written, int(time.time() * 1000))
        self._written += 1
        if record.source_partition is not None:
            key = partition_key(record.source_partition)
            self._pending[index][key] = (record.source_partition, record.source_offset)
        await task.commit_record(record, metadata)

    async def commit(self, index: int = 0) -> CommittedOffsets:
        """Store task ``index``'s pending offsets, then call its ``commit`` with them.

        Like the runtime, nothing is called when no new offset was stored; the stored offsets
        are returned either way (empty when there were none).
        """
        task = self.task(index)
        pending, self._pending[index] = self._pending.get(index, {}), {}
        for partition, offset in pending.values():
            self.offsets.put(partition, offset)
        stored = CommittedOffsets(pending.values())
        if stored:
            await task.commit(stored)
            self.commits.append(stored)
        return stored

    async def stop_task(self, index: int = 0, *, graceful: bool = True) -> None:
        """Stop task ``index``: set ``context.stopping``, commit first if ``graceful``, then ``stop()``.

        ``graceful=False`` loses the pending offsets, as a crash would.
        """
        task = self.task(index)
        task.context.stopping.set()
        if graceful:
            await self.commit(index)
        self._pending.pop(index, None)
        del self.tasks[index]
        await task.stop()

    async def restart_task(self, index: int = 0, *, graceful: bool = True) -> SourceTask[Any]:
        """Stop task ``index`` and start a new instance, which reads the stored offsets."""
        await self.stop_task(index, graceful=graceful)
        return await self.start_task(index)

    async def stop(self) -> None:
        """Stop every task gracefully, then the connector."""
        for index in list(self.tasks):
            await self.stop_task(index)
        if self.connector is not None:
            await self.connector.stop()
            self.connector = None
