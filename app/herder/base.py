"""The herder's shared half: desired state read from a config store, validation, restarts.

Config changes are serialised by one lock and validated before anything is written, so a bad
request leaves no state behind.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from app.config.client_overrides import check_overrides
from app.config.connector_config import ConnectorConfig, parse_connector_config
from app.config.providers import reverse_transform
from app.config.secrets import mask_text
from app.herder.capabilities import check_plugins
from app.herder.restarts import AutoRestarter
from app.herder.validation import (
    BadRequestError,
    ConfigInfos,
    check_new_connector_name,
    connector_type,
    hide_secrets,
    invalid_config_message,
    resolve_connector,
    validate_connection,
    validate_connector_config,
)
from app.plugins.registry import PluginRegistry
from app.runtime.context import RuntimeContext
from app.runtime.preview import Preview
from app.runtime.replay import replay_dead_letters
from app.runtime.restart_policy import RestartPolicy
from app.runtime.worker import Worker
from app.storage.base import ConfigStore, State, Status, TargetState, TaskId
from app.supervision import spawn
from connectors.sdk.config import ConfigValueInfo
from connectors.sdk.errors import AlreadyExistsError, ConfigError, ConnectError, NotFoundError

log = structlog.get_logger(__name__)

__all__ = ["ConflictError", "ConnectorInfo", "Herder", "TargetState"]


class ConflictError(ConnectError):
    """The request conflicts with the connector's current state: HTTP 409."""


@dataclass(slots=True)
class ConnectorInfo:
    name: str
    config: dict[str, str]
    tasks: list[dict[str, Any]]
    type: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "config": self.config, "tasks": self.tasks, "type": self.type}


