"""One running connector instance: parse its config, start it, ask it for task configs."""

from __future__ import annotations

from typing import Any

from app.runtime.context import RuntimeContext
from app.storage.base import State, Status
from connectors.sdk.connector import Connector, ConnectorContext


class _Context(ConnectorContext):
    def __init__(self, runner: ConnectorRunner) -> None:
        self._runner = runner
        self.metrics = runner.ctx.metrics.plugin_metrics(runner.name)

    def request_task_reconfiguration(self) -> None:
        self._runner.ctx.on_reconfigure(self._runner.name)

    def raise_error(self, error: Exception) -> None:
        self._runner.fail(error)


class ConnectorRunner:
    def __init__(self, name: str, config: dict[str, str], ctx: RuntimeContext, connector_type: str) -> None:
        self.name = name
        self.config = config
        self.secrets = ctx.secrets_of(config)
        self.ctx = ctx
        self.type = connector_type
        self.instance: Connector[Any] | None = None
        self.state = State.UNASSIGNED

    async def start(self, paused: bool) -> None:
        desc = self.ctx.registry.resolve(self.config["connector.class"], ("source", "sink"))
        assert desc.cls is not None
        config, self.secrets = await self.ctx.resolve(self.name, self.config)
        instance: Connector[Any] = desc.cls()
        instance.initialize(_Context(self))
        await instance.start(instance.config_model.parse(config))
        self.instance = instance
        self.set_state(State.PAUSED if paused else State.RUNNING)

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        assert self.instance is not None
        return self.instance.task_configs(max_tasks)

    def set_state(self, state: State, trace: str | None = None) -> None:
        self.state = state
        previous = self.ctx.statuses.get(self.name)
        auto = previous.connector.auto_restart if previous and state is State.FAILED else None
        self.ctx.statuses.put_connector(self.name, Status(state, self.ctx.worker_id, trace, auto), self.type)

    def fail(self, error: BaseException) -> None:
        from app.runtime.task_runner import format_trace

        self.set_state(State.FAILED, format_trace(error, self.secrets))
        self.ctx.on_failure(self.name, None, error)

    async def stop(self) -> None:
        if self.instance is not None:
            instance, self.instance = self.instance, None
            await instance.stop()
