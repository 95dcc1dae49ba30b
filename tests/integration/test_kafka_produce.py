"""Whole-batch producing (app/kafka/produce.py) on a real broker: where records land and what the
worker is told about it must match what a consumer reads back."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition

from app.kafka.produce import send_all
from app.storage.base import ProducerRecord
from connectors.sdk.errors import ConnectError

pytestmark = [pytest.mark.integration, pytest.mark.kafka]
PARTITIONS = 3


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    name = f"produce-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])
        yield name
        await admin.delete_topics([name])
    finally:
        await admin.close()


async def read_all(
    bootstrap: str, topic: str, count: int
) -> list[tuple[int, int, bytes | None, bytes | None]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        seen: list[tuple[int, int, bytes | None, bytes | None]] = []
        while len(seen) < count:
            batches = await consumer.getmany(timeout_ms=5_000)
            assert batches, f"only {len(seen)} of {count} records arrived"
            for records in batches.values():
                seen += [(r.partition, r.offset, r.key, r.value) for r in records]
        return seen
    finally:
        await consumer.stop()


async def test_keyed_records_land_where_kafka_partitions_them(kafka_bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_batch_size=4_096, linger_ms=5)
    await producer.start()
    try:
        records = [ProducerRecord(topic, f"v{i}".encode(), f"k{i % 50}".encode()) for i in range(2_000)]
        delivered = await send_all(producer, records)
    finally:
        await producer.stop()
    assert len(delivered) == len(records)
    seen = await read_all(kafka_bootstrap, topic, len(records))
    where = {(p, off): (k, v) for p, off, k, v in seen}
    every = list(range(PARTITIONS))
    for record, landed in zip(records, delivered, strict=True):
        assert landed.topic == topic
        assert landed.partition == DefaultPartitioner()(record.key, every, every)  # murmur2, as Java
        assert where[landed.partition, landed.offset] == (record.key, record.value)
        assert landed.timestamp > 0
    # order kept per key: offsets of one key's records only grow
    for key in {r.key for r in records}:
        offsets = [d.offset for r, d in zip(records, delivered, strict=True) if r.key == key]
        assert offsets == sorted(offsets)


async def test_keyless_records_stick_to_a_partition_per_batch(kafka_bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_batch_size=2_048, linger_ms=5)
    await producer.start()
    try:
        records = [ProducerRecord(topic, b"x" * 100, headers=[("h", None)]) for _ in range(600)]
        delivered = await send_all(producer, records)
        explicit = await send_all(producer, [ProducerRecord(topic, b"p2", partition=2)])
        with pytest.raises(ConnectError, match=r"Partition 7 of topic .* does not exist"):
            await send_all(producer, [ProducerRecord(topic, b"nowhere", partition=7)])
    finally:
        await producer.stop()
    assert (explicit[0].partition, explicit[:1][0].offset) == (2, explicit[0].offset)
    per_partition = Counter(d.partition for d in delivered)
    assert len(per_partition) > 1, "full batches move keyless records on to another partition"
    # a batch of 2 KB holds ~17 of these records: runs on one partition are batch-sized, not 1
    switches = sum(1 for a, b in itertools.pairwise(delivered) if a.partition != b.partition)
    assert switches < len(records) / 10
    seen = await read_all(kafka_bootstrap, topic, len(records) + 1)
    assert sorted((p, off) for p, off, _, v in seen if v != b"p2") == sorted(
        (d.partition, d.offset) for d in delivered
    )
