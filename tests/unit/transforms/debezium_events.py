"""Change events shaped exactly as Debezium's PostgreSQL connector (2.7+/3.x) emits them
(reference §2.7, §2.8), for table ``public.customers`` under ``topic.prefix=dbserver1``::

    CREATE TABLE public.customers (id int PRIMARY KEY, name varchar, country varchar DEFAULT 'NL');

With a schema the value is the ``...Envelope`` Struct; without one it is the plain map JsonConverter
reads with ``schemas.enable=false`` (every envelope field present, nulls included).
"""

from __future__ import annotations

from typing import Any

from connectors.sdk import SchemaBuilder, SourceRecord, Struct
from connectors.sdk.data import Schema, to_plain

PREFIX = "dbserver1"
TOPIC = "dbserver1.public.customers"
SOURCE_TS_MS = 1_714_558_530_123
EVENT_TS_MS = 1_714_558_531_000
LSN = 24_023_128
TX_ID = 555

KEY_SCHEMA = SchemaBuilder.struct().name(f"{TOPIC}.Key").field("id", SchemaBuilder.int32()).build()
ROW_SCHEMA = (
    SchemaBuilder.struct()
    .name(f"{TOPIC}.Value")
    .optional()
    .field("id", SchemaBuilder.int32())
    .field("name", SchemaBuilder.string().optional())
    .field("country", SchemaBuilder.string().optional().default_value("NL"))
    .build()
)
SNAPSHOT_SCHEMA = (
    SchemaBuilder.string()
    .optional()
    .name("io.debezium.data.Enum")
    .version(1)
    .parameter(
        "allowed", "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"
    )
    .default_value("false")
    .build()
)
SOURCE_SCHEMA = (
    SchemaBuilder.struct()
    .name("io.debezium.connector.postgresql.Source")
    .version(1)
    .field("version", SchemaBuilder.string())
    .field("connector", SchemaBuilder.string())
    .field("name", SchemaBuilder.string())
    .field("ts_ms", SchemaBuilder.int64())
    .field("snapshot", SNAPSHOT_SCHEMA)
    .field("db", SchemaBuilder.string())
    .field("sequence", SchemaBuilder.string().optional())
    .field("ts_us", SchemaBuilder.int64().optional())
    .field("ts_ns", SchemaBuilder.int64().optional())
    .field("schema", SchemaBuilder.string())
    .field("table", SchemaBuilder.string())
    .field("txId", SchemaBuilder.int64().optional())
    .field("lsn", SchemaBuilder.int64().optional())
    .field("xmin", SchemaBuilder.int64().optional())
    .build()
)
TRANSACTION_SCHEMA = (
    SchemaBuilder.struct()
    .name("event.block")
    .version(1)
    .optional()
    .field("id", SchemaBuilder.string())
    .field("total_order", SchemaBuilder.int64())
    .field("data_collection_order", SchemaBuilder.int64())
    .build()
)
ENVELOPE_SCHEMA = (
    SchemaBuilder.struct()
    .name(f"{TOPIC}.Envelope")
    .version(2)
    .field("before", ROW_SCHEMA)
    .field("after", ROW_SCHEMA)
    .field("source", SOURCE_SCHEMA)
    .field("transaction", TRANSACTION_SCHEMA)
    .field("op", SchemaBuilder.string())
    .field("ts_ms", SchemaBuilder.int64().optional())
    .field("ts_us", SchemaBuilder.int64().optional())
    .field("ts_ns", SchemaBuilder.int64().optional())
    .build()
)


def row(id: int, name: str | None = "Anne", country: str | None = "NL") -> Struct:
    return Struct(ROW_SCHEMA, {"id": id, "name": name, "country": country})


def key(id: int) -> Struct:
    return Struct(KEY_SCHEMA, {"id": id})


def source(snapshot: str = "false") -> Struct:
    return Struct(
        SOURCE_SCHEMA,
        {
            "version": "2.7.4.Final",
            "connector": "postgresql",
            "name": PREFIX,
            "ts_ms": SOURCE_TS_MS,
            "snapshot": snapshot,
            "db": "inventory",
            "sequence": f'["{LSN - 8}","{LSN}"]',
            "ts_us": SOURCE_TS_MS * 1000,
            "ts_ns": SOURCE_TS_MS * 1_000_000,
            "schema": "public",
            "table": "customers",
            "txId": TX_ID,
            "lsn": LSN,
            "xmin": None,
        },
    )


def transaction() -> Struct:
    return Struct(TRANSACTION_SCHEMA, {"id": f"{TX_ID}:{LSN}", "total_order": 1, "data_collection_order": 1})


def event(
    op: str,
    before: Struct | None = None,
    after: Struct | None = None,
    *,
    tx: Struct | None = None,
    headers: tuple[Any, ...] = (),
) -> SourceRecord:
    """A data change event; its key is the row's primary key (none for a truncate)."""
    image = after if after is not None else before
    envelope = Struct(
        ENVELOPE_SCHEMA,
        {
            "before": before,
            "after": after,
            "source": source("true" if op == "r" else "false"),
            "transaction": tx,
            "op": op,
            "ts_ms": EVENT_TS_MS,
            "ts_us": EVENT_TS_MS * 1000,
            "ts_ns": EVENT_TS_MS * 1_000_000,
        },
    )
    return SourceRecord(
        topic=TOPIC,
        key=key(image.values["id"]) if image is not None else None,
        key_schema=KEY_SCHEMA if image is not None else None,
        value=envelope,
        value_schema=ENVELOPE_SCHEMA,
        headers=headers,
        source_partition={"server": PREFIX},
        source_offset={"lsn": LSN, "txId": TX_ID, "ts_usec": SOURCE_TS_MS * 1000},
    )


def tombstone(id: int) -> SourceRecord:
    """What follows a delete when ``tombstones.on.delete=true``: same key, schema and value null."""
    return SourceRecord(
        topic=TOPIC,
        key=key(id),
        key_schema=KEY_SCHEMA,
        value=None,
        value_schema=None,
        source_partition={"server": PREFIX},
        source_offset={"lsn": LSN, "txId": TX_ID, "ts_usec": SOURCE_TS_MS * 1000},
    )


def schemaless(record: SourceRecord) -> SourceRecord:
    """The record as a sink reads it through JsonConverter with ``schemas.enable=false``."""
    return record.new_record(
        key=to_plain(record.key), key_schema=None, value=to_plain(record.value), value_schema=None
    )


def heartbeat() -> SourceRecord:
    schema: Schema = (
        SchemaBuilder.struct()
        .name("io.debezium.connector.common.Heartbeat")
        .field("ts_ms", SchemaBuilder.int64())
        .build()
    )
    key_schema = (
        SchemaBuilder.struct()
        .name("io.debezium.connector.common.ServerNameKey")
        .field("serverName", SchemaBuilder.string())
        .build()
    )
    return SourceRecord(
        topic=f"__debezium-heartbeat.{PREFIX}",
        key=Struct(key_schema, {"serverName": PREFIX}),
        key_schema=key_schema,
        value=Struct(schema, {"ts_ms": EVENT_TS_MS}),
        value_schema=schema,
        source_partition={"server": PREFIX},
    )
