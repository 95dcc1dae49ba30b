"""The distributed herder: many workers, one desired state in Kafka (Kafka's DistributedHerder).

Writes are made by the group leader only (other workers forward the REST call to it) and
land in the config topic; every worker applies what it reads back to the part of the
cluster's work the leader assigned to it. ``_reconcile`` is the one place that starts and
stops things: it compares what runs here with (desired state x this worker's assignment), so
config changes, target states and rebalances all go through the same code. Tasks that keep
their owner across a rebalance are never touched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, Protocol

import structlog

from app.herder.assignment import Load, assign
from app.herder.herder import Herder
from app.runtime.context import RuntimeContext
from app.runtime.states import State, TargetState, TaskId
from app.runtime.status import Status
from app.runtime.worker import Worker
from connectors.sdk.errors import AlreadyExistsError, NotFoundError

log = structlog.get_logger(__name__)


class ClusterConfigs(Protocol):
    """The config store as the distributed herder needs it (KafkaConfigStore)."""

    def names(self) -> list[str]: ...
    def get(self, name: str) -> Any: ...
    async def put_config(
        self, name: str, config: dict[str, str], target_state: str | None = None
    ) -> None: ...
    async def put_target_state(self, name: str, state: str) -> None: ...
    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None: ...
    async def request_restart(self, name: str, request: dict[str, Any]) -> None: ...
    async def remove(self, name: str) -> None: ...


class Membership(Protocol):
    def request_rebalance(self) -> None: ...


class DistributedHerder(Herder):
    def __init__(self, ctx: RuntimeContext, configs: ClusterConfigs, worker: Worker, url: str) -> None:
        super().__init__(ctx, configs, worker)  # type: ignore[arg-type]
        self.cluster_configs = configs
        self.url = url
        self.membership: Membership | None = None
        self.assignment = Load()
        self.leader_id: str | None = None
        self.leader_url: str | None = None
        self.not_ready_reason: str | None = "Worker is joining its group"
        self._assigned_items: tuple[frozenset[str], frozenset[TaskId]] | None = None
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.ctx.worker_id

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Starting happens on the first assignment; until then requests get a 503 with the reason."""
        self._loop_task = asyncio.create_task(self._reconcile_loop(), name="herder-reconcile")

    async def stop(self) -> None:
        self.ready = False
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        await super().stop()

    def forward_url(self) -> str | None:
        """Where this worker sends a config write: None when it is the leader itself."""
        return None if self.is_leader else self.leader_url

    # -- membership callbacks (called by the group client, must not block) ---------------------
    def current_load(self) -> Load:
        return Load(set(self.assignment.connectors), set(self.assignment.tasks))

    def plan(self, members: Mapping[str, Any]) -> dict[str, Load]:
        """Leader only: who runs what in the next generation."""
        connectors = self.configs.names()
        tasks = [
            TaskId(name, i)
            for name in connectors
            if (record := self.configs.get(name)) is not None
            for i in range(len(record.task_configs))
        ]
        self._assigned_items = (frozenset(connectors), frozenset(tasks))
        return assign({w: m.load for w, m in members.items()}, connectors, tasks)

    def on_assignment(self, assignment: Any) -> None:
        self.leader_id, self.leader_url = assignment.leader, assignment.leader_url
        if assignment.error:
            self.not_ready_reason = assignment.error
            self.ready = False
            log.error("refused by the group leader", reason=assignment.error)
            self.assignment = Load()
        else:
            self.not_ready_reason = None
            self.assignment = assignment.load
            self.ctx.metrics.rebalance_completed()
            log.info(
                "assignment received",
                leader=assignment.leader,
                connectors=len(assignment.load.connectors),
                tasks=len(assignment.load.tasks),
            )
        self._wake.set()

    def on_config(self, kind: str, name: str, data: dict[str, Any] | None) -> None:
        """A config record was read: reconcile, and as leader rebalance when work appeared or went."""
        if kind == "restart" and data is not None:
            task = asyncio.get_running_loop().create_task(self._handle_restart(name, data))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        self._wake.set()

    # -- the reconcile loop ---------------------------------------------------------------------
    async def _reconcile_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                async with self._lock:
                    await self._reconcile()
                    if self.not_ready_reason is None:
                        self.ready = True
            except Exception:
                log.exception("reconciling the worker with its assignment failed")
                await asyncio.sleep(1)
                self._wake.set()

    async def _reconcile(self) -> None:
        if self.is_leader and self.membership is not None and self._assigned_items is not None:
            connectors = frozenset(self.configs.names())
            tasks = frozenset(
                TaskId(n, i)
                for n in connectors
                if (r := self.configs.get(n)) is not None
                for i in range(len(r.task_configs))
            )
            if (connectors, tasks) != self._assigned_items:
                self._assigned_items = (connectors, tasks)
                self.membership.request_rebalance()
        # Tasks: stop what is no longer ours or changed, start what is ours and not running.
        stale, moved = [], []
        for task_id, runner in list(self.worker.tasks.items()):
            record = self.configs.get(task_id.connector)
            current = (
                record.task_configs[task_id.task]
                if record and task_id.task < len(record.task_configs)
                else None
            )
            if current is None:
                stale.append(task_id)
            elif task_id not in self.assignment.tasks:
                moved.append(task_id)
            elif current != runner.config or runner.done():
                if runner.done() and runner.state is State.FAILED and current == runner.config:
                    continue  # failed tasks wait for a restart
                stale.append(task_id)
        if moved:
            await self.worker.stop_tasks(moved, final_state=None, keep_status=True)
        if stale:
            await self.worker.stop_tasks(stale, final_state=None)
        # Connectors: the same, for the connector instances.
        for name in list(self.worker.connectors):
            record = self.configs.get(name)
            instance = self.worker.connectors[name]
            if (
                record is None
                or name not in self.assignment.connectors
                or record.config != instance.config
                or record.target_state == TargetState.STOPPED.value
            ):
                self.restarter.forget(name, None)
                await self.worker.stop_connector(name)
                if record is None:
                    self.ctx.statuses.remove(name)
        for name in sorted(self.assignment.connectors):
            record = self.configs.get(name)
            if record is None:
                continue
            if record.target_state == TargetState.STOPPED.value:
                entry = self.ctx.statuses.get(name)
                if entry is None or entry.connector.state is not State.STOPPED:
                    self.ctx.statuses.put_connector(
                        name, Status(State.STOPPED, self.ctx.worker_id), self.connector_type(name)
                    )
                if record.task_configs:
                    await self.cluster_configs.put_task_configs(name, [])
                continue
            if name not in self.worker.connectors:
                if await self._start_connector_instance(name):
                    await self._apply_task_configs(name, restart_running=False)
            else:
                self.worker.apply_target_state(name, TargetState(record.target_state))
        for task_id in sorted(self.assignment.tasks):
            record = self.configs.get(task_id.connector)
            if record is None or task_id.task >= len(record.task_configs):
                continue
            if record.target_state == TargetState.STOPPED.value:
                continue
            running = self.worker.tasks.get(task_id)
            paused = record.target_state == TargetState.PAUSED.value
            if running is None:
                self.worker.start_task(
                    task_id, record.task_configs[task_id.task], self.connector_type(task_id.connector), paused
                )
            elif paused and not running.paused:
                running.pause()
            elif not paused and running.paused:
                running.resume()

    async def _apply_task_configs(self, name: str, *, restart_running: bool) -> None:
        """The connector's owner publishes its task configs; the leader assigns them."""
        record = self.configs.get(name)
        configs = self._ask_task_configs(name)
        if record is not None and configs is not None and configs != record.task_configs:
            await self.cluster_configs.put_task_configs(name, configs)

    async def _start_connector(self, name: str) -> None:
        """Used by automatic restarts: start the instance again; tasks follow from reconcile."""
        if name in self.assignment.connectors and await self._start_connector_instance(name):
            await self._apply_task_configs(name, restart_running=False)

    async def _stop_connector(self, name: str, remove_status: bool = False) -> None:
        self.restarter.forget(name, None)
        await self.worker.stop_connector(name)

    # -- writes (run on the leader; the REST layer forwards them here) --------------------------
    async def create(self, name: str, config: dict[str, str], initial_state: TargetState | None) -> Any:
        await self._check(config)
        async with self._lock:
            if self.configs.get(name) is not None:
                raise AlreadyExistsError(f"Connector {name} already exists")
            await self.cluster_configs.put_config(name, config, (initial_state or TargetState.STARTED).value)
        return self.info(name)

    async def put_config(self, name: str, config: dict[str, str]) -> tuple[bool, Any]:
        await self._check(config)
        async with self._lock:
            created = await self._put_config_locked(name, config)
        return created, self.info(name)

    async def _put_config_locked(self, name: str, config: dict[str, str]) -> bool:
        created = self.configs.get(name) is None
        await self.cluster_configs.put_config(name, config, TargetState.STARTED.value if created else None)
        return created

    async def delete(self, name: str) -> None:
        async with self._lock:
            self._record(name)
            await self.cluster_configs.remove(name)
        self.ctx.statuses.remove(name)

    async def _set_target(self, name: str, target: TargetState) -> None:
        async with self._lock:
            record = self.configs.get(name)
            if record is None:
                raise NotFoundError(f"Unknown connector {name}")
            if record.target_state == target.value:
                return
            await self.cluster_configs.put_target_state(name, target.value)
            if target is TargetState.STOPPED:
                await self.cluster_configs.put_task_configs(name, [])

    async def restart_connector(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> dict[str, Any] | None:
        plan, _, _ = self._restart_plan(name, include_tasks, only_failed)
        await self.cluster_configs.request_restart(
            name, {"include-tasks": include_tasks, "only-failed": only_failed}
        )
        return plan

    async def restart_task(self, name: str, task: int) -> None:
        record = self.configs.get(name)
        if record is None:
            raise NotFoundError(f"Connector {name} not found")
        if not 0 <= task < len(record.task_configs):
            raise NotFoundError(f"Task {name}-{task} not found")
        await self.cluster_configs.request_restart(name, {"task": task})

    async def _handle_restart(self, name: str, request: dict[str, Any]) -> None:
        """Every worker restarts the parts of the request it owns."""
        async with self._lock:
            if self.configs.get(name) is None:
                return
            if "task" in request:
                task_id = TaskId(name, int(request["task"]))
                if task_id in self.assignment.tasks:
                    await self._restart_task(task_id)
                return
            try:
                _, restart_connector, tasks = self._restart_plan(
                    name, bool(request.get("include-tasks")), bool(request.get("only-failed"))
                )
            except NotFoundError:
                return
            if restart_connector and name in self.assignment.connectors:
                await self._restart_connector_instance(name)
            for task_id in tasks:
                if task_id in self.assignment.tasks:
                    await self._restart_task(task_id)
