"""The JDBC source against a real MariaDB, through the in-memory runtime.

Incrementing over tasks with Confluent's MySQL partitions (``<database>.<table>``), MySQL types
(TINYINT(1), UNSIGNED, DECIMAL, DATETIME, BLOB), timestamp+incrementing catching updates, and
query mode. Each test has its own tables, dropped afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import asyncmy
import pytest

from app.herder.offsets import get_offsets
from connectors.jdbc.source import JdbcSourceConnector
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.mysql]

JSON = "org.apache.kafka.connect.json.JsonConverter"


@dataclass
class Env:
    admin: Any
    tag: str
    url: str
    user: str
    password: str
    database: str

    async def sql(self, *statements: str) -> None:
        async with self.admin.cursor() as cursor:
            for statement in statements:
                await cursor.execute(statement)

    def props(self, **overrides: str) -> dict[str, str]:
        props = {
            "name": "jdbc",
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "tasks.max": "1",
            "connection.url": self.url,
            "connection.user": self.user,
            "connection.password": self.password,
            "table.include.list": f"{self.database}\\.{self.tag}_.*",
            "topic.prefix": "my-",
            "poll.interval.ms": "100",
            "mode": "incrementing",
            "key.converter": JSON,
            "value.converter": JSON,
        }
        props.update({k.replace("__", "."): v for k, v in overrides.items()})
        return props


@pytest.fixture
async def env(mysql_dsn: str) -> AsyncIterator[Env]:
    parsed = urlparse(mysql_dsn)
    database = parsed.path.lstrip("/")
    admin = await asyncmy.connect(
        host=parsed.hostname,
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        database=database,
        autocommit=True,
    )
    tag = f"s{uuid.uuid4().hex[:6]}"
    url = f"jdbc:mariadb://{parsed.hostname}:{parsed.port or 3306}/{database}"
    found = Env(admin, tag, url, parsed.username or "root", parsed.password or "", database)
    try:
        yield found
    finally:
        async with admin.cursor() as cursor:
            await cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                f"AND table_name LIKE '{tag}\\_%'"
            )
            for (name,) in await cursor.fetchall():
                await cursor.execute(f"DROP TABLE `{name}`")
        admin.close()


async def wait_for(rt: MemoryRuntime, topic: str, n: int, timeout: float = 20) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = [json.loads(v)["payload"] for v in await rt.values(topic) if v is not None]
        return found if len(found) >= n else None

    result: list[dict[str, Any]] = await eventually(enough, timeout, f"{n} records on {topic}")
    return result


async def test_incrementing_tables_over_tasks_with_mysql_types(env: Env) -> None:
    t = env.tag
    await env.sql(
        f"CREATE TABLE {t}_a (id INT AUTO_INCREMENT PRIMARY KEY, flag TINYINT(1) NOT NULL, "
        "big INT UNSIGNED, price DECIMAL(10,2), at DATETIME(3), raw BLOB, note VARCHAR(20))",
        f"INSERT INTO {t}_a (flag, big, price, at, raw, note) VALUES "
        "(1, 4000000000, 12.34, '2024-01-02 03:04:05.678', x'00ff', 'héllo'), (0, NULL, NULL, NULL, NULL, NULL)",
        f"CREATE TABLE {t}_b (id BIGINT AUTO_INCREMENT PRIMARY KEY, n INT)",
        f"INSERT INTO {t}_b (n) VALUES (1), (2), (3)",
    )
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(tasks__max="3"), None)
        rows = await wait_for(rt, f"my-{t}_a", 2)
        assert rows[0] == {
            "id": 1,
            "flag": True,
            "big": 4000000000,
            "price": "BNI=",  # Decimal 12.34 at scale 2 (base64 of 1234)
            "at": 1704164645678,
            "raw": "AP8=",
            "note": "héllo",
        }
        assert rows[1]["big"] is None and rows[1]["flag"] is False
        fields = json.loads((await rt.values(f"my-{t}_a"))[0] or b"")["schema"]["fields"]
        assert [(f["field"], f["type"], f["optional"]) for f in fields] == [
            ("id", "int32", False),
            ("flag", "boolean", False),
            ("big", "int64", True),
            ("price", "bytes", True),
            ("at", "int64", True),
            ("raw", "bytes", True),
            ("note", "string", True),
        ]
        assert [r["n"] for r in await wait_for(rt, f"my-{t}_b", 3)] == [1, 2, 3]
        assert len(rt.herder.task_configs("jdbc")) == 2
        await env.sql(f"INSERT INTO {t}_b (n) VALUES (4)")
        assert (await wait_for(rt, f"my-{t}_b", 4))[-1]["n"] == 4

        partition = {"protocol": "1", "table": f"{env.database}.{t}_b"}

        async def stored() -> bool:
            return {"partition": partition, "offset": {"incrementing": 4}} in await get_offsets(
                rt.herder, "jdbc"
            )

        await eventually(stored, 10, "MySQL offset stored as <database>.<table>")


async def test_timestamp_incrementing_and_query_mode(env: Env) -> None:
    t = env.tag
    await env.sql(
        f"CREATE TABLE {t}_u (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(10) NOT NULL, "
        "modified TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3))",
        f"INSERT INTO {t}_u (name) VALUES ('a'), ('b')",
    )
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        props = env.props(mode="timestamp+incrementing", timestamp__column__name="modified")
        await rt.herder.create("jdbc", props, None)
        await wait_for(rt, f"my-{t}_u", 2)
        await env.sql(f"UPDATE {t}_u SET name = 'b2' WHERE id = 2")
        rows = await wait_for(rt, f"my-{t}_u", 3)
        assert (rows[2]["id"], rows[2]["name"]) == (2, "b2")

    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        query = f"SELECT id, UPPER(name) AS shout FROM {t}_u"
        props = env.props(query=query, incrementing__column__name="id", query__suffix="LIMIT 1")
        del props["table.include.list"]
        await rt.herder.create("jdbc", props, None)
        rows = await wait_for(rt, "my-", 2)
        assert [(r["id"], r["shout"]) for r in rows] == [(1, "A"), (2, "B2")]


async def test_query_mode_types_come_from_the_result_description(env: Env) -> None:
    t = env.tag
    await env.sql(
        f"CREATE TABLE {t}_d (id INT AUTO_INCREMENT PRIMARY KEY, big INT UNSIGNED NOT NULL, raw VARBINARY(4))",
        f"INSERT INTO {t}_d (big, raw) VALUES (4000000000, x'01')",
    )
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        props = env.props(mode="bulk", query=f"SELECT id, big, raw FROM {t}_d", poll__interval__ms="60000")
        del props["table.include.list"]
        await rt.herder.create("jdbc", props, None)
        assert await wait_for(rt, "my-", 1) == [{"id": 1, "big": 4000000000, "raw": "AQ=="}]
        schema = json.loads((await rt.values("my-"))[0] or b"")["schema"]
        assert [(f["field"], f["type"]) for f in schema["fields"]] == [
            ("id", "int32"),
            ("big", "int64"),
            ("raw", "bytes"),
        ]
