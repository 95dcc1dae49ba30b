"""The embedded topic log: Kafka's topic/partition/offset model on SQLite.

Each partition is its own table whose INTEGER PRIMARY KEY is the offset, so an append is a
B-tree append and a fetch is a range scan. Offsets are assigned on the writer thread, which
is the only place that changes ``_next``; a batch and its source offsets commit in one
transaction, which is what makes embedded sources exactly-once.
"""

from __future__ import annotations

import asyncio
import base64
import re
import sqlite3
import time
from collections import defaultdict
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
)
from app.storage.partitioner import partition_for_key
from app.storage.sqlite.database import Database
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import TopicPartition

DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000
_TOPIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,249}")


def encode_headers(headers: Sequence[HeaderBytes]) -> bytes | None:
    if not headers:
        return None
    return orjson.dumps([[k, None if v is None else base64.b64encode(v).decode()] for k, v in headers])


def decode_headers(blob: bytes | None) -> list[HeaderBytes]:
    if not blob:
        return []
    return [(k, None if v is None else base64.b64decode(v)) for k, v in orjson.loads(blob)]


def offset_key(partition: Mapping[str, Any]) -> str:
    return orjson.dumps(partition, option=orjson.OPT_SORT_KEYS).decode()


class EmbeddedLog:
    def __init__(
        self, db: Database, *, default_partitions: int = 1, auto_create: bool = True, max_lag: int = -1
    ) -> None:
        self._db = db
        self.max_lag = max_lag
        self._readers: dict[str, dict[TopicPartition, int]] = {}
        self._progress = asyncio.Condition()
        self.default_partitions = default_partitions
        self.auto_create = auto_create
        self._topics: dict[str, TopicDescription] = {}
        self._tables: dict[TopicPartition, str] = {}
        self._next: dict[TopicPartition, int] = {}
        self._start: dict[TopicPartition, int] = {}
        self._sticky: dict[str, int] = defaultdict(int)
        self._appended = asyncio.Condition()
        self.atomic_offsets = True
        self.topics_version = 0
        """Bumped whenever a topic is created, so group assignments can be recomputed."""

    async def open(self) -> None:
        def load(conn: sqlite3.Connection) -> None:
            for name, partitions, config in conn.execute("SELECT name, partitions, config FROM topics"):
                self._topics[name] = TopicDescription(name, partitions, orjson.loads(config))
            for pid, topic, partition in conn.execute("SELECT id, topic, partition FROM partitions"):
                tp = TopicPartition(topic, partition)
                table = f"p{pid}"
                self._tables[tp] = table
                low, high = conn.execute(f"SELECT MIN(offset), MAX(offset) FROM {table}").fetchone()
                self._next[tp] = (high + 1) if high is not None else self._stored_start(conn, tp)
                self._start[tp] = low if low is not None else self._next[tp]

        await self._db.write(load)

    @staticmethod
    def _stored_start(conn: sqlite3.Connection, tp: TopicPartition) -> int:
        row = conn.execute(
            "SELECT MAX(next_offset) FROM group_offsets WHERE topic=? AND partition=?", tp
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    # -- topics -----------------------------------------------------------------------------
    async def create_topic(self, name: str, partitions: int, config: Mapping[str, str] | None = None) -> bool:
        """False when the topic already exists (its partition count is left as it is)."""
        if name in self._topics:
            return False
        return await self._db.write(lambda c: self._create(c, name, partitions, dict(config or {})))

    def _create(self, conn: sqlite3.Connection, name: str, partitions: int, config: dict[str, str]) -> bool:
        if name in self._topics:
            return False
        if not _TOPIC_NAME.fullmatch(name) or name in (".", ".."):
            raise ConfigError(
                f"Invalid topic name '{name}': use 1-249 characters of ASCII letters, digits, '.', '_', '-' (not '.' or '..')"
            )
        if partitions < 1:
            raise ConfigError(f"Topic {name} needs at least one partition, not {partitions}")
        conn.execute(
            "INSERT INTO topics VALUES(?,?,?,?)", (name, partitions, orjson.dumps(config), _now_ms())
        )
        for p in range(partitions):
            cur = conn.execute("INSERT INTO partitions(topic, partition) VALUES(?,?)", (name, p))
            table = f"p{cur.lastrowid}"
            conn.execute(
                f"CREATE TABLE {table}(offset INTEGER PRIMARY KEY, ts INTEGER NOT NULL,"
                " key BLOB, value BLOB, headers BLOB)"
            )
            tp = TopicPartition(name, p)
            self._tables[tp] = table
            self._next[tp] = self._start[tp] = 0
        self._topics[name] = TopicDescription(name, partitions, config)
        self.topics_version += 1
        return True

    async def describe_topics(self) -> dict[str, TopicDescription]:
        return dict(self._topics)

    async def ensure_topic(self, name: str) -> TopicDescription | None:
        """The topic, created with the default partition count if auto-creation is on."""
        if name not in self._topics and self.auto_create:
            await self.create_topic(name, self.default_partitions)
        return self._topics.get(name)

    def topics_names(self) -> list[str]:
        return list(self._topics)

    def partitions(self, topic: str) -> list[TopicPartition]:
        desc = self._topics.get(topic)
        return [TopicPartition(topic, p) for p in range(desc.partitions)] if desc else []

    def start_offset(self, tp: TopicPartition) -> int:
        return self._start.get(tp, 0)

    def end_offset(self, tp: TopicPartition) -> int:
        return self._next.get(tp, 0)

    async def end_offsets(self, partitions: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.end_offset(tp) for tp in partitions}

    # -- produce ----------------------------------------------------------------------------
    async def close(self) -> None:
        """A source task is done writing; the shared log stays open."""

    async def send_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite] = ()
    ) -> list[Delivered]:
        """Append ``records`` and store ``offsets`` in one transaction; returns where each landed."""
        for topic in {r.topic for r in records} - self._topics.keys():
            if await self.ensure_topic(topic) is None:
                raise ConfigError(f"Topic {topic} does not exist and automatic topic creation is disabled")
        if self.max_lag >= 0 and self._readers:
            await self._wait_for_readers({r.topic for r in records})
        delivered = await self._db.write(lambda c: self._append(c, records, offsets))
        async with self._appended:
            self._appended.notify_all()
        return delivered

    def _append(
        self,
        conn: sqlite3.Connection,
        records: Sequence[ProducerRecord],
        offsets: Sequence[SourceOffsetWrite],
    ) -> list[Delivered]:
        now = _now_ms()
        rows: dict[TopicPartition, list[tuple[Any, ...]]] = defaultdict(list)
        delivered: list[Delivered] = []
        next_offsets = self._next
        sticky_used: set[str] = set()
        for r in records:
            count = self._topics[r.topic].partitions
            if r.partition is not None:
                if not 0 <= r.partition < count:
                    raise ConfigError(f"Partition {r.partition} of topic {r.topic} does not exist")
                p = r.partition
            elif r.key is not None:
                p = partition_for_key(r.key, count)
            else:
                p = self._sticky[r.topic] % count
                sticky_used.add(r.topic)
            tp = TopicPartition(r.topic, p)
            batch = rows[tp]
            offset = next_offsets[tp] + len(batch)
            ts = r.timestamp if r.timestamp is not None else now
            batch.append((offset, ts, r.key, r.value, encode_headers(r.headers)))
            delivered.append(Delivered(r.topic, p, offset, ts))
        for tp, batch in rows.items():
            conn.executemany(f"INSERT INTO {self._tables[tp]} VALUES(?,?,?,?,?)", batch)
        if offsets:
            _write_source_offsets(conn, offsets)
        for tp, batch in rows.items():
            next_offsets[tp] += len(batch)
        for topic in sticky_used:  # the next batch of unkeyed records goes to the next partition
            self._sticky[topic] += 1
        return delivered

    # -- backpressure -----------------------------------------------------------------------
    def register_reader(self, member: str, positions: dict[TopicPartition, int]) -> None:
        """A running consumer whose lag holds back writers (``positions`` is read live)."""
        self._readers[member] = positions

    def unregister_reader(self, member: str) -> None:
        if self._readers.pop(member, None) is not None:
            self._notify_progress()

    def _notify_progress(self) -> None:
        async def notify() -> None:
            async with self._progress:
                self._progress.notify_all()

        asyncio.get_running_loop().create_task(notify())

    async def reader_progressed(self) -> None:
        async with self._progress:
            self._progress.notify_all()

    def _unread_floor(self, tp: TopicPartition) -> int | None:
        """The lowest position of a registered consumer on ``tp`` (None: nobody reads it)."""
        return min(
            (positions[tp] for positions in self._readers.values() if tp in positions),
            default=None,
        )

    def _worst_lag(self, topics: set[str]) -> int:
        return max(
            (
                self._next.get(tp, 0) - position
                for positions in self._readers.values()
                for tp, position in positions.items()
                if tp.topic in topics
            ),
            default=0,
        )

    async def _wait_for_readers(self, topics: set[str]) -> None:
        while self._worst_lag(topics) >= max(self.max_lag, 1):
            async with self._progress:
                try:
                    async with asyncio.timeout(1.0):
                        await self._progress.wait()
                except TimeoutError:
                    pass

    # -- consume ----------------------------------------------------------------------------
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
            out: list[ConsumerRecord] = []
            size = 0
            for off, ts, key, value, headers in cur:
                out.append(
                    ConsumerRecord(tp.topic, tp.partition, off, ts, key, value, decode_headers(headers))
                )
                size += len(value or b"") + len(key or b"")
                if size >= max_bytes:
                    break
            return out

        return await self._db.read(fetch)

    async def wait_for_append(self, timeout: float) -> None:
        """Return after the next append, or after ``timeout`` seconds."""
        async with self._appended:
            try:
                async with asyncio.timeout(timeout):
                    await self._appended.wait()
            except TimeoutError:
                pass

    # -- retention --------------------------------------------------------------------------
    async def enforce_retention(
        self, default_retention_ms: int = DEFAULT_RETENTION_MS, unread_max_records: int = -1
    ) -> int:
        """Delete records older than each topic's ``retention.ms``; returns how many went.

        Records a registered sink consumer (running or paused) has not read yet are kept, unless
        more than ``unread_max_records`` of them wait on one partition (-1: no cap): then the
        oldest go anyway, and the consumer counts and logs them as lost when it reads on.
        """
        now = _now_ms()
        plan: list[tuple[TopicPartition, int, int]] = []
        for name, desc in self._topics.items():
            retention = int(desc.config.get("retention.ms", default_retention_ms))
            if retention >= 0:
                for tp in self.partitions(name):
                    keep_from = self._next[tp] - 1  # the newest record keeps the next offset across restarts
                    unread = self._unread_floor(tp)
                    if unread is not None and (
                        unread_max_records < 0 or self._next[tp] - unread <= unread_max_records
                    ):
                        keep_from = min(keep_from, unread)
                    elif unread is not None:
                        keep_from = min(keep_from, self._next[tp] - unread_max_records)
                    plan.append((tp, now - retention, keep_from))

        def delete(conn: sqlite3.Connection) -> int:
            removed = 0
            for tp, cutoff, keep_from in plan:
                table = self._tables[tp]
                cur = conn.execute(f"DELETE FROM {table} WHERE ts < ? AND offset < ?", (cutoff, keep_from))
                removed += cur.rowcount
                low = conn.execute(f"SELECT MIN(offset) FROM {table}").fetchone()[0]
                self._start[tp] = low if low is not None else self._next[tp]
            return removed

        return await self._db.write(delete) if plan else 0

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


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
