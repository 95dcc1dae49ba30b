"""``ConnectorContext.request_task_reconfiguration()`` regenerates tasks in a running service."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from app.plugins.registry import PluginDesc, PluginRegistry
from app.service import Service
from app.settings import WorkerSettings
from connectors.sdk import PluginConfig, SourceConnector, SourceRecord, SourceTask, setting


class TablesConfig(PluginConfig):
    topic: str = setting("t", doc="topic")


class IdleTask(SourceTask[TablesConfig]):
    config_model = TablesConfig

    async def poll(self) -> Sequence[SourceRecord]:
        await asyncio.sleep(0.05)
        return []


class TablesConnector(SourceConnector[TablesConfig]):
    """One task per "table"; the test adds tables while it runs, as a JDBC source would notice them."""

    config_model = TablesConfig
    task_class = IdleTask
    tables: list[str] = ["a"]

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{"table": t} for t in self.tables[:max_tasks]]


class OnePluginRegistry(PluginRegistry):
    def __init__(self) -> None:
        super().__init__()
        self.desc = PluginDesc("test.TablesConnector", "source", "1", TablesConnector, {"Tables"})

    def resolve(self, name: str, types: Iterable[str]) -> PluginDesc:
        if name == "Tables" and "source" in tuple(types):
            return self.desc
        return super().resolve(name, types)

    def find(self, name: str, types: Iterable[str] = ("source", "sink")) -> PluginDesc | None:
        return self.desc if name == "Tables" else super().find(name, types)


async def wait_for(condition: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_reconfiguration_request_restarts_tasks_with_the_new_configs(tmp_path: Path) -> None:
    TablesConnector.tables = ["a"]
    settings = WorkerSettings.model_validate({"data.dir": str(tmp_path)})
    service = await Service.open(settings, OnePluginRegistry())
    await service.start()
    herder = service.herder
    try:
        config = {"name": "tables", "connector.class": "Tables", "tasks.max": "4"}
        await herder.create("tables", config, None)
        assert [c["table"] for c in herder.task_configs("tables")] == ["a"]

        TablesConnector.tables = ["a", "b", "c"]
        instance = herder.worker.connectors["tables"].instance
        assert instance is not None
        instance.context.request_task_reconfiguration()

        await wait_for(lambda: len(herder.task_configs("tables")) == 3)
        assert [c["table"] for c in herder.task_configs("tables")] == ["a", "b", "c"]
        await wait_for(lambda: len(herder.status("tables")["tasks"]) == 3)
        await wait_for(lambda: all(t["state"] == "RUNNING" for t in herder.status("tables")["tasks"]))

        # Asking again without a change leaves the running tasks alone.
        running = dict(herder.worker.tasks)
        instance.context.request_task_reconfiguration()
        await asyncio.sleep(0.2)
        assert herder.worker.tasks == running
    finally:
        await service.close()
