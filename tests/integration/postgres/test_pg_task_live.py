"""The PostgreSQL source task on the in-memory runtime against the real PostgreSQL 15.

Snapshot (markers, offsets), streaming of every operation in order, restart without loss or
re-snapshot, interleaved transactions across a restart, and the slot never confirmed past what
the runtime stored (a blocked writer holds a transaction; a restart still delivers it).
Every test uses its own schema, slot and publication, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest

from app.storage.base import Delivered, ProducerRecord, SourceOffsetWrite
from app.storage.memory import MemoryLog
from connectors.postgres.connector import PostgresConnector
from connectors.postgres.lsn import parse_lsn
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

JSON = "org.apache.kafka.connect.json.JsonConverter"


@dataclass
class Env:
    admin: asyncpg.Connection
    tag: str
    host: str
    port: int
    dbname: str

    @property
    def slot(self) -> str:
        return f"{self.tag}_slot"

    def props(self, **overrides: str) -> dict[str, str]:
        props = {
            "name": "pg",
            "connector.class": "PostgresConnector",
            "tasks.max": "1",
            "database.hostname": self.host,
            "database.port": str(self.port),
            "database.user": "postgres",
            "database.password": "unused-under-trust",
            "database.dbname": self.dbname,
            "database.sslmode": "disable",
            "topic.prefix": self.tag,
            "schema.include.list": self.tag,
            "slot.name": self.slot,
            "publication.name": f"{self.tag}_pub",
            "publication.autocreate.mode": "filtered",
            "status.update.interval.ms": "200",
            "slot.retry.delay.ms": "200",
            "poll.interval.ms": "100",
            "skipped.operations": "none",
            "key.converter": JSON,
            "value.converter": JSON,
        }
        props.update({k.replace("__", "."): v for k, v in overrides.items()})
        return props

    def topic(self, table: str) -> str:
        return f"{self.tag}.{self.tag}.{table}"

    async def slot_active(self) -> bool:
        return bool(
            await self.admin.fetchval(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1", self.slot
            )
        )

    async def confirmed_flush(self) -> int:
        text = await self.admin.fetchval(
            "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", self.slot
        )
        return parse_lsn(text) if text else 0


@asynccontextmanager
async def schema_env(postgres_dsn: str, prefix: str) -> AsyncIterator[Env]:
    """A schema (and slot/publication names) of its own, everything dropped afterwards."""
    tag = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    admin = await asyncpg.connect(postgres_dsn)
    await admin.execute(f"CREATE SCHEMA {tag}")
    try:
        yield Env(admin, tag, url.hostname or "127.0.0.1", url.port or 5432, url.path.lstrip("/"))
    finally:
        await drop_everything(admin, tag)
        await admin.close()


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    async with schema_env(postgres_dsn, "pgtask") as found:
        yield found


async def drop_everything(admin: asyncpg.Connection, tag: str) -> None:
    """Slots (after ending their walsenders), publications and the schema named after ``tag``."""
    for _ in range(50):
        await admin.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
            f"WHERE slot_name LIKE '{tag}%' AND active"
        )
        rows = await admin.fetch(f"SELECT active FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'")
        if not any(r["active"] for r in rows):
            break
        await asyncio.sleep(0.1)
    await admin.execute(
        f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'"
    )
    for pub in await admin.fetch(f"SELECT pubname FROM pg_publication WHERE pubname LIKE '{tag}%'"):
        await admin.execute(f'DROP PUBLICATION "{pub[0]}"')
    await admin.execute(f"DROP SCHEMA IF EXISTS {tag} CASCADE")


def payloads(values: Sequence[bytes | None]) -> list[dict[str, Any] | None]:
    return [None if v is None else json.loads(v)["payload"] for v in values]


async def events(rt: MemoryRuntime, topic: str) -> list[dict[str, Any] | None]:
    return payloads(await rt.values(topic))


async def count(rt: MemoryRuntime, topic: str, n: int, timeout: float = 30) -> list[dict[str, Any] | None]:
    async def enough() -> list[dict[str, Any] | None] | None:
        found = await events(rt, topic)
        return found if len(found) >= n else None

    found: list[dict[str, Any] | None] = await eventually(
        enough, timeout, f"{n} records on {topic} (state {rt.task_state('pg')})"
    )
    return found


async def test_snapshot_then_every_operation_then_restart_without_resnapshot(env: Env) -> None:
    s = env.tag
    await env.admin.execute(
        f"""
        CREATE TABLE {s}.customers (id int PRIMARY KEY, first_name text NOT NULL, email text);
        INSERT INTO {s}.customers SELECT g, 'name' || g, 'n' || g || '@x' FROM generate_series(1, 1000) g;
        CREATE TABLE {s}.empty_t (id int PRIMARY KEY);
        CREATE TABLE {s}.orders (id int PRIMARY KEY, qty int);
        INSERT INTO {s}.orders VALUES (1, 10), (2, 20), (3, 30);
        """
    )
    log = MemoryLog()
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(), None)
        customers = await count(rt, env.topic("customers"), 1000)
        orders = await count(rt, env.topic("orders"), 3)
        assert [c["op"] for c in customers if c] == ["r"] * 1000
        assert sorted(c["after"]["id"] for c in customers if c) == list(range(1, 1001))
        markers = [c["source"]["snapshot"] for c in customers if c]
        assert markers[0] == "first" and markers[-1] == "last_in_data_collection"
        assert set(markers[1:-1]) == {"true"}
        assert [o["source"]["snapshot"] for o in orders if o] == ["first_in_data_collection", "true", "last"]
        stored = await log.offsets.get("pg", {"server": s})
        assert stored is not None and stored["snapshot"] is True and stored["last_snapshot_record"] is True
        keys = [json.loads(r.key)["payload"] for r in await rt.records(env.topic("customers")) if r.key]
        assert keys[0] == {"id": keys[0]["id"]}

        await env.admin.execute(f"INSERT INTO {s}.customers VALUES (1001, 'Anne', 'a@x')")
        await env.admin.execute(f"UPDATE {s}.customers SET email = 'b@x' WHERE id = 1001")
        await env.admin.execute(f"DELETE FROM {s}.customers WHERE id = 1001")
        await env.admin.execute(f"TRUNCATE {s}.orders")
        customers = await count(rt, env.topic("customers"), 1004)
        streamed = customers[1000:]
        assert [c and c["op"] for c in streamed] == ["c", "u", "d", None]
        assert streamed[0] and streamed[0]["after"] == {"id": 1001, "first_name": "Anne", "email": "a@x"}
        assert streamed[1] and streamed[1]["after"]["email"] == "b@x"
        assert streamed[2] and streamed[2]["before"]["id"] == 1001 and streamed[2]["after"] is None
        assert streamed[0] and streamed[0]["source"]["snapshot"] == "false"
        orders = await count(rt, env.topic("orders"), 4)
        assert orders[3] and orders[3]["op"] == "t"
        # Once everything is stored the slot catches up to (at least) the truncate's commit.
        truncate_lsn = orders[3]["source"]["lsn"]
        await eventually(
            lambda: _confirmed_past(env, truncate_lsn), 10, "slot confirmed past the last transaction"
        )
        assert rt.task_state("pg") == "RUNNING"

    # Stopped: changes keep coming; a new worker on the same log resumes without re-snapshot.
    await env.admin.execute(f"INSERT INTO {s}.customers VALUES (2000, 'Bob', NULL)")
    await env.admin.execute(f"UPDATE {s}.customers SET first_name = 'Bobby' WHERE id = 2000")
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(), None)
        customers = await count(rt, env.topic("customers"), 1006)
        await asyncio.sleep(1.0)  # nothing more (no second snapshot, no replay)
        customers = await events(rt, env.topic("customers"))
        assert len(customers) == 1006
        assert [c and c["op"] for c in customers[1004:]] == ["c", "u"]
        assert customers[1005] and customers[1005]["after"]["first_name"] == "Bobby"


async def _confirmed_past(env: Env, lsn: int) -> bool:
    return await env.confirmed_flush() > lsn


async def test_interleaved_transactions_resume_without_loss_or_duplicates(env: Env) -> None:
    """A transaction that began first but commits last has lower change LSNs than the one
    committed before it: the restart must neither skip nor repeat either."""
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.t (id int PRIMARY KEY, v text)")
    log = MemoryLog()
    props = env.props(**{"snapshot.mode": "no_data"})
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", props, None)
        await eventually(env.slot_active, 20, "streaming")
        other = await asyncpg.connect(_dsn(env))
        try:
            late = other.transaction()
            await late.start()
            await other.execute(f"INSERT INTO {s}.t VALUES (1, 'late-first')")  # low LSN
            await env.admin.execute(f"INSERT INTO {s}.t VALUES (2, 'early')")  # commits first
            await other.execute(f"INSERT INTO {s}.t VALUES (3, 'late-second')")
            await late.commit()
        finally:
            await other.close()
        found = await count(rt, env.topic("t"), 3)
        assert [f and f["after"]["id"] for f in found] == [2, 1, 3]
    await env.admin.execute(f"INSERT INTO {s}.t VALUES (4, 'after restart')")
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", props, None)
        await count(rt, env.topic("t"), 4)
        await asyncio.sleep(1.0)
        found = await events(rt, env.topic("t"))
        assert [f and f["after"]["id"] for f in found] == [2, 1, 3, 4]


def _dsn(env: Env) -> str:
    return f"postgresql://postgres@{env.host}:{env.port}/{env.dbname}"


class GatedLog(MemoryLog):
    """Stores nothing while ``gate`` is clear (a writer that hangs), then behaves normally."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.gate.set()

    async def _store_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite]
    ) -> list[Delivered]:
        await self.gate.wait()
        return await super()._store_batch(records, offsets)


