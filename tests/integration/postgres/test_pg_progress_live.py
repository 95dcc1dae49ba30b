"""The PostgreSQL task's status details and gauges (snapshot progress, WAL retained) and heartbeats,
against the real server through the in-memory runtime."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from app.storage.base import Delivered, ProducerRecord, SourceOffsetWrite
from app.storage.memory import MemoryLog
from connectors.postgres.connector import PostgresConnector
from connectors.postgres.lsn import parse_lsn
from tests.integration.postgres.test_pg_task_live import Env, count, schema_env
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    async with schema_env(postgres_dsn, "pgprog") as found:
        yield found


class SlowLog(MemoryLog):
    """Each stored batch takes ``delay`` seconds; nothing is stored while ``gate`` is clear."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay
        self.gate = asyncio.Event()
        self.gate.set()

    async def _store_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite]
    ) -> list[Delivered]:
        await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super()._store_batch(records, offsets)


def details(rt: MemoryRuntime) -> dict[str, Any]:
    tasks = rt.herder.status("pg")["tasks"]
    return dict(tasks[0].get("details") or {}) if tasks else {}


async def retained(env: Env) -> int:
    """What pg_replication_slots says the slot holds back past its confirmed position."""
    value = await env.admin.fetchval(
        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
        "FROM pg_replication_slots WHERE slot_name = $1",
        env.slot,
    )
    return int(value)


async def test_snapshot_progress_shows_mid_snapshot_then_streaming(env: Env) -> None:
    s = env.tag
    rows = 20_000
    await env.admin.execute(
        f"CREATE TABLE {s}.big (id int PRIMARY KEY, payload text);"
        f"INSERT INTO {s}.big SELECT g, repeat('x', 50) FROM generate_series(1, {rows}) g;"
    )
    log = SlowLog(delay=0.15)  # 20 batches of 1,000: about 3 s of snapshot
    seen: list[dict[str, Any]] = []
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(**{"max.batch.size": "1000"}), None)

        def mid_snapshot() -> bool:
            d = details(rt)
            seen.append(d)
            return d.get("phase") == "snapshot" and 0 < d.get("snapshot_rows_done", 0) < rows

        await eventually(mid_snapshot, 20, "snapshot progress in the task status")
        d = details(rt)
        print("mid-snapshot details:", d)
        assert d.get("snapshot_table") in (f"{s}.big", None)
        assert d["snapshot_rows_total"] == rows  # a small table: counted exactly
        assert d["snapshot_tables_total"] == 1
        assert d["snapshot_rows_per_second"] > 0
        assert d["snapshot_eta_seconds"] >= 0
        metrics = rt.herder.ctx.metrics.render().decode()
        assert "connector_postgres_snapshot_rows_total" in metrics
        assert "connector_postgres_snapshot_running" in metrics

        await count(rt, env.topic("big"), rows, timeout=60)
        await eventually(lambda: details(rt).get("phase") == "streaming", 10, "streaming phase")
        final = details(rt)
        assert not [k for k in final if k.startswith("snapshot_")], final
        await eventually(lambda: "wal_retained_bytes" in details(rt), 10, "WAL retained in the status")
        done_values = [d["snapshot_rows_done"] for d in seen if "snapshot_rows_done" in d]
        assert done_values == sorted(done_values)  # progress only moves forward


