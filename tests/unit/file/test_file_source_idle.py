"""An idle FileStreamSource task backs off, skips the thread pool, and still answers promptly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

import connectors.file.source as source_module
from connectors.file.source import FileStreamSourceConfig, FileStreamSourceTask
from connectors.sdk.source import SourceTaskContext

T = TypeVar("T")


class NoOffsets:
    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        return None


class CountingContext(SourceTaskContext):
    """Counts thread-pool round trips: the cost an idle task must not pay on every look."""

    def __init__(self, poll_timeout: float = 1.0) -> None:
        super().__init__(NoOffsets(), poll_timeout=poll_timeout)
        self.blocking_calls = 0

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        self.blocking_calls += 1
        return await super().run_blocking(fn, *args)


async def started(path: Path, context: CountingContext) -> FileStreamSourceTask:
    task = FileStreamSourceTask()
    task.initialize(context)
    await task.start(FileStreamSourceConfig.parse({"file": str(path), "topic": "t"}))
    return task


async def test_idle_waits_double_up_to_the_cap_and_reset_when_data_arrives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_module, "IDLE_WAIT_MIN_S", 0.001)
    monkeypatch.setattr(source_module, "IDLE_WAIT_MAX_S", 0.008)
    path = tmp_path / "in.txt"
    path.touch()
    task = await started(path, CountingContext())
    waits = []
    for _ in range(6):
        waits.append(task._idle_wait)
        assert await task.poll() == []
    assert waits == [0.001, 0.002, 0.004, 0.008, 0.008, 0.008]
    path.write_text("a\n")
    assert [r.value for r in await task.poll()] == ["a"]
    assert task._idle_wait == 0.001
    await task.stop()


async def test_an_idle_look_at_an_unchanged_file_does_not_use_the_thread_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_module, "IDLE_WAIT_MIN_S", 0)
    path = tmp_path / "in.txt"
    path.write_text("a\nb\n")
    context = CountingContext()
    task = await started(path, context)
    assert [r.value for r in await task.poll()] == ["a", "b"]
    before = context.blocking_calls
    for _ in range(20):
        assert await task.poll() == []
    assert context.blocking_calls == before
    with path.open("a") as f:
        f.write("c\n")
    assert [r.value for r in await task.poll()] == ["c"]
    assert context.blocking_calls == before + 1
    await task.stop()


async def test_an_idle_poll_returns_within_poll_timeout_and_at_once_when_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_module, "IDLE_WAIT_MIN_S", 30.0)
    monkeypatch.setattr(source_module, "IDLE_WAIT_MAX_S", 30.0)
    context = CountingContext(poll_timeout=0.05)
    task = await started(tmp_path / "missing.txt", context)
    began = time.monotonic()
    assert await task.poll() == []
    assert time.monotonic() - began < 1.0

    context.poll_timeout = 30.0
    polling = asyncio.create_task(task.poll())
    await asyncio.sleep(0.05)
    began = time.monotonic()
    context.stopping.set()
    assert await asyncio.wait_for(polling, 1.0) == []
    assert time.monotonic() - began < 0.5
    await task.stop()
