"""Tables added to a running PostgreSQL connector (a config change, or a table created later under
a ``filtered`` publication) are snapshotted alone while streaming goes on, consistently: folding
every event of the added table by key gives exactly the table's final contents, while rows were
being changed during its snapshot. Against the real server through the in-memory runtime."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest

from app.storage.memory import MemoryLog
from connectors.postgres.connector import PostgresConnector
from connectors.postgres.lsn import parse_lsn
from tests.integration.postgres.test_pg_progress_live import SlowLog
from tests.integration.postgres.test_pg_task_live import Env, count, events, schema_env
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    async with schema_env(postgres_dsn, "pgadd") as found:
        yield found


def fold(found: Sequence[dict[str, Any] | None]) -> dict[int, dict[str, Any]]:
    """The table a consumer rebuilds from the events (upsert by key, delete on ``d``)."""
    rows: dict[int, dict[str, Any]] = {}
    for event in found:
        if event is None:
            continue
        if event["op"] == "d":
            rows.pop(event["before"]["id"], None)
        elif event["op"] == "t":
            rows.clear()
        else:
            rows[event["after"]["id"]] = event["after"]
    return rows


async def table_rows(env: Env, table: str) -> dict[int, dict[str, Any]]:
    return {r["id"]: dict(r) for r in await env.admin.fetch(f"SELECT * FROM {env.tag}.{table}")}


def details(rt: MemoryRuntime) -> dict[str, Any]:
    tasks = rt.herder.status("pg")["tasks"]
    return dict(tasks[0].get("details") or {}) if tasks else {}


async def churn(dsn: str, env: Env, stop: asyncio.Event) -> int:
    """Update, delete and insert rows of ``b`` and insert into ``a`` until ``stop``."""
    conn = await asyncpg.connect(dsn)
    n = 0
    try:
        while not stop.is_set():
            n += 1
            await conn.execute(
                f"UPDATE {env.tag}.b SET v = v + 1 WHERE id = {1 + (n * 37) % 5000}; "
                f"DELETE FROM {env.tag}.b WHERE id = {5000 - n}; "
                f"INSERT INTO {env.tag}.b VALUES ({10_000 + n}, 0); "
                f"INSERT INTO {env.tag}.a VALUES ({10_000 + n}, 'during')"
            )
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    return n


@pytest.mark.parametrize("publication", ["filtered", "all_tables"])
async def test_a_table_added_to_the_include_list_is_snapshotted_alone_while_streaming(
    env: Env, postgres_dsn: str, publication: str
) -> None:
    """``filtered``: the new table joins the publication at the restart; ``all_tables``: its
    changes were streamed (and filtered out) all along, and those the snapshot holds are dropped."""
    s = env.tag
    await env.admin.execute(
        f"""
        CREATE TABLE {s}.a (id int PRIMARY KEY, v text);
        INSERT INTO {s}.a SELECT g, 'row' FROM generate_series(1, 300) g;
        CREATE TABLE {s}.b (id int PRIMARY KEY, v int NOT NULL);
        INSERT INTO {s}.b SELECT g, 0 FROM generate_series(1, 5000) g;
        """
    )
    log = SlowLog()
    only_a = env.props(
        **{
            "table.include.list": f"{s}.a",
            "max.batch.size": "100",
            "publication.autocreate.mode": publication,
        }
    )
    both = {**only_a, "table.include.list": f"{s}.a,{s}.b"}
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", only_a, None)
        await count(rt, env.topic("a"), 300)
        await env.admin.execute(f"INSERT INTO {s}.a VALUES (301, 'streamed')")
        await count(rt, env.topic("a"), 301)
        assert await events(rt, env.topic("b")) == []

        log.delay = 0.03  # ~50 batches of b: long enough for the stream to go on meanwhile
        stop = asyncio.Event()
        writer = asyncio.create_task(churn(postgres_dsn, env, stop))
        try:
            await asyncio.sleep(0.5)  # changes to b before the snapshot: it holds them, none is streamed
            before_snapshot = parse_lsn(await env.admin.fetchval("SELECT pg_current_wal_lsn()::text"))
            await rt.herder.put_config("pg", both)

            async def a_streams_during_b_snapshot() -> bool:
                reads = [e for e in await events(rt, env.topic("b")) if e and e["op"] == "r"]
                during = [e for e in await events(rt, env.topic("a")) if e and e["after"]["v"] == "during"]
                return bool(during) and 0 < len(reads) < 4000

            await eventually(a_streams_during_b_snapshot, 30, "a's changes while b is snapshotted")
            assert details(rt).get("phase") in ("incremental_snapshot", "streaming")
            await asyncio.sleep(1.0)
        finally:
            stop.set()
            changes = await writer
        assert changes > 10
        log.delay = 0.0

        async def converged() -> bool:
            return fold(await events(rt, env.topic("b"))) == await table_rows(env, "b")

        await eventually(converged, 30, "b's events fold to b's contents")
        found_b = [e for e in await events(rt, env.topic("b")) if e]
        reads = [e for e in found_b if e["op"] == "r"]
        assert {e["source"]["snapshot"] for e in reads} == {"incremental"}
        assert 4000 < len(reads) <= 5000
        first_change = next(i for i, e in enumerate(found_b) if e["op"] != "r")
        assert first_change > 0 and found_b[0]["op"] == "r"
        assert all(e["source"]["lsn"] >= before_snapshot for e in found_b if e["op"] != "r")
        # a was not snapshotted again: 300 reads, then only streamed changes
        found_a = [e for e in await events(rt, env.topic("a")) if e]
        assert sum(e["op"] == "r" for e in found_a) == 300
        assert fold(found_a) == await table_rows(env, "a")
        await eventually(lambda: details(rt).get("phase") == "streaming", 10, "back to streaming")
        assert details(rt).get("snapshot_rows_done") is None

    # A restart with the same config snapshots nothing again.
    total_b = len(await rt.values(env.topic("b")))
    await env.admin.execute(f"UPDATE {s}.b SET v = -1 WHERE id = 1")
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", both, None)
        found = await count(rt, env.topic("b"), total_b + 1)
        await asyncio.sleep(1.0)
        found = await events(rt, env.topic("b"))
        assert len(found) == total_b + 1 and found[-1] and found[-1]["op"] == "u"

        # Removing a table stops its events.
        await rt.herder.put_config("pg", {**only_a})
        await env.admin.execute(f"INSERT INTO {s}.b VALUES (99999, 1); INSERT INTO {s}.a VALUES (99999, 'x')")
        await eventually(
            lambda: _has(rt, env.topic("a"), 99999), 20, "a's insert after b was removed from the filters"
        )
        await asyncio.sleep(0.5)
        assert len(await rt.values(env.topic("b"))) == total_b + 1


async def _has(rt: MemoryRuntime, topic: str, key: int) -> bool:
    return any(e and e["after"] and e["after"]["id"] == key for e in await events(rt, topic))


async def test_a_table_created_later_under_a_filtered_publication_is_added_and_snapshotted(
    env: Env,
) -> None:
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.a (id int PRIMARY KEY, v text)")
    props = env.props(**{"table.discovery.interval.ms": "300", "snapshot.mode": "initial"})
    async with memory_runtime(("source", PostgresConnector), log=MemoryLog()) as rt:
        await rt.herder.create("pg", props, None)
        await eventually(env.slot_active, 20, "streaming")
        # Created and filled before the connector notices it: not in the publication yet, so
        # these rows are not streamed; the snapshot brings them.
        await env.admin.execute(
            f"CREATE TABLE {s}.late (id int PRIMARY KEY, v text);"
            f"INSERT INTO {s}.late SELECT g, 'before' FROM generate_series(1, 50) g"
        )
        found = await count(rt, env.topic("late"), 50)
        assert {e["op"] for e in found if e} == {"r"}
        assert {e["source"]["snapshot"] for e in found if e} == {"incremental"}
        published = await env.admin.fetchval(
            "SELECT count(*) FROM pg_publication_tables WHERE pubname = $1 AND tablename = 'late'",
            f"{s}_pub",
        )
        assert published == 1
        await env.admin.execute(f"INSERT INTO {s}.late VALUES (51, 'after')")
        found = await count(rt, env.topic("late"), 51)
        assert found[-1] and found[-1]["op"] == "c" and found[-1]["after"]["id"] == 51
        assert fold(found) == await table_rows(env, "late")


async def test_offsets_record_the_captured_tables(env: Env) -> None:
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.a (id int PRIMARY KEY); INSERT INTO {s}.a VALUES (1)")
    log = MemoryLog()
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(), None)
        await count(rt, env.topic("a"), 1)
        stored = await log.offsets.get("pg", {"server": s})
        assert stored is not None and json.loads(stored["captured_tables"]) == [f"{s}.a"]
