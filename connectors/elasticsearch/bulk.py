"""The bulk writer: a bounded buffer of actions, sent as concurrent bulk requests, retried in order.

``put`` appends actions; a background loop cuts batches (``batch.size``, ``bulk.size.bytes``,
``linger.ms``) and keeps up to ``max.in.flight.requests`` bulk requests going. Ordering: a batch
never holds two writes to one document, and a write waits while an earlier write to its document
is in flight, so retries never reorder writes to the same id. A failed request (Elasticsearch
down, a timeout, 429, 5xx) and failed items with such a status are retried, with Confluent's
backoff (a random wait below ``retry.backoff.ms``·2ⁿ, n capped at ``max.retries``), for as long as
it takes: the task status says why it waits. Malformed documents follow
``behavior.on.malformed.documents``. :class:`Progress` tracks which offsets are safe to commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, cast

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, AsyncElasticsearch

from connectors.elasticsearch.client import describe_failure
from connectors.elasticsearch.config import ElasticsearchSinkConfig, MalformedBehavior
from connectors.elasticsearch.documents import Action
from connectors.sdk import ConnectError, SinkRecord, StatusDetails, TopicPartition

log = logging.getLogger(__name__)

MALFORMED = (
    "mapper_parsing_exception",
    "illegal_argument_exception",
    "action_request_validation_exception",
    "strict_dynamic_mapping_exception",
    "document_parsing_exception",
)
VERSION_CONFLICT = "version_conflict_engine_exception"
RETRIABLE_EXCEPTIONS = (TransportConnectionError, ConnectionTimeout, asyncio.TimeoutError)

Report = Callable[[SinkRecord, BaseException], Awaitable[None]]


class Progress:
    """Per partition, the offsets put but not yet settled (written, or dropped on purpose).

    The safe offset to commit is the first unsettled one, or one past the last offset seen."""

    def __init__(self) -> None:
        self._pending: dict[TopicPartition, deque[int]] = {}
        self._settled: dict[TopicPartition, set[int]] = {}
        self._next: dict[TopicPartition, int] = {}

    def seen(self, tp: TopicPartition, offset: int) -> None:
        self._next[tp] = max(self._next.get(tp, 0), offset + 1)

    def add(self, tp: TopicPartition, offset: int) -> None:
        self._pending.setdefault(tp, deque()).append(offset)
        self._settled.setdefault(tp, set())
        self.seen(tp, offset)

    def settle(self, tp: TopicPartition, offset: int) -> None:
        pending = self._pending.get(tp)
        if not pending:
            return
        settled = self._settled[tp]
        settled.add(offset)
        while pending and pending[0] in settled:
            settled.discard(pending.popleft())

    def safe(self, tp: TopicPartition) -> int | None:
        pending = self._pending.get(tp)
        if pending:
            return pending[0]
        return self._next.get(tp)

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            self._pending.pop(tp, None)
            self._settled.pop(tp, None)
            self._next.pop(tp, None)

    @property
    def unsettled(self) -> int:
        return sum(len(p) for p in self._pending.values())


class BulkWriter:
    def __init__(
        self,
        client: AsyncElasticsearch,
        config: ElasticsearchSinkConfig,
        report: Report,
        details: StatusDetails,
        on_progress: Callable[[], None] = lambda: None,
    ) -> None:
        self._client = client
        self._config = config
        self._report = report
        self._details = details
        self._on_progress = on_progress
        """Called after each request: the task resumes fetching once the buffer has room."""
        self.progress = Progress()
        self._buffer: deque[Action] = deque()
        self._in_flight_ids: dict[tuple[str, str], int] = {}
        self._slots = asyncio.Semaphore(config.max_in_flight_requests)
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._requests: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self.failure: BaseException | None = None
        self._waiting_reason: str | None = None
        self.documents_written = 0

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> None:
        self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="es-bulk-writer")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._requests) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- intake -------------------------------------------------------------------------------------
    def add(self, actions: Iterable[Action]) -> None:
        for action in actions:
            self.progress.add(action.record.original_topic_partition, action.record.original_offset)
            self._buffer.append(action)
        self._wake.set()

    @property
    def buffered(self) -> int:
        """Actions not yet written: waiting in the buffer or in a request."""
        return self.progress.unsettled

    def drop(self, partitions: set[TopicPartition]) -> None:
        """Partitions revoked: their waiting actions go (the next owner reads them again)."""
        self._buffer = deque(a for a in self._buffer if a.record.original_topic_partition not in partitions)
        self.progress.forget(partitions)

    async def wait_settled(self, timeout_s: float) -> None:
        """Until every action put so far is written or dropped (``flush.synchronously``)."""
        async with asyncio.timeout(timeout_s):
            while self.buffered and self.failure is None:
                self._changed.clear()
                await self._changed.wait()

    # -- the send loop ----------------------------------------------------------------------------
    async def _run(self) -> None:
        linger = self._config.linger_ms / 1000
        while True:
            if not self._buffer:
                self._wake.clear()
                await self._wake.wait()
                continue
            if len(self._buffer) < self._config.batch_size and linger > 0:
                await asyncio.sleep(linger)
            await self._slots.acquire()
            batch = self._cut_batch()
            if not batch:
                self._slots.release()
                self._changed.clear()
                await self._changed.wait()  # the head waits for an earlier write to its document
                continue
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self._requests.add(task)
            task.add_done_callback(self._requests.discard)

    def _cut_batch(self) -> list[Action]:
        config, buffer, in_flight = self._config, self._buffer, self._in_flight_ids
        limit_bytes = config.bulk_size_bytes if config.bulk_size_bytes > 0 else 1 << 62
        batch: list[Action] = []
        size = 0
        while buffer and len(batch) < config.batch_size:
            action = buffer[0]
            key = (action.index, action.doc_id) if action.doc_id is not None else None
            if key is not None and key in in_flight:
                break
            if batch and size + len(action.lines) > limit_bytes:
                break
            buffer.popleft()
            batch.append(action)
            size += len(action.lines)
            if key is not None:
                in_flight[key] = 1
        return batch

    async def _send(self, batch: list[Action]) -> None:
        attempt = 0
        sent = batch
        try:
            while batch:
                try:
                    response = await self._client.bulk(
                        body=cast(Any, b"".join(a.lines for a in batch)),
                        filter_path="errors,items.*.status,items.*.error",
                    )
                except RETRIABLE_EXCEPTIONS as exc:
                    attempt = await self._backoff(attempt, describe_failure(exc))
                    continue
                except ApiError as exc:
                    if exc.meta.status == 429 or exc.meta.status >= 500:
                        attempt = await self._backoff(attempt, describe_failure(exc))
                        continue
                    raise
                self.waiting(None)
                batch = await self._results(batch, response.body)
                if batch:
                    attempt = await self._backoff(attempt, _first_item_error(response.body))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # kept to fail the task at its next call
            if self.failure is None:
                self.failure = exc
        finally:
            for action in sent:
                self._release(action)
            self._slots.release()
            self._changed.set()
            self._on_progress()

    async def _results(self, batch: list[Action], body: dict[str, Any]) -> list[Action]:
        """Settles the written items; returns those to retry (429/5xx)."""
        items = body.get("items") or []
        if not body.get("errors"):
            for action in batch:
                self._done(action)
            self.documents_written += len(batch)
            return []
        retry: list[Action] = []
        for action, item in zip(batch, items, strict=True):
            (result,) = item.values()
            status = int(result.get("status", 500))
            error = result.get("error")
            if status < 300 or (error and VERSION_CONFLICT in str(error.get("type", ""))):
                self.documents_written += 1
                self._done(action)
            elif status == 429 or status >= 500:
                retry.append(action)
            else:
                await self._failed_item(action, error or {"type": f"HTTP {status}"})
        return retry

    async def _failed_item(self, action: Action, error: dict[str, Any]) -> None:
        kind = str(error.get("type", ""))
        reason = f"{kind}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
        record = action.record
        where = f"topic={record.topic} partition={record.partition} offset={record.kafka_offset}"
        malformed = any(m in reason for m in MALFORMED)
        behavior = self._config.behavior_on_malformed_documents
        exc = ConnectError(f"Indexing record failed: {reason}")
        if malformed and behavior is not MalformedBehavior.FAIL:
            if behavior is MalformedBehavior.WARN:
                log.warning(
                    "Encountered an illegal document error, ignoring the record (%s): %s", where, reason
                )
            else:
                log.debug(
                    "Encountered an illegal document error, ignoring the record (%s): %s", where, reason
                )
            with contextlib.suppress(ConnectError):  # errors.tolerance=none: skipped all the same
                await self._report(record, exc)
            self._done(action)
            return
        log.error("Failed to index the record (%s): %s", where, reason)
        with contextlib.suppress(ConnectError):  # reported (DLQ under errors.tolerance=all), then fatal
            await self._report(record, exc)
        raise exc

    # -- bookkeeping -------------------------------------------------------------------------------
    def _done(self, action: Action) -> None:
        self.progress.settle(action.record.original_topic_partition, action.record.original_offset)

    def _release(self, action: Action) -> None:
        if action.doc_id is not None:
            self._in_flight_ids.pop((action.index, action.doc_id), None)

    async def _backoff(self, attempt: int, reason: str) -> int:
        config = self._config
        ceiling = config.retry_backoff_ms * 2 ** min(attempt, config.max_retries)
        delay = (
            min(random.uniform(config.retry_backoff_ms, max(ceiling, config.retry_backoff_ms)), 86_400_000)
            / 1000
        )
        self.waiting(f"{reason}, retry in {max(1, round(delay))} s")
        if attempt == config.max_retries:
            log.warning(
                "Elasticsearch still failing after %d retries (%s); retrying until it recovers",
                attempt,
                reason,
            )
        await asyncio.sleep(delay)
        return attempt + 1

    def waiting(self, reason: str | None) -> None:
        """Says in the task status why writing waits (None: it does not)."""
        if reason != self._waiting_reason:
            self._waiting_reason = reason
            self._details.set(waiting=None if reason is None else f"waiting for Elasticsearch: {reason}")


def _first_item_error(body: dict[str, Any]) -> str:
    for item in body.get("items") or []:
        (result,) = item.values()
        if result.get("error"):
            error = result["error"]
            return f"HTTP {result.get('status')} {error.get('type', '')}"
    return "item errors"
