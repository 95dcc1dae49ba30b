"""Real pgoutput bytes for tests: a private schema, a publication and a temporary logical slot.

``Capture`` creates them on one asyncpg connection (a temporary slot belongs to its session and
disappears with it, and with any error in the session, so a crashed test cannot leave WAL pinned on the shared server) and drops
everything on exit. ``changes()`` reads the slot with ``pg_logical_slot_get_binary_changes``,
which consumes what it returns, so each call yields only the changes made since the last one.
"""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any

import asyncpg


class Capture:
    """``async with Capture(dsn) as cap:`` then ``cap.schema``, ``await cap.execute(...)``..."""

    def __init__(self, dsn: str, *, server_settings: dict[str, str] | None = None) -> None:
        self.dsn = dsn
        tag = uuid.uuid4().hex[:10]
        self.schema = f"pgdec_{tag}"
        self.publication = f"pgdec_pub_{tag}"
        self.slot = f"pgdec_slot_{tag}"
        self._settings = {"application_name": "pg-decode-tests", **(server_settings or {})}
        self.conn: Any = None
        self._slot_created = False

    async def __aenter__(self) -> Capture:
        self.conn = await asyncpg.connect(self.dsn, server_settings=self._settings)
        await self.conn.execute(f"CREATE SCHEMA {self.schema}")
        return self

    async def start(self, *tables: str) -> None:
        """Create the publication (for ``tables`` or the whole schema) and the slot."""
        if tables:
            names = ", ".join(f"{self.schema}.{table}" for table in tables)
            await self.conn.execute(f"CREATE PUBLICATION {self.publication} FOR TABLE {names}")
        else:
            await self.conn.execute(
                f"CREATE PUBLICATION {self.publication} FOR TABLES IN SCHEMA {self.schema}"
            )
        await self.conn.execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput', temporary => true)", self.slot
        )
        self._slot_created = True

    async def other_connection(self) -> Any:
        """A second connection, for statements expected to fail (an error drops the temporary slot)."""
        return await asyncpg.connect(self.dsn, server_settings=self._settings)

    async def execute(self, sql: str, *args: Any) -> Any:
        return await self.conn.execute(sql, *args)

    async def changes(self, *options: str, proto_version: str = "1") -> list[tuple[str, int, bytes]]:
        """``(lsn, xid, data)`` of every message since the last call."""
        extra = "".join(f", ${i + 4}" for i in range(len(options)))
        rows = await self.conn.fetch(
            "SELECT lsn::text, xid::text::bigint, data FROM pg_logical_slot_get_binary_changes("
            f"$1, NULL, NULL, 'proto_version', $2, 'publication_names', $3{extra})",
            self.slot,
            proto_version,
            self.publication,
            *options,
        )
        return [(row[0], row[1], bytes(row[2])) for row in rows]

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        statements = [
            # A temporary slot is already gone if the session saw an error.
            (
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1",
                self.slot,
            ),
            (f"DROP PUBLICATION IF EXISTS {self.publication}", None),
            (f"DROP SCHEMA IF EXISTS {self.schema} CASCADE", None),
        ]
        failure: BaseException | None = None
        try:
            for sql, arg in statements:  # each one even if an earlier one failed
                try:
                    await (self.conn.execute(sql, arg) if arg is not None else self.conn.execute(sql))
                except asyncpg.PostgresError as error:
                    failure = failure or error
        finally:
            await self.conn.close()
        if failure is not None and exc is None:
            raise failure
