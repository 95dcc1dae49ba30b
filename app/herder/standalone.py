"""The standalone herder: one process owns every connector (Kafka's StandaloneHerder, made
durable in embedded mode by its SQLite config store).

Config changes are validated, persisted, then applied to the local worker; connectors in the
config store are started again when the worker starts.
"""

from __future__ import annotations

from typing import Any

import structlog

from app.herder.base import Herder
from app.storage.base import State, Status, TargetState, TaskId
from connectors.sdk.errors import NotFoundError

log = structlog.get_logger(__name__)


class StandaloneHerder(Herder):
    async def start(self) -> None:
        async with self._lock:
            for name in self.configs.names():
                await self._start_connector(name)
        self.ready = True

    async def _create_locked(self, name: str, config: dict[str, str], initial_state: TargetState) -> None:
        await self.configs.put_config(name, config, initial_state.value)
        await self._start_connector(name)

    async def _put_config_locked(self, name: str, config: dict[str, str]) -> bool:
        """Store and apply a validated config, under ``_lock``; True when it created the connector."""
        created = self.configs.get(name) is None
        if not created:
            await self._stop_connector(name)
        await self.configs.put_config(name, config)
        await self._start_connector(name)
        return created

    async def delete(self, name: str) -> None:
        async with self._lock:
            self._record(name)
            await self._stop_connector(name, remove_status=True)
            await self.configs.remove(name)
            self.ctx.statuses.remove(name)
            self._parsed.pop(name, None)

    async def _set_target(self, name: str, target: TargetState) -> None:
        async with self._lock:
            record = self.configs.get(name)
            if record is None:
                raise NotFoundError(f"Unknown connector {name}")
            previous = TargetState(record.target_state)
            if previous is target:
                return
            await self.configs.put_target_state(name, target.value)
            if target is TargetState.STOPPED:
                await self._stop_connector(name, remove_status=False)
                await self.configs.put_task_configs(name, [])
                self.ctx.statuses.put_connector(
                    name, Status(State.STOPPED, self.ctx.worker_id), self.connector_type(name)
                )
            elif previous is TargetState.STOPPED:
                await self._start_connector(name)
            else:
                self.worker.apply_target_state(name, target)

    async def restart_connector(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> dict[str, Any] | None:
        """Kafka's KIP-745 restart; returns the plan as a status when a flag was given."""
        async with self._lock:
            plan, restart_connector, tasks = self._restart_plan(name, include_tasks, only_failed)
            entry = self.ctx.statuses.get(name)
            assert entry is not None
            if restart_connector and tasks and len(tasks) == len(entry.tasks):
                self.restarter.forget(name)
                await self._stop_connector(name, remove_status=False)
                await self._start_connector(name)
            else:
                if restart_connector:
                    await self._restart_connector_instance(name)
                for task_id in tasks:
                    await self._restart_task(task_id)
            return plan

    async def restart_task(self, name: str, task: int) -> None:
        async with self._lock:
            record = self.configs.get(name)
            if record is None:
                raise NotFoundError(f"Connector {name} not found")
            if not 0 <= task < len(record.task_configs):
                raise NotFoundError(f"Task {name}-{task} not found")
            await self._restart_task(TaskId(name, task))

    async def _start_connector(self, name: str) -> None:
        """Start the connector and (re)generate and start its tasks according to its target state."""
        record = self.configs.get(name)
        if record is None:
            return
        ctype = self.connector_type(name)
        if record.target_state == TargetState.STOPPED.value:
            self.ctx.statuses.put_connector(name, Status(State.STOPPED, self.ctx.worker_id), ctype)
            return
        if await self._start_connector_instance(name):
            await self._apply_task_configs(name, restart_running=False)

    async def _apply_task_configs(self, name: str, *, restart_running: bool) -> None:
        """Ask the running connector for task configs; store and (re)start tasks when they changed."""
        record = self.configs.get(name)
        configs = self._ask_task_configs(name)
        if record is None or configs is None:
            return
        changed = configs != record.task_configs
        if restart_running:
            if not changed:
                return
            await self.worker.stop_tasks(self.worker.task_ids(name), None)
        if changed:
            await self.configs.put_task_configs(name, configs)
        paused = record.target_state == TargetState.PAUSED.value
        ctype = self.connector_type(name)
        for i, config in enumerate(configs):
            self.worker.start_task(TaskId(name, i), config, ctype, paused)

    async def _stop_connector(self, name: str, remove_status: bool = False) -> None:
        self.restarter.forget(name)
        await self.worker.stop_tasks(self.worker.task_ids(name), None if remove_status else State.UNASSIGNED)
        if remove_status:
            self.ctx.statuses.remove(name)
        else:
            entry = self.ctx.statuses.get(name)
            if entry:
                entry.tasks.clear()
        await self.worker.stop_connector(name)
