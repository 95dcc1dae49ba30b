"""Sink data path: fetch -> converters -> transforms -> put -> periodic flush and offset commit.

The consumer fetches at most ``consumer.max.poll.records`` records and does not fetch again
until ``put`` has taken them, so a slow sink holds one batch in memory and slows the fetch
(and, through ``log.max.lag.records``, the sources writing the topic). A ``RetriableError``
from ``put`` offers the same batch again after a backoff; nothing is skipped. Consumer offsets
are committed only after ``pre_commit``/``flush`` returned, every ``offset.flush.interval.ms``,
on partition revocation and on a graceful stop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import structlog

from app.config.connector_config import SinkConnectorConfig
from app.errors.tolerance import RETRY_DELAY_MIN_S, SKIP, ErrorHandler, Retry, Stage
from app.runtime.pipeline import build_converters, build_transforms
from app.runtime.task_runner import TaskRunner
from app.storage.base import ConsumerRecord, FetchedRecord, SinkConsumer, State, Subscription
from connectors.sdk.errors import ConnectError, RetriableError
from connectors.sdk.records import Header, SinkRecord, TopicPartition
from connectors.sdk.sink import SinkTask, SinkTaskContext

log = structlog.get_logger(__name__)


class _ErrantRecordReporter:
    """KIP-610: a sink task reports one record it could not write; the connector's tolerance,
    error log and dead-letter queue decide what happens (the DLQ gets the record's original bytes)."""

    def __init__(self, runner: SinkTaskRunner) -> None:
        self._runner = runner

    async def report(self, record: SinkRecord, error: BaseException) -> None:
        runner = self._runner
        original = runner.batch_original(
            record.original_topic or record.topic, record.original_partition, record.original_offset
        )
        if original is None:
            original = self._reserialised(record)
        exc = error if isinstance(error, Exception) else ConnectError(str(error))
        runner.errors.fail(Stage.TASK_PUT, exc, runner.plugin_put, original, record)

    def _reserialised(self, record: SinkRecord) -> FetchedRecord | None:
        """A record reported after its batch was put (a sink that writes in the background) has
        no original bytes kept: as Kafka does for records reported after transformation (§9.3),
        it is written to the dead-letter queue through the connector's own converters."""
        conv = self._runner._converters
        topic = record.original_topic or record.topic
        try:
            key = conv.key.from_connect_data(topic, record.key_schema, record.key)
            value = conv.value.from_connect_data(topic, record.value_schema, record.value)
            headers = [
                (h.key, conv.header.from_connect_header(topic, h.key, h.schema, h.value))
                for h in record.headers
            ]
        except Exception:
            log.warning("could not re-serialise a reported record for the dead-letter queue")
            return None
        return ConsumerRecord(
            topic,
            record.original_partition,
            record.original_offset,
            record.timestamp or 0,
            key,
            value,
            headers,
        )


class SinkTaskRunner(TaskRunner):
    connector_type = "sink"
    framework: SinkConnectorConfig
    consumer: SinkConsumer | None = None

    async def execute(self) -> None:
        task: SinkTask[Any] = self.new_plugin_task()
        context = SinkTaskContext(
            _ErrantRecordReporter(self),
            metrics=self.ctx.metrics.plugin_metrics(*self.id),
            details=self.details,
        )
        self.plugin_put = task.put
        context.stopping = self.stopping
        task.initialize(context)
        framework = self.framework
        self._converters = build_converters(self.ctx.registry, self.ctx.settings, framework)
        self._transforms = build_transforms(self.ctx.registry, framework)
        self.errors = ErrorHandler.from_config(self.id.connector, self.id.task, framework, self.metrics)
        if self.errors.dlq_topic:
            await self.ensure_dead_letter_topic()
        self._batch: Sequence[FetchedRecord] = ()  # the records of the batch being put, as fetched
        self._batch_index: dict[tuple[str, int, int], FetchedRecord] | None = None
        consumer = self.open_consumer()
        self.consumer = consumer
        self._consumed: dict[TopicPartition, int] = {}
        self._paused_partitions: set[TopicPartition] = set()
        self._committed: dict[TopicPartition, int] = {}
        self.records_put = 0
        graceful = False
        try:
            await task.start(task.config_model.parse(self.config))
            await consumer.start()
            self.mark_started()
            await self._loop(task, context, consumer)
            graceful = True
        finally:
            try:
                if graceful:
                    await self._commit(task, consumer)
                    await task.close(set(consumer.assignment))
            finally:
                self._transforms.close()
                await self._converters.close()
                await consumer.close()
                await task.stop()

    def open_consumer(self) -> SinkConsumer:
        """The task's member of its connector's consumer group, on the connector's topics."""
        framework = self.framework
        subscription = Subscription(tuple(framework.topics), framework.topics_pattern)
        return self.ctx.bus.sink_consumer(framework.group_id, str(self.id), subscription, self.config)

    async def _loop(self, task: SinkTask[Any], context: SinkTaskContext, consumer: SinkConsumer) -> None:
        interval = self.ctx.settings.offset_flush_interval_ms / 1000
        next_commit = time.monotonic() + interval
        held: list[FetchedRecord] = []  # fetched as a pause arrived: put after the resume
        paused_here = False
        """The pause is in effect: offsets committed, every partition paused in the consumer."""
        while not self.stopping.is_set():
            if self.paused != paused_here:
                paused_here = self.paused
                if paused_here:
                    await self._commit(task, consumer)  # what was put before the pause
                    consumer.set_active(False)
                    consumer.pause(consumer.assignment)
                else:
                    consumer.resume(consumer.assignment - self._paused_partitions)
                    consumer.set_active(True)
            if paused_here:
                # From here on nothing reaches the target. Said on every pass: a resume and a new
                # pause may both have come while the loop was fetching.
                self.paused_now()
            changes = await consumer.poll_rebalance()
            if changes is not None:
                revoked, assigned = changes
                if revoked:
                    held = [r for r in held if TopicPartition(r.topic, r.partition) not in revoked]
                    await self._commit(task, consumer, revoked)
                    await task.close(revoked)
                    for tp in revoked:
                        self._consumed.pop(tp, None)
                        self._committed.pop(tp, None)
                    consumer.release(revoked)
                context.set_assignment(consumer.assignment)
                if assigned:
                    if paused_here:
                        consumer.pause(assigned)
                    await task.open(assigned)
            if not paused_here:
                self._apply_requests(context, consumer)
            fetched: Sequence[FetchedRecord]
            if held and not self.paused:
                fetched, held = held, []
            else:
                # Paused, this still polls (fetching nothing), so a Kafka consumer stays in its
                # group however long the pause lasts.
                fetched = await consumer.fetch(max(0.0, min(0.5, next_commit - time.monotonic())))
            if fetched:
                if self.paused:
                    held.extend(fetched)
                    continue
                self.metrics.read(len(fetched))
                self._batch, self._batch_index = fetched, None
                records = await self._to_sink_records(fetched)
                if not await self._deliver(task, context, records):
                    return  # stopping while the target was unavailable: offsets stay uncommitted
                topics = self._note_consumed(fetched)
                self.records_put += len(records)
                await self.ctx.topics.record(self.id.connector, topics)
                await self._send_dead_letters()
                if consumer.commit_after_every_batch:
                    await self._commit(task, consumer)
                    next_commit = time.monotonic() + interval
            if context.take_commit_request() or time.monotonic() >= next_commit:
                await self._commit(task, consumer)  # also on the timer while paused
                next_commit = time.monotonic() + interval

    def _apply_requests(self, context: SinkTaskContext, consumer: SinkConsumer) -> None:
        """The task's partition pauses and rewinds (``SinkTaskContext``), between two puts."""
        wanted = context.paused()
        if wanted != self._paused_partitions:
            consumer.resume(self._paused_partitions - wanted)
            consumer.pause(wanted - self._paused_partitions)
            self._paused_partitions = wanted
        for tp, position in context.take_rewinds().items():
            consumer.seek(tp, position)
            if tp in self._consumed:
                self._consumed[tp] = position

    def batch_original(self, topic: str, partition: int, offset: int) -> FetchedRecord | None:
        """A record of the batch being put, as fetched (its bytes go to the dead-letter queue).

        Indexed on the first question only: most batches are put without any record reported.
        """
        if self._batch_index is None:
            self._batch_index = {(r.topic, r.partition, r.offset): r for r in self._batch}
        return self._batch_index.get((topic, partition, offset))

    def _note_consumed(self, fetched: Sequence[FetchedRecord]) -> set[str]:
        """Each partition's next offset after the batch (committable once flushed); the topics read.

        A fetch hands partitions over in runs, so a partition's key is made once per run.
        """
        consumed, topics = self._consumed, set()
        topic, partition, last = "", -1, -1
        for r in fetched:
            if r.partition != partition or r.topic != topic:
                if partition >= 0:
                    consumed[TopicPartition(topic, partition)] = last + 1
                topic, partition = r.topic, r.partition
                topics.add(topic)
            last = r.offset
        if partition >= 0:
            consumed[TopicPartition(topic, partition)] = last + 1
        return topics

    async def _to_sink_records(self, fetched: Sequence[FetchedRecord]) -> list[SinkRecord]:
        """Converters, then transforms, over one fetched batch.

        One tight loop without the error handler (:meth:`_convert_until_failure`); only a record
        that raised goes through the handler, which retries, tolerates or reports it.
        """
        errors, conv = self.errors, self._converters
        out: list[SinkRecord] = []
        if conv.has_hooks and not await conv.prepare_batch(
            errors,
            to_connect=True,
            keys=[(cr.topic, cr.key) for cr in fetched],
            values=[(cr.topic, cr.value) for cr in fetched],
            records=[(cr, cr, None) for cr in fetched],
            sleep=self.sleep,
        ):
            return out  # the whole batch failed at a converter and was tolerated
        done, total = 0, len(fetched)
        while done < total:
            done = self._convert_until_failure(fetched, done, out)
            if done < total:  # this record raised: once more through the error handler
                await self._convert_one(fetched[done], out)
                done += 1
        return out

    def _convert_until_failure(
        self, fetched: Sequence[FetchedRecord], start: int, out: list[SinkRecord]
    ) -> int:
        """Convert and transform ``fetched[start:]`` into ``out`` without the error handler; the
        index of the first record that raised (then repeated by :meth:`_convert_one`: converters
        and transforms are pure functions of their input), or ``len(fetched)``."""
        conv, chain = self._converters, self._transforms
        key_of, value_of, header_of = conv.key.to_connect_data, conv.value.to_connect_data, conv.header
        apply = chain.apply if chain else None
        add = out.append
        index = start
        try:
            for index in range(start, len(fetched)):
                cr = fetched[index]
                topic = cr.topic
                key = key_of(topic, cr.key)
                value = value_of(topic, cr.value)
                headers = (
                    tuple(
                        Header(k, sv.value, sv.schema)
                        for k, v in cr.headers
                        for sv in (header_of.to_connect_header(topic, k, v),)
                    )
                    if cr.headers
                    else ()
                )
                record = SinkRecord(
                    topic,
                    value.value,
                    value.schema,
                    key.value,
                    key.schema,
                    cr.partition,
                    cr.timestamp,
                    headers,
                    cr.offset,
                    topic,
                    cr.partition,
                    cr.offset,
                )
                if apply is None:
                    add(record)
                    continue
                transformed = apply(record)
                if isinstance(transformed, SinkRecord):  # else dropped by a transform or filter
                    add(transformed)
        except Exception:
            return index
        return len(fetched)

    async def _convert_one(self, cr: FetchedRecord, out: list[SinkRecord]) -> None:
        """One record through the error handler, stage by stage (a failure retried, tolerated or fatal)."""
        errors, conv, chain = self.errors, self._converters, self._transforms
        key: Any = errors.run(
            Stage.KEY_CONVERTER, conv.key.to_connect_data, cr.topic, cr.key, original=cr, shown=cr
        )
        if key.__class__ is Retry:
            key = await errors.retry(key, self.sleep)
        if key is SKIP:  # failed once: one error, one dead letter (as Kafka stops at the first)
            return
        value: Any = errors.run(
            Stage.VALUE_CONVERTER, conv.value.to_connect_data, cr.topic, cr.value, original=cr, shown=cr
        )
        if value.__class__ is Retry:
            value = await errors.retry(value, self.sleep)
        if value is SKIP:
            return
        headers = tuple(
            Header(k, sv.value, sv.schema)
            for k, v in cr.headers
            for sv in (conv.header.to_connect_header(cr.topic, k, v),)
        )
        record = SinkRecord(
            topic=cr.topic,
            value=value.value,
            value_schema=value.schema,
            key=key.value,
            key_schema=key.schema,
            partition=cr.partition,
            timestamp=cr.timestamp,
            headers=headers,
            kafka_offset=cr.offset,
            original_topic=cr.topic,
            original_partition=cr.partition,
            original_offset=cr.offset,
        )
        if chain:
            transformed: Any = errors.run(
                Stage.TRANSFORMATION, chain.apply, record, original=cr, shown=record
            )
            if transformed.__class__ is Retry:
                transformed = await errors.retry(transformed, self.sleep)
            if not isinstance(transformed, SinkRecord):
                return
            record = transformed
        out.append(record)

    async def _deliver(
        self, task: SinkTask[Any], context: SinkTaskContext, records: list[SinkRecord]
    ) -> bool:
        """Put the batch, retrying it while the task says the failure is temporary.

        As in Kafka Connect a retriable ``put`` is retried without end by default; with
        ``errors.retry.timeout`` > 0 the task fails once that much time has passed (and the
        automatic restart policy takes over). The wait is ``context.timeout(ms)`` when the task
        set one, else ``RetriableError.retry_after``, else an exponential backoff capped by
        ``errors.retry.delay.max.ms``.
        """
        framework = self.framework
        timeout_ms = framework.errors_retry_timeout
        deadline = time.monotonic() + timeout_ms / 1000 if timeout_ms > 0 else None
        cap = max(framework.errors_retry_delay_max_ms / 1000, RETRY_DELAY_MIN_S)
        backoff = RETRY_DELAY_MIN_S
        while True:
            try:
                if records:
                    started = time.monotonic()
                    await task.put(records)
                    self.metrics.sent(len(records), time.monotonic() - started)
                return True
            except RetriableError as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                delay = context.take_timeout_s()
                if delay is None:
                    delay = exc.retry_after if exc.retry_after is not None else backoff
                log.warning("put failed, retrying the same batch", error=str(exc), retry_in_s=delay)
                await self.sleep(delay)
                if self.stopping.is_set():
                    return False
                backoff = min(backoff * 2, cap)

    async def _send_dead_letters(self) -> None:
        letters = self.errors.take_dead_letters()
        if letters:
            await self.ctx.bus.send_batch(letters)
            self.count_dead_letters(len(letters))

    async def _commit(
        self, task: SinkTask[Any], consumer: SinkConsumer, only: set[TopicPartition] | None = None
    ) -> None:
        await self._send_dead_letters()  # reported by a task writing in the background since its put
        offsets = {tp: off for tp, off in self._consumed.items() if only is None or tp in only}
        if only is None:
            self._report_lag(consumer)
        offsets = {tp: off for tp, off in offsets.items() if self._committed.get(tp) != off}
        if not offsets:
            self.metrics.commit_skipped()
            return  # nothing put since the last commit
        timeout = self.ctx.settings.offset_flush_timeout_ms / 1000
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                safe = await task.pre_commit(offsets)
        except TimeoutError:
            self.metrics.commit(False, timeout * 1000)
            log.warning("flush timed out; offsets not committed this time", timeout_s=timeout)
            return
        await self._send_dead_letters()  # in the DLQ before their offsets are committed
        if not safe:
            self.metrics.commit_skipped()
            return
        with self.metrics.timed_commit(started):
            stored = await consumer.commit(dict(safe))
        if stored:
            self._committed.update(safe)

    def _report_lag(self, consumer: SinkConsumer) -> None:
        """Shown as ``consumer_lag`` in the task's status, refreshed at every offset commit."""
        lag, lost = consumer.lag(), consumer.records_lost
        if lag is not None:
            self.metrics.lag(lag)
        current = self.ctx.statuses.task(self.id)
        if (
            current is not None
            and current.state in (State.RUNNING, State.PAUSED)
            and (current.consumer_lag, current.records_lost) != (lag, lost)
        ):
            self.ctx.statuses.put_task(self.id, replace(current, consumer_lag=lag, records_lost=lost))
