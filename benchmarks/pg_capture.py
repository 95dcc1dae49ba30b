"""PostgreSQL change capture end to end: rows committed in PostgreSQL -> records in the log.

    python -m benchmarks.pg_capture [--rows 200000] [--rate 5000] [--seconds 20] [--json]

Needs POSTGRES_DSN (a ``wal_level=logical`` server and a superuser, e.g. from
``scripts/services up postgres``). Starts a real embedded ``penstock run`` worker, creates
Debezium's PostgreSQL connector (``snapshot.mode=no_data``, worker-default JsonConverter with
schemas, as Kafka Connect's defaults) on a 6-column table, and watches the worker's log database
from this process (a read-only SQLite connection polled every 2 ms), so "in the log" means
committed to the embedded log, readable by consumers. Two workloads:

* **throughput**: ``--rows`` rows inserted as fast as PostgreSQL takes them (transactions of
  1,000 rows); ``rows_per_s`` = rows / (last record in the log - first insert started).
* **lag**: a steady ``--rate`` rows/s for ``--seconds`` (transactions of ``rate / 100`` rows every
  10 ms); the lag of a transaction = when its last row is in the log - when its COMMIT returned
  to the client. p50/p99/max over the transactions.

Everything it creates (table, publication, slot, worker data) is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.pg_io import source_properties
from benchmarks import print_results
from tests.support.server import ServerProcess

_POLL_S = 0.002


class LogWatcher(threading.Thread):
    """Polls the topic's highest offset in the worker's SQLite log; records when each appears."""

    def __init__(self, database: Path, topic: str) -> None:
        super().__init__(daemon=True)
        self.database, self.topic = database, topic
        self.seen: list[tuple[float, int]] = []  # (time, records in the log), growing
        self.stop = threading.Event()

    def count(self) -> int:
        return self.seen[-1][1] if self.seen else 0

    def run(self) -> None:
        table = None
        conn: sqlite3.Connection | None = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=1)
                if table is None:
                    row = conn.execute("SELECT id FROM partitions WHERE topic=?", (self.topic,)).fetchone()
                    table = f"p{row[0]}" if row else None
                if table is not None:
                    high = conn.execute(f"SELECT MAX(offset) FROM {table}").fetchone()[0]
                    n = 0 if high is None else high + 1
                    if n > self.count():
                        self.seen.append((time.perf_counter(), n))
            except sqlite3.OperationalError:
                conn = None  # not created yet / busy: retry
            time.sleep(_POLL_S)

    def time_reached(self, n: int) -> float | None:
        """When the log first held ``n`` records."""
        lo, hi = 0, len(self.seen)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.seen[mid][1] >= n:
                hi = mid
            else:
                lo = mid + 1
        return self.seen[lo][0] if lo < len(self.seen) else None

    def wait_for(self, n: int, timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        while self.count() < n:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.count()} of {n} records in the log after {timeout} s")
            time.sleep(0.01)
        reached = self.time_reached(n)
        assert reached is not None
        return reached


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(dsn: str, rows: int, rate: int, seconds: float) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    schema = f"bench_cdc_{suffix}"
    pg = await asyncpg.connect(dsn)
    await pg.execute(
        f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.orders (id bigint PRIMARY KEY, customer int NOT NULL, "
        "item text, qty int, amount numeric(12,2), created timestamptz)"
    )
    insert = (
        f"INSERT INTO {schema}.orders SELECT g, g % 1000, 'item-' || g, 1 + g % 7, g * 1.25, now() "
        "FROM generate_series($1::bigint, $2::bigint) g"
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        server = ServerProcess(data, {"offset.flush.interval.ms": "1000"}).start(60)
        watcher = LogWatcher(data / "penstock.db", f"{schema}.{schema}.orders")
        try:
            proc = psutil.Process(server.process.pid)  # type: ignore[union-attr]
            response = server.create(
                "bench-cdc",
                source_properties(dsn, schema),
            )
            response.raise_for_status()
            for _ in range(600):
                active = await pg.fetchval(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = $1", f"{schema}_slot"
                )
                if active:
                    break
                await asyncio.sleep(0.05)
            else:
                raise TimeoutError("the connector did not start streaming in 30 s")
            watcher.start()

            # -- throughput ---------------------------------------------------------------------------
            cpu0 = sum(proc.cpu_times()[:2])
            started = time.perf_counter()
            for first in range(1, rows + 1, 1000):
                await pg.execute(insert, first, min(rows, first + 999))
            inserted = time.perf_counter()
            done = await asyncio.to_thread(watcher.wait_for, rows, 600)
            cpu = sum(proc.cpu_times()[:2]) - cpu0
            results["throughput"] = {
                "rows": rows,
                "insert_s": round(inserted - started, 2),
                "capture_s": round(done - started, 2),
                "rows_per_s": round(rows / (done - started)),
                "worker_cpu_us_per_row": round(cpu / rows * 1e6, 1),
                "worker_rss_mb": round(proc.memory_info().rss / 1e6),
            }

            # -- lag at a steady rate -------------------------------------------------------------------
            per_tx = max(1, rate // 100)
            commits: list[tuple[float, int]] = []  # (COMMIT returned, rows in the log once it is there)
            next_id = rows + 1
            t0 = time.perf_counter()
            transactions = int(seconds * rate / per_tx)
            for i in range(transactions):
                await asyncio.sleep(max(0.0, t0 + i * per_tx / rate - time.perf_counter()))
                await pg.execute(insert, next_id, next_id + per_tx - 1)
                commits.append((time.perf_counter(), next_id + per_tx - 1))
                next_id += per_tx
            achieved = transactions * per_tx / (time.perf_counter() - t0)
            await asyncio.to_thread(watcher.wait_for, next_id - 1, 120)
            lags = []
            for committed, n in commits:
                reached = watcher.time_reached(n)
                assert reached is not None
                lags.append(max(0.0, reached - committed) * 1000)
            results["lag"] = {
                "rows_per_s_target": rate,
                "rows_per_s_achieved": round(achieved),
                "rows_per_transaction": per_tx,
                "transactions": transactions,
                "p50_ms": round(_percentile(lags, 0.50), 1),
                "p99_ms": round(_percentile(lags, 0.99), 1),
                "max_ms": round(max(lags), 1),
                "mean_ms": round(statistics.fmean(lags), 1),
            }
        finally:
            watcher.stop.set()
            server.close()
            for _ in range(100):
                if not await pg.fetchval(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = $1", f"{schema}_slot"
                ):
                    break
                await asyncio.sleep(0.1)
            await pg.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
                f"{schema}_slot",
            )
            await pg.execute(f'DROP PUBLICATION IF EXISTS "{schema}_pub"; DROP SCHEMA {schema} CASCADE')
            await pg.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.pg_capture",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows of the throughput workload")
    parser.add_argument("--rate", type=int, default=5_000, help="rows/s of the lag workload")
    parser.add_argument("--seconds", type=float, default=20, help="duration of the lag workload")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    dsn = os.environ.get("POSTGRES_DSN")
    if not dsn:
        parser.error('POSTGRES_DSN is not set: eval "$(scripts/services up postgres)"')
    results = asyncio.run(run(dsn, args.rows, args.rate, args.seconds))
    print_results(results, as_json=args.json)


if __name__ == "__main__":
    main()
