"""Synchronous PostgreSQL helpers for tests that drive real worker processes from plain (non-async)
test functions: one statement or script per call, and the cleanup of everything a test created
under its tag (slots after ending their walsenders, publications, schemas)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import asyncpg


def sql(dsn: str, statement: str) -> Any:
    """Rows of one query; several statements (a script) are executed without a result."""

    async def go() -> Any:
        conn = await asyncpg.connect(dsn)
        try:
            if ";" in statement.strip().rstrip(";"):
                return await conn.execute(statement)
            return await conn.fetch(statement)
        finally:
            await conn.close()

    return asyncio.run(go())


def drop_tagged(dsn: str, tag: str, schemas: Iterable[str] = ()) -> None:
    """Drop the slots ``<tag>%`` (ending their walsenders first), the publication ``<tag>_pub`` and
    the schema ``tag`` (plus ``schemas``)."""
    for _ in range(50):
        rows = sql(
            dsn,
            f"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE '{tag}%' AND active",
        )
        if not rows:
            break
        time.sleep(0.1)
    sql(dsn, f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'")
    dropped = "; ".join(f"DROP SCHEMA IF EXISTS {s} CASCADE" for s in (tag, *schemas))
    sql(dsn, f"DROP PUBLICATION IF EXISTS {tag}_pub; {dropped}")
