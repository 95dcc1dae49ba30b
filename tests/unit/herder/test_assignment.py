"""The leader's incremental assignment: balanced, and only what must move moves."""

from __future__ import annotations

from app.herder.assignment import assign
from app.storage.base import Load, TaskId

TASKS = [TaskId("c", i) for i in range(6)]


def test_new_work_is_spread_evenly() -> None:
    result = assign({"a": Load(), "b": Load(), "c": Load()}, ["x", "y"], TASKS)
    assert sorted(len(load.tasks) for load in result.values()) == [2, 2, 2]
    assert sorted(len(load.connectors) for load in result.values()) == [0, 1, 1]
    assert set().union(*(load.tasks for load in result.values())) == set(TASKS)


def test_a_joining_worker_takes_only_its_share() -> None:
    before = {"a": Load({"x"}, set(TASKS[:3])), "b": Load(set(), set(TASKS[3:]))}
    result = assign({**before, "c": Load()}, ["x"], TASKS)
    assert len(result["c"].tasks) == 2
    for worker in ("a", "b"):
        assert result[worker].tasks <= before[worker].tasks  # nobody gets a task it did not have
    assert result["a"].connectors == {"x"}


def test_a_lost_worker_s_tasks_go_to_the_others_and_nothing_else_moves() -> None:
    before = {"a": Load(set(), set(TASKS[:2])), "b": Load(set(), set(TASKS[2:4]))}  # c (4, 5) died
    result = assign(before, [], TASKS)
    assert result["a"].tasks >= before["a"].tasks and result["b"].tasks >= before["b"].tasks
    assert len(result["a"].tasks) == len(result["b"].tasks) == 3


def test_work_claimed_twice_keeps_one_owner_and_deleted_work_is_dropped() -> None:
    both = {TaskId("c", 0)}
    result = assign(
        {"a": Load(set(), both), "b": Load(set(), both | {TaskId("gone", 0)})}, [], [TaskId("c", 0)]
    )
    assert result["a"].tasks | result["b"].tasks == {TaskId("c", 0)}
    assert not (result["a"].tasks & result["b"].tasks)


def test_no_workers_no_assignment() -> None:
    assert assign({}, ["x"], TASKS) == {}