@pytest.mark.parametrize("atomic", [True, False], ids=["embedded-log", "flushed-offsets"])
async def test_slot_is_never_confirmed_past_what_was_stored(env: Env, atomic: bool) -> None:
    """``atomic``: records and offsets stored together (embedded log), else offsets flushed on a
    timer after the records were acknowledged (Kafka at-least-once)."""
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.t (id int PRIMARY KEY)")
    log = GatedLog(atomic_offsets=atomic)
    props = env.props(**{"snapshot.mode": "no_data"})
    async with memory_runtime(
        ("source", PostgresConnector), log=log, **{"task.shutdown.graceful.timeout.ms": "500"}
    ) as rt:
        await rt.herder.create("pg", props, None)
        await eventually(env.slot_active, 20, "streaming")
        await env.admin.execute(f"INSERT INTO {s}.t VALUES (1)")
        await count(rt, env.topic("t"), 1)
        await eventually(lambda: _confirmed_past(env, 0), 10)
        log.gate.clear()  # from now on nothing is stored
        await env.admin.execute(f"INSERT INTO {s}.t VALUES (2)")
        await asyncio.sleep(1.5)  # several status updates and idle polls
        held = await env.confirmed_flush()
        assert len(await rt.values(env.topic("t"))) == 1
    # The worker is gone without storing row 2; a new one must still deliver it.
    log.gate.set()
    await env.admin.execute(f"INSERT INTO {s}.t VALUES (3)")
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", props, None)
        found = await count(rt, env.topic("t"), 3)
        assert [f and f["after"]["id"] for f in found] == [1, 2, 3]
        # Row 3's transaction names the commit of row 2's as the previous one: it was not confirmed.
        row3 = found[2]
        assert row3 is not None
        commit_of_row2 = json.loads(row3["source"]["sequence"])[0]
        assert held < int(commit_of_row2)


