"""Source tasks: read from an external system and return records with their source offsets.

Lifecycle (called by the runtime, never concurrently with each other except as noted):
1. ``start(config)`` once. Read the last committed offset with ``context.offset(partition)``.
2. ``poll()`` repeatedly. Return a list of records, or ``[]`` within about
   ``context.poll_timeout`` seconds when nothing is available, so pause and stop stay prompt.
   The runtime does not call ``poll()`` while the previous batch is still being written
   (backpressure). Raise ``RetriableError`` for temporary trouble; the runtime polls again later.
3. ``commit_record(record, metadata)`` once per record after it is safely written.
4. ``commit(offsets)`` after source offsets were *durably stored*: every
   ``offset.flush.interval.ms`` (also while idle) and on a graceful stop on Kafka at-least-once,
   after each written batch where records and offsets are stored together (embedded log, Kafka
   transactions). ``offsets`` holds exactly what was stored, the latest offset per source
   partition. This is the only safe moment to acknowledge upstream (confirm a replication slot's
   LSN, delete a consumed file): a crash after it resumes from those offsets, never before them.
   It may run between two polls, and is skipped when nothing new was stored.
5. ``stop()`` once, after the last poll returned (or was cancelled after the grace period).
   ``context.stopping`` is set as soon as the runtime decides to stop the task, so a long
   ``poll()`` can return early.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from connectors.sdk.config import PluginConfig
from connectors.sdk.metrics import NO_METRICS, PluginMetrics
from connectors.sdk.records import RecordMetadata, SourceRecord
from connectors.sdk.status import StatusDetails

C = TypeVar("C", bound=PluginConfig)
T = TypeVar("T")


def partition_key(partition: Mapping[str, Any]) -> str:
    """A stable text key for a source partition dict (key order does not matter)."""
    return json.dumps(partition, sort_keys=True, separators=(",", ":"), default=str)


class CommittedOffsets:
    """Source offsets that are durably stored, the latest per source partition.

    Handed to :meth:`SourceTask.commit`. Look one up with ``get(partition)``; iterate for
    ``(partition, offset)`` pairs. An offset of ``None`` means the partition's offset was reset.
    """

    __slots__ = ("_entries",)

    def __init__(self, entries: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]] = ()) -> None:
        self._entries: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {}
        for partition, offset in entries:
            self._entries[partition_key(partition)] = (
                dict(partition),
                None if offset is None else dict(offset),
            )

    def get(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        entry = self._entries.get(partition_key(partition))
        return entry[1] if entry else None

    def __contains__(self, partition: object) -> bool:
        return isinstance(partition, Mapping) and partition_key(partition) in self._entries

    def __iter__(self) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __repr__(self) -> str:
        return f"CommittedOffsets({list(self)!r})"


class OffsetReader(Protocol):
    """Reads stored source offsets; implemented by the runtime (and by the test kit)."""

    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None: ...


class SourceTaskContext:
    """What a source task may ask of the runtime."""

    def __init__(
        self,
        offsets: OffsetReader,
        *,
        poll_timeout: float = 1.0,
        metrics: PluginMetrics = NO_METRICS,
        details: StatusDetails | None = None,
    ) -> None:
        self._offsets = offsets
        self.poll_timeout = poll_timeout
        self.metrics = metrics
        self.details = details or StatusDetails()
        """Progress shown in the task's REST status (``"details"``): snapshot rows, lag, ..."""
        self.stopping = asyncio.Event()
        """Set when the runtime stops the task: a long-running ``poll()`` should return soon."""

    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        """The last committed source offset for ``partition``, or None."""
        return await self._offsets.offset(partition)

    async def offsets(self, partitions: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
        """The last committed source offsets of several partitions, in the same order."""
        return [await self._offsets.offset(p) for p in partitions]

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

    async def commit(self, offsets: CommittedOffsets) -> None:
        """``offsets`` are durably stored: acknowledge upstream up to them, if the source needs it.

        Never called with an offset that is not stored, so a task may safely let the source
        discard data up to it (PostgreSQL WAL, a queue's messages).
        """

    async def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        """``record`` was written (``metadata``) or dropped by a transform (None).

        Written is not the same as committed: its source offset may not be stored yet.
        """

    async def stop(self) -> None:
        """Release resources; the runtime will not call ``poll`` again."""
