"""``context.details``: what a task says about its progress shows in its REST status."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from app.kafka.stores import _status_json, _status_of
from app.storage.base import State, Status
from connectors.sdk import SourceRecord, StatusDetails
from tests.unit.runtime.memory_runtime import eventually, memory_runtime
from tests.unit.runtime.test_source_runner import CONFIG, ScriptConfig, ScriptedSource, ScriptedTask


class CountingTask(ScriptedTask):
    """Reports how many polls it answered, many times a second (the store must not see them all)."""

    polls = 0

    async def poll(self) -> Sequence[SourceRecord]:
        type(self).polls += 1
        self.context.details.set(polls=self.polls, phase="streaming", snapshot_table=None)
        await asyncio.sleep(0.01)
        return []

    async def start(self, config: ScriptConfig) -> None:
        self.context.details.set(phase="snapshot", snapshot_table="public.orders")


class CountingSource(ScriptedSource):
    task_class = CountingTask


def details_of(rt: Any) -> dict[str, Any] | None:
    tasks = rt.herder.status("src")["tasks"]
    return tasks[0].get("details") if tasks else None


async def test_a_tasks_details_reach_its_status_at_most_about_once_a_second() -> None:
    async with memory_runtime(("source", CountingSource)) as rt:
        await rt.herder.create("src", {**CONFIG, "connector.class": "CountingSource"}, None)
        await eventually(lambda: (details_of(rt) or {}).get("phase") == "streaming", timeout=5)
        first = details_of(rt)
        assert first is not None and "snapshot_table" not in first  # None removed the field
        writes: list[Status] = []
        original = rt.herder.ctx.statuses.put_task

        def counting(task_id: Any, status: Status) -> None:
            writes.append(status)
            original(task_id, status)

        rt.herder.ctx.statuses.put_task = counting  # type: ignore[method-assign]
        polls_before = CountingTask.polls
        await asyncio.sleep(2.2)
        assert CountingTask.polls - polls_before > 20  # many updates...
        assert 1 <= len(writes) <= 4  # ...few status writes
        assert details_of(rt)["polls"] >= polls_before  # type: ignore[index]


def test_details_survive_the_kafka_status_topic() -> None:
    status = Status(State.RUNNING, "w:8083", details={"phase": "snapshot", "rows_done": 5})
    assert _status_of(_status_json(status, None)).details == {"phase": "snapshot", "rows_done": 5}


def test_details_take_only_json_scalars() -> None:
    details = StatusDetails()
    with pytest.raises(TypeError, match="string, number or boolean"):
        details.set(rows=[1, 2])
    details.set(rows=1, rate=2.5, done=False, table="t")
    details.set(table=None)
    assert details.values == {"rows": 1, "rate": 2.5, "done": False}
