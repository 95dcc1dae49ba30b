"""Background tasks are observed: a failure reaches its owner, a cancellation does not."""

from __future__ import annotations

import asyncio
from typing import Any

from structlog.testing import capture_logs

from app.supervision import spawn


async def test_a_failure_is_logged_and_handed_to_the_owner() -> None:
    seen: list[BaseException] = []
    keep: set[asyncio.Task[Any]] = set()

    async def broken() -> None:
        raise RuntimeError("follower lost its connection")

    with capture_logs() as logs:
        task = spawn(broken(), "follow-configs", on_failure=seen.append, keep=keep)
        assert task in keep
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(0)  # done-callbacks run on the next loop iteration
    assert [str(e) for e in seen] == ["follower lost its connection"]
    assert keep == set()
    assert any(e["event"] == "background task failed" and e["task"] == "follow-configs" for e in logs)


async def test_cancellation_and_success_are_not_failures() -> None:
    seen: list[BaseException] = []

    async def forever() -> None:
        await asyncio.sleep(3600)

    async def fine() -> int:
        return 1

    cancelled = spawn(forever(), "forever", on_failure=seen.append)
    finished = spawn(fine(), "fine", on_failure=seen.append)
    cancelled.cancel()
    await asyncio.gather(cancelled, finished, return_exceptions=True)
    await asyncio.sleep(0)
    assert seen == []
