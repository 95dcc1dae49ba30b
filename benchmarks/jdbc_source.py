"""JDBC source reads: rows of a 200,000-row table -> SourceRecords (PostgreSQL; MariaDB when MYSQL_DSN is set).

    python -m benchmarks.jdbc_source [--rows 200000] [--batch 1000] [--json]

Needs POSTGRES_DSN (e.g. from ``scripts/services up postgres``). Measures the source task alone:
``JdbcSourceTask.poll`` is called directly, in incrementing mode with ``batch.max.rows`` =
``--batch`` (Confluent's default 1000), until every row of a table of ``--rows`` rows of 6 columns
(serial id, text name, float8 score, int4 qty, timestamp updated, numeric(12,2) amount) has come
back as a SourceRecord with its Struct value and offset. ``rows_per_s`` = rows / time from the first
poll to the last record, so it includes the progress count, the query, the server-side cursor
fetches and building the Structs, and excludes converters and the runtime (the worker's embedded
pipeline figures are in docs/benchmarks.md). Tables are dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import print_results
from benchmarks.jdbc_sink import jdbc_url
from connectors.jdbc.dialect import connect
from connectors.jdbc.source_config import JdbcSourceConfig
from connectors.jdbc.source_task import JdbcSourceTask, JdbcSourceTaskConfig
from connectors.jdbc.tables import TableId, encode_tables
from connectors.sdk import SourceTaskContext

POSTGRES_TABLE = """CREATE TABLE {t} (id serial PRIMARY KEY, name text NOT NULL, score float8,
qty int4 NOT NULL, updated timestamp NOT NULL, amount numeric(12,2))"""
POSTGRES_FILL = """INSERT INTO {t} (name, score, qty, updated, amount)
SELECT 'customer-' || g, g * 0.5, g, timestamp '2024-01-01' + g * interval '1 second', (g % 10000) / 100.0
FROM generate_series(1, {rows}) g"""
MYSQL_TABLE = """CREATE TABLE {t} (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL,
score DOUBLE, qty INT NOT NULL, updated DATETIME NOT NULL, amount DECIMAL(12,2))"""
MYSQL_FILL = """INSERT INTO {t} (name, score, qty, updated, amount)
SELECT CONCAT('customer-', seq), seq * 0.5, seq, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND,
(seq % 10000) / 100.0 FROM seq_1_to_{rows}"""


class NoOffsets:
    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        return None


async def run(url: str, rows: int, batch: int) -> dict[str, Any]:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    config = JdbcSourceConfig.parse({"connection.url": url, "mode": "incrementing"})
    db = await connect(config.url)
    postgres = db.dialect.name == "postgresql"
    schema = "public" if postgres else str(config.url.database)
    table = db.dialect.quote(name)
    await db.execute((POSTGRES_TABLE if postgres else MYSQL_TABLE).format(t=table))
    try:
        await db.execute((POSTGRES_FILL if postgres else MYSQL_FILL).format(t=table, rows=rows))
        if postgres:
            await db.execute(f"ANALYZE {table}")
        task = JdbcSourceTask()
        task.initialize(SourceTaskContext(NoOffsets(), poll_timeout=0.1))
        props = {
            "connection.url": url,
            "mode": "incrementing",
            "batch.max.rows": str(batch),
            "poll.interval.ms": "60000",
            "tables": encode_tables([TableId(schema, name)]),
        }
        await task.start(JdbcSourceTaskConfig.parse(props))
        seen = 0
        began = time.perf_counter()
        try:
            while seen < rows:
                seen += len(await task.poll())
            elapsed = time.perf_counter() - began
        finally:
            await task.stop()
    finally:
        await db.execute(f"DROP TABLE IF EXISTS {table}")
        await db.close()
    return {"rows": seen, "batch": batch, "seconds": round(elapsed, 2), "rows_per_s": round(seen / elapsed)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    pg = os.environ.get("POSTGRES_DSN")
    if pg:
        results["postgresql_incrementing"] = await run(jdbc_url(pg), args.rows, args.batch)
    mysql = os.environ.get("MYSQL_DSN")
    if mysql:
        results["mariadb_incrementing"] = await run(jdbc_url(mysql), args.rows, args.batch)
    if not results:
        raise SystemExit("set POSTGRES_DSN (and optionally MYSQL_DSN)")
    print_results(results, as_json=args.json)


if __name__ == "__main__":
    asyncio.run(main())
