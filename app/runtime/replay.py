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
record that fails again goes back to the DLQ tagged with this replay's id. The replay reads up
to the DLQ's end offsets as of when it joined (letters written later, by the running connector
or by the replay itself, wait for the next replay); ``IDLE_S`` without records also ends it.
Letters of another connector sharing the DLQ topic, letters without context headers and letters
that cannot be decoded are skipped (counted).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from app.config.connector_config import parse_connector_config
from app.errors.dead_letters import SourceDeadLetters
from app.runtime.context import RuntimeContext
from app.runtime.sink_runner import SinkTaskRunner
from app.runtime.source_runner import SourceTaskRunner, _Batch
from app.runtime.task_runner import TaskRunner
from app.storage.base import ConsumerRecord, FetchedRecord, SinkConsumer, State, Subscription, TaskId
from connectors.sdk.config import EmptyConfig
from connectors.sdk.errors import ConfigError, DataError
from connectors.sdk.records import RecordMetadata, SourceRecord, TopicPartition
from connectors.sdk.source import SourceTask

log = structlog.get_logger(__name__)

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


@dataclass(slots=True, eq=False)
class _Letter:
    """One dead letter on its way through a replay."""

    letter: FetchedRecord
    tp: TopicPartition
    skipped: bool = False
    """Not replayable here (no context headers, another connector's, undecodable): acknowledged
    as soon as the letters before it are."""
    original: FetchedRecord | None = None
    """A sink's dead letter at its original topic, partition and offset."""
    delivered: bool = False


class DeadLetterReader:
    """The DLQ as the replay group reads it: from the group's committed position up to the end
    offsets it had when the replay joined. A DLQ position is committed only past letters that
    were delivered (or skipped), in order per DLQ partition, so nothing is lost if the replay
    fails half-way."""

    def __init__(self, consumer: SinkConsumer, run_id: str, connector: str) -> None:
        self.consumer = consumer
        self.run_id = run_id.encode()
        self.connector = connector.encode()
        self.done = False
        self.skipped = 0
        self._ends: dict[TopicPartition, int] | None = None
        self._idle_since: float | None = None
        self._finished: set[TopicPartition] = set()
        self._pending: list[_Letter] = []
        self._delivered: dict[TopicPartition, int] = {}

    async def joined(self) -> None:
        """Once partitions are assigned: where this replay ends on each of them."""
        if self._ends is None and self.consumer.assignment:
            self._ends = await self.consumer.end_offsets()
            self._finished.update(tp for tp, end in self._ends.items() if end == 0)

    async def fetch(self, timeout: float) -> list[_Letter]:
        """Dead letters from before this replay began; ``done`` once there are no more."""
        letters = []
        ends = self._ends or {}
        for record in await self.consumer.fetch(timeout):
            tp = TopicPartition(record.topic, record.partition)
            end = ends.get(tp)
            if tp in self._finished:
                continue
            if (end is not None and record.offset >= end) or header(
                record.headers, REPLAY_HEADER
            ) == self.run_id:
                self._finish(tp)  # written after the replay began (maybe by the replay itself)
                continue
            letter = _Letter(record, tp)
            owner = header(record.headers, CONTEXT_PREFIX + "connector.name")
            if owner is not None and owner != self.connector:
                self.skip(letter)  # a DLQ topic shared by several connectors
            self._pending.append(letter)
            letters.append(letter)
            if end is not None and record.offset + 1 >= end:
                self._finish(tp)
        assigned = self.consumer.assignment
        if self._ends is not None and assigned and assigned <= self._finished:
            self.done = True
        elif letters or self._ends is None:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = time.monotonic()
        elif time.monotonic() - self._idle_since >= IDLE_S:
            self.done = True  # e.g. records deleted by retention below the end offset
        return letters

    def skip(self, letter: _Letter) -> None:
        letter.skipped = True
        self.skipped += 1

    def _finish(self, tp: TopicPartition) -> None:
        self._finished.add(tp)
        self.consumer.pause([tp])

    def acknowledge(self) -> None:
        """Advance each DLQ partition's position past its leading delivered or skipped letters."""
        blocked: set[TopicPartition] = set()
        waiting = []
        for letter in self._pending:
            if letter.tp not in blocked and (letter.delivered or letter.skipped):
                self._delivered[letter.tp] = letter.letter.offset + 1
            else:
                blocked.add(letter.tp)
                waiting.append(letter)
        self._pending = waiting

    async def commit(self) -> None:
        self.acknowledge()
        if self._delivered:
            await self.consumer.commit(dict(self._delivered))


