"""The PostgreSQL connector end to end in real worker processes.

* On Kafka (a standalone worker against the real broker): Debezium's tutorial configuration with
  JsonConverter schemas on; the snapshot, then insert / update / delete + tombstone in order with
  their exact envelopes and keys; a restart that loses nothing and does not snapshot again.
* The 1.x configuration of older deployments (``database.server.name`` + ``table.whitelist``, no
  ``topic.prefix``, no ``plugin.name``) in embedded mode.
* ``kill -9`` of an embedded worker while a writer inserts rows: every row arrives once, and the
  slot is never confirmed past what the worker had stored.
* Bad input through REST: an unreachable server / missing database refused with the key named; a
  table listed before it exists is captured once it is created.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import asyncpg
import httpx
import pytest

from connectors.postgres.lsn import parse_lsn
from tests.support.pg_sync import drop_tagged, sql
from tests.support.server import ServerProcess, free_port, wait_until
from tests.support.topics import read_topic

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

JSON = "org.apache.kafka.connect.json.JsonConverter"




@pytest.fixture
def db(postgres_dsn: str) -> Iterator[dict[str, str]]:
    tag = f"pge2e_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    sql(
        postgres_dsn,
        f"""
        CREATE SCHEMA {tag};
        CREATE TABLE {tag}.customers (id serial PRIMARY KEY, first_name varchar(255) NOT NULL,
                                      last_name varchar(255) NOT NULL, email varchar(255) NOT NULL UNIQUE);
        INSERT INTO {tag}.customers (first_name, last_name, email)
            VALUES ('Sally', 'Thomas', 'sally@example.com'), ('George', 'Bailey', 'gbailey@example.com'),
                   ('Edward', 'Walker', 'ed@walker.com');
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


def tutorial(db: dict[str, str], prefix: str) -> dict[str, str]:
    """Debezium's tutorial registration (``register-postgres.json``) for this server."""
    return {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "database.hostname": db["host"],
        "database.port": db["port"],
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db["dbname"],
        "topic.prefix": prefix,
        "schema.include.list": db["tag"],
        "plugin.name": "pgoutput",
        "slot.name": f"{db['tag']}_slot",
        "publication.name": f"{db['tag']}_pub",
        "publication.autocreate.mode": "filtered",
        "slot.retry.delay.ms": "500",
        "key.converter": JSON,
        "value.converter": JSON,
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
    }


def payloads(records: list[Any]) -> list[dict[str, Any] | None]:
    return [None if r.value is None else json.loads(r.value)["payload"] for r in records]


def key_of(record: Any) -> Any:
    return json.loads(record.key)


# -- 1. On Kafka ------------------------------------------------------------------------------------


