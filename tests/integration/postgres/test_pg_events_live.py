"""Change events from a real slot: pgoutput bytes of real statements, decoded, built, JSON-converted.

Covers insert/update/delete/truncate, REPLICA IDENTITY FULL ``before``, a primary key change, a
table without primary key, the tombstone after a delete, an unchanged TOASTed value, and a
snapshot row (COPY text) of the same table giving the same ``after`` as the streamed insert.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.converters.json import JsonConverter, JsonConverterConfig
from connectors.postgres.config import PostgresConfig
from connectors.postgres.events import ChangeEventBuilder, SnapshotPosition, StreamPosition, describe_table
from connectors.postgres.pgoutput import Begin, Commit, PgOutputDecoder, Relation, parse_lsn
from connectors.postgres.types import (
    SESSION_SETTINGS,
    CopyTextParser,
    ValueConverters,
    ValueOptions,
    copy_select,
)
from connectors.sdk import SourceRecord
from tests.support.pg_capture import Capture

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def payload(record: SourceRecord) -> Any:
    conv = JsonConverter()
    conv.configure(JsonConverterConfig(schemas_enable=False))
    data = conv.from_connect_data(record.topic, record.value_schema, record.value)
    return None if data is None else json.loads(data)


def key(record: SourceRecord) -> Any:
    conv = JsonConverter()
    conv.configure(JsonConverterConfig(schemas_enable=False), is_key=True)
    data = conv.from_connect_data(record.topic, record.key_schema, record.key)
    return None if data is None else json.loads(data)


async def test_events_from_a_real_slot(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn, server_settings=dict(SESSION_SETTINGS)) as cap:
        s = cap.schema
        await cap.execute(
            f"CREATE TABLE {s}.cust (id int PRIMARY KEY, name text, qty int NOT NULL DEFAULT 0, "
            "price numeric(10,2), doc text)"
        )
        await cap.execute(f"CREATE TABLE {s}.full_t (id int PRIMARY KEY, v text)")
        await cap.execute(f"ALTER TABLE {s}.full_t REPLICA IDENTITY FULL")
        await cap.execute(f"CREATE TABLE {s}.nopk (v text)")
        await cap.start()
        big = "(SELECT string_agg(md5(g::text || random()::text), '') FROM generate_series(1, 3000) g)"
        for sql in (
            f"INSERT INTO {s}.cust VALUES (1, 'Anne', 3, 10.50, {big})",
            f"UPDATE {s}.cust SET name = 'Anna' WHERE id = 1",  # doc is TOASTed and unchanged
            f"UPDATE {s}.cust SET id = 2 WHERE id = 1",  # primary key change
            f"DELETE FROM {s}.cust WHERE id = 2",
            f"INSERT INTO {s}.full_t VALUES (1, 'a')",
            f"UPDATE {s}.full_t SET v = 'b'",
            f"INSERT INTO {s}.nopk VALUES ('x')",
            f"INSERT INTO {s}.cust VALUES (5, NULL, 1, NULL, NULL)",
            f"TRUNCATE {s}.cust",
        ):
            await cap.execute(sql)

        props = {
            "database.hostname": "localhost",
            "database.user": "postgres",
            "database.dbname": "penstock",
            "topic.prefix": "live",
            "skipped.operations": "none",
        }
        builder = ChangeEventBuilder(
            PostgresConfig.parse(props), ValueConverters(ValueOptions.from_config(props))
        )
        decoder = PgOutputDecoder()
        pos = StreamPosition()
        records: list[SourceRecord] = []
        described: dict[int, Relation] = {}
        for lsn_text, _, data in await cap.changes():
            lsn = parse_lsn(lsn_text)
            message = decoder.decode(data)
            if isinstance(message, Relation):
                relation, metadata = await describe_table(cap.conn, message.oid)
                described[message.oid] = relation
                assert relation == message  # the catalog's view lines up with pgoutput's
                builder.relation(message, metadata)
            elif isinstance(message, Begin):
                pos.begin(message, lsn)
            elif isinstance(message, Commit):
                pos.commit(message, lsn)
            else:
                records.extend(builder.change(message, lsn, pos))

        def on(table: str) -> list[SourceRecord]:
            return [r for r in records if r.topic == f"live.{s}.{table}"]

        ops = [(payload(r) or {}).get("op") for r in on("cust")]
        # insert, update, (d, tombstone, c) for the key change, delete + tombstone, insert, truncate
        assert ops == ["c", "u", "d", None, "c", "d", None, "c", "t"]
        cust = on("cust")
        insert = payload(cust[0])
        assert key(cust[0]) == {"id": 1}
        assert insert["before"] is None
        assert {k: insert["after"][k] for k in ("id", "name", "qty", "price")} == {
            "id": 1, "name": "Anne", "qty": 3, "price": "BBo=",
        }  # fmt: skip
        assert len(insert["after"]["doc"]) == 96000
        assert insert["source"]["schema"] == s and insert["source"]["table"] == "cust"
        assert insert["source"]["db"] == "penstock" and insert["source"]["snapshot"] == "false"
        assert insert["source"]["lsn"] == cust[0].source_offset["lsn"]  # type: ignore[index]

        update = payload(cust[1])
        assert update["before"] is None  # REPLICA IDENTITY DEFAULT, key unchanged
        assert update["after"]["name"] == "Anna"
        assert update["after"]["doc"] == "__debezium_unavailable_value"

        delete, tombstone, create = cust[2], cust[3], cust[4]
        assert key(delete) == {"id": 1} and key(tombstone) == {"id": 1} and key(create) == {"id": 2}
        assert payload(delete)["before"] == {"id": 1, "name": None, "qty": 0, "price": None, "doc": None}
        assert [h.key for h in delete.headers] == ["__debezium.newkey"]
        assert [h.key for h in create.headers] == ["__debezium.oldkey"]
        assert tombstone.value is None and tombstone.value_schema is None

        removed = payload(cust[5])
        assert removed["before"]["id"] == 2 and removed["after"] is None
        assert cust[6].value is None and key(cust[6]) == {"id": 2}

        truncate = cust[8]
        assert (
            truncate.key is None
            and payload(truncate)["before"] is None
            and payload(truncate)["after"] is None
        )

        full_update = payload(on("full_t")[1])
        assert full_update["op"] == "u"
        assert full_update["before"] == {"id": 1, "v": "a"} and full_update["after"] == {"id": 1, "v": "b"}
        assert key(on("full_t")[1]) == {"id": 1}

        (nopk,) = on("nopk")
        assert nopk.key is None and nopk.key_schema is None and payload(nopk)["after"] == {"v": "x"}

        # Offsets: Debezium's keys, LSNs non-decreasing, the commit of the previous transaction.
        offsets = [r.source_offset or {} for r in records]
        assert all({"lsn", "txId", "ts_usec", "lsn_proc", "messageType"} <= set(o) for o in offsets)
        assert [o["lsn"] for o in offsets] == sorted(o["lsn"] for o in offsets)
        assert "lsn_commit" in offsets[-1] and offsets[-1]["lsn_commit"] < offsets[-1]["lsn"]

        # A snapshot row of the same data converts to the same ``after`` as the streamed insert.
        await cap.execute(f"INSERT INTO {s}.full_t VALUES (2, 'snap')")
        oid = await cap.conn.fetchval(f"SELECT '{s}.full_t'::regclass::oid")
        relation, metadata = await describe_table(cap.conn, oid)
        snap = ChangeEventBuilder(
            PostgresConfig.parse(props), ValueConverters(ValueOptions.from_config(props))
        )
        snap.relation(relation, metadata)
        rows: list[list[str | None]] = []
        parser = CopyTextParser()

        async def sink(chunk: bytes) -> None:
            rows.extend(parser.feed(chunk))

        await cap.conn.copy_from_query(copy_select(f'"{s}"."full_t"', relation.column_names), output=sink)
        parser.close()
        rows.sort(key=lambda row: int(row[0] or 0))
        read = [
            snap.snapshot_read(relation, row, "first" if i == 0 else "last", SnapshotPosition(lsn=1, tx_id=9))
            for i, row in enumerate(rows)
        ]
        assert [payload(r)["after"] for r in read if r is not None] == [
            {"id": 1, "v": "b"},
            {"id": 2, "v": "snap"},
        ]
        assert [payload(r)["source"]["snapshot"] for r in read if r is not None] == ["first", "last"]
