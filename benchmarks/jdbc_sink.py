"""JDBC sink upserts: SinkRecords -> rows in PostgreSQL (and MariaDB/MySQL when MYSQL_DSN is set).

    python -m benchmarks.jdbc_sink [--rows 200000] [--batch 500] [--json]

Needs POSTGRES_DSN (e.g. from ``scripts/services up postgres``). Measures the sink task alone:
``JdbcSinkTask.put`` is called directly with batches of ``--batch`` records (the runtime's
``max.poll.records`` default) of realistic SinkRecords as JsonConverter with schemas gives them
(a Struct key ``{id}``, a Struct value of 6 columns: int64 id, string name, float64 score, int32
qty, Timestamp updated, Decimal(2) amount), ``insert.mode=upsert``, ``pk.mode=record_key``. The
first half of the rows inserts new keys, the second half updates them (upserts over existing
rows), each ``put`` one committed transaction. ``rows_per_s`` = rows / total time in ``put``;
record building is outside the timing, converting Structs to rows and binding are inside. For
PostgreSQL both batch strategies are measured: one ``INSERT ... SELECT FROM unnest(arrays) ON
CONFLICT`` per batch (the default) and ``executemany`` of the one-row upsert (pipelined).
Tables are dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import decimal
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import print_results
from connectors.jdbc.dialect import connect
from connectors.jdbc.sink import JdbcSinkTask
from connectors.jdbc.sink_config import JdbcSinkConfig
from connectors.jdbc.url import parse_jdbc_url
from connectors.sdk import (
    Decimal,
    Schema,
    SchemaType,
    SinkRecord,
    SinkTaskContext,
    Struct,
    Timestamp,
    struct_schema,
)

KEY = struct_schema([("id", Schema(SchemaType.INT64))])
VALUE = struct_schema(
    [
        ("id", Schema(SchemaType.INT64)),
        ("name", Schema(SchemaType.STRING)),
        ("score", Schema(SchemaType.FLOAT64, optional=True)),
        ("qty", Schema(SchemaType.INT32)),
        ("updated", Timestamp.schema()),
        ("amount", Decimal.schema(2, optional=True)),
    ]
)


def make_records(topic: str, rows: int) -> list[SinkRecord]:
    distinct = rows // 2
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    out = []
    for offset in range(rows):
        i = offset % distinct
        value = Struct(
            VALUE,
            {
                "id": i,
                "name": f"customer-{i}-{offset // distinct}",
                "score": i * 0.5,
                "qty": offset,
                "updated": base + dt.timedelta(seconds=offset),
                "amount": decimal.Decimal(i % 10000) / 100,
            },
        )
        out.append(SinkRecord(topic, value, VALUE, Struct(KEY, {"id": i}), KEY, 0, kafka_offset=offset))
    return out


async def run(url: str, rows: int, batch: int, pg_batch: str | None = None) -> dict[str, Any]:
    topic = f"bench_{uuid.uuid4().hex[:8]}"
    records = make_records(topic, rows)
    config = JdbcSinkConfig.parse(
        {"connection.url": url, "insert.mode": "upsert", "pk.mode": "record_key", "auto.create": "true"}
    )
    task = JdbcSinkTask()
    if pg_batch:
        task.pg_batch = pg_batch
    task.initialize(SinkTaskContext())
    await task.start(config)
    elapsed = 0.0
    try:
        for start in range(0, rows, batch):
            chunk = records[start : start + batch]
            began = time.perf_counter()
            await task.put(chunk)
            elapsed += time.perf_counter() - began
        assert task.db is not None
        (count,) = (await task.db.fetch(f"SELECT count(*) FROM {task.db.dialect.quote(topic)}"))[0]
        assert count == rows // 2, f"{count} rows in the table, expected {rows // 2}"
    finally:
        await task.stop()
        db = await connect(config.url())
        await db.execute(f"DROP TABLE IF EXISTS {db.dialect.quote(topic)}")
        await db.close()
    return {"rows": rows, "batch": batch, "seconds": round(elapsed, 2), "rows_per_s": round(rows / elapsed)}


def jdbc_url(dsn: str) -> str:
    parts = urlparse(dsn)
    scheme = "postgresql" if parts.scheme.startswith("postgres") else "mariadb"
    auth = f"user={parts.username or ''}" + (f"&password={parts.password}" if parts.password else "")
    default = 5432 if scheme == "postgresql" else 3306
    return f"jdbc:{scheme}://{parts.hostname}:{parts.port or default}{parts.path}?{auth}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    pg = os.environ.get("POSTGRES_DSN")
    if pg:
        url = jdbc_url(pg)
        parse_jdbc_url(url)
        results["postgresql_unnest_upsert"] = await run(url, args.rows, args.batch, "unnest")
        results["postgresql_executemany_upsert"] = await run(url, args.rows, args.batch, "executemany")
    mysql = os.environ.get("MYSQL_DSN")
    if mysql:
        results["mariadb_multirow_upsert"] = await run(jdbc_url(mysql), args.rows, args.batch)
    if not results:
        raise SystemExit("set POSTGRES_DSN (and optionally MYSQL_DSN)")
    print_results(results, as_json=args.json)


if __name__ == "__main__":
    asyncio.run(main())
