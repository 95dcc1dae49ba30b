"""The PostgreSQL connector in a real ``penstock run`` worker, configured as in Debezium's tutorial.

A snapshot of 10,000 existing rows, then insert / update / delete (+ tombstone) / truncate in
order with JsonConverter output, 50,000 streamed inserts, a graceful stop and a new worker on the
same data directory that resumes without loss, duplicates or a second snapshot, and a slot that
was never confirmed past what the worker stored. Prints the measured rates (``-s`` shows them).
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from connectors.postgres.lsn import parse_lsn
from tests.support.pg_sync import drop_tagged, sql
from tests.support.server import ServerProcess, wait_until
from tests.support.topics import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

JSON = "org.apache.kafka.connect.json.JsonConverter"
SNAPSHOT_ROWS = 10_000
STREAM_ROWS = 50_000




def topic_count(data_dir: Path, topic: str) -> int:
    database = data_dir / "penstock.db"
    if not database.exists():
        return 0
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            tables = conn.execute("SELECT id FROM partitions WHERE topic=?", (topic,)).fetchall()
        except sqlite3.OperationalError:
            return 0
        return sum(conn.execute(f"SELECT count(*) FROM p{t}").fetchone()[0] for (t,) in tables)


def wait_count(data_dir: Path, topic: str, n: int, timeout: float = 120) -> float:
    """Seconds until ``topic`` holds ``n`` records."""
    start = time.monotonic()
    wait_until(lambda: topic_count(data_dir, topic) >= n, timeout, 0.05, f"{n} records on {topic}")
    return time.monotonic() - start


@pytest.fixture
def db(postgres_dsn: str) -> Iterator[dict[str, str]]:
    tag = f"pgwork_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    sql(
        postgres_dsn,
        f"""
        CREATE SCHEMA {tag};
        CREATE TABLE {tag}.customers (id serial PRIMARY KEY, first_name varchar(255) NOT NULL,
                                      last_name varchar(255) NOT NULL, email varchar(255) NOT NULL UNIQUE);
        INSERT INTO {tag}.customers (first_name, last_name, email)
            SELECT 'First' || g, 'Last' || g, 'user' || g || '@example.com' FROM generate_series(1, {SNAPSHOT_ROWS}) g;
        """,
    )
    try:
        yield {
            "tag": tag,
            "dsn": postgres_dsn,
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "dbname": url.path.lstrip("/"),
        }
    finally:
        drop_tagged(postgres_dsn, tag)


def tutorial(db: dict[str, str]) -> dict[str, str]:
    """Debezium's tutorial registration (``register-postgres.json``) for this server."""
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": db["host"],
        "database.port": db["port"],
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db["dbname"],
        "topic.prefix": "dbserver1",
        "schema.include.list": db["tag"],
        "plugin.name": "pgoutput",
        "slot.name": f"{db['tag']}_slot",
        "publication.name": f"{db['tag']}_pub",
        "publication.autocreate.mode": "filtered",
        "skipped.operations": "none",
        "slot.retry.delay.ms": "500",
        "key.converter": JSON,
        "value.converter": JSON,
    }


def values(data_dir: Path, topic: str) -> list[dict[str, Any] | None]:
    return [
        None if r.value is None else json.loads(r.value)["payload"]
        for r in read_topic("embedded", data_dir, topic)
    ]


def confirmed_flush(db: dict[str, str]) -> int:
    rows = sql(
        db["dsn"],
        f"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{db['tag']}_slot'",
    )
    return parse_lsn(rows[0][0])


