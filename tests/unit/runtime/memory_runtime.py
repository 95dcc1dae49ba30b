"""A whole worker on the in-memory backend, in the test's own event loop: no files, no processes.

Tests register their plugin classes, create connectors through the herder as REST would, and
read what arrived straight from the in-memory topics and stores.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from app.herder.base import Herder
from app.plugins.registry import PluginRegistry
from app.service import memory_service
from app.settings import WorkerSettings
from app.storage.base import ConsumerRecord, ProducerRecord
from app.storage.memory import MemoryLog
from connectors.sdk.records import TopicPartition


class MemoryRuntime:
    def __init__(self, herder: Herder, log: MemoryLog) -> None:
        self.herder = herder
        self.log = log

    async def produce(self, topic: str, values: Sequence[bytes], partition: int = 0) -> None:
        await self.log.send_batch([ProducerRecord(topic, v, partition=partition) for v in values])

    async def records(self, topic: str, partition: int = 0) -> list[ConsumerRecord]:
        return await self.log.read(TopicPartition(topic, partition), 0, 1 << 30)

    async def values(self, topic: str, partition: int = 0) -> list[bytes | None]:
        return [r.value for r in await self.records(topic, partition)]

    def task_state(self, connector: str, task: int = 0) -> str | None:
        status = self.herder.ctx.statuses.get(connector)
        entry = status.tasks.get(task) if status else None
        return entry.state.value if entry else None


@asynccontextmanager
async def memory_runtime(
    *plugins: tuple[str, type[Any]], log: MemoryLog | None = None, **settings: str
) -> AsyncIterator[MemoryRuntime]:
    """A started worker; ``plugins`` are ``(type, class)`` pairs answering to their class name."""
    registry = PluginRegistry()
    for plugin_type, cls in plugins:
        registry.register(plugin_type, cls, cls.__name__)
    worker = WorkerSettings.model_validate(
        {
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "offset.flush.interval.ms": "100",
            "task.shutdown.graceful.timeout.ms": "2000",
            **settings,
        }
    )
    memory_log = log or MemoryLog()
    service = memory_service(worker, registry, memory_log)
    await service.start()
    try:
        yield MemoryRuntime(service.herder, memory_log)
    finally:
        await service.close()


async def eventually(condition: Callable[[], Any], timeout: float = 5.0, message: str = "") -> Any:
    """Poll ``condition`` (sync or async) until it returns something truthy."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                result = condition()
                if asyncio.iscoroutine(result):
                    result = await result
                if result:
                    return result
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(message or "condition not met in time") from None
