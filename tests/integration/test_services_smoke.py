"""The servers scripts/services starts answer real clients (one round trip each)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from elasticsearch import AsyncElasticsearch

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.mark.kafka
async def test_kafka_produce_and_consume(kafka_bootstrap: str) -> None:
    topic = unique("smoke")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(topic, value=b"hello", key=b"k1", headers=[("h", b"v")])
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()

    assert (record.topic, record.offset) == (topic, sent.offset)
    assert (record.key, record.value, list(record.headers)) == (b"k1", b"hello", [("h", b"v")])


@pytest.mark.postgres
async def test_postgres_round_trip_and_logical_wal(postgres_dsn: str) -> None:
    table = unique("smoke")
    conn = await asyncpg.connect(postgres_dsn)
    try:
        assert await conn.fetchval("SHOW wal_level") == "logical"
        await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text NOT NULL)")
        await conn.execute(f"INSERT INTO {table} VALUES ($1, $2), ($3, $4)", 1, "one", 2, "two")
        rows = await conn.fetch(f"SELECT id, name FROM {table} ORDER BY id")
        await conn.execute(f"DROP TABLE {table}")
    finally:
        await conn.close()

    assert [tuple(row) for row in rows] == [(1, "one"), (2, "two")]


@pytest.mark.elasticsearch
async def test_elasticsearch_index_and_search(elasticsearch_url: str) -> None:
    index = unique("smoke")
    client = AsyncElasticsearch(elasticsearch_url)
    try:
        await client.index(index=index, id="1", document={"name": "penstock"}, refresh=True)
        found = await client.search(index=index, query={"match": {"name": "penstock"}})
        await client.indices.delete(index=index)
    finally:
        await client.close()

    hits = found["hits"]["hits"]
    assert [(hit["_id"], hit["_source"]) for hit in hits] == [("1", {"name": "penstock"})]
