"""Debezium change events built from hand-made pgoutput messages, checked as JsonConverter JSON.

Expected JSON is written from the reference (§2.7, §2.8, §2.10 to §2.12), not from the code.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from connectors.converters.json import JsonConverter, JsonConverterConfig
from connectors.postgres.config import PostgresConfig
from connectors.postgres.events import (
    DEBEZIUM_VERSION,
    ChangeEventBuilder,
    SnapshotPosition,
    StreamPosition,
    TableMetadata,
    snapshot_marker,
)
from connectors.postgres.pgoutput import (
    UNCHANGED,
    Begin,
    Commit,
    Delete,
    Insert,
    Relation,
    RelationColumn,
    ReplicaIdentity,
    Truncate,
    Update,
)
from connectors.postgres.types import ValueConverters, ValueOptions
from connectors.sdk import SourceRecord

BASE = {
    "database.hostname": "db.example.com",
    "database.user": "penstock",
    "database.dbname": "inventory",
    "topic.prefix": "dbserver1",
}
NOW_NS = 1_714_558_600_123_456_789  # the fixed "processing" clock
COMMIT_US = 1_714_558_530_500_000
XID = 771

COLUMNS = (
    RelationColumn("id", 23, -1, True),
    RelationColumn("name", 25, -1, False),
    RelationColumn("price", 1700, (10 << 16 | 2) + 4, False),
    RelationColumn("created_at", 1114, -1, False),
    RelationColumn("updated_at", 1184, -1, False),
    RelationColumn("born", 1082, -1, False),
)
CUSTOMERS = Relation(16400, "public", "customers", ReplicaIdentity.DEFAULT, COLUMNS)
META = TableMetadata(("id",), frozenset({"id"}))
ROW = ("1", "Anne", "10.50", "2024-05-01 10:15:30.123456", "2024-05-01 10:15:30.123456+00", "2024-05-01")
AFTER = {
    "id": 1,
    "name": "Anne",
    "price": "BBo=",
    "created_at": 1714558530123456,
    "updated_at": "2024-05-01T10:15:30.123456Z",
    "born": 19844,
}


def builder(**props: str) -> ChangeEventBuilder:
    config = PostgresConfig.parse({**BASE, **props})
    converters = ValueConverters(ValueOptions.from_config({**BASE, **props}))
    b = ChangeEventBuilder(config, converters, clock=lambda: NOW_NS)
    b.relation(CUSTOMERS, META)
    return b


def position() -> StreamPosition:
    pos = StreamPosition(lsn_commit=0x1000, lsn_proc=0x1000)
    pos.begin(Begin(final_lsn=0x3000, commit_ts_us=COMMIT_US, xid=XID), 0x2000)
    return pos


def converter(schemas: bool, *, is_key: bool = False) -> JsonConverter:
    conv = JsonConverter()
    conv.configure(JsonConverterConfig(schemas_enable=schemas), is_key=is_key)
    return conv


def value_json(record: SourceRecord, schemas: bool = False) -> Any:
    data = converter(schemas).from_connect_data(record.topic, record.value_schema, record.value)
    return None if data is None else json.loads(data)


def key_json(record: SourceRecord, schemas: bool = False) -> Any:
    data = converter(schemas, is_key=True).from_connect_data(record.topic, record.key_schema, record.key)
    return None if data is None else json.loads(data)


def source(lsn: int, **changes: Any) -> dict[str, Any]:
    return {
        "version": DEBEZIUM_VERSION,
        "connector": "postgresql",
        "name": "dbserver1",
        "ts_ms": COMMIT_US // 1000,
        "snapshot": "false",
        "db": "inventory",
        "sequence": f'["4096","{lsn}"]',
        "ts_us": COMMIT_US,
        "ts_ns": COMMIT_US * 1000,
        "schema": "public",
        "table": "customers",
        "txId": XID,
        "lsn": lsn,
        "xmin": None,
        **changes,
    }


def envelope(op: str, before: Any, after: Any, src: dict[str, Any]) -> dict[str, Any]:
    return {
        "before": before,
        "after": after,
        "source": src,
        "transaction": None,
        "op": op,
        "ts_ms": NOW_NS // 1_000_000,
        "ts_us": NOW_NS // 1000,
        "ts_ns": NOW_NS,
    }


def fields_of(schema_json: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["field"]: f for f in schema_json["fields"]}


# -- insert, schemas, source ------------------------------------------------------------------------


def test_insert_payload_schemas_disabled() -> None:
    b = builder()
    (record,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, position())
    assert record.topic == "dbserver1.public.customers"
    assert record.timestamp is None
    assert record.source_partition == {"server": "dbserver1"}
    assert key_json(record) == {"id": 1}
    assert value_json(record) == envelope("c", None, AFTER, source(0x2100))
    # Key order of the payload as the converter writes it (envelope of 2.7+).
    raw = converter(False).from_connect_data(record.topic, record.value_schema, record.value)
    assert raw is not None and raw.startswith(b'{"before":null,"after":{"id":1,"name":"Anne","price":"BBo=",')
    assert list(json.loads(raw)) == [
        "before",
        "after",
        "source",
        "transaction",
        "op",
        "ts_ms",
        "ts_us",
        "ts_ns",
    ]


def test_schemas_enabled_fragments_match_the_reference() -> None:
    b = builder()
    (record,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, position())
    key = converter(True, is_key=True).from_connect_data(record.topic, record.key_schema, record.key)
    assert key == (
        b'{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"id"}],'
        b'"optional":false,"name":"dbserver1.public.customers.Key"},"payload":{"id":1}}'
    )
    raw = converter(True).from_connect_data(record.topic, record.value_schema, record.value)
    assert raw is not None
    text = raw.decode()
    for fragment in (
        '{"type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1,"field":"created_at"}',
        '{"type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1,"field":"updated_at"}',
        '{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,'
        '"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"price"}',
        '{"type":"int32","optional":true,"name":"io.debezium.time.Date","version":1,"field":"born"}',
        '{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":'
        '{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},'
        '"default":"false","field":"snapshot"}',
        '{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},',
        '"optional":false,"name":"dbserver1.public.customers.Envelope","version":2},"payload":',
    ):
        assert fragment in text, fragment
    schema = json.loads(raw)["schema"]
    assert [f["field"] for f in schema["fields"]] == [
        "before", "after", "source", "transaction", "op", "ts_ms", "ts_us", "ts_ns",
    ]  # fmt: skip
    before = fields_of(schema)["before"]
    assert before["name"] == "dbserver1.public.customers.Value" and before["optional"] is True
    assert "version" not in before
    assert fields_of(before)["id"]["optional"] is False  # NOT NULL (primary key)
    assert fields_of(before)["name"]["optional"] is True
    src = fields_of(schema)["source"]
    assert src["name"] == "io.debezium.connector.postgresql.Source" and src["optional"] is False
    assert [(f["field"], f["type"], f["optional"]) for f in src["fields"]] == [
        ("version", "string", False), ("connector", "string", False), ("name", "string", False),
        ("ts_ms", "int64", False), ("snapshot", "string", True), ("db", "string", False),
        ("sequence", "string", True), ("ts_us", "int64", True), ("ts_ns", "int64", True),
        ("schema", "string", False), ("table", "string", False), ("txId", "int64", True),
        ("lsn", "int64", True), ("xmin", "int64", True),
    ]  # fmt: skip
    tx = fields_of(schema)["transaction"]
    assert (tx["name"], tx["version"], tx["optional"]) == ("event.block", 1, True)
    assert [(f["field"], f["type"]) for f in tx["fields"]] == [
        ("id", "string"), ("total_order", "int64"), ("data_collection_order", "int64"),
    ]  # fmt: skip


def test_schemas_are_built_once_per_relation() -> None:
    b = builder()
    pos = position()
    (one,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, pos)
    (two,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2200, pos)
    assert one.value_schema is two.value_schema and one.key_schema is two.key_schema
    # A new Relation message (ALTER TABLE) rebuilds them.
    altered = Relation(
        16400, "public", "customers", ReplicaIdentity.DEFAULT, (*COLUMNS, RelationColumn("x", 23, -1, False))
    )
    (three,) = b.insert(Insert(altered, (*ROW, "5"), XID), 0x2300, pos)
    assert three.value_schema is not one.value_schema
    assert value_json(three)["after"]["x"] == 5


def test_offsets_and_sequence_follow_the_stream() -> None:
    b = builder()
    pos = position()
    (first,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, pos)
    (second,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2200, pos)
    assert first.source_offset == {
        "ts_usec": COMMIT_US, "txId": XID, "lsn": 0x2100, "lsn_proc": 0x2000, "lsn_commit": 0x1000,
        "messageType": "INSERT",
    }  # fmt: skip
    assert second.source_offset is not None and second.source_offset["lsn_proc"] == 0x2100
    pos.commit(Commit(0, 0x3000, 0x3008, COMMIT_US, XID), 0x3000)
    assert pos.offset(0x3000) == {
        "ts_usec": COMMIT_US, "txId": XID, "lsn": 0x3000, "lsn_proc": 0x3000, "lsn_commit": 0x3000,
        "messageType": "COMMIT",
    }  # fmt: skip
    pos.begin(Begin(0x5000, COMMIT_US + 1, XID + 1), 0x4000)
    (third,) = b.insert(Insert(CUSTOMERS, ROW, XID + 1), 0x4100, pos)
    assert value_json(third)["source"]["sequence"] == '["12288","16640"]'
    assert value_json(third)["source"]["txId"] == XID + 1


# -- update -----------------------------------------------------------------------------------------


def test_update_default_identity_has_no_before() -> None:
    b = builder()
    new = ("1", "Anna", *ROW[2:])
    (record,) = b.update(Update(CUSTOMERS, new, None, None, XID), 0x2100, position())
    assert key_json(record) == {"id": 1}
    assert value_json(record) == envelope("u", None, {**AFTER, "name": "Anna"}, source(0x2100))
    assert record.source_offset is not None and record.source_offset["messageType"] == "UPDATE"


def test_update_full_identity_has_the_old_row() -> None:
    b = builder()
    full = Relation(16400, "public", "customers", ReplicaIdentity.FULL, tuple(
        RelationColumn(c.name, c.type_oid, c.type_modifier, True) for c in COLUMNS
    ))  # fmt: skip
    b.relation(full)  # metadata kept from the first registration: key is still only "id"
    new = ("1", "Anna", *ROW[2:])
    (record,) = b.update(Update(full, new, ROW, "O", XID), 0x2100, position())
    assert key_json(record) == {"id": 1}
    payload = value_json(record)
    assert payload["before"] == AFTER and payload["after"] == {**AFTER, "name": "Anna"}


def test_primary_key_change_is_delete_tombstone_create() -> None:
    b = builder()
    old = ("1", None, None, None, None, None)
    new = ("2", *ROW[1:])
    records = b.update(Update(CUSTOMERS, new, old, "K", XID), 0x2100, position())
    assert [r.value is None for r in records] == [False, True, False]
    delete, tombstone, create = records
    assert (
        key_json(delete) == {"id": 1} and key_json(tombstone) == {"id": 1} and key_json(create) == {"id": 2}
    )
    before = dict.fromkeys(AFTER) | {"id": 1}
    assert value_json(delete) == envelope("d", before, None, source(0x2100))
    assert value_json(create) == envelope("c", None, {**AFTER, "id": 2}, source(0x2100))
    assert tombstone.value_schema is None and tombstone.key_schema is delete.key_schema
    assert converter(True).from_connect_data(tombstone.topic, None, None) is None
    ((name, value),) = [(h.key, h.value) for h in delete.headers]
    assert name == "__debezium.newkey" and value.values == {"id": 2}
    assert tombstone.headers == delete.headers
    ((name, value),) = [(h.key, h.value) for h in create.headers]
    assert name == "__debezium.oldkey" and value.values == {"id": 1}
    assert delete.source_offset == tombstone.source_offset == create.source_offset

    no_tombstones = builder(**{"tombstones.on.delete": "false"})
    records = no_tombstones.update(Update(CUSTOMERS, new, old, "K", XID), 0x2100, position())
    assert [value_json(r)["op"] for r in records] == ["d", "c"]


def test_unchanged_toast_value_is_the_placeholder() -> None:
    b = builder()
    new = ("1", UNCHANGED, *ROW[2:])
    (record,) = b.update(Update(CUSTOMERS, new, None, None, XID), 0x2100, position())
    assert value_json(record)["after"]["name"] == "__debezium_unavailable_value"
    custom = builder(**{"unavailable.value.placeholder": "N/A"})
    (record,) = custom.update(Update(CUSTOMERS, new, None, None, XID), 0x2100, position())
    assert value_json(record)["after"]["name"] == "N/A"


# -- delete, truncate, skipped operations -----------------------------------------------------------


def test_delete_then_tombstone_and_required_fallbacks() -> None:
    columns = (*COLUMNS, RelationColumn("qty", 23, -1, False), RelationColumn("code", 25, -1, False))
    rel = Relation(16401, "public", "items", ReplicaIdentity.DEFAULT, columns)
    b = builder()
    b.relation(rel, TableMetadata(("id",), frozenset({"id", "qty", "code"})))
    old = ("7", None, None, None, None, None, None, None)
    delete, tombstone = b.delete(Delete(rel, old, "K", XID), 0x2100, position())
    payload = value_json(delete)
    assert payload["op"] == "d" and payload["after"] is None
    assert payload["before"] == {**dict.fromkeys(AFTER), "id": 7, "qty": 0, "code": ""}
    assert key_json(delete) == key_json(tombstone) == {"id": 7}
    assert tombstone.value is None and tombstone.value_schema is None
    assert tombstone.source_offset == delete.source_offset
    assert delete.source_offset is not None and delete.source_offset["messageType"] == "DELETE"


def test_truncate_is_skipped_by_default() -> None:
    message = Truncate((CUSTOMERS,), False, False, XID)
    assert builder().truncate(message, 0x2100, position()) == []
    (record,) = builder(**{"skipped.operations": "none"}).truncate(message, 0x2100, position())
    assert record.key is None and record.key_schema is None
    assert value_json(record) == envelope("t", None, None, source(0x2100))
    assert record.source_offset is not None and record.source_offset["messageType"] == "TRUNCATE"


def test_skipped_operations() -> None:
    b = builder(**{"skipped.operations": "c,d"})
    pos = position()
    assert b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, pos) == []
    assert b.delete(Delete(CUSTOMERS, ROW, "K", XID), 0x2200, pos) == []
    assert len(b.update(Update(CUSTOMERS, ROW, None, None, XID), 0x2300, pos)) == 1
    assert pos.lsn_proc == 0x2300


def test_table_without_primary_key_has_a_null_key() -> None:
    rel = Relation(16402, "public", "log", ReplicaIdentity.DEFAULT, (RelationColumn("msg", 25, -1, False),))
    b = builder()
    (record,) = b.insert(Insert(rel, ("hi",), XID), 0x2100, position())
    assert record.key is None and record.key_schema is None
    assert converter(True, is_key=True).from_connect_data(record.topic, None, None) is None
    assert value_json(record)["after"] == {"msg": "hi"}


def test_filters_and_dispatch() -> None:
    b = builder(
        **{"column.exclude.list": r"public\.customers\.(id|price)", "table.exclude.list": r"public\.hidden"}
    )
    (record,) = b.change(Insert(CUSTOMERS, ROW, XID), 0x2100, position())
    after = value_json(record)["after"]
    assert "price" not in after and "id" not in after
    assert key_json(record) == {"id": 1}  # key columns stay in the key
    hidden = Relation(16403, "public", "hidden", ReplicaIdentity.DEFAULT, COLUMNS)
    assert b.change(Insert(hidden, ROW, XID), 0x2200, position()) == []
    assert b.change(Begin(0, 0, 1), 0x2300, position()) == []


def test_message_key_columns_replace_the_primary_key() -> None:
    b = builder(**{"message.key.columns": r"public\.cust.*:name,ID;other.t:x"})
    (record,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, position())
    assert key_json(record) == {"id": 1, "name": "Anne"}  # table column order
    schema = json.loads(converter(True, is_key=True).schema_json(record.key_schema))  # type: ignore[arg-type]
    assert [(f["field"], f["optional"]) for f in schema["fields"]] == [("id", False), ("name", True)]
    unmatched = builder(**{"message.key.columns": "other.t:x"})
    (record,) = unmatched.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, position())
    assert key_json(record) == {"id": 1}


def test_transaction_metadata_block() -> None:
    b = builder(**{"provide.transaction.metadata": "true"})
    pos = position()
    b.insert(Insert(CUSTOMERS, ROW, XID), 0x2100, pos)
    (second,) = b.insert(Insert(CUSTOMERS, ROW, XID), 0x2200, pos)
    assert value_json(second)["transaction"] == {"id": str(XID), "total_order": 2, "data_collection_order": 2}


# -- snapshot ---------------------------------------------------------------------------------------


def test_snapshot_markers() -> None:
    assert snapshot_marker(True, True, True, True) == "last"
    assert snapshot_marker(True, False, True, False) == "first"
    assert snapshot_marker(True, False, True, True) == "first"  # a one-row first table
    assert snapshot_marker(False, False, False, True) == "last_in_data_collection"
    assert snapshot_marker(False, False, True, False) == "first_in_data_collection"
    assert snapshot_marker(False, True, False, True) == "last"
    assert snapshot_marker(False, False, False, False) == "true"


def test_snapshot_read() -> None:
    b = builder()
    pos = SnapshotPosition(lsn=0x9000, tx_id=700)
    record = b.snapshot_read(CUSTOMERS, list(ROW), "first", pos)
    assert record is not None
    now_us = NOW_NS // 1000
    src = source(0x9000, snapshot="first", sequence='[null,"36864"]', txId=700)
    src |= {"ts_ms": now_us // 1000, "ts_us": now_us, "ts_ns": now_us * 1000}
    assert value_json(record) == envelope("r", None, AFTER, src)
    assert key_json(record) == {"id": 1}
    assert record.source_offset == {
        "ts_usec": now_us, "txId": 700, "lsn": 0x9000, "snapshot": True, "last_snapshot_record": False,
    }  # fmt: skip
    last = b.snapshot_read(CUSTOMERS, ROW, "last", pos)
    assert last is not None and last.source_offset is not None
    assert last.source_offset["last_snapshot_record"] is True


# -- cost -------------------------------------------------------------------------------------------


def test_cost_per_event_ten_columns() -> None:
    columns = tuple(
        RelationColumn(name, oid, typmod, name == "id")
        for name, oid, typmod in [
            ("id", 20, -1), ("a", 23, -1), ("b", 25, -1), ("c", 25, -1), ("d", 1700, (12 << 16 | 2) + 4),
            ("e", 1114, -1), ("f", 1184, -1), ("g", 16, -1), ("h", 701, -1), ("i", 1082, -1),
        ]
    )  # fmt: skip
    rel = Relation(16500, "public", "bench", ReplicaIdentity.DEFAULT, columns)
    b = builder()
    b.relation(rel, TableMetadata(("id",), frozenset({"id"})))
    row = ("42", "7", "hello", "world", "1234.50", "2024-05-01 10:15:30.123456", "2024-05-01 10:15:30+00",
           "t", "1.5", "2024-05-01")  # fmt: skip
    message = Insert(rel, row, XID)
    pos = position()
    n = 5000
    start = time.perf_counter()
    for lsn in range(n):
        b.insert(message, lsn, pos)
    per_event_us = (time.perf_counter() - start) / n * 1e6
    print(f"\n{per_event_us:.1f} µs per insert event (10 columns)")
    assert per_event_us < 500  # generous: a loaded shared CI box


@pytest.mark.parametrize("schemas", [True, False])
def test_every_record_converts(schemas: bool) -> None:
    b = builder(**{"skipped.operations": "none"})
    pos = position()
    records = [
        *b.insert(Insert(CUSTOMERS, ROW, XID), 1, pos),
        *b.update(Update(CUSTOMERS, ("2", *ROW[1:]), ROW, "O", XID), 2, pos),
        *b.delete(Delete(CUSTOMERS, ROW, "O", XID), 3, pos),
        *b.truncate(Truncate((CUSTOMERS,), False, False, XID), 4, pos),
    ]
    for record in records:
        converter(schemas).from_connect_data(record.topic, record.value_schema, record.value)
        converter(schemas, is_key=True).from_connect_data(record.topic, record.key_schema, record.key)
        for header in record.headers:
            converter(schemas).from_connect_header(record.topic, header.key, header.schema, header.value)