def test_tutorial_snapshot_stream_restart(tmp_path: Path, db: dict[str, str]) -> None:
    data_dir = tmp_path / "data"
    tag = db["tag"]
    topic = f"dbserver1.{tag}.customers"
    worker = ServerProcess(data_dir, {"offset.flush.interval.ms": "500"}).start()
    try:
        started = time.monotonic()
        worker.create("inventory-connector", tutorial(db))
        wait_count(data_dir, topic, SNAPSHOT_ROWS)
        snapshot_s = time.monotonic() - started
        print(
            f"\nsnapshot: {SNAPSHOT_ROWS} rows in {snapshot_s:.2f} s = {SNAPSHOT_ROWS / snapshot_s:,.0f} rows/s"
        )
        worker.wait_for_state("inventory-connector", tasks=1)

        sql(
            db["dsn"],
            f"INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('Anne', 'K', 'a@k')",
        )
        sql(db["dsn"], f"UPDATE {tag}.customers SET email = 'anne@k' WHERE email = 'a@k'")
        sql(db["dsn"], f"DELETE FROM {tag}.customers WHERE email = 'anne@k'")
        sql(db["dsn"], f"TRUNCATE {tag}.customers")
        wait_count(data_dir, topic, SNAPSHOT_ROWS + 5)
        records = read_topic("embedded", data_dir, topic)
        write_ms = records[SNAPSHOT_ROWS - 1].timestamp - records[0].timestamp
        print(f"snapshot rows written first to last in {write_ms} ms (without connector start-up)")
        events = values(data_dir, topic)
        assert [e["op"] for e in events[:SNAPSHOT_ROWS] if e] == ["r"] * SNAPSHOT_ROWS
        assert events[0] and events[0]["source"]["snapshot"] == "first"
        assert events[SNAPSHOT_ROWS - 1] and events[SNAPSHOT_ROWS - 1]["source"]["snapshot"] == "last"
        tail = events[SNAPSHOT_ROWS:]
        assert [e and e["op"] for e in tail] == ["c", "u", "d", None, "t"]
        created = tail[0]
        assert created is not None
        assert created["after"] == {
            "id": SNAPSHOT_ROWS + 1,
            "first_name": "Anne",
            "last_name": "K",
            "email": "a@k",
        }
        assert created["source"]["connector"] == "postgresql" and created["source"]["name"] == "dbserver1"
        assert created["source"]["schema"] == tag and created["source"]["table"] == "customers"
        whole = json.loads(records[SNAPSHOT_ROWS].value or b"")
        assert whole["schema"]["name"] == f"{topic}.Envelope"
        assert json.loads(records[SNAPSHOT_ROWS].key or b"") == {
            "schema": {"type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"}],
                       "optional": False, "name": f"{topic}.Key"},
            "payload": {"id": SNAPSHOT_ROWS + 1},
        }  # fmt: skip
        assert records[SNAPSHOT_ROWS + 3].value is None  # the tombstone
        assert json.loads(records[SNAPSHOT_ROWS + 3].key or b"")["payload"] == {"id": SNAPSHOT_ROWS + 1}

        # 50,000 inserts in one statement, end to end into the topic.
        before = topic_count(data_dir, topic)
        started = time.monotonic()
        sql(
            db["dsn"],
            f"INSERT INTO {tag}.customers (first_name, last_name, email) "
            f"SELECT 'S' || g, 'T' || g, 's' || g || '@x' FROM generate_series(1, {STREAM_ROWS}) g",
        )
        wait_count(data_dir, topic, before + STREAM_ROWS)
        stream_s = time.monotonic() - started
        print(f"streaming: {STREAM_ROWS} inserts in {stream_s:.2f} s = {STREAM_ROWS / stream_s:,.0f} rows/s")
        time.sleep(1.5)  # offsets stored and confirmed (flush every 500 ms, status every confirm)
        (entry,) = worker.client.get("/connectors/inventory-connector/offsets").json()["offsets"]
        last_stored_lsn = int(entry["offset"]["lsn"])
        worker.stop()
    finally:
        worker.close()

    stored = confirmed_flush(db)
    assert stored >= last_stored_lsn  # caught up with what was stored, idle afterwards
    # Changes while no worker runs; the slot must still hold them.
    sql(
        db["dsn"],
        f"INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('Late', 'L', 'late@x')",
    )
    sql(db["dsn"], f"UPDATE {tag}.customers SET last_name = 'LL' WHERE email = 'late@x'")
    assert confirmed_flush(db) == stored  # nobody confirms while the worker is down

    total = SNAPSHOT_ROWS + 5 + STREAM_ROWS
    worker = ServerProcess(data_dir, {"offset.flush.interval.ms": "500"}).start()
    try:
        worker.wait_for_state("inventory-connector", tasks=1, timeout=60)
        wait_count(data_dir, topic, total + 2)
        time.sleep(1.5)
        events = values(data_dir, topic)
        assert len(events) == total + 2, "no duplicates, no second snapshot"
        assert sum(1 for e in events if e and e["op"] == "r") == SNAPSHOT_ROWS
        late = events[-2:]
        assert [e and e["op"] for e in late] == ["c", "u"]
        assert late[1] and late[1]["after"]["last_name"] == "LL"
        ids = [e["after"]["id"] for e in events[SNAPSHOT_ROWS + 5 :] if e]
        assert len(ids) == STREAM_ROWS + 2 and len(set(ids)) == STREAM_ROWS + 1  # the update repeats an id
        offsets = worker.client.get("/connectors/inventory-connector/offsets").json()["offsets"]
        (entry,) = offsets
        assert entry["partition"] == {"server": "dbserver1"}
        assert "lsn" in entry["offset"] and "txId" in entry["offset"]
        worker.stop()
    finally:
        worker.close()
    assert confirmed_flush(db) >= stored
