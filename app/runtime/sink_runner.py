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
import re
import time
from dataclasses import replace
from typing import Any

import structlog

from app.errors.tolerance import ErrorHandler, Skip, Stage
from app.runtime.pipeline import build_converters, build_transforms, split_list
from app.runtime.states import State
from app.runtime.task_runner import TaskRunner
from app.storage.base import ConsumerRecord, SinkConsumer, Subscription
from connectors.sdk.errors import RetriableError
from connectors.sdk.records import Header, SinkRecord, TopicPartition
from connectors.sdk.sink import SinkTask, SinkTaskContext

log = structlog.get_logger(__name__)
MAX_RETRY_BACKOFF_S = 30.0


def subscription_of(config: dict[str, str]) -> Subscription:
    pattern = (config.get("topics.regex") or "").strip()
    return Subscription(tuple(split_list(config.get("topics"))), re.compile(pattern) if pattern else None)


class SinkTaskRunner(TaskRunner):
    consumer: SinkConsumer | None = None

    def group_id(self) -> str:
        return self.config.get("consumer.override.group.id") or f"connect-{self.id.connector}"

    async def execute(self) -> None:
        task: SinkTask[Any] = self.new_plugin_task()
        context = SinkTaskContext(self.ctx.metrics.plugin_metrics(*self.id))
        task.initialize(context)
        self._converters = build_converters(self.ctx.registry, self.ctx.settings, self.config)
        self._transforms = build_transforms(self.ctx.registry, self.config)
        self._errors = ErrorHandler.from_config(self.id.connector, self.id.task, self.config, self.metrics)
        consumer = self.ctx.bus.sink_consumer(
            self.group_id(), str(self.id), subscription_of(self.config), self.config
        )
        self.consumer = consumer
        self._consumed: dict[TopicPartition, int] = {}
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
                await consumer.close()
                await task.stop()

    async def _loop(self, task: SinkTask[Any], context: SinkTaskContext, consumer: SinkConsumer) -> None:
        interval = self.ctx.settings.offset_flush_interval_ms / 1000
        next_commit = time.monotonic() + interval
        while not self.stopping.is_set():
            if self.paused:
                consumer.set_active(False)
                await self.wait_unpaused()
                consumer.set_active(True)
                continue
            changes = await consumer.poll_rebalance()
            if changes is not None:
                revoked, assigned = changes
                if revoked:
                    await self._commit(task, consumer, revoked)
                    await task.close(revoked)
                    for tp in revoked:
                        self._consumed.pop(tp, None)
                    consumer.release(revoked)
                context.assignment = set(consumer.assignment)
                if assigned:
                    await task.open(assigned)
            wait = max(0.0, min(0.5, next_commit - time.monotonic()))
            fetched = await consumer.fetch(wait)
            if fetched:
                self.metrics.read(len(fetched))
                records = self._to_sink_records(fetched)
                if not await self._deliver(task, records):
                    return  # stopping while the target was unavailable: offsets stay uncommitted
                for r in fetched:
                    self._consumed[TopicPartition(r.topic, r.partition)] = r.offset + 1
                self.records_put += len(records)
                await self.ctx.topics.record(self.id.connector, {r.topic for r in fetched})
                await self._send_dead_letters()
            if context.commit_requested or time.monotonic() >= next_commit:
                context.commit_requested = False
                await self._commit(task, consumer)
                next_commit = time.monotonic() + interval

    def _to_sink_records(self, fetched: list[ConsumerRecord]) -> list[SinkRecord]:
        errors, conv, chain = self._errors, self._converters, self._transforms
        out: list[SinkRecord] = []
        for cr in fetched:
            key = errors.run(
                Stage.KEY_CONVERTER, conv.key.to_connect_data, cr.topic, cr.key, original=cr, shown=cr
            )
            value = errors.run(
                Stage.VALUE_CONVERTER, conv.value.to_connect_data, cr.topic, cr.value, original=cr, shown=cr
            )
            if isinstance(key, Skip) or isinstance(value, Skip):
                continue
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
                transformed = errors.run(Stage.TRANSFORMATION, chain.apply, record, original=cr, shown=record)
                if not isinstance(transformed, SinkRecord):
                    continue
                record = transformed
            out.append(record)
        return out

    async def _deliver(self, task: SinkTask[Any], records: list[SinkRecord]) -> bool:
        """Put the batch, retrying it while the task says the failure is temporary."""
        backoff = 0.5
        while True:
            try:
                if records:
                    started = time.monotonic()
                    await task.put(records)
                    self.metrics.sent(len(records), time.monotonic() - started)
                return True
            except RetriableError as exc:
                delay = exc.retry_after if exc.retry_after is not None else backoff
                log.warning("put failed, retrying the same batch", error=str(exc), retry_in_s=delay)
                await self.sleep(delay)
                if self.stopping.is_set():
                    return False
                backoff = min(backoff * 2, MAX_RETRY_BACKOFF_S)

    async def _send_dead_letters(self) -> None:
        letters = self._errors.take_dead_letters()
        if letters:
            await self.ctx.bus.send_batch(letters)
            self.metrics.dead_lettered(len(letters))

    async def _commit(
        self, task: SinkTask[Any], consumer: SinkConsumer, only: set[TopicPartition] | None = None
    ) -> None:
        offsets = {tp: off for tp, off in self._consumed.items() if only is None or tp in only}
        if only is None:
            self._report_lag(consumer)
        if not offsets:
            self.metrics.commit_skipped()
            return
        timeout = self.ctx.settings.offset_flush_timeout_ms / 1000
        started = time.monotonic()
        try:
            async with asyncio.timeout(timeout):
                safe = await task.pre_commit(offsets)
        except TimeoutError:
            self.metrics.commit(False, timeout * 1000)
            log.warning("flush timed out; offsets not committed this time", timeout_s=timeout)
            return
        if safe:
            with self.metrics.timed_commit(started):
                await consumer.commit(dict(safe))
        else:
            self.metrics.commit_skipped()

    def _report_lag(self, consumer: SinkConsumer) -> None:
        """Shown as ``consumer_lag`` in the task's status, refreshed at every offset commit."""
        lag = consumer.lag()
        self.metrics.lag(lag)
        current = self.ctx.statuses.task(self.id)
        if current is not None and current.state is State.RUNNING and current.consumer_lag != lag:
            self.ctx.statuses.put_task(self.id, replace(current, consumer_lag=lag))