async def test_walsender_terminated_mid_stream_reconnects_without_loss_or_duplicates(env: Env) -> None:
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.t (id int PRIMARY KEY)")
    props = env.props(**{"snapshot.mode": "no_data"})
    async with memory_runtime(("source", PostgresConnector)) as rt:
        await rt.herder.create("pg", props, None)
        await eventually(env.slot_active, 20, "streaming")
        await env.admin.execute(f"INSERT INTO {s}.t SELECT g FROM generate_series(1, 100) g")
        await count(rt, env.topic("t"), 100)
        await env.admin.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1", env.slot
        )
        await env.admin.execute(f"INSERT INTO {s}.t SELECT g FROM generate_series(101, 200) g")
        found = await count(rt, env.topic("t"), 200)
        await asyncio.sleep(1.0)
        found = await events(rt, env.topic("t"))
        assert [f and f["after"]["id"] for f in found] == list(range(1, 201))
        assert rt.task_state("pg") == "RUNNING"


async def test_initial_only_snapshots_through_a_temporary_slot_and_streams_nothing(env: Env) -> None:
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.t (id int PRIMARY KEY); INSERT INTO {s}.t VALUES (1), (2)")
    async with memory_runtime(("source", PostgresConnector)) as rt:
        await rt.herder.create("pg", env.props(**{"snapshot.mode": "initial_only"}), None)
        found = await count(rt, env.topic("t"), 2)
        assert [f and f["op"] for f in found] == ["r", "r"]
        await env.admin.execute(f"INSERT INTO {s}.t VALUES (3)")
        await asyncio.sleep(1.0)
        assert len(await rt.values(env.topic("t"))) == 2
        slots = await env.admin.fetchval(
            f"SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE '{env.tag}%'"
        )
        assert slots == 0  # no slot keeps WAL for a connector that never streams


