"""The JDBC sink through the in-memory runtime: JSON with schemas from a topic, created under
Debezium's class name with Debezium's keys, a record PostgreSQL refuses going to the dead-letter
queue (errors.tolerance=all) while the rest of its batch lands."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import asyncpg
import pytest

from app.storage.memory import MemoryLog
from connectors.jdbc.sink import JdbcSinkConnector
from tests.unit.runtime.memory_runtime import eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

JSON = "org.apache.kafka.connect.json.JsonConverter"


@pytest.fixture
async def schema(postgres_dsn: str) -> AsyncIterator[tuple[asyncpg.Connection, str, str]]:
    admin = await asyncpg.connect(postgres_dsn)
    name = f"sinkrt_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE SCHEMA "{name}"')
    parts = urlparse(postgres_dsn)
    url = f"jdbc:postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}"
    try:
        yield admin, name, url
    finally:
        await admin.execute(f'DROP SCHEMA "{name}" CASCADE')
        await admin.close()


def envelope(i: int, name: str) -> tuple[bytes, bytes]:
    key = {"schema": {"type": "struct", "fields": [{"field": "id", "type": "int32"}]}, "payload": {"id": i}}
    value = {
        "schema": {
            "type": "struct",
            "fields": [{"field": "id", "type": "int32"}, {"field": "name", "type": "string"}],
        },
        "payload": {"id": i, "name": name},
    }
    return json.dumps(key).encode(), json.dumps(value).encode()


async def test_debezium_alias_json_and_dead_letter_queue(schema: tuple[asyncpg.Connection, str, str]) -> None:
    admin, name, url = schema
    await admin.execute(f'CREATE TABLE "{name}".people (id int primary key, name varchar(8) not null)')
    log = MemoryLog()
    async with memory_runtime(("sink", JdbcSinkConnector), log=log) as rt:
        for i, person in [(1, "ann"), (2, "much too long a name"), (3, "cy"), (1, "ann2")]:
            key, value = envelope(i, person)
            await log.send_batch([_record("people", key, value)])
        await rt.herder.create(
            "jdbc",
            {
                "name": "jdbc",
                "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
                "topics": "people",
                "connection.url": url,
                "connection.username": "postgres",
                "insert.mode": "upsert",
                "primary.key.mode": "record_key",
                "table.name.format": f"{name}.${{topic}}",
                "key.converter": JSON,
                "value.converter": JSON,
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": "dlq",
                "errors.deadletterqueue.topic.replication.factor": "1",
            },
            None,
        )

        async def landed() -> list[tuple[int, str]]:
            rows = await admin.fetch(f'SELECT id, name FROM "{name}".people ORDER BY id')
            return [(r[0], r[1]) for r in rows] if len(rows) == 2 and rows[0][1] == "ann2" else []

        assert await eventually(landed, timeout=15) == [(1, "ann2"), (3, "cy")]
        dead = await eventually(lambda: rt.values("dlq"), timeout=10)
        assert len(dead) == 1 and b"much too long" in (dead[0] or b"")
        assert rt.task_state("jdbc") == "RUNNING"


def _record(topic: str, key: bytes, value: bytes):  # type: ignore[no-untyped-def]
    from app.storage.base import ProducerRecord

    return ProducerRecord(topic, value, key=key, partition=0)
