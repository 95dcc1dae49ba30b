"""Sink tasks: receive batches of records from topics and write them to an external system.

Lifecycle (called by the runtime, one call at a time):
1. ``start(config)`` once, then ``open(partitions)`` when partitions are assigned.
2. ``put(records)`` with each batch. Raise ``RetriableError`` when the target is temporarily
   unable to take them: fetching pauses and the *same* batch is offered again after the backoff.
   Any other exception fails the task.
3. ``pre_commit(offsets)`` / ``flush(offsets)`` before the runtime commits consumer offsets; make
   everything ``put`` so far durable here. Offsets are committed only if this returns normally.
4. ``close(partitions)`` when partitions are revoked, ``stop()`` once at the end.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from connectors.sdk.config import PluginConfig
from connectors.sdk.metrics import NO_METRICS, PluginMetrics
from connectors.sdk.records import SinkRecord, TopicPartition

C = TypeVar("C", bound=PluginConfig)
T = TypeVar("T")


class SinkTaskContext:
    """What a sink task may ask of the runtime."""

    def __init__(self, metrics: PluginMetrics = NO_METRICS) -> None:
        self.assignment: set[TopicPartition] = set()
        self.commit_requested = False
        self.metrics = metrics

    def request_commit(self) -> None:
        """Ask for a flush and offset commit soon, not only at the next interval."""
        self.commit_requested = True

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(fn, *args)


class SinkTask(ABC, Generic[C]):
    config_model: ClassVar[type[PluginConfig]]
    context: SinkTaskContext

    def initialize(self, context: SinkTaskContext) -> None:
        self.context = context

    async def start(self, config: C) -> None:
        """Open connections to the target."""

    async def open(self, partitions: Collection[TopicPartition]) -> None:
        """Partitions newly assigned to this task."""

    @abstractmethod
    async def put(self, records: Sequence[SinkRecord]) -> None:
        """Write a batch (may buffer; durability is only required by ``flush``)."""

    async def flush(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Make everything ``put`` so far durable."""

    async def pre_commit(self, offsets: Mapping[TopicPartition, int]) -> Mapping[TopicPartition, int]:
        """Offsets safe to commit (next offset to read per partition); default: flush, then all."""
        await self.flush(offsets)
        return offsets

    async def close(self, partitions: Collection[TopicPartition]) -> None:
        """Partitions revoked from this task."""

    async def stop(self) -> None:
        """Release resources."""
