"""Background asyncio tasks that are never forgotten: each one is named, kept referenced until it
ends, and observed, so a failure is logged with its traceback and reported to its owner instead of
vanishing as "Task exception was never retrieved"."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)

FailureHandler = Callable[[BaseException], None]


def spawn(
    work: Coroutine[Any, Any, Any],
    name: str,
    *,
    on_failure: FailureHandler | None = None,
    keep: set[asyncio.Task[Any]] | None = None,
) -> asyncio.Task[Any]:
    """Start ``work`` as a task; ``on_failure`` gets its exception (cancellation is not a failure).

    ``keep`` holds a reference until the task ends (the event loop keeps only weak ones).
    """
    task = asyncio.get_running_loop().create_task(work, name=name)
    if keep is not None:
        keep.add(task)
        task.add_done_callback(keep.discard)
    task.add_done_callback(lambda done: _observe(done, on_failure))
    return task


def _observe(task: asyncio.Task[Any], on_failure: FailureHandler | None) -> None:
    if task.cancelled():
        return
    error = task.exception()
    if error is None:
        return
    log.error("background task failed", task=task.get_name(), error=repr(error), exc_info=error)
    if on_failure is not None:
        try:
            on_failure(error)
        except Exception:
            log.exception("reporting a background task's failure failed", task=task.get_name())