@pytest.mark.kafka
def test_tutorial_on_kafka_standalone(tmp_path: Path, db: dict[str, str], kafka_bootstrap: str) -> None:
    tag = db["tag"]
    prefix = f"{tag}srv"
    topic = f"{prefix}.{tag}.customers"
    connector_file = tmp_path / "inventory.json"
    config = {
        **tutorial(db, prefix),
        # The broker does not auto-create topics: KIP-158 creation, as with such a broker in Debezium.
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
    }
    connector_file.write_text(json.dumps({"name": "inventory-connector", "config": config}))
    settings = {
        "bootstrap.servers": kafka_bootstrap,
        "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
        "offset.flush.interval.ms": "500",
    }

    def start() -> ServerProcess:
        return ServerProcess(
            tmp_path / "w", settings, mode="standalone", connector_files=(connector_file,)
        ).start(60)

    def records(n: int) -> list[Any]:
        return wait_until(
            lambda: (got := read_topic("kafka", tmp_path, topic, kafka_bootstrap)) and len(got) >= n and got,
            timeout=60,
            interval=0.5,
            message=f"{n} records on {topic}",
        )

    worker = start()
    try:
        worker.wait_for_state("inventory-connector", tasks=1, timeout=60)
        snapshot = records(3)
        assert len(snapshot) == 3
        events = payloads(snapshot)
        assert [e and e["op"] for e in events] == ["r", "r", "r"]
        assert [e and e["source"]["snapshot"] for e in events] == ["first", "true", "last"]
        for e in events:
            assert e is not None and e["before"] is None
            assert (e["source"]["db"], e["source"]["schema"], e["source"]["table"]) == (
                db["dbname"], tag, "customers"
            )  # fmt: skip
        assert [e and e["after"]["email"] for e in events] == [
            "sally@example.com", "gbailey@example.com", "ed@walker.com"
        ]  # fmt: skip
        assert [key_of(r)["payload"] for r in snapshot] == [{"id": 1}, {"id": 2}, {"id": 3}]

        sql(
            db["dsn"],
            f"INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('Anne', 'K', 'a@k')",
        )
        sql(db["dsn"], f"UPDATE {tag}.customers SET email = 'anne@k' WHERE id = 4")
        sql(db["dsn"], f"DELETE FROM {tag}.customers WHERE id = 4")
        got = records(7)
        assert len(got) == 7
        tail = payloads(got[3:])
        assert [e and e["op"] for e in tail] == ["c", "u", "d", None]
        created, updated, deleted, _ = tail
        anne = {"id": 4, "first_name": "Anne", "last_name": "K", "email": "a@k"}
        assert created and created["before"] is None and created["after"] == anne
        # The table keeps the default REPLICA IDENTITY: "before" of an update/delete holds the key only.
        assert updated and updated["after"] == {**anne, "email": "anne@k"}
        assert deleted and deleted["after"] is None and deleted["before"]["id"] == 4
        for e in (created, updated, deleted):
            assert e is not None
            assert e["source"]["snapshot"] == "false" and e["source"]["name"] == prefix
            assert (e["source"]["db"], e["source"]["schema"], e["source"]["table"]) == (
                db["dbname"], tag, "customers"
            )  # fmt: skip
        key_schema = {
            "type": "struct", "fields": [{"type": "int32", "optional": False, "field": "id"}],
            "optional": False, "name": f"{topic}.Key",
        }  # fmt: skip
        for r in got[3:]:
            assert key_of(r) == {"schema": key_schema, "payload": {"id": 4}}  # the tombstone too
        assert got[6].value is None
        envelope = json.loads(got[3].value or b"")["schema"]
        assert envelope["name"] == f"{topic}.Envelope"
        assert [f["field"] for f in envelope["fields"]][:4] == ["before", "after", "source", "transaction"]
        time.sleep(1.5)  # offsets flushed (every 500 ms)
        assert worker.stop() in (0, -15)
    finally:
        worker.close()

    sql(db["dsn"], f"INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('Late', 'L', 'l@x')")
    worker = start()
    try:
        worker.wait_for_state("inventory-connector", tasks=1, timeout=60)
        got = records(8)
        time.sleep(2)
        got = read_topic("kafka", tmp_path, topic, kafka_bootstrap)
        events = payloads(got)
        assert len(events) == 8, "nothing lost, nothing repeated, no second snapshot"
        assert sum(1 for e in events if e and e["op"] == "r") == 3
        assert events[-1] and events[-1]["op"] == "c" and events[-1]["after"]["email"] == "l@x"
    finally:
        worker.close()


# -- 2. The 1.x configuration ------------------------------------------------------------------------


def test_1x_config_server_name_and_whitelist(tmp_path: Path, db: dict[str, str]) -> None:
    tag = db["tag"]
    server_name = f"{tag}old"
    config = {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": db["host"],
        "database.port": db["port"],
        "database.user": "postgres",
        "database.password": "postgres",
        "database.dbname": db["dbname"],
        "database.server.name": server_name,
        "table.whitelist": f"{tag}.customers",
        "slot.name": f"{tag}_slot",
        "publication.name": f"{tag}_pub",
        "key.converter": JSON,
        "value.converter": JSON,
    }
    data_dir = tmp_path / "data"
    topic = f"{server_name}.{tag}.customers"
    worker = ServerProcess(data_dir, {"offset.flush.interval.ms": "500"}).start()
    try:
        worker.create("old-style", config)
        worker.wait_for_state("old-style", tasks=1, timeout=60)
        wait_until(lambda: len(read_topic("embedded", data_dir, topic)) >= 3, 60, 0.1, f"snapshot on {topic}")
        sql(
            db["dsn"],
            f"INSERT INTO {tag}.customers (first_name, last_name, email) VALUES ('New', 'N', 'n@x')",
        )
        wait_until(lambda: len(read_topic("embedded", data_dir, topic)) >= 4, 60, 0.1, f"insert on {topic}")
        events = payloads(read_topic("embedded", data_dir, topic))
        assert [e and e["op"] for e in events] == ["r", "r", "r", "c"]
        assert events[3] and events[3]["source"]["name"] == server_name
        (entry,) = worker.client.get("/connectors/old-style/offsets").json()["offsets"]
        assert entry["partition"] == {"server": server_name}
    finally:
        worker.close()


