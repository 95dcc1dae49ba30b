"""The JDBC sink task against the real PostgreSQL: upserts with auto.create / auto.evolve, deletes,
every pk.mode, insert.mode=update, schemaless maps into an existing table, refused records going to
the errant-record reporter while the rest of the batch lands, a lost connection retried without
loss, and a missing table named in the error. Each test uses its own schema, dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest

from connectors.jdbc.sink import JdbcSinkConnector, JdbcSinkTask
from connectors.jdbc.sink_config import JdbcSinkConfig
from connectors.sdk import (
    ConfigError,
    Date,
    Decimal,
    RetriableError,
    Schema,
    SchemaType,
    SinkRecord,
    SinkTaskContext,
    Struct,
    Timestamp,
    struct_schema,
)

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

ID = Schema(SchemaType.INT64)
KEY = struct_schema([("id", ID)])
VALUE = struct_schema(
    [
        ("id", ID),
        ("name", Schema(SchemaType.STRING)),
        ("score", Schema(SchemaType.FLOAT64, optional=True)),
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
    admin: asyncpg.Connection
    schema: str
    url: str
    tasks: list[JdbcSinkTask] = field(default_factory=list)

    async def task(self, **overrides: str) -> tuple[JdbcSinkTask, Reporter]:
        props = {"connection.url": self.url, "table.name.format": f"{self.schema}.${{topic}}", **overrides}
        task = JdbcSinkTask()
        reporter = Reporter()
        task.initialize(SinkTaskContext(reporter))
        await task.start(JdbcSinkConfig.parse(props))
        self.tasks.append(task)
        return task, reporter

    async def rows(self, table: str, order: str = "1") -> list[tuple[Any, ...]]:
        return [
            tuple(r)
            for r in await self.admin.fetch(f'SELECT * FROM "{self.schema}"."{table}" ORDER BY {order}')
        ]


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    admin = await asyncpg.connect(postgres_dsn)
    schema = f"sink_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    parts = urlparse(postgres_dsn)
    url = f"jdbc:postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}?user={parts.username or 'postgres'}"
    e = Env(admin, schema, url)
    try:
        yield e
    finally:
        for task in e.tasks:
            await task.stop()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


def person(i: int, name: str, score: float | None = 1.5, *, schema: Schema = VALUE, **extra: Any) -> Struct:
    values = {
        "id": i,
        "name": name,
        "score": score,
        "born": dt.date(1990, 1, i % 28 + 1),
        "seen": dt.datetime(2024, 5, 1, 12, 0, i % 60, tzinfo=dt.UTC),
        "amount": decimal.Decimal("12.50"),
        **extra,
    }
    return Struct(schema, {k: v for k, v in values.items() if schema.field(k)})


def kv(topic: str, i: int, value: Struct | None, offset: int = 0) -> SinkRecord:
    return SinkRecord(
        topic,
        value,
        VALUE if value is not None else None,
        Struct(KEY, {"id": i}),
        KEY,
        0,
        kafka_offset=offset,
    )


async def test_upsert_auto_create_types_and_replay(env: Env) -> None:
    task, reporter = await env.task(
        **{"insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true"}
    )
    batch = [
        kv("people", 1, person(1, "ann")),
        kv("people", 2, person(2, "bob")),
        kv("people", 1, person(1, "ann2")),
    ]
    await task.put(batch)
    await task.put(batch)  # a replay changes nothing
    rows = await env.rows("people")
    assert rows == [
        (1, "ann2", 1.5, dt.date(1990, 1, 2), dt.datetime(2024, 5, 1, 12, 0, 1), decimal.Decimal("12.50")),
        (2, "bob", 1.5, dt.date(1990, 1, 3), dt.datetime(2024, 5, 1, 12, 0, 2), decimal.Decimal("12.50")),
    ]
    types = await env.admin.fetch(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = 'people' ORDER BY ordinal_position",
        env.schema,
    )
    assert [tuple(t) for t in types] == [
        ("id", "bigint", "NO"),
        ("name", "text", "NO"),
        ("score", "double precision", "YES"),
        ("born", "date", "YES"),
        ("seen", "timestamp without time zone", "YES"),
        ("amount", "numeric", "YES"),
    ]
    assert reporter.reported == []


async def test_auto_evolve_adds_an_optional_column(env: Env) -> None:
    task, _ = await env.task(
        **{"insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true", "auto.evolve": "true"}
    )
    await task.put([kv("evolve", 1, person(1, "ann"))])
    wider = struct_schema(
        [*((f.name, f.schema) for f in VALUE.fields), ("nick", Schema(SchemaType.STRING, optional=True))]
    )
    record = SinkRecord(
        "evolve", person(1, "ann", schema=wider, nick="a"), wider, Struct(KEY, {"id": 1}), KEY, 0
    )
    await task.put([record, kv("evolve", 2, person(2, "bob"))])
    rows = await env.rows("evolve")
    assert [(r[0], r[1], r[-1]) for r in rows] == [(1, "ann", "a"), (2, "bob", None)]


async def test_auto_evolve_disabled_names_table_and_key(env: Env) -> None:
    task, _ = await env.task(**{"pk.mode": "record_key", "auto.create": "true"})
    await task.put([kv("noevolve", 1, person(1, "ann"))])
    wider = struct_schema(
        [*((f.name, f.schema) for f in VALUE.fields), ("nick", Schema(SchemaType.STRING, optional=True))]
    )
    with pytest.raises(ConfigError, match=r"noevolve is missing fields \(nick\).*auto.evolve"):
        await task.put(
            [
                SinkRecord(
                    "noevolve", person(1, "x", schema=wider, nick="n"), wider, Struct(KEY, {"id": 1}), KEY, 0
                )
            ]
        )


async def test_missing_table_without_auto_create(env: Env) -> None:
    task, _ = await env.task(**{"pk.mode": "record_key"})
    with pytest.raises(ConfigError, match=rf"Table {env.schema}.absent is missing.*auto.create"):
        await task.put([kv("absent", 1, person(1, "ann"))])


async def test_tombstones_delete_in_order(env: Env) -> None:
    task, _ = await env.task(
        **{"insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true", "delete.enabled": "true"}
    )
    await task.put([kv("del", i, person(i, f"p{i}")) for i in range(1, 5)])
    await task.put(
        [
            kv("del", 1, None),  # deleted
            kv("del", 2, person(2, "gone")),
            kv("del", 2, None),  # written then deleted: gone
            kv("del", 3, None),
            kv("del", 3, person(3, "back")),  # deleted then written: back
            kv("del", 9, None),  # nothing to delete
        ]
    )
    assert [(r[0], r[1]) for r in await env.rows("del")] == [(3, "back"), (4, "p4")]


async def test_tombstone_on_missing_table_creates_nothing(env: Env) -> None:
    task, _ = await env.task(
        **{"insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true", "delete.enabled": "true"}
    )
    await task.put([kv("nothing", 1, None)])
    assert await env.admin.fetchval("SELECT to_regclass($1)", f"{env.schema}.nothing") is None


async def test_pk_mode_kafka_and_record_value_and_none(env: Env) -> None:
    kafka, _ = await env.task(**{"pk.mode": "kafka", "auto.create": "true", "insert.mode": "upsert"})
    await kafka.put([kv("k", 1, person(1, "a"), offset=7), kv("k", 1, person(1, "b"), offset=8)])
    await kafka.put([kv("k", 1, person(1, "b"), offset=8)])
    rows = await env.rows("k", "3")
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [("k", 0, 7, "a"), ("k", 0, 8, "b")]
    cols = await env.admin.fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY a.attname",
        f'"{env.schema}".k',
    )
    assert [c[0] for c in cols] == ["__connect_offset", "__connect_partition", "__connect_topic"]

    by_value, _ = await env.task(
        **{"pk.mode": "record_value", "pk.fields": "id", "auto.create": "true", "insert.mode": "upsert"}
    )
    await by_value.put([kv("v", 1, person(1, "a")), kv("v", 1, person(1, "b"))])
    assert [(r[0], r[1]) for r in await env.rows("v")] == [(1, "b")]

    plain, _ = await env.task(**{"auto.create": "true"})
    await plain.put([kv("n", 1, person(1, "a")), kv("n", 1, person(1, "a"))])
    assert len(await env.rows("n")) == 2  # no key: plain inserts


async def test_primitive_key_needs_one_pk_field(env: Env) -> None:
    task, _ = await env.task(
        **{
            "pk.mode": "record_key",
            "pk.fields": "id",
            "auto.create": "true",
            "insert.mode": "upsert",
            "fields.whitelist": "name",
        }
    )
    record = SinkRecord("prim", person(5, "e"), VALUE, 5, Schema(SchemaType.INT64), 0)
    await task.put([record])
    assert await env.rows("prim") == [(5, "e")]


async def test_update_mode_changes_existing_rows_only(env: Env) -> None:
    await env.admin.execute(
        f'CREATE TABLE "{env.schema}".upd (id bigint primary key, name text, score float8, '
        "born date, seen timestamp, amount numeric)"
    )
    await env.admin.execute(f"INSERT INTO \"{env.schema}\".upd (id, name) VALUES (1, 'old')")
    task, _ = await env.task(**{"pk.mode": "record_key", "insert.mode": "update"})
    await task.put([kv("upd", 1, person(1, "new")), kv("upd", 2, person(2, "absent"))])
    assert [(r[0], r[1]) for r in await env.rows("upd")] == [(1, "new")]


async def test_schemaless_maps_into_existing_table(env: Env) -> None:
    await env.admin.execute(
        f'CREATE TABLE "{env.schema}".maps (id bigint primary key, name text, at timestamptz, doc jsonb, n numeric)'
    )
    task, reporter = await env.task(**{"pk.mode": "record_key", "insert.mode": "upsert"})
    records = [
        SinkRecord(
            "maps",
            {"id": 1, "name": "a", "at": "2024-01-02T03:04:05+00:00", "doc": {"x": [1, 2]}, "n": 1.25},
            None,
            {"id": 1},
            None,
            0,
        ),
        SinkRecord("maps", {"id": 2, "name": "b", "at": None, "doc": None, "n": 3}, None, {"id": 2}, None, 0),
    ]
    await task.put(records)
    rows = await env.rows("maps")
    assert rows[0][:2] == (1, "a") and rows[0][2] == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert rows[0][3] == '{"x": [1, 2]}' and rows[0][4] == decimal.Decimal("1.25")
    assert rows[1] == (2, "b", None, None, decimal.Decimal(3))
    assert reporter.reported == []


async def test_refused_record_goes_to_reporter_rest_lands(env: Env) -> None:
    await env.admin.execute(f'CREATE TABLE "{env.schema}".bad (id bigint primary key, name varchar(5))')
    task, reporter = await env.task(**{"pk.mode": "record_key", "insert.mode": "upsert"})
    small = struct_schema([("id", ID), ("name", Schema(SchemaType.STRING))])
    records = [
        SinkRecord(
            "bad", Struct(small, {"id": i, "name": n}), small, Struct(KEY, {"id": i}), KEY, 0, kafka_offset=i
        )
        for i, n in [(1, "ok"), (2, "far too long"), (3, "fine")]
    ]
    await task.put(records)
    assert await env.rows("bad") == [(1, "ok"), (3, "fine")]
    assert [r.kafka_offset for r, _ in reporter.reported] == [2]
    assert "too long" in str(reporter.reported[0][1])


async def test_lost_connection_is_retried_without_loss(env: Env) -> None:
    task, _ = await env.task(
        **{
            "pk.mode": "record_key",
            "insert.mode": "upsert",
            "auto.create": "true",
            "max.retries": "2",
            "retry.backoff.ms": "10",
        }
    )
    await task.put([kv("lost", 1, person(1, "a"))])
    assert task.db is not None
    pid = await task.db.fetch("SELECT pg_backend_pid()")
    await env.admin.execute("SELECT pg_terminate_backend($1)", pid[0][0])
    batch = [kv("lost", 2, person(2, "b")), kv("lost", 3, person(3, "c"))]
    with pytest.raises(RetriableError):
        await task.put(batch)
    await task.put(batch)  # the runtime offers the same batch again
    assert [r[0] for r in await env.rows("lost")] == [1, 2, 3]


async def test_validate_connection_reports_keys(env: Env) -> None:
    connector = JdbcSinkConnector()
    assert await connector.validate_connection({"connection.url": env.url}) == {}
    wrong_db = env.url.replace(urlparse(env.url[5:]).path, "/no_such_db_here")
    errors = await connector.validate_connection({"connection.url": wrong_db})
    assert "no_such_db_here" in errors["connection.url"][0]
    errors = await connector.validate_connection({"connection.url": "jdbc:postgresql://127.0.0.1:1/x"})
    assert list(errors) == ["connection.url"]
