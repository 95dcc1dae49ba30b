"""The JDBC sink task against a real MariaDB: upserts (INSERT ... ON DUPLICATE KEY UPDATE) with
auto.create (Confluent's MySQL types) and auto.evolve, deletes on tombstones, and a refused record
going to the errant-record reporter while the rest of its batch lands."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import asyncmy
import pytest

from connectors.jdbc.sink import JdbcSinkTask
from connectors.jdbc.sink_config import JdbcSinkConfig
from connectors.sdk import (
    Date,
    Decimal,
    Schema,
    SchemaType,
    SinkRecord,
    SinkTaskContext,
    Struct,
    Timestamp,
    struct_schema,
)

pytestmark = [pytest.mark.integration, pytest.mark.mysql]

KEY = struct_schema([("id", Schema(SchemaType.STRING))])
VALUE = struct_schema(
    [
        ("id", Schema(SchemaType.STRING)),
        ("n", Schema(SchemaType.INT32)),
        ("ok", Schema(SchemaType.BOOLEAN, optional=True)),
        ("born", Date.schema(optional=True)),
        ("seen", Timestamp.schema(optional=True)),
        ("amount", Decimal.schema(2, optional=True)),
    ]
)


@dataclass
class Reporter:
    reported: list[tuple[SinkRecord, BaseException]] = field(default_factory=list)

    async def report(self, record: SinkRecord, error: BaseException) -> None:
        self.reported.append((record, error))


@dataclass
class Env:
    conn: Any
    db: str
    url: str
    tasks: list[JdbcSinkTask] = field(default_factory=list)

    async def task(self, **overrides: str) -> tuple[JdbcSinkTask, Reporter]:
        props = {"connection.url": self.url, "pk.mode": "record_key", "insert.mode": "upsert", **overrides}
        task, reporter = JdbcSinkTask(), Reporter()
        task.initialize(SinkTaskContext(reporter))
        await task.start(JdbcSinkConfig.parse(props))
        self.tasks.append(task)
        return task, reporter

    async def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        async with self.conn.cursor() as cursor:
            await cursor.execute(sql)
            return [tuple(r) for r in await cursor.fetchall()]


@pytest.fixture
async def env(mysql_dsn: str) -> AsyncIterator[Env]:
    parts = urlparse(mysql_dsn)
    conn = await asyncmy.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        autocommit=True,
    )
    db = f"sink_{uuid.uuid4().hex[:8]}"
    async with conn.cursor() as cursor:
        await cursor.execute(f"CREATE DATABASE `{db}`")
    auth = f"user={parts.username or 'root'}" + (f"&password={parts.password}" if parts.password else "")
    e = Env(conn, db, f"jdbc:mariadb://{parts.hostname}:{parts.port or 3306}/{db}?{auth}")
    try:
        yield e
    finally:
        for task in e.tasks:
            await task.stop()
        async with conn.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE `{db}`")
        conn.close()


def kv(topic: str, key: str, value: Struct | None, schema: Schema = VALUE) -> SinkRecord:
    return SinkRecord(topic, value, schema if value is not None else None, Struct(KEY, {"id": key}), KEY, 0)


def row(key: str, n: int, schema: Schema = VALUE, **extra: Any) -> Struct:
    values = {
        "id": key,
        "n": n,
        "ok": True,
        "born": dt.date(2000, 2, 3),
        "seen": dt.datetime(2024, 1, 1, 10, 0, 0, 123000, tzinfo=dt.UTC),
        "amount": decimal.Decimal("9.99"),
        **extra,
    }
    return Struct(schema, values)


async def test_upsert_auto_create_evolve_and_delete(env: Env) -> None:
    task, reporter = await env.task(
        **{"auto.create": "true", "auto.evolve": "true", "delete.enabled": "true"}
    )
    batch = [kv("t", "a", row("a", 1)), kv("t", "b", row("b", 2)), kv("t", "a", row("a", 3))]
    await task.put(batch)
    await task.put(batch)  # replay: no change
    rows = await env.fetch(f"SELECT * FROM `{env.db}`.t ORDER BY id")
    assert rows == [
        ("a", 3, 1, dt.date(2000, 2, 3), dt.datetime(2024, 1, 1, 10, 0, 0, 123000), decimal.Decimal("9.99")),
        ("b", 2, 1, dt.date(2000, 2, 3), dt.datetime(2024, 1, 1, 10, 0, 0, 123000), decimal.Decimal("9.99")),
    ]
    types = await env.fetch(
        f"SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '{env.db}' "
        "AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION"
    )
    assert types == [
        ("id", "varchar(256)", "NO"),
        ("n", "int(11)", "NO"),
        ("ok", "tinyint(4)", "YES"),
        ("born", "date", "YES"),
        ("seen", "datetime(3)", "YES"),
        ("amount", "decimal(65,2)", "YES"),
    ]
    wider = struct_schema(
        [*((f.name, f.schema) for f in VALUE.fields), ("note", Schema(SchemaType.STRING, optional=True))]
    )
    await task.put([kv("t", "c", row("c", 4, wider, note="hi"), wider), kv("t", "b", None)])
    rows = await env.fetch(f"SELECT id, n, note FROM `{env.db}`.t ORDER BY id")
    assert rows == [("a", 3, None), ("c", 4, "hi")]
    assert reporter.reported == []


async def test_refused_record_reported_rest_lands(env: Env) -> None:
    async with env.conn.cursor() as cursor:
        await cursor.execute(
            f"CREATE TABLE `{env.db}`.small (id VARCHAR(10) PRIMARY KEY, n TINYINT NOT NULL)"
        )
        await cursor.execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES'")
    task, reporter = await env.task(**{"fields.whitelist": "n"})
    schema = struct_schema([("id", Schema(SchemaType.STRING)), ("n", Schema(SchemaType.INT32))])
    batch = [
        kv("small", k, Struct(schema, {"id": k, "n": n}), schema)
        for k, n in [("x", 1), ("y", 100000), ("z", 3)]
    ]
    await task.put(batch)
    assert await env.fetch(f"SELECT * FROM `{env.db}`.small ORDER BY id") == [("x", 1), ("z", 3)]
    assert [r.key.values["id"] for r, _ in reporter.reported] == ["y"]