# -- 3. kill -9 mid-stream ----------------------------------------------------------------------------


class Writer(threading.Thread):
    """Inserts one row per transaction, as fast as one connection can, until stopped."""

    def __init__(self, dsn: str, table: str) -> None:
        super().__init__(daemon=True)
        self.dsn, self.table = dsn, table
        self.stopping = threading.Event()
        self.written = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        async def go() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                while not self.stopping.is_set():
                    n = self.written + 1
                    await conn.execute(
                        f"INSERT INTO {self.table} (first_name, last_name, email) VALUES ($1, 'W', $2)",
                        f"w{n}",
                        f"w{n}@x",
                    )
                    self.written = n
                    await asyncio.sleep(0.002)
            finally:
                await conn.close()

        try:
            asyncio.run(go())
        except BaseException as e:  # reported by the test
            self.error = e


def test_kill_9_mid_stream_loses_nothing_and_never_confirms_unstored(
    tmp_path: Path, db: dict[str, str]
) -> None:
    tag = db["tag"]
    data_dir = tmp_path / "data"
    topic = f"dbserver1.{tag}.customers"
    settings = {"offset.flush.interval.ms": "500"}
    config = {**tutorial(db, "dbserver1"), "status.update.interval.ms": "200"}
    samples: list[tuple[int, dict[str, Any]]] = []  # (confirmed_flush_lsn, stored offset read after it)
    slot = f"{tag}_slot"

    def sample(worker: ServerProcess) -> None:
        rows = sql(
            db["dsn"],
            f"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{slot}'",
        )
        if not rows or rows[0][0] is None:
            return
        confirmed = parse_lsn(rows[0][0])
        try:
            response = worker.client.get("/connectors/inventory-connector/offsets")
        except httpx.TransportError:  # the worker is down: nothing to compare with
            return
        if response.status_code == 200 and response.json()["offsets"]:
            (entry,) = response.json()["offsets"]
            samples.append((confirmed, entry["offset"]))

    def streamed() -> int:
        return sum(1 for e in payloads(read_topic("embedded", data_dir, topic)) if e and e["op"] == "c")

    writer = Writer(db["dsn"], f"{tag}.customers")
    worker = ServerProcess(data_dir, settings).start()
    try:
        worker.create("inventory-connector", config)
        worker.wait_for_state("inventory-connector", tasks=1, timeout=60)
        wait_until(lambda: len(read_topic("embedded", data_dir, topic)) >= 3, 60, 0.1, "the snapshot")
        writer.start()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            sample(worker)
            time.sleep(0.1)
        assert streamed() > 100
        worker.kill()  # kill -9, the writer goes on
        behind = (
            writer.written - streamed()
        )  # committed in PostgreSQL, not in the log: the slot must replay them
        killed_at = sql(
            db["dsn"],
            f"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{slot}'",
        )
        time.sleep(2)
        worker = ServerProcess(data_dir, settings, port=worker.port).start()
        worker.wait_for_state("inventory-connector", tasks=1, timeout=60)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            sample(worker)
            time.sleep(0.1)
        writer.stopping.set()
        writer.join(10)
        assert writer.error is None, writer.error
        wait_until(lambda: streamed() >= writer.written, 60, 0.2, f"{writer.written} rows")
        time.sleep(1.5)
        sample(worker)
    finally:
        writer.stopping.set()
        worker.close()
    assert killed_at

    events = payloads(read_topic("embedded", data_dir, topic))
    assert sum(1 for e in events if e and e["op"] == "r") == 3, "no second snapshot"
    created = [e for e in events if e and e["op"] == "c"]
    emails = [e["after"]["email"] for e in created]
    assert emails == [f"w{n}@x" for n in range(1, writer.written + 1)], "every row once, in order"
    print(
        f"\n{writer.written} rows written ({behind} not stored at the kill), {len(samples)} samples of (confirmed_flush_lsn, stored offset)"
    )

    # Never confirmed past what was stored: for each sample, the first change not stored yet (its
    # LSN after the stored one) belongs to a transaction that commits after the confirmed LSN (the
    # slot replays it). A transaction's commit LSN is the ``lsn_commit`` carried by the next one's
    # records (``source.sequence[0]``).
    lsns = [int(e["source"]["lsn"]) for e in created]
    commits = [int(json.loads(e["source"]["sequence"])[0]) for e in created[1:]]
    checked = 0
    for confirmed, stored in samples:
        first_unstored = next((i for i, lsn in enumerate(lsns) if lsn > int(stored["lsn"])), None)
        if first_unstored is None or first_unstored >= len(commits):
            continue
        assert confirmed <= commits[first_unstored], (confirmed, stored, first_unstored)
        checked += 1
    assert checked > 10
    past_lsn = sum(1 for confirmed, stored in samples if confirmed > int(stored["lsn"]))
    print(
        f"{checked} samples checked; confirmed_flush_lsn > stored 'lsn' in {past_lsn} (a stored transaction's commit)"
    )