async def test_wal_retained_is_reported_and_drops_after_confirmation(env: Env) -> None:
    s = env.tag
    await env.admin.execute(f"CREATE TABLE {s}.t (id int PRIMARY KEY, payload text)")
    log = SlowLog()
    async with memory_runtime(("source", PostgresConnector), log=log) as rt:
        await rt.herder.create("pg", env.props(**{"snapshot.mode": "no_data"}), None)
        await eventually(env.slot_active, 20, "streaming")
        await eventually(lambda: "wal_retained_bytes" in details(rt), 10, "WAL retained in the status")
        assert details(rt)["phase"] == "streaming"
        log.gate.clear()  # nothing is stored: the slot cannot be confirmed
        try:
            await env.admin.execute(
                f"INSERT INTO {s}.t SELECT g, repeat('y', 200) FROM generate_series(1, 20000) g"
            )

            await eventually(
                lambda: details(rt).get("wal_retained_bytes", 0) > 2_000_000, 15, "held-back WAL reported"
            )
            held = details(rt)
            print("held back:", held)
            assert parse_lsn(held["confirmed_lsn"]) <= await env.confirmed_flush()
            assert await retained(env) > 2_000_000  # what pg_replication_slots says too
            metrics = rt.herder.ctx.metrics.render().decode()
            gauge = [
                line
                for line in metrics.splitlines()
                if line.startswith("connector_postgres_wal_retained_bytes{")
            ]
            assert gauge and float(gauge[0].rsplit(" ", 1)[1]) > 2_000_000
        finally:
            log.gate.set()  # stored: confirmed, then idle confirmation up to the end of WAL
        await count(rt, env.topic("t"), 20_000, timeout=60)
        await eventually(
            lambda: details(rt).get("wal_retained_bytes", 1 << 40) < 100_000, 15, "retained WAL drops"
        )
        print("after confirmation:", details(rt))


async def test_heartbeats_keep_the_slot_bounded_while_an_uncaptured_table_is_written(env: Env) -> None:
    s = env.tag
    await env.admin.execute(
        f"CREATE TABLE {s}.captured (id int PRIMARY KEY);"
        f"INSERT INTO {s}.captured VALUES (1);"
        f"CREATE TABLE {s}.noise (id serial PRIMARY KEY, payload text);"
        f"CREATE TABLE {s}.hb (id serial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());"
    )
    props = env.props(
        **{
            "table.include.list": f"{s}.captured",
            "heartbeat.interval.ms": "300",
            "heartbeat.action.query": f"INSERT INTO {s}.hb DEFAULT VALUES",
        }
    )
    topic = f"__debezium-heartbeat.{s}"
    async with memory_runtime(("source", PostgresConnector), log=MemoryLog()) as rt:
        await rt.herder.create("pg", props, None)
        await count(rt, env.topic("captured"), 1)
        await eventually(env.slot_active, 20, "streaming")
        before = await retained(env)
        start_lsn = parse_lsn(await env.admin.fetchval("SELECT pg_current_wal_lsn()::text"))
        deadline = time.monotonic() + 4
        peak = 0
        while time.monotonic() < deadline:
            await env.admin.execute(
                f"INSERT INTO {s}.noise (payload) SELECT repeat('z', 200) FROM generate_series(1, 2000)"
            )
            peak = max(peak, await retained(env))
            await asyncio.sleep(0.05)
        written = parse_lsn(await env.admin.fetchval("SELECT pg_current_wal_lsn()::text")) - start_lsn
        await asyncio.sleep(1.5)  # a couple of heartbeats and status updates
        after = await retained(env)
        print(f"WAL written {written} bytes; retained before {before}, peak {peak}, after {after}")
        assert written > 10 * 1024 * 1024
        assert after < 1024 * 1024 and after < written / 10
        assert peak < written / 2  # released while being written, not only at the end

        records = await rt.records(topic)
        assert len(records) >= 5
        key = json.loads(records[-1].key or b"{}")
        value = json.loads(records[-1].value or b"{}")
        assert key["schema"]["name"] == "io.debezium.connector.common.ServerNameKey"
        assert key["payload"] == {"serverName": s}
        assert value["schema"]["name"] == "io.debezium.connector.common.Heartbeat"
        assert abs(value["payload"]["ts_ms"] / 1000 - time.time()) < 60
        assert await env.admin.fetchval(f"SELECT count(*) FROM {s}.hb") >= 5
        assert rt.task_state("pg") == "RUNNING"
        assert await rt.values(env.topic("hb")) == []  # not captured
