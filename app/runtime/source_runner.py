"""Source data path: poll -> transforms -> converters -> bounded window -> log append.

Two loops joined by a bounded queue: the poll loop stops polling while
``source.max.inflight.batches`` converted batches wait to be written, so a slow write slows
the source and memory stays bounded. Where the writer can (the embedded log, a Kafka
transaction with exactly-once enabled) each batch is written together with its source offsets,
so after any crash the stored offset matches exactly the records written. Otherwise (Kafka,
at-least-once) offsets of acknowledged records are flushed every ``offset.flush.interval.ms``
and on a graceful stop, so a crash repeats at most one flush interval of records.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from app.config.connector_config import SourceConnectorConfig
from app.errors.dead_letters import SourceDeadLetters
from app.errors.tolerance import SKIP, ErrorHandler, Retry, Stage
from app.runtime.pipeline import build_converters, build_transforms
from app.runtime.task_runner import TaskRunner
from app.storage.base import ProducerRecord, SourceOffsetWrite, SourceWriter, offset_key
from connectors.sdk.errors import RetriableError
from connectors.sdk.records import RecordMetadata, SourceRecord
from connectors.sdk.source import CommittedOffsets, SourceTask, SourceTaskContext


@dataclass(slots=True)
class _Batch:
    records: list[ProducerRecord] = field(default_factory=list)
    originals: list[SourceRecord] = field(default_factory=list)
    dropped: list[SourceRecord] = field(default_factory=list)
    offsets: dict[str, SourceOffsetWrite] = field(default_factory=dict)
    dead_letters: list[ProducerRecord] = field(default_factory=list)
    """Written with ``records`` (and, where the writer can, atomically with ``offsets``)."""


log = structlog.get_logger(__name__)


class _Offsets:
    def __init__(self, runner: SourceTaskRunner) -> None:
        self._runner = runner

    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        return await self._runner.ctx.offsets.get(self._runner.id.connector, partition)


class SourceTaskRunner(TaskRunner):
    connector_type = "source"
    framework: SourceConnectorConfig

    async def execute(self) -> None:
        task: SourceTask[Any] = self.new_plugin_task()
        context = SourceTaskContext(
            _Offsets(self), metrics=self.ctx.metrics.plugin_metrics(*self.id), details=self.details
        )
        context.stopping = self.stopping  # set by stop(), so a long poll() can return early
        task.initialize(context)
        self._converters = build_converters(self.ctx.registry, self.ctx.settings, self.framework)
        self._transforms = build_transforms(self.ctx.registry, self.framework)
        self._errors = ErrorHandler.from_config(self.id.connector, self.id.task, self.framework, self.metrics)
        if self._errors.dlq_topic:
            self._errors.source_dead_letter = SourceDeadLetters(self.ctx.registry).encode
            await self.ensure_dead_letter_topic()
        self._wants_commit_record = type(task).commit_record is not SourceTask.commit_record
        self.records_written = 0
        self._unflushed: dict[str, SourceOffsetWrite] = {}
        self._known_topics: set[str] = set()
        self._create_topics = self.ctx.settings.topic_creation_enable
        self._topic_rules = self.framework.topic_creation if self._create_topics else None
        writer = await self.ctx.bus.source_writer(str(self.id), self.config)
        self._plugin_task = task
        graceful = False
        try:
            await task.start(task.config_model.parse(self.config))
            self.mark_started()
            queue: asyncio.Queue[_Batch | None] = asyncio.Queue(self.ctx.settings.source_max_inflight_batches)
            async with asyncio.TaskGroup() as group:
                group.create_task(self._poll_loop(task, queue))
                group.create_task(self._send_loop(task, queue, writer))
                if not writer.atomic_offsets:
                    group.create_task(self._commit_loop())
            graceful = True
        finally:
            try:
                await self._final_commit(graceful)
            finally:
                self._transforms.close()
                await self._converters.close()
                await writer.close()
                await task.stop()

    async def _poll_loop(self, task: SourceTask[Any], queue: asyncio.Queue[_Batch | None]) -> None:
        try:
            while not self.stopping.is_set():
                if self.paused:
                    await queue.join()  # every polled batch written: only now is the task PAUSED
                    self.paused_now()
                    await self.wait_unpaused()
                    continue
                started = time.monotonic()
                try:
                    records = await task.poll()
                except RetriableError as exc:
                    await self.sleep(exc.retry_after or 1.0)
                    continue
                if records:
                    self.metrics.polled(len(records), time.monotonic() - started)
                    await queue.put(await self._prepare(records))
        finally:
            await queue.put(None)

    async def _prepare(self, records: Sequence[SourceRecord]) -> _Batch:
        """Transforms, then converters, over one polled batch (offsets of dropped records count too).

        Per batch where the step is the same for every record: the offsets kept are each source
        partition's last, and the conversions run in one tight loop that goes through the error
        handler only from a record that raised (:meth:`_convert_until_failure`).
        """
        batch = _Batch()
        self._keep_last_offsets(records, batch)
        errors, chain, conv = self._errors, self._transforms, self._converters
        sources: Sequence[SourceRecord] = records
        outs: Sequence[SourceRecord] = records
        if chain:
            sources, outs = [], []
            for record in records:
                out: Any = errors.run(Stage.TRANSFORMATION, chain.apply, record, shown=record, source=record)
                if out.__class__ is Retry:
                    out = await errors.retry(out, self.sleep)
                if out is SKIP or out is None:
                    batch.dropped.append(record)
                else:
                    sources.append(record)
                    outs.append(out)
        if (
            outs
            and conv.has_hooks
            and not await conv.prepare_batch(
                errors,
                to_connect=False,
                keys=[(out.topic, out.key_schema, out.key) for out in outs],
                values=[(out.topic, out.value_schema, out.value) for out in outs],
                records=[(None, out, record) for record, out in zip(sources, outs, strict=True)],
                sleep=self.sleep,
            )
        ):
            batch.dropped.extend(sources)
            batch.dead_letters = errors.take_dead_letters()
            return batch
        done, total = 0, len(outs)
        while done < total:
            done = self._convert_until_failure(sources, outs, done, batch)
            if done < total:  # this record raised: once more through the error handler
                await self._convert_one(sources[done], outs[done], batch)
                done += 1
        batch.dead_letters = errors.take_dead_letters()
        return batch

    def _keep_last_offsets(self, records: Sequence[SourceRecord], batch: _Batch) -> None:
        """Each source partition's offset after the batch: only its last record's counts."""
        last_partition: dict[str, Any] | None = None
        last_key = ""
        latest: dict[str, SourceRecord] = {}
        for record in records:
            partition = record.source_partition
            if partition is not None:
                if partition is not last_partition:  # tasks usually reuse one dict per partition
                    last_partition, last_key = partition, offset_key(partition)
                latest[last_key] = record
        connector = self.id.connector
        for key, record in latest.items():
            assert record.source_partition is not None
            batch.offsets[key] = SourceOffsetWrite(connector, record.source_partition, record.source_offset)

    def _convert_until_failure(
        self, sources: Sequence[SourceRecord], outs: Sequence[SourceRecord], start: int, batch: _Batch
    ) -> int:
        """Convert ``outs[start:]`` without the error handler; the index of the first record that
        raised (its conversion is then repeated by :meth:`_convert_one`), or ``len(outs)``.

        Converters are pure functions of their input, so repeating the failed call changes
        nothing but lets the handler retry, tolerate or report it exactly as for any stage.
        """
        conv = self._converters
        key_of, value_of = conv.key.from_connect_data, conv.value.from_connect_data
        header_of = conv.header.from_connect_header
        add, add_original = batch.records.append, batch.originals.append
        index = start
        try:
            for index in range(start, len(outs)):
                out = outs[index]
                topic = out.topic
                key = key_of(topic, out.key_schema, out.key)
                value = value_of(topic, out.value_schema, out.value)
                headers = (
                    [(h.key, header_of(topic, h.key, h.schema, h.value)) for h in out.headers]
                    if out.headers
                    else ()
                )
                add(ProducerRecord(topic, value, key, out.partition, out.timestamp, headers))
                add_original(sources[index])
        except Exception:
            return index
        return len(outs)

    async def _convert_one(self, record: SourceRecord, out: SourceRecord, batch: _Batch) -> None:
        """One record's conversion through the error handler (a failure retried, tolerated or fatal)."""
        errors, conv = self._errors, self._converters
        key: Any = errors.run(
            Stage.KEY_CONVERTER,
            conv.key.from_connect_data,
            out.topic,
            out.key_schema,
            out.key,
            shown=out,
            source=record,
        )
        if key.__class__ is Retry:
            key = await errors.retry(key, self.sleep)
        if key is SKIP:  # failed once: one error, one dead letter (as Kafka stops at the first)
            batch.dropped.append(record)
            return
        value: Any = errors.run(
            Stage.VALUE_CONVERTER,
            conv.value.from_connect_data,
            out.topic,
            out.value_schema,
            out.value,
            shown=out,
            source=record,
        )
        if value.__class__ is Retry:
            value = await errors.retry(value, self.sleep)
        if value is SKIP:
            batch.dropped.append(record)
            return
        headers = [
            (h.key, conv.header.from_connect_header(out.topic, h.key, h.schema, h.value)) for h in out.headers
        ]
        batch.records.append(ProducerRecord(out.topic, value, key, out.partition, out.timestamp, headers))
        batch.originals.append(record)

    async def _send_loop(
        self, task: SourceTask[Any], queue: asyncio.Queue[_Batch | None], writer: SourceWriter
    ) -> None:
        while (batch := await queue.get()) is not None:
            await self._write(task, batch, writer)
            queue.task_done()

    async def _write(self, task: SourceTask[Any], batch: _Batch, writer: SourceWriter) -> None:
        topics = {r.topic for r in batch.records}
        await self._ensure_topics(topics)
        records = batch.records
        if batch.dead_letters:
            records = records + batch.dead_letters
        if writer.atomic_offsets:
            # Records and offsets are stored in one transaction: durable together.
            delivered = await writer.send_batch(records, list(batch.offsets.values()))
        else:
            delivered = await writer.send_batch(records)
            self._unflushed.update(batch.offsets)  # acknowledged: committable at the next flush
        written = len(batch.records)  # the dead letters, if any, were sent after them
        if batch.dead_letters:
            self.count_dead_letters(len(batch.dead_letters))
        self.records_written += written
        self.metrics.written(written)
        if topics:
            await self.ctx.topics.record(self.id.connector, topics)
        if self._wants_commit_record:
            for record, meta in zip(batch.originals, delivered[:written], strict=True):
                await task.commit_record(
                    record, RecordMetadata(meta.topic, meta.partition, meta.offset, meta.timestamp)
                )
            for record in batch.dropped:
                await task.commit_record(record, None)
        if writer.atomic_offsets and batch.offsets:
            await self._committed(list(batch.offsets.values()))

    async def _commit_loop(self) -> None:
        """Flush acknowledged offsets every ``offset.flush.interval.ms``, also while the source is idle."""
        interval = self.ctx.settings.offset_flush_interval_ms / 1000
        while not self.stopping.is_set():
            await self.sleep(interval)
            if not self.stopping.is_set():
                await self._flush_offsets()

    async def _final_commit(self, graceful: bool) -> None:
        """Store what was acknowledged before the task ends, even after a failure elsewhere.

        Offsets in ``_unflushed`` belong to records the writer already acknowledged, so storing
        them is always safe and saves a replay; a failure here only matters on a graceful stop.
        """
        try:
            await self._flush_offsets()
        except asyncio.CancelledError:
            raise
        except Exception:
            if graceful:
                raise
            log.warning("could not store source offsets while the task was failing", exc_info=True)

    async def _flush_offsets(self) -> None:
        """Store the source offsets of records the writer has acknowledged, then tell the task."""
        if self._unflushed:
            pending, self._unflushed = list(self._unflushed.values()), {}
            try:
                with self.metrics.timed_commit():
                    await self.ctx.offsets.write(pending)
            except BaseException:
                # Not stored: put them back (newer offsets of the same partitions win).
                self._unflushed = {offset_key(w.partition): w for w in pending} | self._unflushed
                raise
            await self._committed(pending)

    async def _committed(self, stored: list[SourceOffsetWrite]) -> None:
        """``SourceTask.commit`` with exactly the offsets that are now durable."""
        await self._plugin_task.commit(CommittedOffsets((w.partition, w.offset) for w in stored))

    async def _ensure_topics(self, topics: set[str]) -> None:
        """Create topics the first time the task writes to them (KIP-158 settings when given)."""
        if not self._create_topics:
            return  # topic.creation.enable=false: the broker decides (auto-creation or an error)
        for topic in topics - self._known_topics:
            rules = self._topic_rules.settings_for(topic) if self._topic_rules else None
            if rules is None:
                await self.ctx.bus.ensure_topic(topic)
            else:
                await self.ctx.bus.ensure_topic(
                    topic,
                    rules.partitions,
                    rules.replication_factor,
                    rules.configs,
                    replication_setting=rules.replication_setting,
                )
            self._known_topics.add(topic)
