"""Raw throughput of the logical replication stream (no pgoutput decoding, no records).

    python -m benchmarks.pg_replication [--rows 200000] [--tx-rows 0] [--json]
    python -m benchmarks.pg_replication --latency 1000 [--rate 200]

Needs POSTGRES_DSN (a wal_level=logical server; superuser or REPLICATION + CREATE). Creates a
table, a publication and a slot with unique names, inserts ``--rows`` rows (one transaction, or
transactions of ``--tx-rows``), streams them back through ``connectors.postgres.replication``
and reports wall-clock and client-CPU figures; everything is dropped afterwards.

Reported: ``messages_per_s`` / ``mb_per_s`` from the first to the last message of the workload
(bounded by the server's walsender, which decodes and sends as fast as it can); ``client_cpu_us_
per_message`` — CPU this process spent per XLogData, i.e. the client's own ceiling is
``1e6 / client_cpu_us_per_message`` messages/s on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
import uuid
from typing import Any

import asyncpg

from connectors.postgres.pgwire import ConnectParams
from connectors.postgres.replication import ReplicationConnection


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def bench(dsn: str, rows: int, tx_rows: int) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    table, pub, slot = f"bench_repl_{suffix}", f"bench_pub_{suffix}", f"bench_slot_{suffix}"
    pg = await asyncpg.connect(dsn)
    await pg.execute(
        f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text, amount numeric(12,2), created timestamptz)"
    )
    await pg.execute(f"CREATE PUBLICATION {pub} FOR TABLE {table}")
    repl = await ReplicationConnection.connect(ConnectParams.from_dsn(dsn, sslmode="disable"))
    try:
        created = await repl.create_replication_slot(slot, snapshot="nothing")
        stream = await repl.start_replication(slot, created.consistent_point, publication_names=[pub])
        tx_rows = tx_rows or rows
        transactions = -(-rows // tx_rows)
        insert_started = time.perf_counter()
        for start in range(0, rows, tx_rows):
            await pg.execute(
                f"INSERT INTO {table} SELECT g, 'name-' || g, g * 1.5, now() "
                f"FROM generate_series({start + 1}, {min(rows, start + tx_rows)}) g"
            )
        insert_s = time.perf_counter() - insert_started
        messages = commits = inserts = payload = 0
        first = 0.0
        cpu0 = _cpu()
        wire0 = stream.stats.wire_bytes
        while commits < transactions:
            batch = await stream.read(timeout=120)
            if not batch:
                raise RuntimeError("no data for 120 s")
            if not first:
                first = time.perf_counter()
            for msg in batch:
                kind = msg.payload[:1]
                if kind == b"I":
                    inserts += 1
                elif kind == b"C":
                    commits += 1
                payload += len(msg.payload)
            messages += len(batch)
            stream.confirm(batch[-1].data_start)
        last = time.perf_counter()
        cpu = _cpu() - cpu0
        wire = stream.stats.wire_bytes - wire0
        batches = stream.stats.batches
        stream.send_status()
        await stream.stop()
        assert inserts == rows, (inserts, rows)
        elapsed = last - first
        return {
            "rows": rows,
            "transactions": transactions,
            "insert_s": round(insert_s, 2),
            "commit_to_last_message_s": round(last - insert_started - insert_s, 2),
            "stream_s": round(elapsed, 3),
            "messages": messages,
            "batches": batches,
            "messages_per_batch": round(messages / batches, 1),
            "messages_per_s": round(messages / elapsed),
            "wire_mb_per_s": round(wire / elapsed / 1e6, 1),
            "payload_bytes_per_message": round(payload / messages, 1),
            "client_cpu_s": round(cpu, 3),
            "client_cpu_us_per_message": round(cpu / messages * 1e6, 2),
            "client_cpu_share_of_wall": round(cpu / elapsed, 2),
        }
    finally:
        await repl.close()
        for _ in range(50):
            active = await pg.fetchval("SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot)
            if not active:
                break
            await asyncio.sleep(0.1)
        await pg.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot
        )
        await pg.execute(f"DROP PUBLICATION IF EXISTS {pub}")
        await pg.execute(f"DROP TABLE IF EXISTS {table}")
        await pg.close()


async def bench_latency(dsn: str, transactions: int, rate: float) -> dict[str, Any]:
    """Single-row transactions at ``rate``/s: time from just before each INSERT to its Commit."""
    suffix = uuid.uuid4().hex[:8]
    table, pub, slot = f"bench_lat_{suffix}", f"bench_pub_{suffix}", f"bench_slot_{suffix}"
    pg = await asyncpg.connect(dsn)
    await pg.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, name text)")
    await pg.execute(f"CREATE PUBLICATION {pub} FOR TABLE {table}")
    repl = await ReplicationConnection.connect(ConnectParams.from_dsn(dsn, sslmode="disable"))
    try:
        created = await repl.create_replication_slot(slot, snapshot="nothing")
        stream = await repl.start_replication(slot, created.consistent_point, publication_names=[pub])
        started: list[float] = []
        latencies: list[float] = []

        async def write() -> None:
            t0 = time.perf_counter()
            for i in range(transactions):
                await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                started.append(time.perf_counter())
                await pg.execute(f"INSERT INTO {table} VALUES ({i}, 'x')")

        writer = asyncio.ensure_future(write())
        while len(latencies) < transactions:
            batch = await stream.read(timeout=30)
            if not batch:
                raise RuntimeError("no data for 30 s")
            now = time.perf_counter()
            for msg in batch:
                if msg.payload[:1] == b"C":
                    latencies.append(now - started[len(latencies)])
            stream.confirm(batch[-1].data_start)
        await writer
        await stream.stop()
        latencies.sort()
        return {
            "transactions": transactions,
            "rate_per_s": rate,
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
            "max_ms": round(latencies[-1] * 1000, 2),
        }
    finally:
        await repl.close()
        for _ in range(50):
            active = await pg.fetchval("SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot)
            if not active:
                break
            await asyncio.sleep(0.1)
        await pg.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", slot
        )
        await pg.execute(f"DROP PUBLICATION IF EXISTS {pub}")
        await pg.execute(f"DROP TABLE IF EXISTS {table}")
        await pg.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--tx-rows", type=int, default=0, help="rows per transaction (0 = one transaction)")
    parser.add_argument("--latency", type=int, default=0, help="instead: N single-row transactions")
    parser.add_argument("--rate", type=float, default=200.0, help="transactions/s for --latency")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    dsn = os.environ.get("POSTGRES_DSN")
    if not dsn:
        print('POSTGRES_DSN is not set (eval "$(scripts/services up postgres)")', file=sys.stderr)
        return 2
    if args.latency:
        result = asyncio.run(bench_latency(dsn, args.latency, args.rate))
    else:
        result = asyncio.run(bench(dsn, args.rows, args.tx_rows))
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
