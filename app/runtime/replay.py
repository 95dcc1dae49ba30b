"""Replaying a connector's dead-letter queue once the cause of the failures is fixed.

Kafka Connect users ask for this and write it by hand (a consumer that copies the DLQ back to the
original topic, which every other consumer of that topic then sees twice). Penstock runs the dead
letters through the connector itself instead, with a fresh instance of its task:

* a **sink**'s dead letters are read back with their original topic, partition and offset (the
  ``__connect.errors.*`` context headers), converted, transformed and ``put`` as they were the
  first time;
* a **source**'s dead letters (Penstock's source DLQ) are decoded to the records the task
  produced and go through its transforms and converters to their topics again. Their source
  offsets were stored when they were dead-lettered, so none is written now.

The DLQ is read by the consumer group ``connect-<connector>-dlq-replay``, whose offsets are
committed as records are delivered, so a replay never repeats what an earlier one delivered. A
record that fails again goes back to the DLQ tagged with this replay's id; the replay stops at
its own records, at the end of the DLQ, or when the DLQ has been idle for ``IDLE_S``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.config.connector_config import parse_connector_config
from app.errors.dead_letters import SourceDeadLetters
from app.runtime.context import RuntimeContext
from app.runtime.sink_runner import SinkTaskRunner
from app.runtime.source_runner import SourceTaskRunner, _Batch
from app.runtime.task_runner import TaskRunner
from app.storage.base import ConsumerRecord, SinkConsumer, State, Subscription, TaskId
from connectors.sdk.config import EmptyConfig
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import RecordMetadata, SourceRecord, TopicPartition
from connectors.sdk.source import SourceTask

REPLAY_HEADER = "__connect.errors.replay.id"
CONTEXT_PREFIX = "__connect.errors."
REPLAY_TASK = -1
"""The task id a replay runs under: not one of the connector's tasks, so it has no status entry."""
IDLE_S = 2.0
"""A DLQ that yields nothing for this long after the replay joined it has been read to its end."""


@dataclass(slots=True)
class ReplayResult:
    topic: str
    replayed: int = 0
    """Records delivered: put to the sink, or written to their topics by the source."""
    failed_again: int = 0
    """Records that failed again and went back to the DLQ."""
    skipped: int = 0
    """Dead letters that cannot be replayed: no ``__connect.errors.*`` context headers."""
    error: str | None = None
    """The trace when the replay stopped on a failure (``errors.tolerance=none``)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "replayed": self.replayed,
            "failed_again": self.failed_again,
            "skipped": self.skipped,
            "error": self.error,
        }


class DeadLetterReader:
    """The DLQ as the replay group reads it: from the group's committed position up to where this
    replay began. Positions are committed only for records :meth:`acknowledge` covers."""

    def __init__(self, consumer: SinkConsumer, run_id: str) -> None:
        self.consumer = consumer
        self.run_id = run_id.encode()
        self.done = False
        self._joined_at: float | None = None
        self._idle_since: float | None = None
        self._finished: set[TopicPartition] = set()
        self._fetched: dict[TopicPartition, int] = {}
        self._delivered: dict[TopicPartition, int] = {}

    def joined(self) -> None:
        if self._joined_at is None and self.consumer.assignment:
            self._joined_at = time.monotonic()

    async def fetch(self, timeout: float) -> list[ConsumerRecord]:
        """Dead letters from before this replay began; ``done`` once there are no more."""
        letters = []
        for letter in await self.consumer.fetch(timeout):
            tp = TopicPartition(letter.topic, letter.partition)
            if tp in self._finished:
                continue
            if header(letter.headers, REPLAY_HEADER) == self.run_id:
                self._finished.add(tp)  # from here on this partition holds this replay's own failures
                self.consumer.pause([tp])
                continue
            self._fetched[tp] = letter.offset + 1
            letters.append(letter)
        now = time.monotonic()
        if letters or self._joined_at is None:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        elif now - self._idle_since >= IDLE_S:
            self.done = True
        return letters

    def acknowledge(self) -> None:
        """Everything fetched so far has been delivered (or deliberately skipped)."""
        self._delivered.update(self._fetched)

    async def commit(self) -> None:
        if self._delivered:
            await self.consumer.commit(dict(self._delivered))


def header(headers: Iterable[tuple[str, bytes | None]], name: str) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _original(letter: ConsumerRecord) -> ConsumerRecord | None:
    """A sink's dead letter as it was first consumed (None without context headers)."""
    topic = header(letter.headers, CONTEXT_PREFIX + "topic")
    partition = header(letter.headers, CONTEXT_PREFIX + "partition")
    offset = header(letter.headers, CONTEXT_PREFIX + "offset")
    if not topic or partition is None or offset is None:
        return None
    headers = [(k, v) for k, v in letter.headers if not k.startswith(CONTEXT_PREFIX)]
    return ConsumerRecord(
        topic.decode(), int(partition), int(offset), letter.timestamp, letter.key, letter.value, headers
    )


