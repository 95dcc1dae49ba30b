"""The suite's own PostgreSQL traffic: the CDC table and its inserts, the sink table's progress, clean-up.

Like ``kafka_io``, kept out of both workers' processes. Every run gets its own schema (CDC) or
table (sink), replication slot and publication, all dropped after the run, so no run resumes from
another's slot or finds another's rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from urllib.parse import urlparse

import asyncpg

ROW_TEXT = 64  # the text column's width: with the other five columns a row is ~100 B
INSERT_TX = 1_000  # rows per transaction of the throughput workload (as benchmarks/pg_capture.py)


def source_properties(dsn: str, schema: str) -> dict[str, str]:
    """Debezium's PostgreSQL connector settings for ``schema.orders``, streaming only (no snapshot)."""
    url = urlparse(dsn)
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": url.hostname or "127.0.0.1",
        "database.port": str(url.port or 5432),
        "database.user": url.username or "postgres",
        "database.password": url.password or "",
        "database.dbname": url.path.lstrip("/"),
        "database.sslmode": "disable",
        "topic.prefix": schema,
        "table.include.list": f"{schema}.orders",
        "plugin.name": "pgoutput",
        "slot.name": f"{schema}_slot",
        "publication.name": f"{schema}_pub",
        "publication.autocreate.mode": "filtered",
        "snapshot.mode": "no_data",
    }


def cdc_topic(schema: str) -> str:
    """The topic both systems write ``schema.orders`` changes to: ``<topic.prefix>.<schema>.<table>``."""
    return f"{schema}.{schema}.orders"


def jdbc_url(dsn: str) -> str:
    """``postgresql://user:pw@host:port/db`` as the JDBC URL both JDBC sinks accept."""
    url = urlparse(dsn)
    return f"jdbc:postgresql://{url.hostname or '127.0.0.1'}:{url.port or 5432}{url.path}"


class CdcTable:
    """``<schema>.orders`` (6 columns, ~100 B a row) and the inserts a CDC run streams.

    ``progress`` hooks: ``feed()`` waits until the run's replication slot is active (the
    connector is streaming), then inserts ``rows`` rows, in ``INSERT_TX``-row transactions as fast
    as PostgreSQL takes them, or at ``rate`` rows/s in 100 transactions a second; ``commits``
    keeps (COMMIT returned, rows committed so far) for the latency case.
    """

    def __init__(self, dsn: str, schema: str, rows: int, rate: int | None = None) -> None:
        self.dsn, self.schema, self.rows, self.rate = dsn, schema, rows, rate
        self.slot = f"{schema}_slot"
        self.commits: list[tuple[float, int]] = []
        self.achieved_rate = 0.0
        self._pg: asyncpg.Connection | None = None

    async def create(self) -> None:
        self._pg = await asyncpg.connect(self.dsn)
        await self._pg.execute(
            f"CREATE SCHEMA {self.schema}; CREATE TABLE {self.schema}.orders (id bigint PRIMARY KEY, "
            "customer int NOT NULL, item text, qty int, amount numeric(12,2), created timestamptz)"
        )

    async def feed(self, timeout: float = 120) -> None:
        pg = self._pg
        assert pg is not None, "create() first"
        deadline = time.monotonic() + timeout
        while not await pg.fetchval(
            "SELECT active FROM pg_replication_slots WHERE slot_name = $1", self.slot
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"slot {self.slot} not active after {timeout:.0f} s")
            await asyncio.sleep(0.02)
        insert = (
            f"INSERT INTO {self.schema}.orders SELECT g, g % 1000, rpad('item-' || g, {ROW_TEXT}, 'x'), "
            "1 + g % 7, g * 1.25, now() FROM generate_series($1::bigint, $2::bigint) g"
        )
        per_tx = INSERT_TX if self.rate is None else max(1, self.rate // 100)
        started = time.perf_counter()
        for i, first in enumerate(range(1, self.rows + 1, per_tx)):
            if self.rate is not None:
                await asyncio.sleep(max(0.0, started + i * per_tx / self.rate - time.perf_counter()))
            last = min(self.rows, first + per_tx - 1)
            await pg.execute(insert, first, last)
            self.commits.append((time.perf_counter(), last))
        self.achieved_rate = self.rows / max(time.perf_counter() - started, 1e-9)

    async def drop(self) -> None:
        """The slot (once the worker has let go of it), the publication, the schema."""
        pg = self._pg or await asyncpg.connect(self.dsn)
        try:
            for _ in range(100):
                if not await pg.fetchval(
                    "SELECT active FROM pg_replication_slots WHERE slot_name = $1", self.slot
                ):
                    break
                await asyncio.sleep(0.1)
            await pg.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
                self.slot,
            )
            await pg.execute(
                f'DROP PUBLICATION IF EXISTS "{self.schema}_pub"; DROP SCHEMA {self.schema} CASCADE'
            )
        finally:
            await pg.close()


class SinkTable:
    """A JDBC sink's table as seen from outside: rows so far, as ``max(id)`` (ids 1..N arrive in order)."""

    def __init__(self, dsn: str, table: str) -> None:
        self.dsn, self.table = dsn, table
        self._pg: asyncpg.Connection | None = None

    async def __aenter__(self) -> SinkTable:
        self._pg = await asyncpg.connect(self.dsn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._pg is not None
        with contextlib.suppress(asyncpg.PostgresError):
            await self._pg.execute(f'DROP TABLE IF EXISTS "{self.table}"')
        await self._pg.close()

    async def count(self) -> int:
        """One index lookup per poll; a table the sink has not created yet holds 0 rows."""
        assert self._pg is not None
        try:
            return int(await self._pg.fetchval(f'SELECT coalesce(max(id), 0) FROM "{self.table}"'))
        except asyncpg.UndefinedTableError:
            return 0

    async def exact_count(self) -> int:
        assert self._pg is not None
        return int(await self._pg.fetchval(f'SELECT count(*) FROM "{self.table}"'))
