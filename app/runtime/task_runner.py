"""Lifecycle shared by source and sink runners: one asyncio task per connector task.

A runner reports its state to the status store itself. Stop is three steps, as in Kafka
Connect: signal (``stopping``), wait up to the grace period, then cancel. An exception
marks the task FAILED with its trace and is reported once to the failure callback (which
decides about an automatic restart); sibling tasks keep running.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import structlog

from app.config.connector_config import ConnectorConfig, parse_connector_config
from app.config.secrets import mask_text
from app.logging import hide_in_logs
from app.runtime.context import RuntimeContext
from app.storage.base import State, Status, TaskId
from connectors.sdk.status import StatusDetails

log = structlog.get_logger(__name__)
DETAILS_INTERVAL_S = 1.0


def first_error(exc: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from a TaskGroup."""
    while isinstance(exc, BaseExceptionGroup):
        inner = [e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)]
        exc = inner[0] if inner else exc.exceptions[0]
    return exc


def format_trace(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The trace shown in ``/status``, with the config's secret values masked."""
    return mask_text("".join(traceback.format_exception(exc)).rstrip(), secrets)


class TaskRunner(ABC):
    connector_type: str
    framework: ConnectorConfig
    """The task's framework settings, parsed once when it starts (errors, converters, transforms)."""

    def __init__(self, task_id: TaskId, config: dict[str, str], ctx: RuntimeContext, *, paused: bool) -> None:
        self.id = task_id
        self.config = config
        """Placeholders resolved once the task runs; the stored config keeps them."""
        self.secrets = ctx.secrets_of(config)
        self.ctx = ctx
        self.stopping = asyncio.Event()
        self._resumed = asyncio.Event()
        if not paused:
            self._resumed.set()
        self._task: asyncio.Task[None] | None = None
        self.state = State.UNASSIGNED
        self.metrics = ctx.metrics.task(task_id.connector, task_id.task)
        self.dead_lettered = 0
        """Records sent to the dead-letter queue by this run of the task (shown in its status)."""
        self.details = StatusDetails(self._details_changed)
        """Handed to the plugin task as ``context.details``."""
        self._details_written_at = 0.0
        self._details_pending: asyncio.TimerHandle | None = None

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=str(self.id))

    async def _run(self) -> None:
        structlog.contextvars.bind_contextvars(connector=self.id.connector, task=self.id.task)
        try:
            self.config, self.secrets = await self.resolve_config()
            hide_in_logs(self.secrets)
            self.framework = parse_connector_config(self.config, self.connector_type)
            await self.execute()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            error = first_error(exc)
            if isinstance(error, asyncio.CancelledError):
                raise error from None
            self.set_state(State.FAILED, trace=format_trace(error, self.secrets))
            log.error("task failed", error=mask_text(repr(error), self.secrets))
            self.report_failure(error)

    async def resolve_config(self) -> tuple[dict[str, str], set[str]]:
        """The task's config with placeholders resolved (a TTL schedules the connector's restart)."""
        return await self.ctx.resolve(self.id.connector, self.config)

    def report_failure(self, error: BaseException) -> None:
        """Tell the herder (which may restart the task automatically)."""
        self.ctx.on_failure(self.id.connector, self.id, error)

    @abstractmethod
    async def execute(self) -> None:
        """Start the plugin task and run until ``stopping`` is set."""

    def set_state(self, state: State, trace: str | None = None) -> None:
        self.state = state
        previous = self.ctx.statuses.task(self.id)
        auto = previous.auto_restart if previous and state is State.FAILED else None
        self.ctx.statuses.put_task(
            self.id,
            Status(
                state,
                self.ctx.worker_id,
                trace,
                auto,
                dead_lettered=self.dead_lettered,
                details=self.details.values or None,
            ),
        )

    def _details_changed(self, _: object) -> None:
        """Written to the status store at most once per ``DETAILS_INTERVAL_S`` (a status write is
        a Kafka record in distributed mode), the latest values always last."""
        if self._details_pending is not None:
            return
        wait = self._details_written_at + DETAILS_INTERVAL_S - time.monotonic()
        if wait <= 0:
            self._write_details()
        else:
            self._details_pending = asyncio.get_running_loop().call_later(wait, self._write_details)

    def _write_details(self) -> None:
        self._details_pending = None
        self._details_written_at = time.monotonic()
        current = self.ctx.statuses.task(self.id)
        if current is not None and current.state in (State.RUNNING, State.PAUSED):
            self.ctx.statuses.put_task(self.id, replace(current, details=self.details.values or None))

    async def ensure_dead_letter_topic(self) -> None:
        """Create a missing DLQ topic when the task starts, as Kafka Connect does (one partition,
        ``errors.deadletterqueue.topic.replication.factor`` replicas), so a topic that cannot be
        created fails the task at once rather than at its first bad record."""
        topic = self.framework.errors_deadletterqueue_topic_name.strip()
        rf = self.framework.errors_deadletterqueue_topic_replication_factor
        await self.ctx.bus.ensure_topic(
            topic, 1, rf, replication_setting="errors.deadletterqueue.topic.replication.factor"
        )

    def count_dead_letters(self, n: int) -> None:
        """``n`` records reached the DLQ: counted in ``/metrics`` and in the task's status."""
        self.metrics.dead_lettered(n)
        self.dead_lettered += n
        current = self.ctx.statuses.task(self.id)
        if current is not None and current.state in (State.RUNNING, State.PAUSED):
            self.ctx.statuses.put_task(self.id, replace(current, dead_lettered=self.dead_lettered))

    def mark_started(self) -> None:
        self.set_state(State.PAUSED if self.paused else State.RUNNING)

    def pause(self) -> None:
        """Ask the task to pause; its loop reports PAUSED (:meth:`paused_now`) once nothing more is written."""
        self._resumed.clear()

    def paused_now(self) -> None:
        """Called by the data loop at a safe point: from here on nothing reaches the target."""
        if self.state is State.RUNNING and self.paused:
            self.set_state(State.PAUSED)

    def resume(self) -> None:
        self._resumed.set()
        if self.state is State.PAUSED:
            self.set_state(State.RUNNING)

    async def wait_unpaused(self, timeout: float | None = None) -> None:
        """Return when resumed or stopping (or after ``timeout`` seconds)."""
        if self._resumed.is_set():
            return
        stop = asyncio.ensure_future(self.stopping.wait())
        resume = asyncio.ensure_future(self._resumed.wait())
        try:
            await asyncio.wait({stop, resume}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            resume.cancel()

    async def sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when asked to stop."""
        try:
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        except TimeoutError:
            pass

    async def stop(self, grace: float) -> None:
        self.stopping.set()
        self._resumed.set()
        task = self._task
        if task is None or task.done():
            return
        try:
            async with asyncio.timeout(grace):
                await asyncio.shield(task)
        except TimeoutError:
            log.warning("task did not stop within the grace period; cancelling", grace_s=grace)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        except asyncio.CancelledError:
            task.cancel()
            raise

    def done(self) -> bool:
        return self._task is not None and self._task.done()

    def new_plugin_task(self) -> Any:
        connector = self.ctx.registry.resolve(self.config["connector.class"], ("source", "sink")).new()
        return connector.task_class()