class _ReplayingConsumer:
    """What a sink replay's runner consumes: the DLQ, with each letter back at its original
    topic, partition and offset. Commits go to the replay group's DLQ positions."""

    def __init__(self, reader: DeadLetterReader, runner: SinkReplayRunner) -> None:
        self._reader = reader
        self._inner = reader.consumer
        self._runner = runner
        self.records_lost = 0
        self.commit_after_every_batch = self._inner.commit_after_every_batch

    @property
    def assignment(self) -> set[TopicPartition]:
        return self._inner.assignment

    @assignment.setter
    def assignment(self, value: set[TopicPartition]) -> None:
        self._inner.assignment = value

    async def start(self) -> None:
        """Started (and closed) by the replay itself, which commits after the runner has ended."""

    async def close(self) -> None:
        pass

    def set_active(self, active: bool) -> None:
        self._inner.set_active(active)

    async def poll_rebalance(self) -> tuple[set[TopicPartition], set[TopicPartition]] | None:
        changes = await self._inner.poll_rebalance()
        self._reader.joined()
        return changes

    def release(self, partitions: Iterable[TopicPartition]) -> None:
        self._inner.release(partitions)

    async def fetch(self, timeout: float) -> list[ConsumerRecord]:
        letters = await self._reader.fetch(timeout)
        if self._reader.done:
            self._runner.stopping.set()
        records = []
        for letter in letters:
            original = _original(letter)
            if original is None:
                self._runner.result.skipped += 1
            else:
                records.append(original)
        return records

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> bool:
        """Called once what was fetched has been put and flushed: the DLQ positions advance."""
        self._reader.acknowledge()
        await self._reader.commit()
        return True

    def lag(self) -> int | None:
        return None

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """Rewinds address original partitions; a replay reads each dead letter once."""

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        pass

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        pass


class _Replaying(TaskRunner):
    """What both replay runners do differently from a connector's task: no status entry, no
    automatic restart, dead letters tagged with the replay's id."""

    def __init__(
        self, reader: DeadLetterReader, config: dict[str, str], ctx: RuntimeContext, run_id: str
    ) -> None:
        super().__init__(TaskId(config["name"], REPLAY_TASK), config, ctx, paused=False)
        self.reader = reader
        self.run_id = run_id
        self.result = ReplayResult("")

    def set_state(self, state: State, trace: str | None = None) -> None:
        self.state = state
        if state is State.FAILED:
            self.result.error = trace

    def report_failure(self, error: BaseException) -> None:
        """The replay's caller reads the failure from the result; nothing restarts it."""

    def tagged(self, letters: list[Any]) -> list[Any]:
        tag = (REPLAY_HEADER, self.run_id.encode())
        return [replace(letter, headers=[*letter.headers, tag]) for letter in letters]


class SinkReplayRunner(_Replaying, SinkTaskRunner):
    def open_consumer(self) -> SinkConsumer:
        return _ReplayingConsumer(self.reader, self)

    async def _send_dead_letters(self) -> None:
        self.errors.dead_letters = self.tagged(self.errors.dead_letters)
        await super()._send_dead_letters()


class _DeadLetterSource(SourceTask[EmptyConfig]):
    """The source task of a source replay: its records are the decoded dead letters."""

    config_model = EmptyConfig

    def __init__(self, runner: SourceReplayRunner) -> None:
        self._runner = runner
        self._reader = runner.reader
        self._letters = SourceDeadLetters(runner.ctx.registry)
        self._positions: dict[int, tuple[TopicPartition, int]] = {}

    async def start(self, config: EmptyConfig) -> None:
        pass

    async def poll(self) -> Sequence[SourceRecord]:
        await self._reader.consumer.poll_rebalance()
        self._reader.joined()
        await self._reader.commit()
        letters = await self._reader.fetch(0.5)
        if self._reader.done:
            self._runner.stopping.set()
        records = []
        for letter in letters:
            topic = header(letter.headers, CONTEXT_PREFIX + "topic")
            if not topic:
                self._runner.result.skipped += 1
                continue
            decoded = self._letters.decode(letter, topic.decode())
            record = decoded.new_record(source_partition=None, source_offset=None)  # stored already
            self._positions[id(record)] = (TopicPartition(letter.topic, letter.partition), letter.offset + 1)
            records.append(record)
        return records

    async def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        self._positions.pop(id(record), None)
        if not self._positions:
            self._reader.acknowledge()

    async def stop(self) -> None:
        pass


class SourceReplayRunner(_Replaying, SourceTaskRunner):
    def new_plugin_task(self) -> Any:
        return _DeadLetterSource(self)

    async def _prepare(self, records: Sequence[SourceRecord]) -> _Batch:
        batch = await super()._prepare(records)
        batch.dead_letters = self.tagged(batch.dead_letters)
        return batch


async def replay_dead_letters(
    ctx: RuntimeContext, name: str, config: dict[str, str], connector_type: str
) -> ReplayResult:
    """Replay ``name``'s dead-letter queue through a fresh instance of its task (task 0's config
    layered over the connector's, in ``config``); returns when the DLQ has been read to where the
    replay began, or when the replay failed."""
    resolved, _ = await ctx.resolve(name, config)
    framework = parse_connector_config(resolved, connector_type)
    topic = framework.errors_deadletterqueue_topic_name.strip()
    if not topic:
        raise ConfigError(
            f"Connector {name} has no dead-letter queue: errors.deadletterqueue.topic.name is not set"
        )
    run_id = uuid.uuid4().hex
    group = f"connect-{name}-dlq-replay"
    consumer = ctx.bus.sink_consumer(
        group, f"{name}-dlq-replay-{run_id[:8]}", Subscription((topic,)), resolved
    )
    reader = DeadLetterReader(consumer, run_id)
    runner_class = SinkReplayRunner if connector_type == "sink" else SourceReplayRunner
    runner = runner_class(reader, config, ctx, run_id)
    runner.result.topic = topic
    await consumer.start()
    try:
        runner.start()
        while not runner.done():
            await asyncio.sleep(0.05)
        if runner.result.error is None:
            reader.acknowledge()
            await reader.commit()
    finally:
        await runner.stop(ctx.settings.task_shutdown_graceful_timeout_ms / 1000)
        runner.metrics.close()
        await consumer.close()
    runner.result.replayed = (
        runner.records_put if isinstance(runner, SinkReplayRunner) else runner.records_written
    )
    runner.result.failed_again = runner.dead_lettered
    return runner.result
