"""Emits "hello" once a second."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from connectors.sdk import PluginConfig, SourceConnector, SourceRecord, SourceTask, setting
from connectors.sdk.data import STRING_SCHEMA


class HelloConfig(PluginConfig):
    topic: str = setting(doc="Topic to greet", min_length=1)


class HelloSourceTask(SourceTask[HelloConfig]):
    config_model = HelloConfig

    async def start(self, config: HelloConfig) -> None:
        self.topic = config.topic

    async def poll(self) -> Sequence[SourceRecord]:
        await asyncio.sleep(0.2)
        return [SourceRecord(topic=self.topic, value="hello", value_schema=STRING_SCHEMA)]


class HelloSourceConnector(SourceConnector[HelloConfig]):
    config_model = HelloConfig
    task_class = HelloSourceTask
    aliases = ("com.example.HelloSourceConnector",)

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]
