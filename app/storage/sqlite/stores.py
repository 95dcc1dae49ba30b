"""Connector configs, target states, task configs, source offsets and active topics on SQLite.

The config store and topic tracker are the in-memory ones with every change written through
to the database, and loaded from it when the worker starts.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from app.storage.base import ConnectorRecord, SourceOffsetWrite, offset_key
from app.storage.memory import MemoryConfigStore, MemoryTopicTracker
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import _write_source_offsets


class SqliteConfigStore(MemoryConfigStore):
    """Desired state of every connector: in memory, written through to SQLite."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db
        self._seq = 0

    async def open(self) -> None:
        def load(conn: sqlite3.Connection) -> None:
            for name, config, state, seq in conn.execute("SELECT * FROM connectors ORDER BY seq"):
                self._connectors[name] = ConnectorRecord(name, orjson.loads(config), state)
                self._seq = max(self._seq, seq)
            for name, _task, config in conn.execute("SELECT * FROM task_configs ORDER BY connector, task"):
                if name in self._connectors:
                    self._connectors[name].task_configs.append(orjson.loads(config))

        await self._db.read(load)

    async def put_config(self, name: str, config: dict[str, str], target_state: str | None = None) -> None:
        existing = self._connectors.get(name)
        state = target_state or (existing.target_state if existing else "STARTED")
        self._seq += 1
        seq = self._seq
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO connectors VALUES(?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                "config=excluded.config, target_state=excluded.target_state",
                (name, orjson.dumps(config).decode(), state, seq),
            )
        )
        await super().put_config(name, config, state)

    async def put_target_state(self, name: str, state: str) -> None:
        await self._db.write(
            lambda c: c.execute("UPDATE connectors SET target_state=? WHERE name=?", (state, name))
        )
        await super().put_target_state(name, state)

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        rows = [(name, i, orjson.dumps(cfg).decode()) for i, cfg in enumerate(configs)]

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM task_configs WHERE connector=?", (name,))
            conn.executemany("INSERT INTO task_configs VALUES(?,?,?)", rows)

        await self._db.write(write)
        await super().put_task_configs(name, configs)

    async def remove(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM connectors WHERE name=?", (name,))
            conn.execute("DELETE FROM task_configs WHERE connector=?", (name,))

        await self._db.write(delete)
        await super().remove(name)


class SqliteOffsetStore:
    """Source offsets: key = (connector, partition map), value = offset map."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None:
        key = offset_key(partition)

        def fetch(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute(
                "SELECT offset FROM source_offsets WHERE connector=? AND partition=?", (connector, key)
            ).fetchone()
            return orjson.loads(row[0]) if row else None

        return await self._db.read(fetch)

    async def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        def fetch(conn: sqlite3.Connection) -> list[tuple[dict[str, Any], dict[str, Any]]]:
            cur = conn.execute(
                "SELECT partition, offset FROM source_offsets WHERE connector=? ORDER BY partition",
                (connector,),
            )
            return [(orjson.loads(p), orjson.loads(o)) for p, o in cur]

        return await self._db.read(fetch)

    async def write(self, offsets: list[SourceOffsetWrite]) -> None:
        await self._db.write(lambda c: _write_source_offsets(c, offsets))


class SqliteTopicTracker(MemoryTopicTracker):
    """Topics each connector has used, written through to SQLite."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db

    async def open(self) -> None:
        def load(conn: sqlite3.Connection) -> None:
            for connector, topic in conn.execute("SELECT connector, topic FROM active_topics"):
                self._known.setdefault(connector, set()).add(topic)

        await self._db.read(load)

    async def _stored(self, connector: str, new: set[str]) -> None:
        rows = [(connector, t) for t in new]
        await self._db.write(lambda c: c.executemany("INSERT OR IGNORE INTO active_topics VALUES(?,?)", rows))

    async def reset(self, connector: str) -> None:
        await super().reset(connector)
        await self._db.write(lambda c: c.execute("DELETE FROM active_topics WHERE connector=?", (connector,)))
