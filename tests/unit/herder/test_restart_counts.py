"""The automatic-restart attempt count starts again once a target has recovered (fake clock)."""

from __future__ import annotations

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
