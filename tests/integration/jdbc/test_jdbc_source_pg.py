"""The JDBC source against the real PostgreSQL, through the in-memory runtime and its herder.

Every mode with tables split over three tasks, a table created while running, an offset reset
(KIP-875) re-reading rows, ``numeric.mapping``, updates caught by timestamp+incrementing, query
mode with ``query.suffix``, bad input, and a connection killed mid-read. Each test has its own
schema, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest

from app.herder.offsets import alter_offsets, get_offsets, reset_offsets
from app.herder.validation import BadRequestError
from connectors.jdbc.source import JdbcSourceConnector
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

JSON = "org.apache.kafka.connect.json.JsonConverter"


@dataclass
class Env:
    admin: asyncpg.Connection
    tag: str
    url: str

    def props(self, **overrides: str) -> dict[str, str]:
        props = {
            "name": "jdbc",
            "connector.class": "io.confluent.connect.jdbc.JdbcSourceConnector",
            "tasks.max": "1",
            "connection.url": self.url,
            "connection.user": "postgres",
            "schema.pattern": self.tag,
            "topic.prefix": f"{self.tag}-",
            "poll.interval.ms": "100",
            "mode": "incrementing",
            "key.converter": JSON,
            "value.converter": JSON,
        }
        props.update({k.replace("__", "."): v for k, v in overrides.items()})
        return props

    def topic(self, table: str) -> str:
        return f"{self.tag}-{table}"


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    tag = f"jdbcsrc_{uuid.uuid4().hex[:8]}"
    parsed = urlparse(postgres_dsn)
    url = f"jdbc:postgresql://{parsed.hostname}:{parsed.port or 5432}{parsed.path}"
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f"CREATE SCHEMA {tag}")
    try:
        yield Env(admin, tag, url)
    finally:
        await admin.execute(f"DROP SCHEMA {tag} CASCADE")
        await admin.close()


def payloads(values: list[bytes | None]) -> list[dict[str, Any]]:
    return [json.loads(v)["payload"] for v in values if v is not None]


async def wait_for(rt: MemoryRuntime, topic: str, n: int, timeout: float = 20) -> list[dict[str, Any]]:
    async def enough() -> list[dict[str, Any]] | None:
        found = payloads(await rt.values(topic))
        return found if len(found) >= n else None

    result: list[dict[str, Any]] = await eventually(
        enough,
        timeout,
        f"{n} records on {topic}: {rt.herder.status('jdbc') if 'jdbc' in rt.herder.connector_names() else ''}",
    )
    return result


async def make_tables(env: Env, names: list[str], rows: int) -> None:
    for name in names:
        await env.admin.execute(
            f"CREATE TABLE {env.tag}.{name} (id serial PRIMARY KEY, name text NOT NULL, "
            "updated timestamp NOT NULL DEFAULT now())"
        )
        await env.admin.execute(
            f"INSERT INTO {env.tag}.{name} (name) SELECT '{name}' || g FROM generate_series(1, {rows}) g"
        )


async def test_incrementing_over_three_tasks_with_progress_and_offsets(env: Env) -> None:
    await make_tables(env, ["t1", "t2", "t3", "t4"], 25)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(tasks__max="3", batch__max__rows="10"), None)
        for name in ("t1", "t2", "t3", "t4"):
            rows = await wait_for(rt, env.topic(name), 25)
            assert [r["id"] for r in rows] == list(range(1, 26))
            assert rows[0]["name"] == f"{name}1"
        configs = rt.herder.task_configs("jdbc")
        assert [[t[1] for t in json.loads(c["tables"])] for c in configs] == [["t1", "t2"], ["t3"], ["t4"]]
        schema = json.loads((await rt.values(env.topic("t1")))[0] or b"")["schema"]
        assert schema["name"] == "t1"
        assert [(f["field"], f["type"], f["optional"]) for f in schema["fields"]] == [
            ("id", "int32", False),
            ("name", "string", False),
            ("updated", "int64", False),
        ]
        assert schema["fields"][2]["name"] == "org.apache.kafka.connect.data.Timestamp"

        await env.admin.execute(f"INSERT INTO {env.tag}.t3 (name) VALUES ('late')")
        rows = await wait_for(rt, env.topic("t3"), 26)
        assert rows[-1] == {**rows[-1], "id": 26, "name": "late"}

        async def stored() -> list[dict[str, Any]] | None:
            offsets = await get_offsets(rt.herder, "jdbc")
            by_table = {o["partition"]["table"]: o for o in offsets}
            t3 = by_table.get(f"{env.tag}.t3")
            return offsets if t3 and t3["offset"] == {"incrementing": 26} else None

        offsets = await eventually(stored, 10, "offset of t3 stored")
        assert {o["partition"]["table"] for o in offsets} == {f"{env.tag}.t{i}" for i in range(1, 5)}
        assert all(o["partition"]["protocol"] == "1" for o in offsets)
        key = f"{env.tag}.t3.rows_remaining"
        await eventually(
            lambda: rt.herder.status("jdbc")["tasks"][1].get("details", {}).get(key) == 0, 5, "progress shown"
        )
        exposition = rt.herder.ctx.metrics.render().decode()
        gauge = f'connector_jdbc_source_rows_remaining{{connector="jdbc",table="{env.tag}.t3",task="1"}} 0.0'
        assert gauge in exposition
        assert (
            f'connector_jdbc_source_rows_read_total{{connector="jdbc",table="{env.tag}.t3",task="1"}} 26.0'
            in exposition
        )


async def test_bulk_copies_everything_every_time_without_offsets(env: Env) -> None:
    await make_tables(env, ["b1", "b2", "b3"], 5)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(mode="bulk", tasks__max="3", poll__interval__ms="200"), None)
        rows = await wait_for(rt, env.topic("b2"), 15)  # three runs at least
        key = f"{env.tag}.b2.rows_remaining"
        await eventually(
            lambda: key in rt.herder.status("jdbc")["tasks"][1].get("details", {}), 5, "progress"
        )
        assert [r["id"] for r in rows[:10]] == [1, 2, 3, 4, 5] * 2
        await asyncio.sleep(0.5)
        offsets = await get_offsets(rt.herder, "jdbc")
        assert offsets == []  # bulk records carry a null offset: nothing is stored, as on Kafka Connect


async def test_timestamp_incrementing_catches_updates_and_timestamp_mode_too(env: Env) -> None:
    await make_tables(env, ["ti"], 3)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        props = env.props(
            mode="timestamp+incrementing", timestamp__column__name="updated", incrementing__column__name="id"
        )
        await rt.herder.create("jdbc", props, None)
        await wait_for(rt, env.topic("ti"), 3)
        await env.admin.execute(f"UPDATE {env.tag}.ti SET name = 'changed', updated = now() WHERE id = 2")
        rows = await wait_for(rt, env.topic("ti"), 4)
        assert rows[3]["id"] == 2 and rows[3]["name"] == "changed"
        (offset,) = [o for o in await get_offsets(rt.herder, "jdbc") if o["offset"]] or [None]
        assert offset is not None and set(offset["offset"]) == {
            "incrementing",
            "timestamp",
            "timestamp_nanos",
        }

    await env.admin.execute(f"CREATE TABLE {env.tag}.ts (name text NOT NULL, at timestamptz NOT NULL)")
    await env.admin.execute(f"INSERT INTO {env.tag}.ts VALUES ('a', now() - interval '1 hour')")
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        props = env.props(mode="timestamp", timestamp__column__name="at", table__whitelist="ts")
        await rt.herder.create("jdbc", props, None)
        await wait_for(rt, env.topic("ts"), 1)
        await env.admin.execute(f"UPDATE {env.tag}.ts SET name = 'b', at = now()")
        rows = await wait_for(rt, env.topic("ts"), 2)
        assert [r["name"] for r in rows] == ["a", "b"]


async def test_new_table_picked_up_live(env: Env) -> None:
    await make_tables(env, ["first"], 2)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(tasks__max="2", table__poll__interval__ms="200"), None)
        await wait_for(rt, env.topic("first"), 2)
        assert len(rt.herder.task_configs("jdbc")) == 1
        await make_tables(env, ["second"], 3)
        rows = await wait_for(rt, env.topic("second"), 3)
        assert [r["name"] for r in rows] == ["second1", "second2", "second3"]
        assert len(rt.herder.task_configs("jdbc")) == 2


async def test_offset_reset_and_alter_through_the_herder(env: Env) -> None:
    await make_tables(env, ["r"], 10)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(), None)
        await wait_for(rt, env.topic("r"), 10)
        partition = {"protocol": "1", "table": f"{env.tag}.r"}

        async def stored() -> bool:
            return {"partition": partition, "offset": {"incrementing": 10}} in await get_offsets(
                rt.herder, "jdbc"
            )

        await eventually(stored, 10, "offset stored")
        await rt.herder.stop_connector("jdbc")
        await eventually(lambda: not rt.herder.task_configs("jdbc"), 10, "stopped")
        await alter_offsets(rt.herder, "jdbc", [{"partition": partition, "offset": {"incrementing": 7}}])
        await rt.herder.resume("jdbc")
        rows = await wait_for(rt, env.topic("r"), 13)
        assert [r["id"] for r in rows[10:]] == [8, 9, 10]

        await rt.herder.stop_connector("jdbc")
        await eventually(lambda: not rt.herder.task_configs("jdbc"), 10, "stopped")
        await reset_offsets(rt.herder, "jdbc")
        await rt.herder.resume("jdbc")
        rows = await wait_for(rt, env.topic("r"), 23)
        assert [r["id"] for r in rows[13:]] == list(range(1, 11))


async def test_numeric_mapping(env: Env) -> None:
    await env.admin.execute(
        f"CREATE TABLE {env.tag}.n (id serial PRIMARY KEY, small numeric(2,0), mid numeric(9,0), "
        "big numeric(18,0), money numeric(10,2), huge numeric(30,0), free numeric)"
    )
    await env.admin.execute(
        f"INSERT INTO {env.tag}.n (small, mid, big, money, huge, free) VALUES (12, 123456789, 1, 12.34, 5, 1.5)"
    )

    async def field_types(mapping: str) -> dict[str, tuple[str, str | None]]:
        async with memory_runtime(("source", JdbcSourceConnector)) as rt:
            await rt.herder.create("jdbc", env.props(numeric__mapping=mapping), None)
            await wait_for(rt, env.topic("n"), 1)
            value = json.loads((await rt.values(env.topic("n")))[0] or b"")
            return {f["field"]: (f["type"], f.get("name")) for f in value["schema"]["fields"]} | {
                "_payload": (json.dumps(value["payload"]), None)
            }

    decimal = ("bytes", "org.apache.kafka.connect.data.Decimal")
    none = await field_types("none")
    assert none["small"] == none["money"] == none["free"] == decimal
    best = await field_types("best_fit")
    assert (
        best["small"] == ("int8", None) and best["mid"] == ("int32", None) and best["big"] == ("int64", None)
    )
    assert best["money"] == ("double", None) and best["huge"] == decimal and best["free"] == decimal
    assert json.loads(best["_payload"][0])["money"] == 12.34
    precision = await field_types("precision_only")
    assert precision["mid"] == ("int32", None) and precision["money"] == decimal


async def test_query_mode_with_suffix(env: Env) -> None:
    await make_tables(env, ["q"], 7)
    query = f"SELECT id, upper(name) AS shout FROM {env.tag}.q"
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        props = env.props(
            query=query,
            query__suffix="LIMIT 3",
            incrementing__column__name="id",
            topic__prefix=f"{env.tag}-query",
        )
        await rt.herder.create("jdbc", props, None)
        rows = await wait_for(rt, f"{env.tag}-query", 7)
        assert [r["id"] for r in rows] == list(range(1, 8)) and rows[0]["shout"] == "Q1"
        value = json.loads((await rt.values(f"{env.tag}-query"))[0] or b"")
        assert "name" not in value["schema"]

        async def stored() -> list[dict[str, Any]] | None:
            offsets = await get_offsets(rt.herder, "jdbc")
            return offsets if offsets and offsets[0]["offset"] == {"incrementing": 7} else None

        (offset,) = await eventually(stored, 10, "query offset stored")
        assert offset["partition"] == {"query": "query"}


async def test_bad_columns_are_refused_or_fail_the_task_saying_which(env: Env) -> None:
    await env.admin.execute(f"CREATE TABLE {env.tag}.bad (id int, at timestamp)")
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        with pytest.raises(BadRequestError, match="The incrementing column 'nope' does not exist in table"):
            await rt.herder.create("jdbc", env.props(incrementing__column__name="nope"), None)
        with pytest.raises(BadRequestError, match="because this column is nullable"):
            await rt.herder.create("jdbc", env.props(mode="timestamp", timestamp__column__name="at"), None)
        await rt.herder.create("jdbc", env.props(), None)  # id is neither named nor auto-increment
        await eventually(lambda: rt.task_state("jdbc") == "FAILED", 10, "task failed")
        assert "Cannot find an auto-incrementing column" in rt.herder.status("jdbc")["tasks"][0]["trace"]


async def test_validation_names_wrong_host_password_and_url(env: Env) -> None:
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:

        def errors(result: Any) -> dict[str, list[str]]:
            return {c["value"]["name"]: c["value"]["errors"] for c in result.configs if c["value"]["errors"]}

        wrong_host = await rt.herder.validate(
            env.props(connection__url="jdbc:postgresql://127.0.0.1:1/penstock")
        )
        assert "cannot reach the database server at 127.0.0.1:1" in errors(wrong_host)["connection.url"][0]
        wrong_url = await rt.herder.validate(env.props(connection__url="jdbc:oracle:thin:@h:1521:x"))
        assert "jdbc:oracle URLs are not supported" in errors(wrong_url)["connection.url"][0]
        wrong_db = await rt.herder.validate(env.props(connection__url=env.url.rsplit("/", 1)[0] + "/nope_db"))
        assert "database 'nope_db' does not exist" in errors(wrong_db)["connection.url"][0]
        with pytest.raises(BadRequestError, match="jdbc:oracle URLs are not supported"):
            await rt.herder.create("bad", env.props(connection__url="jdbc:oracle:thin:@h:1521:x"), None)
        no_mode = await rt.herder.validate(env.props(mode=""))
        assert errors(no_mode)["mode"] == [
            "Invalid value  for configuration mode: Query mode must be specified"
        ]
        ok = await rt.herder.validate(env.props())
        assert not errors(ok)
        await make_tables(env, ["v"], 1)
        missing = await rt.herder.validate(env.props(incrementing__column__name="nope"))
        assert (
            "The incrementing column 'nope' does not exist in table"
            in errors(missing)["incrementing.column.name"][0]
        )
        nullable = await rt.herder.validate(
            env.props(mode="timestamp", timestamp__column__name="name,updated")
        )
        assert not errors(nullable)
        await env.admin.execute(f"ALTER TABLE {env.tag}.v ALTER COLUMN updated DROP NOT NULL")
        nullable = await rt.herder.validate(env.props(mode="timestamp", timestamp__column__name="updated"))
        assert "because this column is nullable" in errors(nullable)["timestamp.column.name"][0]


async def test_a_column_added_while_running_shows_in_later_records(env: Env) -> None:
    await make_tables(env, ["grow"], 2)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(), None)
        await wait_for(rt, env.topic("grow"), 2)
        await env.admin.execute(f"ALTER TABLE {env.tag}.grow ADD COLUMN extra int NOT NULL DEFAULT 7")
        await env.admin.execute(f"INSERT INTO {env.tag}.grow (name) VALUES ('after')")
        rows = await wait_for(rt, env.topic("grow"), 3)
        assert rows[2]["extra"] == 7 and "extra" not in rows[0]
        schema = json.loads((await rt.values(env.topic("grow")))[2] or b"")["schema"]
        assert [f["field"] for f in schema["fields"]] == ["id", "name", "updated", "extra"]


async def test_connection_killed_mid_read_is_retried(env: Env) -> None:
    await make_tables(env, ["k"], 3000)
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(batch__max__rows="100"), None)
        await wait_for(rt, env.topic("k"), 100)
        killed = await env.admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'penstock-jdbc'"
        )
        assert killed, "the task's connection was found and ended"
        await env.admin.execute(f"INSERT INTO {env.tag}.k (name) VALUES ('after')")
        rows = await wait_for(rt, env.topic("k"), 3001, timeout=40)
        assert sorted({r["id"] for r in rows}) == list(range(1, 3002))
        assert rt.task_state("jdbc") == "RUNNING"


async def test_timestamps_compared_and_read_in_db_timezone(env: Env) -> None:
    zone = "America/New_York"
    await env.admin.execute(f"CREATE TABLE {env.tag}.tz (name text NOT NULL, at timestamp NOT NULL)")
    await env.admin.execute(
        f"INSERT INTO {env.tag}.tz VALUES ('past', date_trunc('second', now() AT TIME ZONE '{zone}') - interval '1 minute'),"
        f" ('future', now() AT TIME ZONE '{zone}' + interval '1 hour')"
    )
    expected = await env.admin.fetchval(
        f"SELECT (extract(epoch FROM (at AT TIME ZONE '{zone}')) * 1000)::bigint FROM {env.tag}.tz WHERE name = 'past'"
    )
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        props = env.props(mode="timestamp", timestamp__column__name="at", db__timezone=zone)
        await rt.herder.create("jdbc", props, None)
        rows = await wait_for(rt, env.topic("tz"), 1)
        await asyncio.sleep(0.5)  # several more polls: the row an hour ahead in New York stays unread
        rows = payloads(await rt.values(env.topic("tz")))
        assert [(r["name"], r["at"]) for r in rows] == [("past", expected)]


async def test_no_tables_yet_means_no_tasks_until_one_is_created(env: Env) -> None:
    async with memory_runtime(("source", JdbcSourceConnector)) as rt:
        await rt.herder.create("jdbc", env.props(table__poll__interval__ms="200"), None)
        await asyncio.sleep(0.5)
        assert rt.herder.task_configs("jdbc") == []
        await make_tables(env, ["later"], 2)
        assert [r["id"] for r in await wait_for(rt, env.topic("later"), 2)] == [1, 2]
        assert rt.herder.status("jdbc")["connector"]["state"] == "RUNNING"
