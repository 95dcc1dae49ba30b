"""The data bus of the embedded modes: a :class:`TopicLog` (SQLite or memory), its consumers,
and the in-process group coordinator that splits partitions.

Members of one group (the tasks of one sink connector, group ``connect-<name>``) share the
partitions of the topics they subscribe to, round-robin over the sorted partition list, as
Kafka's group protocol would. A member notices a new generation on its next fetch and then
revokes/assigns partitions; positions start at the group's committed offsets, else at the
earliest retained record (Kafka Connect sinks use ``auto.offset.reset=earliest``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from app.storage.base import (
    ConsumerRecord,
    Delivered,
    ProducerRecord,
    SinkConsumer,
    SourceWriter,
    Subscription,
)
from app.storage.topic_log import TopicLog
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import TopicPartition

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Group:
    members: dict[str, Subscription] = field(default_factory=dict)
    generation: int = 0
    topics_version: int = -1
    assignment: dict[str, set[TopicPartition]] = field(default_factory=dict)
    owners: dict[TopicPartition, str] = field(default_factory=dict)
    """Who holds each partition now; a moving partition is handed over only once released."""


class GroupCoordinator:
    def __init__(self, log: TopicLog) -> None:
        self._log = log
        self._groups: dict[str, _Group] = {}

    def join(self, group: str, member: str, subscription: Subscription) -> None:
        g = self._groups.setdefault(group, _Group())
        g.members[member] = subscription
        g.topics_version = -1

    def leave(self, group: str, member: str) -> None:
        g = self._groups.get(group)
        if g and g.members.pop(member, None) is not None:
            g.topics_version = -1
            g.owners = {tp: m for tp, m in g.owners.items() if m != member}
            if not g.members:
                del self._groups[group]

    def has_members(self, group: str) -> bool:
        return bool(self._groups.get(group))

    def assignment(self, group: str, member: str) -> tuple[int, set[TopicPartition]]:
        """(generation, partitions this member should own)."""
        g = self._groups[group]
        if g.topics_version != self._log.topics_version:
            self._rebalance(g)
        return g.generation, g.assignment.get(member, set())

    def available(self, group: str, member: str, partitions: set[TopicPartition]) -> set[TopicPartition]:
        """The part of ``partitions`` that no other member still holds."""
        owners = self._groups[group].owners
        return {tp for tp in partitions if owners.get(tp, member) == member}

    def claim(self, group: str, member: str, partitions: Iterable[TopicPartition]) -> None:
        owners = self._groups[group].owners
        for tp in partitions:
            owners[tp] = member

    def release(self, group: str, member: str, partitions: Iterable[TopicPartition]) -> None:
        """The member has committed and closed these partitions; others may now take them."""
        g = self._groups.get(group)
        if g is not None:
            for tp in partitions:
                if g.owners.get(tp) == member:
                    del g.owners[tp]

    def _rebalance(self, g: _Group) -> None:
        topics = self._log.topics_names()
        partitions = sorted(
            tp
            for topic in topics
            if any(s.matches(topic) for s in g.members.values())
            for tp in self._log.partitions(topic)
        )
        members = sorted(g.members)
        new = {m: set[TopicPartition]() for m in members}
        eligible = {m: [tp for tp in partitions if g.members[m].matches(tp.topic)] for m in members}
        for i, tp in enumerate(partitions):
            candidates = [m for m in members if tp in eligible[m]]
            new[candidates[i % len(candidates)]].add(tp)
        if new != g.assignment:
            g.generation += 1
            g.assignment = new
        g.topics_version = self._log.topics_version


class LogConsumer:
    def __init__(
        self,
        log: TopicLog,
        coordinator: GroupCoordinator,
        *,
        group: str,
        member: str,
        subscription: Subscription,
        max_poll_records: int = 500,
        fetch_max_bytes: int = 52_428_800,
    ) -> None:
        self._log = log
        self._coordinator = coordinator
        self.group = group
        self.member = member
        self._subscription = subscription
        self.max_poll_records = max_poll_records
        self.fetch_max_bytes = fetch_max_bytes
        self.assignment: set[TopicPartition] = set()
        self.positions: dict[TopicPartition, int] = {}
        self._paused: set[TopicPartition] = set()
        self._next_partition = 0
        self.records_lost = 0
        """Records retention deleted before this consumer read them (the size cap was exceeded)."""
        self.commit_after_every_batch = True
        """A commit is one local write: after each put, a kill -9 repeats at most one batch."""

    async def start(self) -> None:
        for topic in self._subscription.topics:
            await self._log.ensure_topic(topic)
        self._coordinator.join(self.group, self.member, self._subscription)
        # Registered until closed, paused or not: its lag holds back writers (log.max.lag.records)
        # and retention keeps what it has not read.
        self._log.register_reader(self.member, self.positions)

    async def close(self) -> None:
        self._log.unregister_reader(self.member)
        self._coordinator.leave(self.group, self.member)

    def set_active(self, active: bool) -> None:
        """A paused sink keeps its place: nothing changes in the embedded log."""

    async def poll_rebalance(self) -> tuple[set[TopicPartition], set[TopicPartition]] | None:
        """(revoked, assigned) when this member's partitions change.

        Revoked partitions must be committed and then given back with :meth:`release`; a
        partition moving here is only assigned once its previous owner released it, so two
        members never read the same partition from the same committed offset.
        """
        _, target = self._coordinator.assignment(self.group, self.member)
        available = self._coordinator.available(self.group, self.member, target)
        revoked = self.assignment - target
        added = available - self.assignment
        if not revoked and not added:
            return None
        for tp in revoked:
            self.positions.pop(tp, None)
            self._paused.discard(tp)
        self.assignment -= revoked
        if added:
            self._coordinator.claim(self.group, self.member, added)
            committed = await self._log.group_offsets(self.group)
            for tp in added:
                start = self._log.start_offset(tp)
                self.positions[tp] = max(committed.get(tp, start), start)
            self.assignment |= added
        return revoked, added

    def release(self, partitions: Iterable[TopicPartition]) -> None:
        self._coordinator.release(self.group, self.member, partitions)

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        self._paused.update(partitions)

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        self._paused.difference_update(partitions)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        if tp in self.assignment:
            self.positions[tp] = offset

    def lag(self) -> int | None:
        return sum(max(0, self._log.end_offset(tp) - pos) for tp, pos in self.positions.items())

    async def end_offsets(self) -> dict[TopicPartition, int]:
        return {tp: self._log.end_offset(tp) for tp in self.assignment}

    async def fetch(self, timeout: float) -> list[ConsumerRecord]:
        """Up to ``max_poll_records`` records, waiting at most ``timeout`` s when there are none."""
        records = await self._fetch_available()
        if not records and timeout > 0:
            await self._log.wait_for_append(timeout)
            records = await self._fetch_available()
        if records:
            await self._log.reader_progressed()
        return records

    async def _fetch_available(self) -> list[ConsumerRecord]:
        active = sorted(tp for tp in self.assignment if tp not in self._paused)
        if not active:
            return []
        out: list[ConsumerRecord] = []
        budget_bytes = self.fetch_max_bytes
        # Rotate the starting partition so one busy partition cannot starve the others.
        self._next_partition = (self._next_partition + 1) % len(active)
        for tp in active[self._next_partition :] + active[: self._next_partition]:
            room = self.max_poll_records - len(out)
            if room <= 0 or budget_bytes <= 0:
                break
            position = self.positions[tp]
            if position >= self._log.end_offset(tp):
                continue
            start = self._log.start_offset(tp)
            if position < start:
                self.records_lost += start - position
                log.warning(
                    "records were deleted by retention before this sink read them",
                    group=self.group,
                    partition=str(tp),
                    lost=start - position,
                    position=position,
                )
                position = start
            batch = await self._log.read(tp, position, room, budget_bytes)
            if batch:
                self.positions[tp] = batch[-1].offset + 1
                budget_bytes -= sum(r.size() for r in batch)
                out.extend(batch)
        return out

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> bool:
        await self._log.commit_group(self.group, offsets)
        return True

    async def committed(self, partitions: Collection[TopicPartition]) -> dict[TopicPartition, int]:
        stored = await self._log.group_offsets(self.group)
        return {tp: stored[tp] for tp in partitions if tp in stored}


class LogBus:
    """Topics and consumer groups of an embedded log, as the runtime's ``DataBus``."""

    def __init__(self, log: TopicLog, max_poll_records: int) -> None:
        self.log = log
        self.groups = GroupCoordinator(log)
        self._max_poll_records = max_poll_records

    async def source_writer(self, task_id: str, config: Mapping[str, str]) -> SourceWriter:
        """The log itself: it appends records and their source offsets in one transaction."""
        return self.log

    def sink_consumer(
        self, group: str, member: str, subscription: Subscription, config: Mapping[str, str]
    ) -> SinkConsumer:
        max_poll = int(config.get("consumer.override.max.poll.records", self._max_poll_records))
        return LogConsumer(
            self.log,
            self.groups,
            group=group,
            member=member,
            subscription=subscription,
            max_poll_records=max_poll,
        )

    async def send_batch(self, records: Sequence[ProducerRecord]) -> Sequence[Delivered]:
        return await self.log.send_batch(records)

    async def ensure_topic(
        self,
        name: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, str] | None = None,
        replication_setting: str | None = None,
    ) -> None:
        """Create a missing topic (with the connector's KIP-158 settings when it gave some); one
        embedded log has no replicas, so the replication settings do not apply."""
        if partitions is not None and partitions > 0:
            await self.log.create_topic(name, partitions, config)
        elif await self.log.ensure_topic(name) is None:
            raise ConfigError(f"Topic {name} does not exist and automatic topic creation is disabled")

    async def group_offsets(self, group: str) -> dict[TopicPartition, int]:
        return await self.log.group_offsets(group)

    async def commit_group(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        await self.log.commit_group(group, offsets)

    async def delete_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> None:
        await self.log.delete_group_offsets(group, partitions)

    async def group_active(self, group: str) -> bool:
        return self.groups.has_members(group)

    async def close(self) -> None:
        return None
