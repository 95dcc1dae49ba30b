"""The automatic-restart attempt count starts again once a target has recovered (fake clock)."""

from __future__ import annotations

import asyncio

from app.herder.restarts import HEALTHY_MIN_S, AttemptCounter, healthy_after_s
from app.runtime.restart_policy import RestartPolicy
from app.storage.base import TaskId

TARGET = ("c", TaskId("c", 0))
POLICY = RestartPolicy(max_attempts=10, initial_backoff_s=1.0, max_backoff_s=60.0)


def fail_and_restart(counter: AttemptCounter, now: float) -> tuple[int, float]:
    """One failure at ``now``: the attempt it schedules, and when that restart runs."""
    attempt = counter.before_failure(TARGET, now, healthy_after_s(POLICY)) + 1
    counter.scheduled(TARGET, attempt)
    restart_at = now + POLICY.delay(attempt)
    counter.restarted(TARGET, restart_at)
    return attempt, restart_at


def test_a_failure_a_minute_after_recovering_starts_at_attempt_one() -> None:
    """The reported case: five quick failures, then a recovery; a failure a minute after it
    used to be attempt 6 with a 32 s backoff."""
    counter = AttemptCounter()
    now = 0.0
    for expected in range(1, 6):
        attempt, restarted = fail_and_restart(counter, now)
        assert attempt == expected
        now = restarted + 0.5  # fails again half a second after each restart
    attempt, restarted = fail_and_restart(counter, restarted + HEALTHY_MIN_S)
    assert attempt == 1
    assert POLICY.delay(attempt) == 1.0


def test_failing_sooner_than_the_healthy_time_keeps_counting() -> None:
    counter = AttemptCounter()
    _, restarted = fail_and_restart(counter, 0.0)
    attempt, _ = fail_and_restart(counter, restarted + HEALTHY_MIN_S - 1)
    assert attempt == 2


def test_a_failure_before_the_restart_ran_keeps_counting() -> None:
    counter = AttemptCounter()
    counter.scheduled(TARGET, 3)
    assert counter.before_failure(TARGET, 10_000.0, healthy_after_s(POLICY)) == 3


def test_the_healthy_time_is_at_least_the_longest_backoff() -> None:
    assert healthy_after_s(POLICY) == HEALTHY_MIN_S == 60.0
    slow = RestartPolicy(max_backoff_s=300.0)
    assert healthy_after_s(slow) == 300.0
    counter = AttemptCounter()
    counter.scheduled(TARGET, 4)
    counter.restarted(TARGET, 0.0)
    assert counter.before_failure(TARGET, 120.0, healthy_after_s(slow)) == 4
    assert counter.before_failure(TARGET, 300.0, healthy_after_s(slow)) == 0


def test_targets_are_counted_apart() -> None:
    counter = AttemptCounter()
    counter.scheduled(TARGET, 2)
    other = ("c", None)
    assert counter.before_failure(other, 0.0, 60.0) == 0
    assert counter.take(TARGET) is not None
    assert counter.before_failure(TARGET, 0.0, 60.0) == 0


async def test_the_restarter_schedules_restarts_through_the_callback_it_was_given() -> None:
    """No herder needed: a policy lookup, a status store and a restart coroutine."""
    from app.herder.restarts import AutoRestarter
    from app.storage.base import State, Status
    from app.storage.memory import MemoryStatusStore
    from connectors.sdk.errors import ConfigError, RetriableError

    statuses = MemoryStatusStore()
    statuses.put_connector("c", Status(State.RUNNING, "w"))
    statuses.put_task(TaskId("c", 0), Status(State.FAILED, "w"))
    restarted = asyncio.Event()
    targets: list[object] = []

    async def restart(target: object) -> None:
        targets.append(target)
        restarted.set()

    quick = RestartPolicy(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05)
    restarter = AutoRestarter(lambda name: quick if name == "c" else None, statuses, restart)
    restarter.on_failure("c", TaskId("c", 0), RetriableError("database unreachable"))
    status = statuses.task(TaskId("c", 0))
    assert status is not None and status.auto_restart is not None and status.auto_restart.attempts == 1
    await asyncio.wait_for(restarted.wait(), 2)
    assert targets == [("c", TaskId("c", 0))]

    restarter.on_failure("c", TaskId("c", 0), ConfigError("bad setting"))  # never retried
    restarter.on_failure("gone", None, RetriableError("x"))  # a deleted connector: nothing to do
    await asyncio.sleep(0.1)
    assert targets == [("c", TaskId("c", 0))]
