"""``errors.tolerance`` for the per-record stages (conversion, transformation).

With ``none`` (the default) the first failing record fails the task, as in Kafka Connect. With
``all`` the record is skipped, logged when ``errors.log.enable=true``, and, with
``errors.deadletterqueue.topic.name``, written to the dead-letter topic with ``__connect.errors.*``
context headers when ``errors.deadletterqueue.context.headers.enable``. A sink's dead letter holds
the record's original bytes; a source's (Penstock's extension: Kafka Connect has no source DLQ)
holds the record as the source task produced it, before any transform, serialized by
``source_dead_letter``, so a replay runs it through the whole chain again.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import structlog

from app.config.connector_config import ConnectorConfig
from app.metrics import TaskMetrics
from app.storage.base import FetchedRecord, ProducerRecord
from connectors.sdk.errors import ConnectError, RetriableError

T = TypeVar("T")
log = structlog.get_logger(__name__)


class Stage(StrEnum):
    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    HEADER_CONVERTER = "HEADER_CONVERTER"
    TRANSFORMATION = "TRANSFORMATION"
    TASK_PUT = "TASK_PUT"
    """A sink task reported the record through its errant-record reporter (KIP-610)."""


class ToleranceExceeded(ConnectError):
    pass


class Skip:
    """Returned instead of a value when a failure was tolerated (None is a valid value)."""


SKIP = Skip()
RETRY_DELAY_MIN_S = 0.3
"""Kafka Connect's first retry delay (RetryWithToleranceOperator.RETRIES_DELAY_MIN_MS)."""


@dataclass(slots=True, frozen=True)
class Retry:
    """Returned by :meth:`ErrorHandler.run` when a retriable failure should be retried: the call
    to repeat, for :meth:`ErrorHandler.retry`."""

    error: Exception
    stage: Stage
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    original: FetchedRecord | None
    shown: Any
    source: Any = None


@dataclass(slots=True, frozen=True)
class _Failed:
    error: Exception