class Herder(ABC):
    """What every herder shares: reads, validation, PATCH, pause/resume/stop, restart plans,
    automatic restarts, task-config generation and reloads. Writes and where tasks run are the
    subclass's: :class:`app.herder.standalone.StandaloneHerder` (one process owns everything)
    and :class:`app.herder.distributed.DistributedHerder` (a Kafka group shares the work)."""

    def __init__(self, ctx: RuntimeContext, configs: ConfigStore, worker: Worker) -> None:
        self.ctx = ctx
        self._replaying: set[str] = set()
        """Connectors whose dead letters are being replayed here (one replay at a time)."""
        self.configs = configs
        self.worker = worker
        self.registry: PluginRegistry = ctx.registry
        self._lock = asyncio.Lock()
        self.ready = False
        self.not_ready_reason: str | None = None
        """Why requests cannot be served yet (Kafka unreachable, refused by the group), for REST."""
        self.kafka_cluster_id: str | None = None
        """``GET /``'s ``kafka_cluster_id``: the broker's, or the embedded worker's own; None until known."""
        self.started_at = time.time()
        self.restarter = AutoRestarter(self._restart_policy, ctx.statuses, self._auto_restart)
        ctx.on_failure = self.restarter.on_failure
        ctx.on_reconfigure = self.request_reconfiguration
        ctx.on_reload = self.schedule_reload
        self._background: set[asyncio.Task[None]] = set()
        self._parsed: dict[str, tuple[Mapping[str, str], ConnectorConfig]] = {}
        self._reloads: dict[str, asyncio.TimerHandle] = {}
        self._stopping = False

    # -- lifecycle --------------------------------------------------------------------------
    async def stop(self) -> None:
        self.ready = False
        self._stopping = True  # restarts, reloads and reconfigurations queued behind the lock do nothing
        for pending in self._reloads.values():
            pending.cancel()
        self.restarter.cancel_all()
        async with self._lock:
            await self.worker.stop_all()

    def forward_url(self) -> str | None:
        """The worker that must handle config writes, when it is not this one (distributed mode)."""
        return None

    # -- reads ------------------------------------------------------------------------------
    def connector_names(self) -> list[str]:
        return self.configs.names()

    def _record(self, name: str) -> Any:
        record = self.configs.get(name)
        if record is None:
            raise NotFoundError(f"Connector {name} not found")
        return record

    def connector_type(self, name: str) -> str:
        record = self.configs.get(name)
        if record is None:
            return "unknown"
        desc = self.registry.find(record.config.get("connector.class", ""), ("source", "sink"))
        return connector_type(desc) if desc else "unknown"

    def framework_config(self, name: str) -> ConnectorConfig:
        """The connector's typed framework settings, parsed once per stored config."""
        record = self._record(name)
        cached = self._parsed.get(name)
        if cached is not None and cached[0] is record.config:
            return cached[1]
        parsed = parse_connector_config(record.config, self.connector_type(name))
        self._parsed[name] = (record.config, parsed)
        return parsed

    def _restart_policy(self, name: str) -> RestartPolicy | None:
        try:
            return RestartPolicy.from_config(self.framework_config(name))
        except ConnectError:
            return None

    async def _auto_restart(self, target: tuple[str, TaskId | None]) -> None:
        """What the restarter asks for: the connector instance (task None) or one task, again."""
        connector, task = target
        async with self._lock:
            if self._stopping:
                return
            if task is None:
                await self._stop_connector(connector)
                await self._start_connector(connector)
            else:
                await self._restart_task(task)

    def info(self, name: str) -> ConnectorInfo:
        record = self._record(name)
        tasks = [{"connector": name, "task": i} for i in range(len(record.task_configs))]
        return ConnectorInfo(name, dict(record.config), tasks, self.connector_type(name))

    def config(self, name: str) -> dict[str, str]:
        return dict(self._record(name).config)

    async def preview_transforms(
        self,
        samples: list[dict[str, Any]],
        *,
        config: dict[str, str] | None = None,
        connector: str | None = None,
    ) -> dict[str, Any]:
        """Run sample records through a connector config's converters and transforms (the given
        ``config``, or the stored config of ``connector``), placeholders resolved; nothing is
        created or run. Secret values never appear in the messages it returns."""
        if connector is not None:
            config = self.config(connector)  # 404 when unknown
        assert config is not None
        secrets: Iterable[str] = self.ctx.secrets_of(config)
        try:
            resolved, secrets = await self.ctx.resolve_once(config)
            pipeline = Preview(self.registry, self.ctx.settings, resolved)
        except (ConfigError, NotFoundError) as exc:
            raise BadRequestError(mask_text(f"The config cannot run: {exc}", secrets)) from None
        try:
            records = await pipeline.run(samples)
        finally:
            await pipeline.close()
        for result in records:
            if result["error"] is not None:
                result["error"]["message"] = mask_text(result["error"]["message"], secrets)
        return {"direction": pipeline.direction, "records": records}

    def task_configs(self, name: str) -> list[dict[str, str]]:
        return [dict(c) for c in self._record(name).task_configs]

    async def replay_dead_letters(self, name: str) -> dict[str, Any]:
        """Run the connector's dead letters through a fresh instance of its task (task 0's config);
        returns when they have been read to where the replay began (``app.runtime.replay``)."""
        record = self._record(name)
        if not record.task_configs:
            raise ConflictError(f"Connector {name} has no tasks yet; replay its dead letters once it has")
        if name in self._replaying:
            raise ConflictError(f"A replay of connector {name}'s dead letters is already running")
        self._replaying.add(name)
        try:
            result = await replay_dead_letters(
                self.ctx, name, dict(record.task_configs[0]), self.connector_type(name)
            )
        except ConfigError as exc:
            raise BadRequestError(str(exc)) from None
        finally:
            self._replaying.discard(name)
        return result.as_json()

    def status(self, name: str) -> dict[str, Any]:
        entry = self.ctx.statuses.get(name)
        if entry is None or self.configs.get(name) is None:
            raise NotFoundError(f"No status found for connector {name}")
        return {
            "name": name,
            "connector": _state_json(entry.connector),
            "tasks": [{"id": i, **_state_json(s)} for i, s in sorted(entry.tasks.items())],
            "type": self.connector_type(name),
        }

    def task_status(self, name: str, task: int) -> dict[str, Any]:
        status = self.ctx.statuses.task(TaskId(name, task))
        if status is None or self.configs.get(name) is None:
            raise NotFoundError(f"No status found for task {name}-{task}")
        return {"id": task, **_state_json(status)}

    # -- topics the connector used ------------------------------------------------------------
    def topics(self, name: str) -> list[str]:
        return self.ctx.topics.topics(name)

    async def reset_topics(self, name: str) -> None:
        await self.ctx.topics.reset(name)

    # -- validation -------------------------------------------------------------------------
    async def validate(self, config: Mapping[str, str]) -> ConfigInfos:
        """The plugin validates the config with placeholders resolved; the answer shows them
        unresolved and names the ones that cannot be resolved, with every secret value hidden."""
        resolve_connector(self.registry, config)  # a message that quotes the config quotes it unresolved
        check_plugins(self.ctx.settings, self.registry, config)  # connector.plugins.allowed/denied
        resolution = await self.ctx.providers.resolve(config)
        infos = validate_connector_config(self.registry, {**config, **resolution.config})  # nulls stay
        for key, errors in resolution.errors.items():
            infos.add_errors(key, config[key], errors)
        if not resolution.errors:  # an unresolved placeholder would be tried as the value itself
            await validate_connection(self.registry, {**config, **resolution.config}, infos)
        for key, value in config.items():  # client overrides, under connector.client.config.override.policy
            if value is not None and key.startswith(
                ("producer.override.", "consumer.override.", "admin.override.")
            ):
                errors = check_overrides(self.ctx.settings, {key: value})
                if errors:
                    infos.add(None, ConfigValueInfo(key, value, errors=errors))
        return hide_secrets(infos, config, resolution.values)

    async def _check(self, config: Mapping[str, str]) -> None:
        infos = await self.validate(config)
        if infos.error_count:
            raise BadRequestError(invalid_config_message(infos))

    # -- config changes ---------------------------------------------------------------------
    async def create(
        self, name: str, config: dict[str, str], initial_state: TargetState | None
    ) -> ConnectorInfo:
        check_new_connector_name(name)
        await self._check(config)
        async with self._lock:
            if self.configs.get(name) is not None:
                raise AlreadyExistsError(f"Connector {name} already exists")
            await self._create_locked(name, config, initial_state or TargetState.STARTED)
        return self.info(name)

    async def put_config(self, name: str, config: dict[str, str]) -> tuple[bool, ConnectorInfo]:
        if self.configs.get(name) is None:
            check_new_connector_name(name)
        await self._check(config)
        async with self._lock:
            created = await self._put_config_locked(name, config)
        return created, self.info(name)

    async def patch_config(self, name: str, patch: Mapping[str, str | None]) -> ConnectorInfo:
        """Read, merge, validate and write under one lock: a PATCH racing a DELETE must not
        bring the deleted connector back (it answers 404 instead)."""
        async with self._lock:
            current = self.config(name)
            for key, value in patch.items():
                if value is None:
                    current.pop(key, None)
                else:
                    current[key] = value
            if current.get("name") is not None and current["name"] != name:
                raise BadRequestError(
                    f"Connector name configuration ({current.get('name')}) doesn't match connector name in the URL ({name})"
                )
            await self._check(current)
            await self._put_config_locked(name, current)
        return self.info(name)

    # -- target states ----------------------------------------------------------------------
    async def pause(self, name: str) -> None:
        await self._set_target(name, TargetState.PAUSED)

    async def resume(self, name: str) -> None:
        await self._set_target(name, TargetState.STARTED)

    async def stop_connector(self, name: str) -> None:
        await self._set_target(name, TargetState.STOPPED)

    # -- restarts ---------------------------------------------------------------------------
    def _restart_plan(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> tuple[dict[str, Any] | None, bool, list[TaskId]]:
        """(plan shown to the caller when a flag was given, restart the connector?, tasks to restart)."""
        if self.configs.get(name) is None:
            raise NotFoundError(
                f"Unknown connector: {name}"
                if include_tasks or only_failed
                else f"Connector {name} not found"
            )
        entry = self.ctx.statuses.get(name)
        if entry is None:
            raise NotFoundError(f"Status for connector {name} not found")
        restart_connector = not only_failed or entry.connector.state is State.FAILED
        tasks = [
            TaskId(name, i)
            for i, s in sorted(entry.tasks.items())
            if include_tasks and (not only_failed or s.state is State.FAILED)
        ]
        plan = None
        if include_tasks or only_failed:
            plan = self.status(name)
            if restart_connector:
                plan["connector"]["state"] = State.RESTARTING.value
            for t in plan["tasks"]:
                if TaskId(name, t["id"]) in tasks:
                    t["state"] = State.RESTARTING.value
        return plan, restart_connector, tasks

    async def _restart_task(self, task_id: TaskId) -> None:
        record = self.configs.get(task_id.connector)
        if record is None or task_id.task >= len(record.task_configs):
            return
        self.restarter.forget(task_id.connector, task_id)
        await self.worker.stop_tasks([task_id])
        paused = record.target_state == TargetState.PAUSED.value
        self.worker.start_task(
            task_id, record.task_configs[task_id.task], self.connector_type(task_id.connector), paused
        )

    async def _restart_connector_instance(self, name: str) -> None:
        record = self.configs.get(name)
        if record is None or record.target_state == TargetState.STOPPED.value:
            return
        self.restarter.forget(name, None)
        await self.worker.stop_connector(name)
        await self._start_connector_instance(name)

    # -- internals --------------------------------------------------------------------------
    def _ask_task_configs(self, name: str) -> list[dict[str, str]] | None:
        """The running connector's task configs, merged over its config; None if it is not running
        here or failed to produce them (a connector bug fails the connector, not the worker)."""
        record = self.configs.get(name)
        runner = self.worker.connectors.get(name)
        if record is None or runner is None:
            return None
        try:
            framework = self.framework_config(name)
            raw = runner.task_configs(framework.tasks_max)
            return self._task_configs(name, framework, raw)
        except Exception as exc:
            runner.fail(exc)
            return None

    def schedule_reload(self, name: str, ttl_ms: int) -> None:
        """A config provider's values expire in ``ttl_ms``: restart the connector and its tasks
        then, so they fetch fresh values (``config.action.reload=restart``)."""
        pending = self._reloads.get(name)
        due = asyncio.get_running_loop().time() + ttl_ms / 1000
        if pending is not None and pending.when() <= due:
            return
        if pending is not None:
            pending.cancel()
        self._reloads[name] = asyncio.get_running_loop().call_later(ttl_ms / 1000, self._reload, name)

    def _reload(self, name: str) -> None:
        self._reloads.pop(name, None)
        spawn(
            self._reload_now(name),
            f"reload-{name}",
            on_failure=self._connector_failed(name),
            keep=self._background,
        )

    async def _reload_now(self, name: str) -> None:
        if self._stopping:
            return
        try:
            await self.restart_connector(name, include_tasks=True, only_failed=False)
            log.info("connector restarted: config provider values expired", connector=name)
        except NotFoundError:
            pass

    def request_reconfiguration(self, name: str) -> None:
        """``ConnectorContext.request_task_reconfiguration``: regenerate tasks soon, off the caller's stack."""
        spawn(
            self._reconfigure(name),
            f"reconfigure-{name}",
            on_failure=self._connector_failed(name),
            keep=self._background,
        )

    def _connector_failed(self, name: str) -> Callable[[BaseException], None]:
        """Background work for a connector failed: the connector shows FAILED with the trace."""

        def failed(error: BaseException) -> None:
            runner = self.worker.connectors.get(name)
            if runner is not None:
                runner.fail(error)

        return failed

    async def _reconfigure(self, name: str) -> None:
        async with self._lock:
            record = self.configs.get(name)
            if not self._stopping and record is not None and record.target_state != TargetState.STOPPED.value:
                await self._apply_task_configs(name, restart_running=True)

    async def _start_connector_instance(self, name: str) -> bool:
        record = self.configs.get(name)
        assert record is not None
        paused = record.target_state == TargetState.PAUSED.value
        try:
            await self.worker.start_connector(name, dict(record.config), self.connector_type(name), paused)
        except Exception as exc:
            runner = self.worker.connectors.get(name)
            if runner is not None:
                runner.fail(exc)
            secrets = runner.secrets if runner is not None else set()
            log.error("connector failed to start", connector=name, error=mask_text(repr(exc), secrets))
            return False
        return True

    def _task_configs(
        self, name: str, framework: ConnectorConfig, raw: list[dict[str, str]]
    ) -> list[dict[str, str]]:
        config, max_tasks = framework.raw, framework.tasks_max
        if framework.tasks_max_enforce and len(raw) > max_tasks:
            raise ConnectError(
                f"The connector {name} has generated {len(raw)} tasks, which is greater than {max_tasks}, "
                "the maximum number of tasks it is configured to create. This behaviour should be considered "
                "a bug and is disallowed."
            )
        desc = resolve_connector(self.registry, config)
        assert desc.cls is not None
        task_class = desc.cls.task_class
        class_name = f"{task_class.__module__}.{task_class.__qualname__}"
        return [
            reverse_transform(
                config, {**config, **{k: str(v) for k, v in task.items()}, "task.class": class_name}
            )
            for task in raw
        ]

    # -- what each kind of herder does its own way -----------------------------------------------
    @abstractmethod
    async def start(self) -> None:
        """Start the connectors this worker runs."""

    @abstractmethod
    async def _create_locked(self, name: str, config: dict[str, str], initial_state: TargetState) -> None:
        """Store and apply a new, validated connector (the lock is held, the name is free)."""

    @abstractmethod
    async def _put_config_locked(self, name: str, config: dict[str, str]) -> bool:
        """Store ``config`` (the lock is held); True when the connector was created."""

    @abstractmethod
    async def delete(self, name: str) -> None: ...

    @abstractmethod
    async def _set_target(self, name: str, target: TargetState) -> None: ...

    @abstractmethod
    async def restart_connector(
        self, name: str, include_tasks: bool, only_failed: bool
    ) -> dict[str, Any] | None: ...

    @abstractmethod
    async def restart_task(self, name: str, task: int) -> None: ...

    @abstractmethod
    async def _start_connector(self, name: str) -> None:
        """Start the connector instance (and its tasks, where this herder starts them)."""

    @abstractmethod
    async def _stop_connector(self, name: str, remove_status: bool = False) -> None: ...

    @abstractmethod
    async def _apply_task_configs(self, name: str, *, restart_running: bool) -> None:
        """Ask the running connector for its task configs and act on a change."""


def _state_json(status: Status) -> dict[str, Any]:
    data: dict[str, Any] = {"state": status.state.value, "worker_id": status.worker_id}
    if status.trace:
        data["trace"] = status.trace
    if status.auto_restart is not None:
        data["auto_restart"] = status.auto_restart.as_json()
    if status.consumer_lag is not None:
        data["consumer_lag"] = status.consumer_lag
    if status.records_lost:
        data["records_lost"] = status.records_lost
    if status.dead_lettered:
        data["dead_lettered"] = status.dead_lettered
    if status.details:
        data["details"] = dict(status.details)
    return data
