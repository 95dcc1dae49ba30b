"""The sink consumer's partition hand-over on a real broker, driven the way the sink runner drives it."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiokafka import AIOKafkaProducer

from app.kafka.bus import KafkaBus
from app.kafka.consumer import KafkaSinkConsumer
from app.settings import WorkerSettings
from app.storage.base import Subscription
from connectors.sdk.records import TopicPartition

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
TOTAL = 4_000


class Member:
    """A sink runner in miniature: fetch, "put" (remember the offsets), and on a revocation
    commit what was put and release the partitions."""

    def __init__(self, consumer: KafkaSinkConsumer) -> None:
        self.consumer = consumer
        self.offsets: list[int] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        put: dict[TopicPartition, int] = {}
        while not self._stop.is_set():
            changes = await self.consumer.poll_rebalance()
            if changes is not None:
                revoked, _ = changes
                if revoked:
                    await self.consumer.commit({tp: put[tp] for tp in revoked if tp in put})
                    self.consumer.release(revoked)
            for record in await self.consumer.fetch(0.5):
                self.offsets.append(record.offset)
                put[TopicPartition(record.topic, record.partition)] = record.offset + 1

    async def __aenter__(self) -> Member:
        await self.consumer.start()
        self._task = asyncio.create_task(self.run())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task
        await self.consumer.close()


async def produce(bootstrap: str, topic: str, count: int, per_second: int) -> None:
    """A steady stream: new records keep arriving while the group rebalances."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        started = time.monotonic()
        for i in range(count):
            await producer.send(topic, str(i).encode())
            await asyncio.sleep(max(0.0, started + (i + 1) / per_second - time.monotonic()))
        await producer.flush()
    finally:
        await producer.stop()


async def wait_for(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def test_a_member_that_is_fetching_hands_its_partition_over_at_once(
    kafka_bootstrap: str, cluster_id: str
) -> None:
    """The holder is inside a fetch when the second member joins: it still commits what it has
    put and releases the partition within a few seconds, and the newcomer repeats nothing."""

    async def scenario() -> tuple[list[int], list[int], float]:
        settings = WorkerSettings.model_validate({"bootstrap.servers": kafka_bootstrap})
        bus = KafkaBus(settings)
        await bus.start()
        topic, group = f"{cluster_id}-handover", f"{cluster_id}-group"
        try:
            await bus.create_topic(topic, 1, 1, {})

            def member(name: str) -> KafkaSinkConsumer:
                return KafkaSinkConsumer(settings, group, name, Subscription((topic,)), {}, bus.ensure_topic)

            stream = asyncio.create_task(produce(kafka_bootstrap, topic, TOTAL, 500))
            async with Member(member("first")) as first:
                await wait_for(lambda: len(first.offsets) >= 1_000, 30)
                joined = time.monotonic()
                async with Member(member("second")) as second:
                    await wait_for(lambda: second.consumer.rebalances and first.consumer.rebalances > 1, 30)
                    handover = time.monotonic() - joined
                    await stream
                    await wait_for(lambda: len(first.offsets) + len(second.offsets) >= TOTAL, 30)
                    await asyncio.sleep(0.5)
            return first.offsets, second.offsets, handover
        finally:
            await bus.close()

    first, second, handover = asyncio.run(scenario())
    print(f"\nhand-over after {handover:.1f}s; first read {len(first)}, second {len(second)}")
    assert sorted(first + second) == list(range(TOTAL))  # nothing lost, nothing read twice
    assert handover < 6, handover  # a blocked holder would be evicted after the 10 s session timeout
