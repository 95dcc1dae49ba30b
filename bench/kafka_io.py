"""The suite's own Kafka traffic: create, fill, count and delete the topics a run uses.

Kept out of both workers' processes so that neither system pays for it: topics are created
before the worker starts (the shared broker has ``auto.create.topics.enable=false``, and both
systems then write to one partition), and progress is read as the partition's end offset, which
costs the broker one ListOffsets request per poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import DeleteGroupsRequest
from aiokafka.structs import TopicPartition


async def create_topic(bootstrap: str, topic: str) -> None:
    """One partition, replication factor 1: the same topic shape for both systems."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()


async def delete(bootstrap: str, topics: Sequence[str], groups: Sequence[str] = ()) -> None:
    """Best effort: a run that failed half-way must not fail the clean-up of the others."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topics:
            with contextlib.suppress(KafkaError):
                await admin.delete_topics(list(topics))
        for group in groups:
            with contextlib.suppress(KafkaError):
                await _delete_group(admin, group)
    finally:
        await admin.close()


GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP = 69, 68


async def _delete_group(admin: AIOKafkaAdminClient, group: str, attempts: int = 20) -> None:
    """DeleteGroups (API 42) at the group's coordinator; aiokafka's admin has no call for it.

    Retried while the group is not empty: a sink task that has just been stopped may not have
    left its group yet. A group that never existed (the worker kept no Kafka offsets) is fine.
    """
    for _ in range(attempts):
        coordinator = await admin.find_coordinator(group)
        response = await admin._send_request_to_node(coordinator, DeleteGroupsRequest([group]))
        [(_, error)] = response.results
        if error != NON_EMPTY_GROUP:
            return
        await asyncio.sleep(0.5)


async def fill(
    bootstrap: str, topic: str, values: Sequence[bytes], keys: Sequence[bytes] | None = None
) -> None:
    """Produce ``values`` (with ``keys``, else null keys) in full batches, as fast as the client allows."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_batch_size=1 << 20, linger_ms=20)
    await producer.start()
    try:
        pending = []
        batch = producer.create_batch()
        for i, value in enumerate(values):
            key = keys[i] if keys is not None else None
            if batch.append(key=key, value=value, timestamp=None) is None:
                pending.append(await producer.send_batch(batch, topic, partition=0))
                batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None)
        pending.append(await producer.send_batch(batch, topic, partition=0))
        for future in pending:
            await future
    finally:
        await producer.stop()


class EndOffsets:
    """Records on a one-partition topic, read as its end offset (no transactions, so equal)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._partition = TopicPartition(topic, 0)
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def __aenter__(self) -> EndOffsets:
        await self._consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def count(self) -> int:
        offsets = await self._consumer.end_offsets([self._partition])
        return int(offsets[self._partition])
