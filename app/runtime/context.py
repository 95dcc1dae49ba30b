"""What every runner needs from the worker, passed explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.metrics import WorkerMetrics
from app.plugins.registry import PluginRegistry
from app.runtime.states import TaskId
from app.runtime.status import StatusStore
from app.settings import WorkerSettings
from app.storage.base import DataBus, OffsetStore
from app.storage.sqlite.stores import TopicTracker

FailureCallback = Callable[[str, "TaskId | None", BaseException], None]
"""(connector, task id or None for the connector itself, error)."""


@dataclass(slots=True)
class RuntimeContext:
    settings: WorkerSettings
    registry: PluginRegistry
    bus: DataBus
    offsets: OffsetStore
    topics: TopicTracker
    statuses: StatusStore
    worker_id: str
    on_failure: FailureCallback
    metrics: WorkerMetrics
    on_reconfigure: Callable[[str], None] = lambda _: None
    """A connector asked for its task configs to be generated again."""
