"""Schedules automatic restarts of failed connectors and tasks under each connector's policy."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import structlog

from app.runtime.restart_policy import RestartPolicy
from app.storage.base import AutoRestart, Status, TaskId
from connectors.sdk.errors import ConnectError

if TYPE_CHECKING:
    from app.herder.herder import Herder

log = structlog.get_logger(__name__)
HEALTHY_RESET_S = 600.0
"""A failure this long after the previous one starts the attempt count again."""

Target = tuple[str, TaskId | None]


class AutoRestarter:
    def __init__(self, herder: Herder) -> None:
        self._herder = herder
        self._attempts: dict[Target, tuple[int, float]] = {}
        self._pending: dict[Target, asyncio.TimerHandle] = {}

    def on_failure(self, connector: str, task: TaskId | None, error: BaseException) -> None:
        try:
            policy = RestartPolicy.from_config(self._herder.framework_config(connector))
        except ConnectError:  # deleted meanwhile, or a config that cannot be parsed: nothing to restart
            return
        target: Target = (connector, task)
        attempts, last = self._attempts.get(target, (0, 0.0))
        now = time.time()
        if now - last > HEALTHY_RESET_S:
            attempts = 0
        status = self._status(target)
        if not policy.allows(error, attempts):
            if status is not None and attempts:
                status.auto_restart = AutoRestart(attempts, policy.max_attempts, None)
            return
        attempts += 1
        delay = policy.delay(attempts)
        self._attempts[target] = (attempts, now)
        if status is not None:
            status.auto_restart = AutoRestart(attempts, policy.max_attempts, now + delay)
        log.warning(
            "scheduling automatic restart",
            connector=connector,
            task=task and task.task,
            attempt=attempts,
            delay_s=delay,
        )
        self._cancel(target)
        loop = asyncio.get_running_loop()
        self._pending[target] = loop.call_later(delay, lambda: loop.create_task(self._restart(target)))

    def _status(self, target: Target) -> Status | None:
        connector, task = target
        statuses = self._herder.ctx.statuses
        if task is None:
            entry = statuses.get(connector)
            return entry.connector if entry else None
        return statuses.task(task)

    async def _restart(self, target: Target) -> None:
        self._pending.pop(target, None)
        connector, task = target
        herder = self._herder
        attempts = self._attempts.get(target)
        try:
            async with herder._lock:
                if task is None:
                    await herder._stop_connector(connector)
                    await herder._start_connector(connector)
                else:
                    await herder._restart_task(task)
        finally:
            if attempts is not None:  # _restart_* forget the target; keep counting across restarts
                self._attempts[target] = attempts

    def forget(self, connector: str, task: TaskId | bool | None = True) -> None:
        """Drop the restart state of a connector (all targets) or of one target."""
        targets = [t for t in list(self._attempts) + list(self._pending) if t[0] == connector]
        if task is not True:
            targets = [t for t in targets if t[1] == task]
        for target in targets:
            self._attempts.pop(target, None)
            self._cancel(target)

    def _cancel(self, target: Target) -> None:
        handle = self._pending.pop(target, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
