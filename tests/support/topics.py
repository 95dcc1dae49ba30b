"""Read what a real worker wrote to a topic, on either backend, from outside the worker.

End-to-end tests check the records themselves (bytes and headers), not only what a sink made of
them: the embedded log is read straight from the worker's SQLite database (WAL mode lets a
reader in while the worker writes), a Kafka topic with a throwaway ``read_committed`` consumer from
the beginning to the end offsets of its partitions (what a sink would see).
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from app.storage.sqlite.log import decode_headers


@dataclass(frozen=True)
class TopicRecord:
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]

    def header(self, name: str) -> str | None:
        """The last header called ``name``, as text (None when absent or null)."""
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode() if found and found[-1] is not None else None


def read_topic(backend: str, data_dir: Path, topic: str, bootstrap: str = "") -> list[TopicRecord]:
    """Every record of ``topic`` (an empty list when it does not exist), by partition then offset."""
    if backend == "embedded":
        return _read_embedded(data_dir / "penstock.db", topic)
    return asyncio.run(_read_kafka(bootstrap, topic))


def _read_embedded(database: Path, topic: str) -> list[TopicRecord]:
    records: list[TopicRecord] = []
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as conn:
        tables = conn.execute(
            "SELECT id, partition FROM partitions WHERE topic=? ORDER BY partition", (topic,)
        ).fetchall()
        for table_id, partition in tables:
            rows = conn.execute(f"SELECT offset, ts, key, value, headers FROM p{table_id} ORDER BY offset")
            records.extend(
                TopicRecord(partition, offset, ts, key, value, tuple(decode_headers(headers)))
                for offset, ts, key, value, headers in rows
            )
    return records


async def _read_kafka(bootstrap: str, topic: str) -> list[TopicRecord]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])  # a missing topic has no partitions
    finally:
        await admin.close()
    tps = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    if not tps:
        return []
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    await reader.start()
    try:
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        ends = await reader.end_offsets(tps)
        records: list[TopicRecord] = []
        for tp in tps:
            while await reader.position(tp) < ends[tp]:
                fetched = (await reader.getmany(tp, timeout_ms=2000)).get(tp, [])
                if not fetched:
                    break  # only transaction markers left before the end
                records.extend(
                    TopicRecord(r.partition, r.offset, r.timestamp, r.key, r.value, tuple(r.headers))
                    for r in fetched
                    if r.offset < ends[tp]
                )
        return records
    finally:
        await reader.stop()
