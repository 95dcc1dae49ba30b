"""Sink tasks: receive batches of records from topics and write them to an external system.

Lifecycle (called by the runtime, one call at a time):
1. ``start(config)`` once, then ``open(partitions)`` when partitions are assigned.
2. ``put(records)`` with each batch. Raise ``RetriableError`` when the target is temporarily
   unable to take them: fetching pauses and the *same* batch is offered again after the backoff
   (``RetriableError.retry_after``, or ``context.timeout(ms)``, or an exponential default).
   Any other exception fails the task. A single bad record can instead be handed to
   ``context.errant_record_reporter`` (Kafka's KIP-610): it goes through the connector's
   ``errors.tolerance``, error log and dead-letter queue, and ``put`` carries on.
3. ``pre_commit(offsets)`` / ``flush(offsets)`` before the runtime commits consumer offsets; make
   everything ``put`` so far durable here. Offsets are committed only if this returns normally.
4. ``close(partitions)`` when partitions are revoked, ``stop()`` once at the end.

Once the task's status reads PAUSED or STOPPED, ``put`` is not called again until it is resumed.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from connectors.sdk.config import PluginConfig
from connectors.sdk.metrics import NO_METRICS, PluginMetrics
from connectors.sdk.records import SinkRecord, TopicPartition
from connectors.sdk.status import StatusDetails

C = TypeVar("C", bound=PluginConfig)
T = TypeVar("T")


class ErrantRecordReporter(Protocol):
    """Reports one record the sink could not write (Kafka Connect's KIP-610 reporter).

    ``report`` applies the connector's ``errors.tolerance``: with ``none`` it raises (failing the
    task, as the error would have); with ``all`` the record is logged (``errors.log.enable``) and
    written to the dead-letter queue (``errors.deadletterqueue.topic.name``) before it returns.
    """

    async def report(self, record: SinkRecord, error: BaseException) -> None: ...


class SinkTaskContext:
    """What a sink task may ask of the runtime.

    The runtime reads the requests (pause, rewind, commit, timeout) between two ``put`` calls;
    none of them takes effect in the middle of a batch.
    """

    def __init__(
        self,
        errant_record_reporter: ErrantRecordReporter | None = None,
        *,
        metrics: PluginMetrics = NO_METRICS,
        details: StatusDetails | None = None,
    ) -> None:
        self.metrics = metrics
        self.details = details or StatusDetails()
        """Progress shown in the task's REST status (``"details"``)."""
        """Register the connector's own metrics (served at ``/metrics`` with connector/task labels)."""
        self.errant_record_reporter = errant_record_reporter
        """None only on runtimes without errant-record reporting (never in Penstock)."""
        self.stopping = asyncio.Event()
        """Set when the runtime stops the task; a long ``put`` retry loop should give up."""
        self._assignment: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()
        self._rewinds: dict[TopicPartition, int] = {}
        self._timeout_ms: int | None = None
        self._commit_requested = False

    # -- partitions ---------------------------------------------------------------------------
    @property
    def assignment(self) -> set[TopicPartition]:
        """The partitions currently assigned to this task."""
        return set(self._assignment)

    def pause(self, *partitions: TopicPartition) -> None:
        """Stop fetching from these partitions (for example while the target throttles them)."""
        self._paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        """Fetch again from partitions paused with :meth:`pause`."""
        self._paused.difference_update(partitions)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    def offset(self, partition: TopicPartition, position: int) -> None:
        """Rewind (or skip) ``partition``: the next record fetched from it is at ``position``.

        Records already fetched beyond the new position are offered again; use it after a
        restart to resume from an offset the target itself stored (exactly-once sinks).
        """
        self._rewinds[partition] = position

    def offsets(self, positions: Mapping[TopicPartition, int]) -> None:
        """:meth:`offset` for several partitions."""
        self._rewinds.update(positions)

    def timeout(self, timeout_ms: int) -> None:
        """Wait this long before offering a batch again after ``put`` raised ``RetriableError``."""
        self._timeout_ms = timeout_ms

    def request_commit(self) -> None:
        """Ask for a flush and offset commit soon, not only at the next interval."""
        self._commit_requested = True

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking call in a thread so the event loop stays free."""
        return await asyncio.to_thread(fn, *args)

    # -- read by the runtime (and the test kit) -----------------------------------------------
    def set_assignment(self, partitions: Collection[TopicPartition]) -> None:
        self._assignment = set(partitions)
        self._paused &= self._assignment

    def take_rewinds(self) -> dict[TopicPartition, int]:
        rewinds, self._rewinds = self._rewinds, {}
        return rewinds

    def take_timeout_s(self) -> float | None:
        timeout, self._timeout_ms = self._timeout_ms, None
        return None if timeout is None else timeout / 1000

    def take_commit_request(self) -> bool:
        requested, self._commit_requested = self._commit_requested, False
        return requested


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
