"""A sink task's Kafka consumer, shaped like the embedded one the sink runner drives.

Rebalances are handed to the runner instead of being handled inside the client's callback:
when partitions are revoked the callback waits until the runner has flushed the task,
committed the partitions' offsets and released them, so the next owner starts exactly where
this one stopped (the revoke-before-assign rule the embedded coordinator follows too).

Two things keep that hand-over from deadlocking. aiokafka's ``getmany`` does not return while
a reassignment is in progress (it waits for the next assignment, whatever its timeout), and
the next assignment cannot come while the callback waits for the runner; so ``fetch`` never
waits longer than its timeout and returns at once when a revocation needs the runner. And the
group waits for a member's rejoin as long as ``rebalance.timeout.ms``, which aiokafka sets to
the session timeout (10 s) by default: a put or flush in progress longer than that got the
member evicted, and its rejoin started the next rebalance. As in the Java client, the
rebalance timeout defaults to ``max.poll.interval.ms`` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata
from aiokafka.structs import TopicPartition as KafkaTopicPartition

from app.kafka.client_config import client_kwargs, start_client
from app.settings import WorkerSettings
from app.storage.base import FetchedRecord, Subscription
from connectors.sdk.records import TopicPartition

log = structlog.get_logger(__name__)
MAX_POLL_INTERVAL_MS = 300_000
"""aiokafka's and Kafka's default: how long a put may keep the task from fetching."""
REVOKE_MARGIN_S = 2.0
"""A revocation callback gives up this long before the group would evict the member."""


def _ours(tp: KafkaTopicPartition) -> TopicPartition:
    return TopicPartition(tp.topic, tp.partition)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: KafkaSinkConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: Iterable[KafkaTopicPartition]) -> None:
        await self._owner._revoked({_ours(tp) for tp in revoked})

    async def on_partitions_assigned(self, assigned: Iterable[KafkaTopicPartition]) -> None:
        self._owner._assigned({_ours(tp) for tp in assigned})
        self._owner._joined()


_ROUND = struct.Struct(">q")


class _CountingRoundRobin(RoundRobinPartitionAssignor):  # type: ignore[misc]
    """Kafka's round-robin assignment, plus a group-wide round number in the assignment.

    aiokafka keeps the group's generation private; operators (and the bounce tests) count
    rebalances by it. The leader hands out the last round it saw itself plus one, so all members
    of a round log the same number, growing while any member stays in the group (a leader is
    always a member that took part in the previous round, unless every member is new). The
    member metadata is left as plain round-robin's: a member whose metadata changed between two
    joins would make the broker start yet another rebalance. It keeps the protocol name
    ``roundrobin`` (offering two protocols made groups flap between generations): members
    running plain round-robin, such as older workers, interoperate and simply carry no number.
    """

    name = "roundrobin"

    def __init__(self) -> None:
        self.round = 0

    def assign(  # type: ignore[override]
        self, cluster: Any, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:
        plain = RoundRobinPartitionAssignor.assign(cluster, members)
        stamp = _ROUND.pack(self.round + 1)
        return {
            member: ConsumerProtocolMemberAssignment(a.version, a.assignment, stamp)
            for member, a in plain.items()
        }

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:  # type: ignore[override]
        if len(assignment.user_data or b"") == _ROUND.size:
            self.round = _ROUND.unpack(assignment.user_data)[0]


class KafkaSinkConsumer:
    def __init__(
        self,
        settings: WorkerSettings,
        group: str,
        member: str,
        subscription: Subscription,
        config: Mapping[str, str],
        ensure_topic: Callable[[str], Awaitable[None]],
    ) -> None:
        self._ensure_topic = ensure_topic
        kwargs = {
            "max_poll_records": settings.consumer_max_poll_records,
            "auto_offset_reset": "earliest",
            "isolation_level": "read_committed",
            **client_kwargs(settings, "consumer", config),
        }
        kwargs.update(group_id=group, enable_auto_commit=False, client_id=f"connector-consumer-{member}")
        kwargs.setdefault("max_poll_interval_ms", MAX_POLL_INTERVAL_MS)
        kwargs.setdefault("rebalance_timeout_ms", kwargs["max_poll_interval_ms"])
        self._revoke_wait_s = max(1.0, kwargs["rebalance_timeout_ms"] / 1000 - REVOKE_MARGIN_S)
        self._assignor = _CountingRoundRobin()
        kwargs["partition_assignment_strategy"] = (self._assignor,)
        self._consumer = AIOKafkaConsumer(**kwargs)
        self._client_kwargs = kwargs
        self.group = group
        self.member = member
        self._subscription = subscription
        self.assignment: set[TopicPartition] = set()
        self.rebalances = 0
        """Generations this member has been part of."""
        self._to_revoke: set[TopicPartition] = set()
        self._to_assign: set[TopicPartition] = set()
        self._revoking: set[TopicPartition] = set()
        """Handed to the runner, not yet released: their offsets may still be committed."""
        self._released = asyncio.Event()
        self._wake = asyncio.Event()
        self._getter: asyncio.Future[dict[Any, list[Any]]] | None = None
        """The client's fetch in progress, kept across calls (see :meth:`fetch`)."""
        """Set when a revocation waits for the runner: a fetch in progress returns at once."""
        self._active = True
        self.records_lost = 0
        self.commit_after_every_batch = False  # a broker round trip: offsets commit on the interval
        self._positions: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        for topic in self._subscription.topics:  # as in embedded mode: subscribing creates the topic
            await self._ensure_topic(topic)
        await start_client(self._consumer, self._client_kwargs)
        log.info("sink consumer joining its group", group=self.group, member=self.member)
        listener = _Listener(self)
        if self._subscription.pattern is not None:
            self._consumer.subscribe(pattern=self._subscription.pattern.pattern, listener=listener)
        else:
            self._consumer.subscribe(topics=list(self._subscription.topics), listener=listener)

    async def close(self) -> None:
        self._released.set()
        self._wake.set()
        if self._getter is not None:
            self._getter.cancel()
            await asyncio.gather(self._getter, return_exceptions=True)
            self._getter = None
        await self._consumer.stop()
        log.info("sink consumer left its group", group=self.group, member=self.member)

    def set_active(self, active: bool) -> None:
        self._active = active

    # -- rebalance hand-over ---------------------------------------------------------------
    async def _revoked(self, partitions: set[TopicPartition]) -> None:
        partitions &= self.assignment
        if not partitions:
            return
        if not self._active:  # paused: nothing is being put, offsets were committed on pause
            self._drop(partitions)
            return
        self._released.clear()
        self._to_revoke |= partitions
        self._wake.set()
        try:
            await asyncio.wait_for(self._released.wait(), self._revoke_wait_s)
        except TimeoutError:
            log.warning(
                "sink task did not release revoked partitions in time; they will be read again",
                member=self.member,
                waited_s=self._revoke_wait_s,
            )
            self._drop(self._to_revoke)
            self._to_revoke.clear()

    def _assigned(self, partitions: set[TopicPartition]) -> None:
        self._to_assign |= partitions - self.assignment

    def _joined(self) -> None:
        """One line per member and generation: how tests and operators count rebalances."""
        self.rebalances += 1
        log.info(
            "sink consumer group rebalanced",
            group=self.group,
            member=self.member,
            generation=self._assignor.round,
            partitions=len(self.assignment | self._to_assign),
        )

    def _drop(self, partitions: set[TopicPartition]) -> None:
        self.assignment -= partitions
        for tp in partitions:
            self._positions.pop(tp, None)

    async def poll_rebalance(self) -> tuple[set[TopicPartition], set[TopicPartition]] | None:
        if not self._to_revoke and not self._to_assign:
            return None
        self._wake.clear()
        revoked, self._to_revoke = self._to_revoke, set()
        assigned, self._to_assign = self._to_assign, set()
        self._revoking |= revoked
        self._drop(revoked)
        self.assignment |= assigned
        return revoked, assigned

    def release(self, partitions: Iterable[TopicPartition]) -> None:
        """The runner has committed and closed the revoked partitions: the rebalance may go on."""
        chosen = [KafkaTopicPartition(tp.topic, tp.partition) for tp in partitions]
        self._revoking.difference_update(_ours(tp) for tp in chosen)
        with contextlib.suppress(IllegalStateError):
            self._consumer.pause(*chosen)  # nothing more from them until the new assignment
        self._released.set()

    # -- data -------------------------------------------------------------------------------
    async def fetch(self, timeout: float) -> list[FetchedRecord]:
        """Records for the runner; empty after ``timeout``, or at once when a rebalance needs it.

        The client's ``getmany`` waits for the next assignment while a rebalance runs, whatever
        its timeout, and the rebalance waits for the runner to release the revoked partitions.
        So ``getmany`` runs in a task of its own that is never cancelled (aiokafka's idle
        accounting does not survive a cancelled fetch): this method waits for it, a revocation or
        the timeout, and a result that arrives later is handed over at the next call.
        """
        if self._to_revoke or self._to_assign:
            return []
        if self._getter is None:
            self._getter = asyncio.ensure_future(self._consumer.getmany(timeout_ms=int(timeout * 1000)))
        self._wake.clear()
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({self._getter, waker}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
        if not self._getter.done():
            return []
        getter, self._getter = self._getter, None
        batches = getter.result()
        out: list[FetchedRecord] = []
        for ktp, records in batches.items():
            tp = _ours(ktp)
            if tp not in self.assignment:
                # Assigned (or revoked) in the client but not yet handed to the runner: read
                # these again once the runner has opened the partition.
                if records:
                    with contextlib.suppress(IllegalStateError):
                        self._consumer.seek(ktp, records[0].offset)
                continue
            out += records  # aiokafka's records are FetchedRecords: handed through as they are
            if records:
                self._positions[tp] = records[-1].offset + 1
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        """``SinkTaskContext.offset``: the next fetch from ``tp`` starts at ``offset``."""
        if tp in self.assignment:
            self._consumer.seek(KafkaTopicPartition(tp.topic, tp.partition), offset)
            self._positions[tp] = offset

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        self._consumer.pause(*(KafkaTopicPartition(tp.topic, tp.partition) for tp in partitions))

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        self._consumer.resume(*(KafkaTopicPartition(tp.topic, tp.partition) for tp in partitions))

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> bool:
        """True when the broker stored the offsets; a refusal is logged and retried at the next flush."""
        mine = {
            KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(off, "")
            for tp, off in offsets.items()
            if tp in self.assignment or tp in self._revoking
        }
        if not mine:
            return False
        try:
            await self._consumer.commit(mine)
            return True
        except (CommitFailedError, IllegalStateError) as exc:
            log.warning("offset commit refused; the partitions moved and will be read again", error=str(exc))
        except KafkaError as exc:
            log.warning("offset commit failed; retrying at the next flush", error=str(exc))
        return False

    async def end_offsets(self) -> dict[TopicPartition, int]:
        chosen = [KafkaTopicPartition(tp.topic, tp.partition) for tp in self.assignment]
        if not chosen:
            return {}
        ends = await self._consumer.end_offsets(chosen)
        return {_ours(tp): offset for tp, offset in ends.items()}

    def lag(self) -> int | None:
        total = 0
        for tp, position in self._positions.items():
            high = self._consumer.highwater(KafkaTopicPartition(tp.topic, tp.partition))
            if high is not None:
                total += max(0, high - position)
        return total
