"""Writing a batch of records to Kafka: whole record batches, not one ``send()`` per record.

aiokafka's ``send()`` costs a coroutine, a future, a partitioner call and a metadata lookup per
record, and its sender puts one batch per partition in each request. Here the worker fills one
``BatchBuilder`` per partition itself and hands each full one to ``send_batch``: per record only
the partition choice and the append remain. Partitioning is Kafka's: an explicit partition is
kept, a key picks ``murmur2(key) % partitions`` (the Java client's and aiokafka's formula, so
keyed records land where Kafka Connect puts them), and records without a key stick to one
partition until its batch is full, then move on (the Java client's sticky partitioning,
KIP-480/KIP-794) instead of a random partition per record.

Where each record landed is worked out only when asked (:class:`Deliveries`): most sources
never ask (no ``commit_record``), so a million records cost no million result objects.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder

from app.storage.base import Delivered, LazyDeliveries, ProducerRecord
from connectors.sdk.errors import ConnectError


class Deliveries(LazyDeliveries):
    """Where each record of one :func:`send_all` landed, built on demand from its batch's base offset."""

    __slots__ = ("_batches", "_placement")

    def __init__(self, batches: Sequence[Any], placement: list[tuple[int, Any]]) -> None:
        self._batches = batches  # aiokafka RecordMetadata of each batch (base offset, log time)
        self._placement = placement  # per record: (batch number, the builder's record metadata)

    def __len__(self) -> int:
        return len(self._placement)

    def _at(self, index: int) -> Delivered:
        number, record = self._placement[index]
        batch = self._batches[number]
        # -1: the topic keeps the producer's timestamps (CreateTime), so the record's own is it.
        timestamp = batch.timestamp if batch.timestamp != -1 else record.timestamp
        return Delivered(batch.topic, batch.partition, batch.offset + record.offset, timestamp)


class _Partitions:
    """The partitions of the topics one :func:`send_all` writes, and the sticky choice per topic."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._known: dict[str, list[int]] = {}
        self._sticky: dict[str, int] = {}

    async def of(self, topic: str) -> list[int]:
        known = self._known.get(topic)
        if known is None:
            known = self._known[topic] = sorted(await self._producer.partitions_for(topic))
        return known

    def sticky(self, topic: str, partitions: list[int]) -> int:
        chosen = self._sticky.get(topic)
        if chosen is None:
            chosen = self._sticky[topic] = random.choice(partitions)
        return chosen

    def move_on(self, topic: str, partitions: list[int], full: int) -> int:
        """A keyless record's batch on ``full`` is full: the next batch goes to another partition."""
        others = [p for p in partitions if p != full] or partitions
        chosen = self._sticky[topic] = random.choice(others)
        return chosen


async def send_all(producer: AIOKafkaProducer, records: Sequence[ProducerRecord]) -> Deliveries:
    """Append every record to its partition's batch, send each batch once full or at the end,
    then wait for all acknowledgements (per partition, order is kept)."""
    partitions = _Partitions(producer)
    open_batches: dict[tuple[str, int], tuple[int, BatchBuilder]] = {}
    sent: list[asyncio.Future[Any] | None] = []  # by batch number, in the order batches were opened
    placement: list[tuple[int, Any]] = []
    place = placement.append

    def open_batch(topic: str, partition: int) -> tuple[int, BatchBuilder]:
        entry = open_batches[topic, partition] = (len(sent), producer.create_batch())
        sent.append(None)
        return entry

    async def submit(topic: str, partition: int) -> None:
        number, builder = open_batches.pop((topic, partition))
        builder.close()  # complete: no ``linger.ms`` wait for records that will not come
        sent[number] = await producer.send_batch(builder, topic, partition=partition)

    last_topic: str | None = None
    known: list[int] = []
    for r in records:
        topic = r.topic
        if topic is not last_topic:
            last_topic, known = topic, await partitions.of(topic)
        partition, key = r.partition, r.key
        keyless = partition is None and key is None
        if partition is None:
            if key is None:
                partition = partitions.sticky(topic, known)
            else:
                partition = known[(murmur2(key) & 0x7FFFFFFF) % len(known)]
        elif partition not in known:
            raise ConnectError(
                f"Partition {partition} of topic {topic} does not exist (the topic has {len(known)})"
            )
        headers = [(k, v if v is not None else b"") for k, v in r.headers] if r.headers else []
        entry = open_batches.get((topic, partition)) or open_batch(topic, partition)
        meta = entry[1].append(timestamp=r.timestamp, key=key, value=r.value, headers=headers)
        if meta is None:  # full: send it and start the next one (a first record always fits)
            await submit(topic, partition)
            if keyless:
                partition = partitions.move_on(topic, known, partition)
            entry = open_batches.get((topic, partition)) or open_batch(topic, partition)
            meta = entry[1].append(timestamp=r.timestamp, key=key, value=r.value, headers=headers)
        place((entry[0], meta))
    for topic, partition in list(open_batches):
        await submit(topic, partition)
    futures = [future for future in sent if future is not None]
    assert len(futures) == len(sent), "every batch opened was submitted"
    return Deliveries(await asyncio.gather(*futures), placement)