async def test_existing_slot_without_offsets_and_always_and_drop_on_stop(env: Env) -> None:
    """initial with a slot that already exists: a snapshot without an exported snapshot, then the
    slot's own position (at least once); ``always`` snapshots again on restart; the slot is
    dropped on stop with ``slot.drop.on.stop``."""
    s = env.tag
    await env.admin.execute(
        f"CREATE TABLE {s}.t (id int PRIMARY KEY, v text); INSERT INTO {s}.t VALUES (1, 'a')"
    )
    await env.admin.execute(f"CREATE PUBLICATION {env.tag}_pub FOR TABLE {s}.t")
    await env.admin.execute("SELECT pg_create_logical_replication_slot($1, 'pgoutput')", env.slot)
    await env.admin.execute(f"INSERT INTO {s}.t VALUES (2, 'b')")  # after the slot: snapshot and stream
    log = MemoryLog()
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(), None)
        found = await count(rt, env.topic("t"), 3)
        assert [f and (f["op"], f["after"]["id"]) for f in found] == [("r", 1), ("r", 2), ("c", 2)]
    props = env.props(**{"snapshot.mode": "always", "slot.drop.on.stop": "true"})
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", props, None)
        found = await count(rt, env.topic("t"), 5)
        assert [f and (f["op"], f["after"]["id"]) for f in found][3:] == [("r", 1), ("r", 2)]
        await asyncio.sleep(0.5)
        assert len(await rt.values(env.topic("t"))) == 5  # the stream resumed after the stored change
    assert not await env.admin.fetchval(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", env.slot
    )


@pytest.mark.parametrize("mode", ["initial", "when_needed"])
async def test_a_slot_dropped_behind_the_connectors_back(env: Env, mode: str) -> None:
    """initial: FAILED, saying what happened and what when_needed would do; when_needed: a new
    snapshot, then streaming goes on."""
    s = env.tag
    await env.admin.execute(
        f"CREATE TABLE {s}.items (id int PRIMARY KEY); INSERT INTO {s}.items VALUES (1), (2)"
    )
    log = MemoryLog()
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(snapshot__mode=mode), None)
        await count(rt, env.topic("items"), 2)
        await eventually(lambda: log.offsets.get("pg", {"server": s}), 10, "offsets stored")
    await eventually(lambda: _inactive(env), 10, "slot released")
    await env.admin.execute("SELECT pg_drop_replication_slot($1)", env.slot)
    await env.admin.execute(f"INSERT INTO {s}.items VALUES (3)")
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(snapshot__mode=mode), None)
        if mode == "initial":
            await eventually(lambda: rt.task_state("pg") == "FAILED", 20, "task FAILED")
            trace = rt.herder.status("pg")["tasks"][0]["trace"]
            assert f"Replication slot {env.slot} no longer exists" in trace
            assert "snapshot.mode=when_needed" in trace
            assert (
                "auto_restart" not in rt.herder.status("pg")["tasks"][0]
                or not rt.herder.status("pg")["tasks"][0]["auto_restart"]["attempts"]
            )
        else:
            items = await count(rt, env.topic("items"), 5)  # 2 before + a new snapshot of 3 rows
            assert [i and i["op"] for i in items[2:]] == ["r", "r", "r"]
            await env.admin.execute(f"INSERT INTO {s}.items VALUES (4)")
            items = await count(rt, env.topic("items"), 6)
            assert items[5] and items[5]["op"] == "c" and items[5]["after"]["id"] == 4


async def _inactive(env: Env) -> bool:
    return not await env.slot_active()


async def test_a_slot_held_by_another_client_fails_the_task_naming_its_pid(env: Env) -> None:
    """After ``slot.max.retries`` attempts ``slot.retry.delay.ms`` apart, FAILED with the holder's pid."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.t (id int PRIMARY KEY)")
    props = env.props(**{"snapshot.mode": "no_data", "slot.max.retries": "2", "slot.retry.delay.ms": "200"})
    async with memory_runtime(("source", PostgresConnector), log=MemoryLog()) as rt:
        await rt.herder.create("pg", props, None)
        await eventually(env.slot_active, 20, "streaming")
        await rt.herder.stop_connector("pg")
        await eventually(lambda: _slot_idle(env), 20, "the task released the slot")
        recvlogical = shutil.which("pg_recvlogical") or str(
            sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_recvlogical"))[-1]
        )
        holder = subprocess.Popen(
            [
                recvlogical,
                "-d",
                f"host={env.host} port={env.port} dbname={env.dbname} user=postgres application_name=other-tool",
                "--slot",
                env.slot,
                "--start",
                "-o",
                "proto_version=1",
                "-o",
                f"publication_names={s}_pub",
                "-f",
                os.devnull,
                "--no-loop",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await eventually(env.slot_active, 20, "pg_recvlogical holds the slot")
            pid = await env.admin.fetchval("SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", env.slot)
            await rt.herder.resume("pg")
            await eventually(lambda: rt.task_state("pg") == "FAILED", 30, "FAILED after the retries")
            trace = rt.herder.status("pg")["tasks"][0].get("trace") or ""
            assert f"PID {pid}" in trace, trace[-500:]
        finally:
            holder.terminate()
            holder.wait(timeout=10)


async def _slot_idle(env: Env) -> bool:
    return not await env.slot_active()
