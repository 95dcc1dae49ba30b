"""Connector configs, target states, task configs, source offsets and active topics on SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.storage.base import SourceOffsetWrite
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import _write_source_offsets, offset_key


@dataclass(slots=True)
class ConnectorRecord:
    name: str
    config: dict[str, str]
    target_state: str
    task_configs: list[dict[str, str]] = field(default_factory=list)


class ConfigStore:
    """Desired state of every connector. Kept in memory and written through to SQLite.

    Without a database (Kafka standalone mode, like Kafka's StandaloneHerder) connectors live
    only as long as the process; the command line gives them again at the next start.
    """

    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        self._connectors: dict[str, ConnectorRecord] = {}
        self._seq = 0

    async def _write(self, fn: Callable[[sqlite3.Connection], object]) -> None:
        if self._db is not None:
            await self._db.write(fn)

    async def open(self) -> None:
        if self._db is None:
            return

        def load(conn: sqlite3.Connection) -> None:
            for name, config, state, seq in conn.execute("SELECT * FROM connectors ORDER BY seq"):
                self._connectors[name] = ConnectorRecord(name, orjson.loads(config), state)
                self._seq = max(self._seq, seq)
            for name, _task, config in conn.execute("SELECT * FROM task_configs ORDER BY connector, task"):
                if name in self._connectors:
                    self._connectors[name].task_configs.append(orjson.loads(config))

        await self._db.read(load)

    def names(self) -> list[str]:
        return list(self._connectors)

    def get(self, name: str) -> ConnectorRecord | None:
        return self._connectors.get(name)

    async def put_config(self, name: str, config: dict[str, str], target_state: str | None = None) -> None:
        existing = self._connectors.get(name)
        state = target_state or (existing.target_state if existing else "STARTED")
        self._seq += 1
        seq = self._seq
        await self._write(
            lambda c: c.execute(
                "INSERT INTO connectors VALUES(?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
                "config=excluded.config, target_state=excluded.target_state",
                (name, orjson.dumps(config).decode(), state, seq),
            )
        )
        if existing:
            existing.config, existing.target_state = config, state
        else:
            self._connectors[name] = ConnectorRecord(name, config, state)

    async def put_target_state(self, name: str, state: str) -> None:
        await self._write(
            lambda c: c.execute("UPDATE connectors SET target_state=? WHERE name=?", (state, name))
        )
        self._connectors[name].target_state = state

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        rows = [(name, i, orjson.dumps(cfg).decode()) for i, cfg in enumerate(configs)]

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM task_configs WHERE connector=?", (name,))
            conn.executemany("INSERT INTO task_configs VALUES(?,?,?)", rows)

        await self._write(write)
        self._connectors[name].task_configs = [dict(c) for c in configs]

    async def remove(self, name: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM connectors WHERE name=?", (name,))
            conn.execute("DELETE FROM task_configs WHERE connector=?", (name,))

        await self._write(delete)
        self._connectors.pop(name, None)


class OffsetStore:
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


class TopicTracker:
    """Topics each connector has used since creation or the last reset (``/connectors/{c}/topics``).

    Without a database (on Kafka) the list lives in memory and starts empty on each worker.
    """

    def __init__(self, db: Database | None = None) -> None:
        self._db = db
        self._known: dict[str, set[str]] = {}

    async def open(self) -> None:
        if self._db is None:
            return

        def load(conn: sqlite3.Connection) -> None:
            for connector, topic in conn.execute("SELECT connector, topic FROM active_topics"):
                self._known.setdefault(connector, set()).add(topic)

        await self._db.read(load)

    def topics(self, connector: str) -> list[str]:
        return sorted(self._known.get(connector, ()))

    async def record(self, connector: str, topics: set[str]) -> None:
        new = topics - self._known.get(connector, set())
        if not new:
            return
        self._known.setdefault(connector, set()).update(new)
        rows = [(connector, t) for t in new]
        if self._db is not None:
            await self._db.write(
                lambda c: c.executemany("INSERT OR IGNORE INTO active_topics VALUES(?,?)", rows)
            )

    async def reset(self, connector: str) -> None:
        self._known.pop(connector, None)
        if self._db is not None:
            await self._db.write(
                lambda c: c.execute("DELETE FROM active_topics WHERE connector=?", (connector,))
            )
