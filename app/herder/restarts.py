"""Schedules automatic restarts of failed connectors and tasks under each connector's policy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog

from app.runtime.restart_policy import RestartPolicy
from app.storage.base import AutoRestart, Status, StatusStore, TaskId
from app.supervision import spawn

log = structlog.get_logger(__name__)
HEALTHY_MIN_S = 60.0
"""A target that ran this long after an automatic restart without failing (or longer, up to
the policy's ``auto.restart.backoff.max.ms``) counts as recovered: its next failure starts at
attempt 1 again, with the initial backoff."""

Target = tuple[str, TaskId | None]


def healthy_after_s(policy: RestartPolicy) -> float:
    """How long a restarted target must run without failing to count as recovered: a minute,
    or the longest backoff when that is longer, so a target that keeps failing sooner than
    the backoff it earned keeps backing off instead of restarting at full speed forever."""
    return max(HEALTHY_MIN_S, policy.max_backoff_s)


@dataclass(slots=True)
class _Count:
    attempts: int
    restarted_at: float | None = None
    """When the last automatic restart ran (None: scheduled, not run yet)."""


class AttemptCounter:
    """The attempt count of each target, reset once the target recovered: pure bookkeeping,
    driven by the times it is given."""

    def __init__(self) -> None:
        self._counts: dict[Target, _Count] = {}

    def before_failure(self, target: Target, now: float, healthy_after: float) -> int:
        """Restarts already made for this run of failures (0 after a recovery)."""
        count = self._counts.get(target)
        if count is None:
            return 0
        if count.restarted_at is not None and now - count.restarted_at >= healthy_after:
            del self._counts[target]
            return 0
        return count.attempts

    def scheduled(self, target: Target, attempts: int) -> None:
        self._counts[target] = _Count(attempts)

    def restarted(self, target: Target, now: float) -> None:
        count = self._counts.get(target)
        if count is not None:
            count.restarted_at = now

    def take(self, target: Target) -> _Count | None:
        return self._counts.pop(target, None)

    def put_back(self, target: Target, count: _Count) -> None:
        self._counts[target] = count

    def targets(self) -> list[Target]:
        return list(self._counts)


class AutoRestarter:
    """Decides on automatic restarts; the herder carries them out.

    ``policy_of`` gives a connector's restart policy (None once it is gone), ``restart`` restarts
    one target (the connector instance with ``task`` None, else one task) under the herder's lock.
    """

    def __init__(
        self,
        policy_of: Callable[[str], RestartPolicy | None],
        statuses: StatusStore,
        restart: Callable[[Target], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy_of = policy_of
        self._statuses = statuses
        self._do_restart = restart
        self._clock = clock
        self._attempts = AttemptCounter()
        self._pending: dict[Target, asyncio.TimerHandle] = {}
        self._running: set[asyncio.Task[None]] = set()

    def on_failure(self, connector: str, task: TaskId | None, error: BaseException) -> None:
        policy = self._policy_of(connector)
        if policy is None:  # deleted meanwhile, or a config that cannot be parsed: nothing to restart
            return
        target: Target = (connector, task)
        attempts = self._attempts.before_failure(target, self._clock(), healthy_after_s(policy))
        status = self._status(target)
        if not policy.allows(error, attempts):
            if status is not None and attempts:
                status.auto_restart = AutoRestart(attempts, policy.max_attempts, None)
            return
        attempts += 1
        delay = policy.delay(attempts)
        self._attempts.scheduled(target, attempts)
        if status is not None:
            status.auto_restart = AutoRestart(attempts, policy.max_attempts, time.time() + delay)
        log.warning(
            "scheduling automatic restart",
            connector=connector,
            task=task and task.task,
            attempt=attempts,
            delay_s=delay,
        )
        self._cancel(target)
        self._pending[target] = asyncio.get_running_loop().call_later(
            delay, lambda: spawn(self._restart(target), f"auto-restart-{connector}", keep=self._running)
        )

    def _status(self, target: Target) -> Status | None:
        connector, task = target
        statuses = self._statuses
        if task is None:
            entry = statuses.get(connector)
            return entry.connector if entry else None
        return statuses.task(task)

    async def _restart(self, target: Target) -> None:
        self._pending.pop(target, None)
        count = self._attempts.take(target)
        try:
            await self._do_restart(target)
        finally:
            if count is not None:  # _restart_* forget the target; keep counting across restarts
                self._attempts.put_back(target, count)
                self._attempts.restarted(target, self._clock())

    def forget(self, connector: str, task: TaskId | bool | None = True) -> None:
        """Drop the restart state of a connector (all targets) or of one target."""
        targets = [t for t in self._attempts.targets() + list(self._pending) if t[0] == connector]
        if task is not True:
            targets = [t for t in targets if t[1] == task]
        for target in targets:
            self._attempts.take(target)
            self._cancel(target)

    def _cancel(self, target: Target) -> None:
        handle = self._pending.pop(target, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._pending.values():
            handle.cancel()
        self._pending.clear()
