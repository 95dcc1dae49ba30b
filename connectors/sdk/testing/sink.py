"""SinkHarness: start a sink connector's task in memory, feed it batches, commit, retry."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from connectors.sdk.connector import SinkConnector
from connectors.sdk.data import Schema
from connectors.sdk.errors import ConfigError, RetriableError
from connectors.sdk.records import SinkRecord, TopicPartition
from connectors.sdk.sink import SinkTask, SinkTaskContext
from connectors.sdk.testing.config import Harness, check_config
from connectors.sdk.testing.source import _ConnectorContext


class RecordingErrantReporter:
    """The errant-record reporter, keeping what it was handed in :attr:`reports`.

    ``tolerate=True`` behaves like ``errors.tolerance=all`` (the task carries on);
    ``tolerate=False`` like ``none``: the error is raised back into ``put``, failing the task.
    """

    def __init__(self, *, tolerate: bool = True) -> None:
        self.tolerate = tolerate
        self.reports: list[tuple[SinkRecord, BaseException]] = []

    async def report(self, record: SinkRecord, error: BaseException) -> None:
        """Record the report; raise ``error`` unless errors are tolerated."""
        self.reports.append((record, error))
        if not self.tolerate:
            raise error


def sink_records(
    topic: str,
    values: Iterable[Any],
    *,
    partition: int = 0,
    start_offset: int = 0,
    value_schema: Schema | None = None,
    key: Any = None,
) -> list[SinkRecord]:
    """Consecutive records of one topic partition, as a consumer would fetch them."""
    return [
        SinkRecord(
            topic=topic,
            value=value,
            value_schema=value_schema,
            key=key,
            partition=partition,
            kafka_offset=offset,
            original_topic=topic,
            original_partition=partition,
            original_offset=offset,
        )
        for offset, value in enumerate(values, start_offset)
    ]


class SinkHarness(Harness):
    """Runs one sink task the way the runtime does.

    ``put`` retries a batch after ``RetriableError`` (recording the backoff the runtime would
    have slept in :attr:`retry_waits`, up to ``max_retries``), honours ``request_commit`` and
    collects rewinds; ``commit`` calls ``pre_commit`` with the next offset to read per assigned
    partition and keeps what it returned in :attr:`committed`.
    """

    def __init__(
        self,
        connector: type[SinkConnector[Any]],
        props: Mapping[str, str],
        *,
        tolerate_errors: bool = True,
        max_retries: int = 10,
    ) -> None:
        self.connector_class = connector
        self.props = dict(props)
        self.max_retries = max_retries
        self.reporter = RecordingErrantReporter(tolerate=tolerate_errors)
        self.context = SinkTaskContext(self.reporter)
        self.connector_context = _ConnectorContext()
        self.connector: SinkConnector[Any] | None = None
        self.task: SinkTask[Any] | None = None
        self.positions: dict[TopicPartition, int] = {}
        """Next offset to read per partition, after the batches put so far."""
        self.committed: dict[TopicPartition, int] = {}
        """What ``pre_commit`` returned, i.e. the consumer offsets the runtime would commit."""
        self.retry_waits: list[float | None] = []
        """One entry per ``RetriableError``: the backoff in seconds asked for, or None (default)."""
        self.rewinds: dict[TopicPartition, int] = {}
        """Positions the task asked to rewind to with ``context.offset``."""
        self.commit_requests = 0

    @property
    def errant(self) -> list[tuple[SinkRecord, BaseException]]:
        """Records the task handed to ``context.errant_record_reporter``, with their errors."""
        return self.reporter.reports

    async def start(self, partitions: Collection[TopicPartition] | None = None) -> SinkTask[Any]:
        """Validate and start the connector and its first task, then ``open`` the partitions.

        ``partitions`` defaults to partition 0 of every topic in the ``topics`` setting.
        """
        errors = check_config(self.connector_class, self.props)
        if errors:
            raise ConfigError("; ".join(message for messages in errors.values() for message in messages))
        connector = self.connector_class()
        connector.initialize(self.connector_context)
        await connector.start(connector.config_model.parse(self.props))
        self.connector = connector
        task_config = {**self.props, **connector.task_configs(1)[0]}
        task = connector.task_class()
        task.initialize(self.context)
        await task.start(connector.task_class.config_model.parse(task_config))
        self.task = task
        if partitions is None:
            topics = [t.strip() for t in self.props.get("topics", "").split(",") if t.strip()]
            partitions = [TopicPartition(topic, 0) for topic in topics]
        await self.assign(partitions)
        return task

    def _task(self) -> SinkTask[Any]:
        if self.task is None:
            raise RuntimeError("Call start() first")
        return self.task

    async def assign(self, partitions: Collection[TopicPartition]) -> None:
        """Rebalance: ``close`` the partitions taken away, ``open`` the new ones."""
        task = self._task()
        current = self.context.assignment
        revoked = current - set(partitions)
        added = set(partitions) - current
        if revoked:
            await task.close(revoked)
        self.context.set_assignment(partitions)
        if added:
            await task.open(added)

    async def put(self, records: Sequence[SinkRecord]) -> None:
        """Hand one batch to ``put``, again after each ``RetriableError`` (without sleeping)."""
        task = self._task()
        attempts = 0
        while True:
            try:
                await task.put(records)
                break
            except RetriableError as exc:
                attempts += 1
                requested = self.context.take_timeout_s()
                self.retry_waits.append(exc.retry_after if exc.retry_after is not None else requested)
                if attempts > self.max_retries:
                    raise
        for record in records:
            tp = record.original_topic_partition
            self.positions[tp] = max(self.positions.get(tp, 0), record.original_offset + 1)
        rewinds = self.context.take_rewinds()
        self.rewinds.update(rewinds)
        self.positions.update(rewinds)
        if self.context.take_commit_request():
            self.commit_requests += 1
            await self.commit()

    async def commit(self) -> Mapping[TopicPartition, int]:
        """``pre_commit`` with the positions of the assigned partitions; returns its answer."""
        assigned = self.context.assignment
        offsets = {tp: position for tp, position in self.positions.items() if tp in assigned}
        result = await self._task().pre_commit(offsets)
        self.committed.update(result)
        return result

    async def stop(self) -> None:
        """``close`` the assignment and stop the task and the connector (no final commit)."""
        if self.task is not None:
            self.context.stopping.set()
            assignment = self.context.assignment
            if assignment:
                await self.task.close(assignment)
            await self.task.stop()
            self.task = None
        if self.connector is not None:
            await self.connector.stop()
            self.connector = None
