"""The embedded topic log on SQLite: durable storage for :class:`app.storage.topic_log.TopicLog`.

Each partition is its own table whose INTEGER PRIMARY KEY is the offset, so an append is a
B-tree append and a fetch is a range scan. Offsets are assigned on the writer thread, which
is the only place that changes the next offsets; a batch and its source offsets commit in one
transaction, which is what makes embedded sources exactly-once.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from app.storage.base import (
    ConsumerRecord,
    Delivered,
    HeaderBytes,
    ProducerRecord,
    SourceOffsetWrite,
    TopicDescription,
    offset_key,
)
from app.storage.sqlite.database import Database
from app.storage.topic_log import RetentionCut, TopicLog, now_ms
from connectors.sdk.records import TopicPartition


def encode_headers(headers: Sequence[HeaderBytes]) -> bytes | None:
    if not headers:
        return None
    return orjson.dumps([[k, None if v is None else base64.b64encode(v).decode()] for k, v in headers])


def decode_headers(blob: bytes | None) -> list[HeaderBytes]:
    if not blob:
        return []
    return [(k, None if v is None else base64.b64decode(v)) for k, v in orjson.loads(blob)]


class EmbeddedLog(TopicLog):
    def __init__(
        self, db: Database, *, default_partitions: int = 1, auto_create: bool = True, max_lag: int = -1
    ) -> None:
        super().__init__(default_partitions=default_partitions, auto_create=auto_create, max_lag=max_lag)
        self._db = db
        self._tables: dict[TopicPartition, str] = {}

    async def open(self) -> None:
        def load(conn: sqlite3.Connection) -> None:
            tables: dict[str, dict[int, tuple[str, int, int]]] = {}
            for pid, topic, partition in conn.execute("SELECT id, topic, partition FROM partitions"):
                table = f"p{pid}"
                low, high = conn.execute(f"SELECT MIN(offset), MAX(offset) FROM {table}").fetchone()
                tp = TopicPartition(topic, partition)
                next_offset = (high + 1) if high is not None else self._stored_start(conn, tp)
                tables.setdefault(topic, {})[partition] = (
                    table,
                    low if low is not None else next_offset,
                    next_offset,
                )
            for name, partitions, config in conn.execute("SELECT name, partitions, config FROM topics"):
                loaded = tables.get(name, {})
                for p, (table, _, _) in loaded.items():
                    self._tables[TopicPartition(name, p)] = table
                self._add_topic(
                    TopicDescription(name, partitions, orjson.loads(config)),
                    {p: (low, high) for p, (_, low, high) in loaded.items()},
                )

        await self._db.write(load)

    @staticmethod
    def _stored_start(conn: sqlite3.Connection, tp: TopicPartition) -> int:
        row = conn.execute(
            "SELECT MAX(next_offset) FROM group_offsets WHERE topic=? AND partition=?", tp
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def _store_topic(self, name: str, partitions: int, config: dict[str, str]) -> None:
        def create(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM topics WHERE name=?", (name,)).fetchone():
                return
            conn.execute(
                "INSERT INTO topics VALUES(?,?,?,?)", (name, partitions, orjson.dumps(config), now_ms())
            )
            for p in range(partitions):
                cur = conn.execute("INSERT INTO partitions(topic, partition) VALUES(?,?)", (name, p))
                table = f"p{cur.lastrowid}"
                conn.execute(
                    f"CREATE TABLE {table}(offset INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
                    " key BLOB, value BLOB, headers BLOB)"
                )
                self._tables[TopicPartition(name, p)] = table

        await self._db.write(create)

    async def _store_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite]
    ) -> Sequence[Delivered]:
        def append(conn: sqlite3.Connection) -> Sequence[Delivered]:
            placement = self._place(records)
            for tp in placement.partitions:
                conn.executemany(
                    f"INSERT INTO {self._tables[tp]} VALUES(?,?,?,?,?)",
                    [
                        (offset, ts, r.key, r.value, encode_headers(r.headers) if r.headers else None)
                        for offset, ts, r in placement.rows(tp)
                    ],
                )
            if offsets:
                _write_source_offsets(conn, offsets)
            # Inside the transaction: if COMMIT fails the offsets move on anyway, which only
            # leaves a gap; a rollback above leaves them untouched.
            return self._advance(records, placement)

        return await self._db.write(append)

    async def read(
        self, tp: TopicPartition, offset: int, max_records: int, max_bytes: int = 1 << 60
    ) -> list[ConsumerRecord]:
        table = self._tables.get(tp)
        if table is None or offset >= self._next.get(tp, 0):
            return []

        def fetch(conn: sqlite3.Connection) -> list[ConsumerRecord]:
            cur = conn.execute(
                f"SELECT offset, ts, key, value, headers FROM {table} WHERE offset >= ? "
                "ORDER BY offset LIMIT ?",
                (offset, max_records),
            )
            topic, partition = tp
            out: list[ConsumerRecord] = []
            add = out.append
            size = 0
            for off, ts, key, value, headers in cur:
                add(
                    ConsumerRecord(
                        topic, partition, off, ts, key, value, decode_headers(headers) if headers else ()
                    )
                )
                size += len(value or b"") + len(key or b"")
                if size >= max_bytes:
                    break
            return out

        return await self._db.read(fetch)

    async def _delete(self, cuts: Sequence[RetentionCut]) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            removed = 0
            for cut in cuts:
                table = self._tables[cut.tp]
                cur = conn.execute(
                    f"DELETE FROM {table} WHERE ts < ? AND offset < ?", (cut.cutoff_ms, cut.keep_from)
                )
                removed += cur.rowcount
                low = conn.execute(f"SELECT MIN(offset) FROM {table}").fetchone()[0]
                self._start[cut.tp] = low if low is not None else self._next[cut.tp]
            return removed

        return await self._db.write(delete)

    # -- consumer groups --------------------------------------------------------------------
    async def commit_group(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        rows = [(group, tp.topic, tp.partition, off) for tp, off in offsets.items()]
        await self._db.write(
            lambda c: c.executemany("INSERT OR REPLACE INTO group_offsets VALUES(?,?,?,?)", rows)
        )

    async def group_offsets(self, group: str) -> dict[TopicPartition, int]:
        def fetch(conn: sqlite3.Connection) -> dict[TopicPartition, int]:
            cur = conn.execute(
                "SELECT topic, partition, next_offset FROM group_offsets WHERE grp=?", (group,)
            )
            return {TopicPartition(t, p): o for t, p, o in cur}

        return await self._db.read(fetch)

    async def delete_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> None:
        rows = None if partitions is None else [(group, tp.topic, tp.partition) for tp in partitions]

        def delete(conn: sqlite3.Connection) -> None:
            if rows is None:
                conn.execute("DELETE FROM group_offsets WHERE grp=?", (group,))
            else:
                conn.executemany("DELETE FROM group_offsets WHERE grp=? AND topic=? AND partition=?", rows)

        await self._db.write(delete)


def _write_source_offsets(conn: sqlite3.Connection, offsets: Sequence[SourceOffsetWrite]) -> None:
    latest: dict[tuple[str, str], dict[str, Any] | None] = {}
    for w in offsets:  # last write per partition wins, as on a compacted topic
        latest[(w.connector, offset_key(w.partition))] = w.offset
    puts = [(c, p, orjson.dumps(o).decode()) for (c, p), o in latest.items() if o is not None]
    deletes = [(c, p) for (c, p), o in latest.items() if o is None]
    if puts:
        conn.executemany("INSERT OR REPLACE INTO source_offsets VALUES(?,?,?)", puts)
    if deletes:
        conn.executemany("DELETE FROM source_offsets WHERE connector=? AND partition=?", deletes)
