"""Current state of every connector and task, as ``/status`` shows it.

Kept in memory: in embedded mode a restarted worker re-creates every status as it starts the
connectors again, which is what Kafka Connect's status topic converges to as well.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.metrics import WorkerMetrics
from app.runtime.states import State, TaskId


@dataclass(slots=True)
class AutoRestart:
    """Progress of the automatic restart policy for one failed connector or task."""

    attempts: int = 0
    max_attempts: int = 0
    next_attempt_at: float | None = None  # epoch seconds

    def as_json(self) -> dict[str, object]:
        when = (
            dt.datetime.fromtimestamp(self.next_attempt_at, dt.UTC).isoformat(timespec="milliseconds")
            if self.next_attempt_at
            else None
        )
        return {"attempts": self.attempts, "max_attempts": self.max_attempts, "next_attempt_at": when}


@dataclass(slots=True)
class Status:
    state: State
    worker_id: str
    trace: str | None = None
    auto_restart: AutoRestart | None = None
    consumer_lag: int | None = None
    """Sink tasks: records on their partitions not yet read (end offset minus position)."""
    records_lost: int = 0
    """Sink tasks (embedded): records retention deleted before the task read them."""


@dataclass(slots=True)
class ConnectorStatus:
    connector: Status
    tasks: dict[int, Status] = field(default_factory=dict)
    type: str = "unknown"


class StatusStore:
    """Every status change passes here, so this is also where state metrics are reported."""

    def __init__(self, metrics: WorkerMetrics | None = None) -> None:
        self._connectors: dict[str, ConnectorStatus] = {}
        self.metrics = metrics

    def get(self, name: str) -> ConnectorStatus | None:
        return self._connectors.get(name)

    def task(self, task: TaskId) -> Status | None:
        entry = self._connectors.get(task.connector)
        return entry.tasks.get(task.task) if entry else None

    def put_connector(self, name: str, status: Status, type_: str | None = None) -> None:
        entry = self._connectors.get(name)
        if entry is None:
            self._connectors[name] = ConnectorStatus(status, type=type_ or "unknown")
        else:
            entry.connector = status
            if type_:
                entry.type = type_
        if self.metrics is not None:
            self.metrics.connector_status(name, status.state, status.worker_id)

    def put_task(self, task: TaskId, status: Status) -> None:
        entry = self._connectors.get(task.connector)
        if entry is not None:
            entry.tasks[task.task] = status
            if self.metrics is not None:
                self.metrics.task_status(task.connector, task.task, status.state, status.worker_id)

    def remove_task(self, task: TaskId) -> None:
        entry = self._connectors.get(task.connector)
        if entry is not None:
            entry.tasks.pop(task.task, None)
        if self.metrics is not None:
            self.metrics.task_removed(task.connector, task.task)

    def remove(self, name: str) -> None:
        self._connectors.pop(name, None)
        if self.metrics is not None:
            self.metrics.connector_removed(name)
