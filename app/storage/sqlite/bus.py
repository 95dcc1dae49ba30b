"""The data bus in embedded mode: the SQLite log plus the in-process group coordinator."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from app.storage.base import Delivered, ProducerRecord, SinkConsumer, SourceWriter, Subscription
from app.storage.sqlite.consumer import EmbeddedConsumer, GroupCoordinator
from app.storage.sqlite.log import EmbeddedLog
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import TopicPartition


class EmbeddedBus:
    def __init__(self, log: EmbeddedLog, max_poll_records: int) -> None:
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
        return EmbeddedConsumer(
            self.log,
            self.groups,
            group=group,
            member=member,
            subscription=subscription,
            max_poll_records=max_poll,
        )

    async def send_batch(self, records: Sequence[ProducerRecord]) -> list[Delivered]:
        return await self.log.send_batch(records)

    async def ensure_topic(
        self,
        name: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        """Create a missing topic (with the connector's KIP-158 settings when it gave some)."""
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
