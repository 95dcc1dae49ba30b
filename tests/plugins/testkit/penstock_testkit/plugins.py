"""SequenceSource (fast numbered records), SlowSink (a deliberately slow target) and FlakySource
(fails a given number of times, with a retriable or a fatal cause)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Collection, Sequence
from pathlib import Path

from connectors.sdk import (
    ConfigData,
    ConfigError,
    ConfigProvider,
    PluginConfig,
    SinkConnector,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
    setting,
)
from connectors.sdk.data import STRING_SCHEMA


class SequenceConfig(PluginConfig):
    topic: str = setting(doc="Topic to write", min_length=1)
    count: int = setting(1_000_000, doc="Records to produce in all")
    payload_bytes: int = setting(1024, doc="Size of each record's value")
    batch_size: int = setting(500, doc="Records per poll")
    poll_interval_ms: int = setting(0, doc="Sleep this long in every poll(): throttles each task")
    task_index: int = setting(
        0, doc="Set by the connector: this task writes numbers i with i % task.count == task.index"
    )
    task_count: int = setting(1, doc="Set by the connector: how many tasks share the sequence")
    start_log: str = setting("", doc="If set, each task start appends '<task.index> <pid>' to this file")


class SequenceSourceTask(SourceTask[SequenceConfig]):
    config_model = SequenceConfig

    async def start(self, config: SequenceConfig) -> None:
        self.config = config
        self.partition: dict[str, object] = {"sequence": config.topic}
        if config.task_count > 1:
            self.partition["task"] = config.task_index
        stored = await self.context.offset(self.partition)
        self.next = int(stored["next"]) if stored else config.task_index
        self.pad = "x" * max(0, config.payload_bytes - 12)
        if config.start_log:
            with open(config.start_log, "a") as log:
                log.write(f"{config.task_index} {os.getpid()}\n")

    async def poll(self) -> Sequence[SourceRecord]:
        step = self.config.task_count
        if self.next >= self.config.count:
            await asyncio.sleep(0.05)
            return []
        if self.config.poll_interval_ms:
            await asyncio.sleep(self.config.poll_interval_ms / 1000)
        numbers = range(self.next, min(self.config.count, self.next + self.config.batch_size * step), step)
        records = [
            SourceRecord(
                topic=self.config.topic,
                value=f"{i:012d}{self.pad}",
                value_schema=STRING_SCHEMA,
                source_partition=self.partition,
                source_offset={"next": i + step},
            )
            for i in numbers
        ]
        self.next = numbers[-1] + step
        return records


class SequenceSourceConnector(SourceConnector[SequenceConfig]):
    """One task, or with ``tasks.max`` > 1 that many tasks sharing the numbers between them."""

    config_model = SequenceConfig
    task_class = SequenceSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        if max_tasks <= 1:
            return [{}]
        return [{"task.index": str(i), "task.count": str(max_tasks)} for i in range(max_tasks)]


class SlowSinkConfig(PluginConfig):
    file: str = setting(
        doc="Where to append the first 12 characters of each value; {pid} becomes the worker's process id"
    )
    delay_ms_per_batch: int = setting(50, doc="Sleep this long in every put()")
    timestamps: bool = setting(
        False, doc="Follow each line with a space and the wall-clock time it was written"
    )


class SlowSinkTask(SinkTask[SlowSinkConfig]):
    config_model = SlowSinkConfig

    async def start(self, config: SlowSinkConfig) -> None:
        self.config = config

    async def put(self, records: Sequence[SinkRecord]) -> None:
        await asyncio.sleep(self.config.delay_ms_per_batch / 1000)
        end = f" {time.time():.3f}\n" if self.config.timestamps else "\n"
        with open(self.config.file.replace("{pid}", str(os.getpid())), "a") as out:
            out.write("".join(str(r.value)[:12] + end for r in records))


class SlowSinkConnector(SinkConnector[SlowSinkConfig]):
    config_model = SlowSinkConfig
    task_class = SlowSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{} for _ in range(max_tasks)]


class FlakyConfig(PluginConfig):
    topic: str = setting(doc="Topic to write", min_length=1)
    state_file: str = setting(doc="Counts the start attempts across restarts")
    failures: int = setting(2, doc="Start attempts that fail before one succeeds")
    cause: str = setting(
        "retriable",
        doc="retriable (a connection error), fatal (a config error) or path (opening a file in a missing directory)",
    )


class FlakySourceTask(SourceTask[FlakyConfig]):
    config_model = FlakyConfig

    async def start(self, config: FlakyConfig) -> None:
        self.config = config
        path = Path(config.state_file)
        attempts = int(path.read_text()) if path.exists() else 0
        path.write_text(str(attempts + 1))
        if attempts < config.failures:
            if config.cause == "fatal":
                raise ConfigError(f"flaky source: bad configuration (attempt {attempts + 1})")
            if config.cause == "path":
                open(path.parent / "missing" / "input.txt", "rb").close()  # FileNotFoundError
            raise ConnectionRefusedError(f"flaky source: upstream not reachable (attempt {attempts + 1})")

    async def poll(self) -> Sequence[SourceRecord]:
        await asyncio.sleep(0.1)
        return [
            SourceRecord(topic=self.config.topic, value=f"alive {os.getpid()}", value_schema=STRING_SCHEMA)
        ]


class FlakySourceConnector(SourceConnector[FlakyConfig]):
    config_model = FlakyConfig
    task_class = FlakySourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


class ExpiringConfig(PluginConfig):
    ttl_ms: int = setting(60_000, doc="How long the values it hands out stay valid")


class ExpiringFileConfigProvider(ConfigProvider):
    """``key=value`` lines of a file, valid for ``ttl.ms`` (a stand-in for a vault lease)."""

    config_model = ExpiringConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, ExpiringConfig)
        self.ttl_ms = config.ttl_ms

    async def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        text = Path(path).read_text()
        data = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        return ConfigData({k: v for k, v in data.items() if keys is None or k in keys}, ttl_ms=self.ttl_ms)