@dataclass(slots=True)
class ErrorHandler:
    connector: str
    task: int
    tolerate_all: bool = False
    log_errors: bool = False
    log_messages: bool = False
    dlq_topic: str | None = None
    dlq_headers: bool = False
    retry_timeout_ms: int = 0
    """``errors.retry.timeout``: 0 never retries, -1 retries forever."""
    retry_delay_max_ms: int = 60_000
    dead_letters: list[ProducerRecord] = field(default_factory=list)
    errors_total: int = 0
    metrics: TaskMetrics | None = None
    source_dead_letter: Callable[[Any], FetchedRecord] | None = None
    """Sources: turns the record a source task produced into the bytes its dead letter holds."""

    @classmethod
    def from_config(
        cls, connector: str, task: int, config: ConnectorConfig, metrics: TaskMetrics | None = None
    ) -> ErrorHandler:
        return cls(
            connector,
            task,
            tolerate_all=config.errors_tolerance == "all",
            log_errors=config.errors_log_enable,
            log_messages=config.errors_log_include_messages,
            dlq_topic=config.errors_deadletterqueue_topic_name.strip() or None,
            dlq_headers=config.errors_deadletterqueue_context_headers_enable,
            retry_timeout_ms=config.errors_retry_timeout,
            retry_delay_max_ms=config.errors_retry_delay_max_ms,
            metrics=metrics,
        )

    @property
    def retries(self) -> bool:
        return self.retry_timeout_ms != 0

    def run(
        self,
        stage: Stage,
        fn: Callable[..., T],
        *args: Any,
        original: FetchedRecord | None = None,
        shown: Any = None,
        source: Any = None,
    ) -> T | Skip | Retry:
        """``fn(*args)``; ``SKIP`` when it failed and the failure is tolerated; a :class:`Retry` when
        it failed with a ``RetriableError`` and ``errors.retry.timeout`` asks for retries (the caller
        then awaits :meth:`retry`, so the fast path stays synchronous). ``original`` is a sink
        record's consumed form, ``source`` a source record as its task produced it: what a dead
        letter holds."""
        try:
            return fn(*args)
        except Exception as exc:
            if self.retries and isinstance(exc, RetriableError):
                return Retry(exc, stage, fn, args, original, shown, source)
            return self.fail(stage, exc, fn, original, shown, source)

    async def retry(self, pending: Retry, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Any:
        """Repeat the call that returned ``pending``; its result, or ``SKIP`` once the failure is
        tolerated after the retries (raises under ``errors.tolerance=none``)."""

        async def attempt() -> Any:
            return pending.fn(*pending.args)

        outcome = await self._retrying(attempt, pending.error, sleep)
        if isinstance(outcome, _Failed):
            return self.fail(
                pending.stage, outcome.error, pending.fn, pending.original, pending.shown, pending.source
            )
        return outcome

    async def run_batch_hook(
        self,
        stage: Stage,
        hook: Callable[[Any], Awaitable[None]],
        items: Any,
        records: Sequence[tuple[FetchedRecord | None, Any, Any]],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> bool:
        """Await a converter's batch hook (``prepare_*``); False when it failed and every record
        of the batch was tolerated (``records`` are their ``(original, shown, source)`` triples).

        A failure counts against each record of the batch, as if each per-record call had raised
        it; a ``RetriableError`` is retried first, as for a per-record stage.
        """
        try:
            await hook(items)
            return True
        except Exception as exc:
            error = exc
        if self.retries and isinstance(error, RetriableError):
            outcome = await self._retrying(lambda: hook(items), error, sleep)
            if not isinstance(outcome, _Failed):
                return True
            error = outcome.error
        for original, shown, source in records:
            self.fail(stage, error, hook, original, shown, source)
        return False

    async def _retrying(
        self, attempt: Callable[[], Awaitable[T]], error: Exception, sleep: Callable[[float], Awaitable[None]]
    ) -> T | _Failed:
        """Kafka's RetryWithToleranceOperator: repeat ``attempt`` while it raises ``RetriableError``,
        waiting 300 ms, then doubling up to ``errors.retry.delay.max.ms``, until
        ``errors.retry.timeout`` has passed (-1: forever). ``_Failed`` carries the last error."""
        deadline = None if self.retry_timeout_ms < 0 else time.monotonic() + self.retry_timeout_ms / 1000
        delay_s = RETRY_DELAY_MIN_S
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return _Failed(error)
            wait = min(delay_s, self.retry_delay_max_ms / 1000)
            await sleep(wait if remaining is None else min(wait, remaining))
            delay_s *= 2
            try:
                return await attempt()
            except Exception as exc:
                if not isinstance(exc, RetriableError):
                    return _Failed(exc)
                error = exc
                log.debug("retrying a failed operation", error=repr(exc))

    def fail(
        self,
        stage: Stage,
        exc: Exception,
        fn: Callable[..., Any],
        original: FetchedRecord | None,
        shown: Any,
        source: Any = None,
    ) -> Skip:
        """Count a failed record; raise under ``errors.tolerance=none``, else log it, queue its
        original bytes for the dead-letter queue and return ``SKIP``."""
        self.errors_total += 1
        if self.metrics is not None:
            self.metrics.error(stage)
        executing = _executing_name(fn)
        if not self.tolerate_all:
            where = f" in {executing}" if stage is Stage.TRANSFORMATION else ""
            raise ToleranceExceeded(
                f"Tolerance exceeded in error handler at stage {stage}{where}: {exc}"
            ) from exc
        if original is None and source is not None and self.source_dead_letter is not None:
            original = self.source_dead_letter(source)
        self._report(stage, exc, original, shown, executing)
        return SKIP

    def _report(
        self, stage: Stage, exc: Exception, original: FetchedRecord | None, shown: Any, executing: str
    ) -> None:
        if self.log_errors:
            log.error(
                "record failed and was skipped (errors.tolerance=all)",
                stage=str(stage),
                error=repr(exc),
                record=repr(shown) if self.log_messages else None,
            )
        if self.dlq_topic and original is not None:
            headers = list(original.headers)
            if self.dlq_headers:
                headers += [
                    (f"__connect.errors.{k}", str(v).encode())
                    for k, v in {
                        "topic": original.topic,
                        "partition": original.partition,
                        "offset": original.offset,
                        "connector.name": self.connector,
                        "task.id": self.task,
                        "stage": stage,
                        "class.name": executing,
                        "exception.class.name": _qualified(type(exc)),
                        "exception.message": str(exc),
                        "exception.stacktrace": "".join(traceback.format_exception(exc)),
                    }.items()
                ]
            self.dead_letters.append(
                ProducerRecord(
                    self.dlq_topic, original.value, original.key, None, original.timestamp, headers
                )
            )

    def take_dead_letters(self) -> list[ProducerRecord]:
        letters, self.dead_letters = self.dead_letters, []
        return letters


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _executing_name(fn: Callable[..., Any]) -> str:
    """The converter or transformation class that ran (Kafka's ``class.name`` header)."""
    owner = getattr(fn, "__self__", None)
    failed = getattr(owner, "failed_class", None)  # a transform chain names its failing step
    if isinstance(failed, str):
        return failed
    if owner is not None:
        return _qualified(type(owner))
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
