"""PostgreSQL CDC -> ExtractNewRecordState -> JDBC sink keeps a replica table equal to its source.

One embedded worker process runs Debezium's PostgreSQL connector and the Confluent JDBC sink
(upsert, ``pk.mode=record_key``, tombstones delete, auto-create) with Debezium's
``ExtractNewRecordState`` (tombstones kept). A writer runs a mixed workload (inserts, updates,
deletes, several rows per transaction) while the worker is ``kill -9``-ed and restarted; at the end
the replica equals the source row by row: nothing lost, nothing left behind by a replay.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest

from tests.support.pg_sync import drop_tagged, sql
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

JSON = "org.apache.kafka.connect.json.JsonConverter"


@pytest.fixture
def db(postgres_dsn: str) -> Iterator[dict[str, str]]:
    tag = f"cdcjdbc_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    sql(postgres_dsn, f"""
        CREATE SCHEMA {tag}; CREATE SCHEMA {tag}_replica;
        CREATE TABLE {tag}.orders (id int PRIMARY KEY, customer text NOT NULL, qty int,
                                   amount numeric(10,2), note text);
        INSERT INTO {tag}.orders SELECT g, 'c' || g % 17, g % 5, g * 1.25, NULL FROM generate_series(1, 200) g;
    """)  # fmt: skip
    try:
        yield {"tag": tag, "dsn": postgres_dsn, "host": url.hostname or "127.0.0.1",
               "port": str(url.port or 5432), "dbname": url.path.lstrip("/")}  # fmt: skip
    finally:
        drop_tagged(postgres_dsn, tag, schemas=(f"{tag}_replica",))


class MixedWriter(threading.Thread):
    """Random inserts, updates and deletes, 1-5 rows per transaction, until stopped."""

    def __init__(self, dsn: str, table: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.table = dsn, table
        self.stopping = threading.Event()
        self.transactions = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        async def go() -> None:
            rng = random.Random(7)
            conn = await asyncpg.connect(self.dsn)
            next_id = 1000
            try:
                while not self.stopping.is_set():
                    async with conn.transaction():
                        for _ in range(rng.randint(1, 5)):
                            kind = rng.random()
                            target = rng.randint(1, next_id)
                            if kind < 0.4:
                                next_id += 1
                                await conn.execute(
                                    f"INSERT INTO {self.table} VALUES ($1, $2, $3, $4, $5)",
                                    next_id, f"n{next_id}", rng.randint(0, 9), next_id / 8, "new",
                                )  # fmt: skip
                            elif kind < 0.8:
                                await conn.execute(
                                    f"UPDATE {self.table} SET qty = qty + 1, note = $2 WHERE id = $1",
                                    target, f"u{self.transactions}",
                                )  # fmt: skip
                            else:
                                await conn.execute(f"DELETE FROM {self.table} WHERE id = $1", target)
                    self.transactions += 1
                    await asyncio.sleep(0.003)
            finally:
                await conn.close()

        try:
            asyncio.run(go())
        except BaseException as e:  # reported by the test
            self.error = e


def connectors(db: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    tag = db["tag"]
    converters = {
        "key.converter": JSON, "value.converter": JSON,
        "key.converter.schemas.enable": "true", "value.converter.schemas.enable": "true",
    }  # fmt: skip
    source = {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": db["host"], "database.port": db["port"], "database.user": "postgres",
        "database.password": "postgres", "database.dbname": db["dbname"], "topic.prefix": "cdc",
        "table.include.list": f"{tag}.orders", "plugin.name": "pgoutput", "slot.name": f"{tag}_slot",
        "publication.name": f"{tag}_pub", "publication.autocreate.mode": "filtered",
        "slot.retry.delay.ms": "300", **converters,
    }  # fmt: skip
    sink = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "topics": f"cdc.{tag}.orders",
        "connection.url": f"jdbc:postgresql://{db['host']}:{db['port']}/{db['dbname']}",
        "connection.user": "postgres", "connection.password": "postgres",
        "insert.mode": "upsert", "pk.mode": "record_key", "delete.enabled": "true", "auto.create": "true",
        "table.name.format": f"{tag}_replica.orders",
        "transforms": "unwrap", "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.drop.tombstones": "false", **converters,
    }  # fmt: skip
    return source, sink


def rows(dsn: str, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in sql(dsn, f"SELECT id, customer, qty, amount, note FROM {table} ORDER BY id")]


def replica_rows(db: dict[str, str]) -> list[tuple[Any, ...]] | None:
    exists = sql(db["dsn"], f"SELECT to_regclass('{db['tag']}_replica.orders') IS NOT NULL AS e")[0]["e"]
    return rows(db["dsn"], f"{db['tag']}_replica.orders") if exists else None


@pytest.mark.parametrize(
    "on_kafka", [False, pytest.param(True, marks=pytest.mark.kafka)], ids=["embedded", "kafka"]
)
def test_replica_equals_source_after_a_mixed_workload_and_a_kill_9(
    tmp_path: Path, db: dict[str, str], on_kafka: bool, request: pytest.FixtureRequest
) -> None:
    tag = db["tag"]
    data_dir = tmp_path / "data"
    settings = {"offset.flush.interval.ms": "500"}
    mode = "run"
    if on_kafka:  # a distributed worker: configs, offsets, status and data on the real broker
        mode = "distributed"
        settings |= {
            "bootstrap.servers": request.getfixturevalue("kafka_bootstrap"),
            "group.id": tag,
            "config.storage.topic": f"{tag}-configs",
            "offset.storage.topic": f"{tag}-offsets",
            "status.storage.topic": f"{tag}-status",
        }
    source, sink = connectors(db)
    writer = MixedWriter(db["dsn"], f"{tag}.orders")
    worker = ServerProcess(data_dir, settings, mode=mode).start(60)
    try:
        worker.create("orders-cdc", source).raise_for_status()
        worker.create("orders-replica", sink).raise_for_status()
        wait_until(lambda: len(replica_rows(db) or []) >= 200, 60, 0.2, "the snapshot in the replica")
        writer.start()
        time.sleep(3)
        worker.kill()  # kill -9 mid-stream; the writer goes on
        time.sleep(1.5)
        worker = ServerProcess(data_dir, settings, port=worker.port, mode=mode).start(60)
        worker.wait_for_state("orders-cdc", tasks=1, timeout=60)
        worker.wait_for_state("orders-replica", tasks=1, timeout=60)
        time.sleep(3)
        writer.stopping.set()
        writer.join(10)
        assert writer.error is None, writer.error
        assert writer.transactions > 100
        expected = rows(db["dsn"], f"{tag}.orders")
        wait_until(lambda: replica_rows(db) == expected, 90, 0.5, "the replica equal to the source")
        status = worker.client.get("/connectors/orders-replica/status").json()
        assert status["tasks"][0]["state"] == "RUNNING", status
    finally:
        writer.stopping.set()
        worker.close()
    assert len([r for r in expected if r[0] <= 200]) < 200, "the workload deleted rows (tombstones applied)"
    assert any(r[4] and r[4].startswith("u") for r in expected), "the workload updated rows"