# -- 4. Bad input through REST -----------------------------------------------------------------------


def test_bad_connection_settings_are_refused_naming_the_key(tmp_path: Path, db: dict[str, str]) -> None:
    worker = ServerProcess(tmp_path / "data").start()
    try:
        base = tutorial(db, "dbserver1")
        for key, value in (
            ("database.port", str(free_port())),
            ("database.hostname", "no-such-host.invalid"),
            ("database.dbname", f"{db['tag']}_missing"),
        ):
            response = worker.client.post(
                "/connectors", json={"name": f"bad-{key}", "config": {**base, key: value}}
            )
            assert response.status_code == 400, (key, response.text)
            assert key in response.json()["message"], (key, response.text)
            validated = worker.client.put(
                "/connector-plugins/PostgresConnector/config/validate",
                json={**base, key: value, "name": "bad"},
            ).json()
            errors = {
                c["value"]["name"]: c["value"]["errors"] for c in validated["configs"] if c["value"]["errors"]
            }
            assert list(errors) == [key], errors  # the error sits on the key to fix
        assert worker.client.get("/connectors").json() == []
    finally:
        worker.close()


def test_a_listed_table_created_later_is_streamed(tmp_path: Path, db: dict[str, str]) -> None:
    tag = db["tag"]
    data_dir = tmp_path / "data"
    config = {
        **tutorial(db, "dbserver1"),
        "table.include.list": f"{tag}.customers,{tag}.orders",
        "publication.autocreate.mode": "all_tables",
    }
    del config["schema.include.list"]
    worker = ServerProcess(data_dir, {"offset.flush.interval.ms": "500"}).start()
    try:
        worker.create("later", config)
        worker.wait_for_state("later", tasks=1, timeout=60)
        wait_until(
            lambda: len(read_topic("embedded", data_dir, f"dbserver1.{tag}.customers")) >= 3,
            60,
            0.1,
            "snapshot",
        )
        sql(
            db["dsn"],
            f"CREATE TABLE {tag}.orders (id int PRIMARY KEY, qty int); INSERT INTO {tag}.orders VALUES (1, 5)",
        )
        topic = f"dbserver1.{tag}.orders"
        wait_until(lambda: read_topic("embedded", data_dir, topic), 30, 0.1, f"a record on {topic}")
        (event,) = payloads(read_topic("embedded", data_dir, topic))
        assert event and event["op"] == "c" and event["after"] == {"id": 1, "qty": 5}
    finally:
        worker.close()
