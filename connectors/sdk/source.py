"""Source tasks: read from an external system and return records with their source offsets.

Lifecycle (called by the runtime, never concurrently with each other except as noted):
1. ``start(config)`` once. Read the last committed offset with ``context.offset(partition)``.
2. ``poll()`` repeatedly. Return a list of records, or ``[]`` within about
   ``context.poll_timeout`` seconds when nothing is available, so pause and stop stay prompt.
   The runtime does not call ``poll()`` while the previous batch is still being written
   (backpressure). Raise ``RetriableError`` for temporary trouble; the runtime polls again later.
3. ``commit_record(record, metadata)`` once per record after it is safely written, and
   ``commit()`` after offsets were stored. Both may run between two polls.
4. ``stop()`` once, after the last poll returned (or was cancelled after the grace period).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from connectors.sdk.config import PluginConfig
from connectors.sdk.metrics import NO_METRICS, PluginMetrics
from connectors.sdk.records import RecordMetadata, SourceRecord

C = TypeVar("C", bound=PluginConfig)
T = TypeVar("T")


class OffsetReader(Protocol):
    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None: ...


class SourceTaskContext:
    """What a source task may ask of the runtime."""

    def __init__(
        self, offsets: OffsetReader, *, poll_timeout: float = 1.0, metrics: PluginMetrics = NO_METRICS
    ) -> None:
        self._offsets = offsets
        self.poll_timeout = poll_timeout
        self.metrics = metrics
        self.stopping = asyncio.Event()

    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        """The last committed source offset for ``partition``, or None."""
        return await self._offsets.offset(partition)

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call in a thread so the event loop stays free."""
        return await asyncio.to_thread(fn, *args)


class SourceTask(ABC, Generic[C]):
    config_model: ClassVar[type[PluginConfig]]
    context: SourceTaskContext

    def initialize(self, context: SourceTaskContext) -> None:
        self.context = context

    async def start(self, config: C) -> None:
        """Open connections and read the starting offset."""

    @abstractmethod
    async def poll(self) -> Sequence[SourceRecord]:
        """The next records, or an empty list when nothing arrived within ``poll_timeout``."""

    async def commit(self) -> None:
        """Offsets up to the last written record are stored; acknowledge upstream if needed."""

    async def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """``record`` was written (``metadata``) or dropped by a transform (None)."""

    async def stop(self) -> None:
        """Release resources; the runtime will not call ``poll`` again."""
