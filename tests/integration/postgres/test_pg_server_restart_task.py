"""The PostgreSQL connector's task while its server restarts (a private server: the shared one
must stay up). Rows keep being written before, during and after the restart; the task reconnects
by itself (no restart by the user, the status stays RUNNING) and every row arrives exactly once
(nothing lost; nothing confirmed was replayed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import asyncpg
import pytest

from app.storage.memory import MemoryLog
from connectors.postgres.connector import PostgresConnector
from tests.support.pg_private import PrivateServer, private_server
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

TOPIC = "srv.public.t"


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    with private_server(
        conf="wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4",
        hba="host all postgres 127.0.0.1/32 trust",
        sql="CREATE TABLE t (id int PRIMARY KEY, v text)",
    ) as srv:
        yield srv


def props(server: PrivateServer) -> dict[str, str]:
    return {
        "name": "pg",
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": "127.0.0.1",
        "database.port": str(server.port),
        "database.user": "postgres",
        "database.dbname": "postgres",
        "database.sslmode": "disable",
        "topic.prefix": "srv",
        "table.include.list": "public.t",
        "slot.name": "task_restart",
        "publication.autocreate.mode": "filtered",
        "snapshot.mode": "no_data",
        "slot.retry.delay.ms": "200",
        "status.update.interval.ms": "200",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "errors.retry.timeout": "60000",
    }


async def ids(rt: MemoryRuntime) -> list[int]:
    return [json.loads(v)["payload"]["after"]["id"] for v in await rt.values(TOPIC) if v]


async def write(server: PrivateServer, first: int, last: int) -> None:
    """Insert rows one transaction each, reconnecting across the restart (a row is written once)."""
    n = first
    conn: asyncpg.Connection | None = None
    while n <= last:
        try:
            if conn is None or conn.is_closed():
                conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres")
            await conn.execute(f"INSERT INTO t VALUES ({n}, 'x') ON CONFLICT DO NOTHING")
            n += 1
            await asyncio.sleep(0.005)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError):
            if conn is not None:
                conn.terminate()
            conn = None  # the row is written again: ON CONFLICT keeps it once
            await asyncio.sleep(0.2)
    if conn is not None:
        await conn.close()


async def test_the_task_rides_out_a_server_restart_without_loss(server: PrivateServer) -> None:
    async with memory_runtime(("source", PostgresConnector), log=MemoryLog()) as rt:
        await rt.herder.create("pg", props(server), None)

        async def streaming() -> bool:
            async with asyncio.timeout(5):
                pg = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres")
                try:
                    return bool(
                        await pg.fetchval(
                            "SELECT active FROM pg_replication_slots WHERE slot_name = 'task_restart'"
                        )
                    )
                finally:
                    await pg.close()

        await eventually(streaming, 20, "the task streams")
        writer = asyncio.create_task(write(server, 1, 600))
        await eventually(lambda: _at_least(rt, 100), 20, "rows before the restart")
        await asyncio.to_thread(server.restart)
        await writer
        await eventually(lambda: _at_least(rt, 600), 60, "every row after the restart")
        await asyncio.sleep(1.0)
        found = await ids(rt)
        assert sorted(found) == list(range(1, 601)), "lost or repeated rows"
        assert found == sorted(found), "out of order"
        assert rt.task_state("pg") == "RUNNING"


async def _at_least(rt: MemoryRuntime, n: int) -> bool:
    return len(await ids(rt)) >= n
