"""The worker runs what the herder decides: connector instances and their task runners.

It owns the asyncio tasks (one per connector task, named ``<connector>-<task>``) and nothing
else: configs and the restart policy belong to the herder.
"""

from __future__ import annotations

import asyncio

from app.runtime.connector_runner import ConnectorRunner
from app.runtime.context import RuntimeContext
from app.runtime.sink_runner import SinkTaskRunner
from app.runtime.source_runner import SourceTaskRunner
from app.runtime.task_runner import TaskRunner
from app.storage.base import State, TargetState, TaskId


class Worker:
    def __init__(self, ctx: RuntimeContext) -> None:
        self.ctx = ctx
        self.connectors: dict[str, ConnectorRunner] = {}
        self.tasks: dict[TaskId, TaskRunner] = {}

    @property
    def grace_s(self) -> float:
        return self.ctx.settings.task_shutdown_graceful_timeout_ms / 1000

    async def start_connector(
        self, name: str, config: dict[str, str], connector_type: str, paused: bool
    ) -> ConnectorRunner:
        runner = ConnectorRunner(name, config, self.ctx, connector_type)
        self.connectors[name] = runner
        await runner.start(paused)
        return runner

    async def stop_connector(self, name: str) -> None:
        runner = self.connectors.pop(name, None)
        if runner is not None:
            await runner.stop()

    def start_task(
        self, task_id: TaskId, config: dict[str, str], connector_type: str, paused: bool
    ) -> TaskRunner:
        runner_class = SinkTaskRunner if connector_type == "sink" else SourceTaskRunner
        runner = runner_class(task_id, config, self.ctx, paused=paused)
        self.tasks[task_id] = runner
        runner.start()
        return runner

    def task_ids(self, connector: str) -> list[TaskId]:
        return sorted(t for t in self.tasks if t.connector == connector)

    async def stop_tasks(
        self,
        task_ids: list[TaskId],
        final_state: State | None = State.UNASSIGNED,
        *,
        keep_status: bool = False,
    ) -> None:
        """Stop the tasks together, within one shared grace period.

        ``keep_status`` is for tasks moving to another worker: their next owner reports them.
        """
        runners = [r for t in task_ids if (r := self.tasks.pop(t, None)) is not None]
        try:
            await asyncio.gather(*(r.stop(self.grace_s) for r in runners))
        finally:
            # Also when the caller is cancelled halfway (a shutdown during a rebalance): these
            # runners are no longer tracked, so their statuses must be settled here or never.
            for runner in runners:
                runner.metrics.close()
                if keep_status:
                    continue
                if final_state is None:
                    self.ctx.statuses.remove_task(runner.id)
                elif runner.state is not State.FAILED:
                    runner.set_state(final_state)

    def apply_target_state(self, connector: str, target: TargetState) -> None:
        """Pause or resume a running connector and its tasks in place."""
        runner = self.connectors.get(connector)
        if runner is not None and runner.state in (State.RUNNING, State.PAUSED):
            runner.set_state(State.PAUSED if target is TargetState.PAUSED else State.RUNNING)
        for task_id in self.task_ids(connector):
            task = self.tasks[task_id]
            if target is TargetState.PAUSED:
                task.pause()
            else:
                task.resume()

    async def stop_all(self) -> None:
        await self.stop_tasks(list(self.tasks))
        for name in list(self.connectors):
            await self.stop_connector(name)