def header(headers: Iterable[tuple[str, bytes | None]], name: str) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _original(letter: FetchedRecord) -> FetchedRecord | None:
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
        self._in_flight: list[_Letter] = []

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
        await self._reader.joined()
        return changes

    def release(self, partitions: Iterable[TopicPartition]) -> None:
        self._inner.release(partitions)

    async def fetch(self, timeout: float) -> list[FetchedRecord]:
        letters = await self._reader.fetch(timeout)
        if self._reader.done:
            self._runner.stopping.set()
        records = []
        for letter in letters:
            if letter.skipped:
                continue
            letter.original = _original(letter.letter)
            if letter.original is None:
                self._reader.skip(letter)
            else:
                records.append(letter.original)
                self._in_flight.append(letter)
        return records

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> bool:
        """``offsets`` are what the sink's ``pre_commit`` says is safe, by original partition:
        the letters they cover are delivered, and the DLQ positions advance past them."""
        still = []
        for letter in self._in_flight:
            original = letter.original
            assert original is not None
            safe = offsets.get(TopicPartition(original.topic, original.partition), -1)
            if safe > original.offset:
                letter.delivered = True
            else:
                still.append(letter)
        self._in_flight = still
        await self._reader.commit()
        return True

    async def end_offsets(self) -> dict[TopicPartition, int]:
        return {}

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

    async def resolve_config(self) -> tuple[dict[str, str], set[str]]:
        return await self.ctx.resolve_once(self.config)

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
        self._in_flight: dict[int, _Letter] = {}
        """Letters whose records the runner has not confirmed yet, by ``id`` of the record."""

    async def start(self, config: EmptyConfig) -> None:
        pass

    async def poll(self) -> Sequence[SourceRecord]:
        await self._reader.consumer.poll_rebalance()
        await self._reader.joined()
        await self._reader.commit()
        letters = await self._reader.fetch(0.5)
        if self._reader.done:
            self._runner.stopping.set()
        records = []
        for letter in letters:
            if letter.skipped:
                continue
            topic = header(letter.letter.headers, CONTEXT_PREFIX + "topic")
            try:
                if not topic:
                    raise DataError("no __connect.errors.topic header")
                decoded = self._letters.decode(letter.letter, topic.decode())
            except Exception as exc:  # e.g. a record the DLQ kept as its repr: it cannot come back
                log.warning(
                    "a dead letter cannot be replayed; skipped",
                    offset=letter.letter.offset,
                    error=repr(exc),
                )
                self._reader.skip(letter)
                continue
            record = decoded.new_record(source_partition=None, source_offset=None)  # stored already
            self._in_flight[id(record)] = letter
            records.append(record)
        return records

    async def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """Written (or dropped by the chain, or dead-lettered again): delivered either way."""
        letter = self._in_flight.pop(id(record), None)
        if letter is not None:
            letter.delivered = True

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
    resolved, _ = await ctx.resolve_once(config)
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
    reader = DeadLetterReader(consumer, run_id, name)
    runner_class = SinkReplayRunner if connector_type == "sink" else SourceReplayRunner
    runner = runner_class(reader, config, ctx, run_id)
    runner.result.topic = topic
    try:
        await consumer.start()
        runner.start()
        while not runner.done():
            await asyncio.sleep(0.05)
        await reader.commit()  # what was delivered or skipped, never more
    finally:
        await runner.stop(ctx.settings.task_shutdown_graceful_timeout_ms / 1000)
        runner.metrics.close()
        await consumer.close()
    runner.result.replayed = (
        runner.records_put if isinstance(runner, SinkReplayRunner) else runner.records_written
    )
    runner.result.failed_again = runner.dead_lettered
    runner.result.skipped = reader.skipped
    return runner.result
