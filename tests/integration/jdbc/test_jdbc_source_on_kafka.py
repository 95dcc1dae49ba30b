"""The JDBC source on a distributed worker on the real broker: two tables over two tasks in
incrementing mode; every row once in its topic, Confluent's offsets in the offsets topic (as
``GET /connectors/{c}/offsets`` shows them), and new rows picked up after a worker restart without
re-reading the old ones."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import pytest

from tests.support.server import ServerProcess, wait_until
from tests.support.topics import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.kafka]


async def _execute(dsn: str, statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statements)
    finally:
        await conn.close()


@pytest.fixture
def schema(postgres_dsn: str) -> Iterator[str]:
    tag = f"jdbckafka_{uuid.uuid4().hex[:8]}"
    asyncio.run(_execute(postgres_dsn, f"""
        CREATE SCHEMA {tag};
        CREATE TABLE {tag}.orders (id serial PRIMARY KEY, item text NOT NULL);
        CREATE TABLE {tag}.payments (id serial PRIMARY KEY, amount numeric(8,2) NOT NULL);
        INSERT INTO {tag}.orders (item) SELECT 'item-' || g FROM generate_series(1, 300) g;
        INSERT INTO {tag}.payments (amount) SELECT g * 0.5 FROM generate_series(1, 200) g;
    """))  # fmt: skip
    try:
        yield tag
    finally:
        asyncio.run(_execute(postgres_dsn, f"DROP SCHEMA {tag} CASCADE"))


def test_tables_over_two_tasks_on_kafka_with_confluent_offsets(
    tmp_path: Path, postgres_dsn: str, kafka_bootstrap: str, schema: str
) -> None:
    url = urlparse(postgres_dsn)
    settings = {
        "bootstrap.servers": kafka_bootstrap,
        "group.id": schema,
        "config.storage.topic": f"{schema}-configs",
        "offset.storage.topic": f"{schema}-offsets",
        "status.storage.topic": f"{schema}-status",
        "offset.flush.interval.ms": "500",
    }
    config = {
        "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
        "connection.url": f"jdbc:postgresql://{url.hostname}:{url.port}{url.path}?user=postgres",
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "table.whitelist": f"{schema}.orders,{schema}.payments",
        "topic.prefix": f"{schema}-",
        "tasks.max": "2",
        "poll.interval.ms": "200",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    }
    data_dir = tmp_path / "data"

    def ids(table: str) -> list[int]:
        found = read_topic("kafka", data_dir, f"{schema}-{table}", kafka_bootstrap)
        return [json.loads(r.value)["id"] for r in found if r.value]

    worker = ServerProcess(data_dir, settings, mode="distributed").start(60)
    try:
        worker.create("tables", config).raise_for_status()
        worker.wait_for_state("tables", tasks=2, timeout=60)
        wait_until(lambda: len(ids("orders")) >= 300 and len(ids("payments")) >= 200, 60, 0.3, "every row")
        assert ids("orders") == list(range(1, 301)) and ids("payments") == list(range(1, 201))

        def offsets() -> dict[str, dict[str, int]]:
            entries = worker.client.get("/connectors/tables/offsets").json()["offsets"]
            return {e["partition"]["table"]: e["offset"] for e in entries}

        wait_until(lambda: len(offsets()) == 2, 30, 0.3, "offsets stored")
        assert offsets() == {f"{schema}.orders": {"incrementing": 300}, f"{schema}.payments": {"incrementing": 200}}
        entries = worker.client.get("/connectors/tables/offsets").json()["offsets"]
        assert all(e["partition"]["protocol"] == "1" for e in entries)
    finally:
        worker.close()

    asyncio.run(_execute(postgres_dsn, f"INSERT INTO {schema}.orders (item) VALUES ('after restart')"))
    worker = ServerProcess(data_dir, settings, mode="distributed", port=worker.port).start(60)
    try:
        worker.wait_for_state("tables", tasks=2, timeout=60)
        wait_until(lambda: len(ids("orders")) >= 301, 60, 0.3, "the new row")
        assert ids("orders") == list(range(1, 302)), "nothing read twice"
    finally:
        worker.close()
