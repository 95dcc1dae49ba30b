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
import contextlib
from collections.abc import Mapping
from typing import Any, Protocol

import structlog

from app.herder.assignment import assign
from app.herder.base import Herder
from app.runtime.context import RuntimeContext
from app.runtime.worker import Worker
from app.storage.base import Load, State, Status, TargetState, TaskId
from app.supervision import spawn
from connectors.sdk.errors import NotFoundError

log = structlog.get_logger(__name__)
JOINING = "Worker is joining its group"


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
    async def sync(self) -> None: ...


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
        self.not_ready_reason: str | None = JOINING
        self.generation = 0
        """Assignments received so far: a request that found the leader gone waits for the next."""
        self.rebalancing = False
        self._changed = asyncio.Event()
        self._assigned_items: tuple[frozenset[str], frozenset[TaskId]] | None = None
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self.leader_id == self.ctx.worker_id

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Starting happens on the first assignment; until then requests get a 503 with the reason."""
        self._loop_task = spawn(self._reconcile_loop(), "herder-reconcile", on_failure=self._reconcile_failed)

    def _reconcile_failed(self, error: BaseException) -> None:
        """Without its reconcile loop this worker cannot follow the cluster: say so to REST."""
        self.ready = False
        self.not_ready_reason = f"The worker stopped following the cluster: {type(error).__name__}: {error}"

    async def stop(self) -> None:
        """Stop everything running here and say so: its tasks and connectors become UNASSIGNED
        until their next owner reports them, instead of staying RUNNING on a worker that left."""
        self.ready = False
        self.not_ready_reason = "Worker is shutting down"
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        await super().stop()
        # Whatever still reads as running here (also a task a cancelled reconcile pass had
        # already let go of) is reported UNASSIGNED until its next owner reports it.
        me, live = self.ctx.worker_id, (State.RUNNING, State.PAUSED)
        for name in self.configs.names():
            entry = self.ctx.statuses.get(name)
            if entry is None:
                continue
            if entry.connector.worker_id == me and entry.connector.state in live:
                self.ctx.statuses.put_connector(name, Status(State.UNASSIGNED, me), self.connector_type(name))
            for index, status in list(entry.tasks.items()):
                if status.worker_id == me and status.state in live:
                    self.ctx.statuses.put_task(TaskId(name, index), Status(State.UNASSIGNED, me))

    def forward_url(self) -> str | None:
        """Where this worker sends a config write: None when it is the leader itself."""
        return None if self.is_leader else self.leader_url

    # -- reads ----------------------------------------------------------------------------------
    def status(self, name: str) -> dict[str, Any]:
        """A connector that exists but has not been reported by its owner yet is UNASSIGNED.

        Kafka Connect answers 404 here for a few seconds after the create returned 201 and
        clients trip on it; the config topic already says the connector exists.
        """
        if self.configs.get(name) is not None and self.ctx.statuses.get(name) is None:
            unassigned = {"state": State.UNASSIGNED.value, "worker_id": ""}
            return {"name": name, "connector": unassigned, "tasks": [], "type": self.connector_type(name)}
        return super().status(name)

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        record = self.configs.get(name)
        if (
            record is not None
            and 0 <= task < len(record.task_configs)
            and self.ctx.statuses.task(TaskId(name, task)) is None
        ):
            return {"id": task, "state": State.UNASSIGNED.value, "worker_id": ""}
        return super().task_status(name, task)

    # -- waiting for the group (REST requests that arrive while it forms) ----------------------
    @property
    def joining(self) -> bool:
        """Not a member yet, or a rebalance runs: the leader may change, requests wait."""
        return self.not_ready_reason == JOINING or (self.rebalancing and self.not_ready_reason is None)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:
        """Return at the next membership change (joined, rebalance started or ended) or after ``timeout``."""
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(0.0, timeout)):
                await changed.wait()

    async def sync_configs(self) -> None:
        """Read the config topic to its end: a write forwarded to the leader is visible here too."""
        await self.cluster_configs.sync()

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

    def on_rebalance(self) -> None:
        """The group started a rebalance: writes wait for its outcome (the leader may change)."""
        self.rebalancing = True
        self._notify()

    def on_assignment(self, assignment: Any) -> None:
        self.leader_id, self.leader_url = assignment.leader, assignment.leader_url
        self.generation += 1
        self.rebalancing = False
        self._notify()
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
            spawn(self._handle_restart(name, data), f"restart-{name}", keep=self._background)
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
    async def _create_locked(self, name: str, config: dict[str, str], initial_state: TargetState) -> None:
        await self.cluster_configs.put_config(name, config, initial_state.value)

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
