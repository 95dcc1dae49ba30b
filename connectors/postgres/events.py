"""Debezium change events (reference §2.7, §2.8, §2.10, §2.11) as SDK ``SourceRecord``s.

The streaming task decodes pgoutput messages (``pgoutput.py``), the snapshot reads COPY text rows
(``types.CopyTextParser``); both hand them here and get the records Debezium's PostgreSQL
connector would produce: same topic, key, envelope, source block, partition and offset, so
consumers, SMTs and the offsets REST API see Debezium's format.

Per table (relation OID) everything that does not depend on the row is built once and cached in a
:class:`TableEvents`: the ``<topic>.Key`` / ``.Value`` / ``.Envelope`` schemas, one
:class:`~connectors.postgres.types.ColumnConverter` per captured column, the topic name. A row
then costs one converter call per column plus three small ``Struct``s: about 16 µs for a
10-column insert on the development box, two thirds of it in the column converters (see
``test_cost_per_event_ten_columns``). The cache entry is rebuilt
when the server sends a new ``Relation`` for the table (the decoder hands the same ``Relation``
object to every change, so the check is an identity test).

The Relation message has no nullability and, under REPLICA IDENTITY FULL, flags *every* column as
key, while Debezium takes the key from the primary key and ``optional`` from ``NOT NULL``. So the
task loads :class:`TableMetadata` from the catalog (:func:`describe_table`) and passes it with the
Relation; without it the primary key is guessed from the replica identity flags (exact only under
REPLICA IDENTITY DEFAULT) and every non-key column is optional.

Debezium version emulated: :data:`DEBEZIUM_VERSION` (2.7.3.Final): envelope version 2 with the
2.7+ field order, ``ts_us``/``ts_ns`` in envelope and source, no source schema version, no
``origin`` fields (3.6+), snapshot offsets with the boolean ``snapshot`` key (≤3.0), no extended
context headers (3.3+).

Position bookkeeping (§2.11) lives in :class:`StreamPosition`, which the streaming task feeds with
Begin/Commit (``begin``/``commit``); the change methods read it for ``source`` and the offset and
then mark the change's LSN as completely processed (``lsn_proc``), as Debezium does after
dispatching a message.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as dtime
from decimal import Decimal
from typing import Any, Final

from connectors.postgres.config import PostgresConfig
from connectors.postgres.pgoutput import (
    Begin,
    Commit,
    Delete,
    Insert,
    Message,
    Relation,
    RelationColumn,
    ReplicaIdentity,
    Row,
    Truncate,
    Update,
)
from connectors.postgres.types import ColumnConverter, ValueConverters
from connectors.sdk import Header, SourceRecord
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP, Schema, SchemaType, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.schema_builder import SchemaBuilder

__all__ = [
    "CAPTURED_TABLES",
    "CONNECTOR",
    "DEBEZIUM_VERSION",
    "NEW_KEY_HEADER",
    "OLD_KEY_HEADER",
    "SNAPSHOT_ALLOWED",
    "SOURCE_SCHEMA",
    "TRANSACTION_SCHEMA",
    "ChangeEventBuilder",
    "SnapshotPosition",
    "StreamPosition",
    "TableEvents",
    "TableMetadata",
    "decode_captured",
    "describe_table",
    "encode_captured",
    "snapshot_marker",
]

#: The Debezium release whose event format is reproduced (reported as ``source.version``).
DEBEZIUM_VERSION: Final = "2.7.3.Final"
CONNECTOR: Final = "postgresql"
NEW_KEY_HEADER: Final = "__debezium.newkey"
OLD_KEY_HEADER: Final = "__debezium.oldkey"
SNAPSHOT_ALLOWED: Final = "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"

_OPT_INT64: Final = SchemaBuilder.int64().optional().build()

SOURCE_SCHEMA: Final = (
    SchemaBuilder.struct()
    .name("io.debezium.connector.postgresql.Source")
    .field("version", SchemaBuilder.string())
    .field("connector", SchemaBuilder.string())
    .field("name", SchemaBuilder.string())
    .field("ts_ms", SchemaBuilder.int64())
    .field(
        "snapshot",
        SchemaBuilder.string()
        .optional()
        .name("io.debezium.data.Enum")
        .version(1)
        .parameter("allowed", SNAPSHOT_ALLOWED)
        .default_value("false"),
    )
    .field("db", SchemaBuilder.string())
    .field("sequence", SchemaBuilder.string().optional())
    .field("ts_us", _OPT_INT64)
    .field("ts_ns", _OPT_INT64)
    .field("schema", SchemaBuilder.string())
    .field("table", SchemaBuilder.string())
    .field("txId", _OPT_INT64)
    .field("lsn", _OPT_INT64)
    .field("xmin", _OPT_INT64)
    .build()
)

TRANSACTION_SCHEMA: Final = (
    SchemaBuilder.struct()
    .name("event.block")
    .version(1)
    .optional()
    .field("id", SchemaBuilder.string())
    .field("total_order", SchemaBuilder.int64())
    .field("data_collection_order", SchemaBuilder.int64())
    .build()
)


def snapshot_marker(first_table: bool, last_table: bool, first_in_table: bool, last_in_table: bool) -> str:
    """``source.snapshot`` of a snapshot row, with Debezium's precedence (a lone row of the only
    table is ``last``; the first row of the first table ``first``; then the per-table markers)."""
    if last_in_table and last_table:
        return "last"
    if first_in_table and first_table:
        return "first"
    if last_in_table:
        return "last_in_data_collection"
    if first_in_table:
        return "first_in_data_collection"
    return "true"


# -- table metadata -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableMetadata:
    """What the catalog knows and the Relation message does not."""

    #: Primary key column names in key order; empty when the table has none (key null).
    primary_key: tuple[str, ...] = ()
    #: Columns declared ``NOT NULL`` (their value fields are required).
    not_null: frozenset[str] = frozenset()

    @classmethod
    def guess(cls, relation: Relation) -> TableMetadata:
        """Without the catalog: the replica identity columns are the key under REPLICA IDENTITY
        DEFAULT (where they are the primary key); otherwise no key. Only key columns required."""
        if relation.replica_identity is ReplicaIdentity.DEFAULT:
            keys = relation.key_columns
            return cls(keys, frozenset(keys))
        return cls()


_DESCRIBE_TABLE: Final = """
SELECT n.nspname, c.relname, c.relreplident::text AS replident,
       a.attname, a.atttypid::int8 AS atttypid, a.atttypmod, a.attnotnull,
       COALESCE((SELECT k.ord FROM unnest(i.indkey) WITH ORDINALITY AS k(num, ord) WHERE k.num = a.attnum), 0)
           AS pk_pos
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE c.oid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum
"""


async def describe_table(conn: Any, oid: int) -> tuple[Relation, TableMetadata]:
    """A table's ``Relation`` (the columns pgoutput sends: no dropped or generated ones, in table
    order, so a snapshot row lines up with a streamed one) and its :class:`TableMetadata`.

    ``conn`` is an asyncpg connection; ``oid`` e.g. from ``SELECT 'schema.table'::regclass::oid``.
    Call it again after each Relation message of the table (the shape may have changed).
    """
    rows = await conn.fetch(_DESCRIBE_TABLE, oid)
    if not rows:
        raise LookupError(f"No table with OID {oid}")
    identity = ReplicaIdentity(rows[0]["replident"])
    pk = sorted((row["pk_pos"], row["attname"]) for row in rows if row["pk_pos"])
    primary = frozenset(name for _, name in pk)
    columns = tuple(
        RelationColumn(
            row["attname"],
            row["atttypid"],
            row["atttypmod"],
            identity is ReplicaIdentity.FULL
            or (identity is ReplicaIdentity.DEFAULT and row["attname"] in primary),
        )
        for row in rows
    )
    relation = Relation(oid, rows[0]["nspname"], rows[0]["relname"], identity, columns)
    not_null = frozenset(row["attname"] for row in rows if row["attnotnull"])
    return relation, TableMetadata(tuple(name for _, name in pk), not_null | primary)


# -- positions ----------------------------------------------------------------------------------------

CAPTURED_TABLES: Final = "captured_tables"
"""Penstock's key in the source offset: the tables whose rows the topics hold (a JSON list of
``schema.table``), so a restarted task knows which tables a config change added (see
``added_tables``). Offsets without it (Debezium's, older Penstock's) add nothing."""


def encode_captured(table_ids: Iterable[str]) -> str:
    """The ``captured_tables`` offset value: sorted ids as a compact JSON list."""
    return json.dumps(sorted(set(table_ids)), separators=(",", ":"))


def decode_captured(offset: dict[str, Any] | None) -> frozenset[str] | None:
    """The ``captured_tables`` of a stored offset; ``None`` when absent or unreadable."""
    value = (offset or {}).get(CAPTURED_TABLES)
    if not isinstance(value, str):
        return None
    try:
        ids = json.loads(value)
    except ValueError:
        return None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return None
    return frozenset(ids)


@dataclass(slots=True)
class StreamPosition:
    """The streaming side of Debezium's ``PostgresOffsetContext``: the source offset and the
    ``source`` block's position fields of the next change event."""

    #: Last completely processed LSN (``lsn_proc``): the LSN of the previous change/Begin/Commit.
    lsn_proc: int | None = None
    #: LSN of the last Commit message (``lsn_commit``, first element of ``source.sequence``).
    lsn_commit: int | None = None
    #: The open transaction and its commit time (µs since the epoch).
    xid: int | None = None
    commit_ts_us: int | None = None
    #: Slot xmin when ``xmin.fetch.interval.ms`` > 0.
    xmin: int | None = None
    #: ``messageType`` of the last message handled.
    message_type: str | None = None
    #: ``provide.transaction.metadata`` counters of the open transaction.
    total_order: int = 0
    collection_order: dict[str, int] = field(default_factory=dict)
    #: The tables whose rows the topics hold (``added_tables.encode``), kept in every offset.
    captured: str | None = None

    def begin(self, message: Begin, lsn: int) -> None:
        """A Begin at ``lsn``: later changes belong to its transaction."""
        self.xid = message.xid
        self.commit_ts_us = message.commit_ts_us
        self.message_type = "BEGIN"
        self.total_order = 0
        self.collection_order = {}
        self.lsn_proc = lsn

    def commit(self, message: Commit, lsn: int) -> None:
        """A Commit at ``lsn``: becomes ``lsn_commit`` and ``lsn_proc``."""
        self.commit_ts_us = message.commit_ts_us
        self.message_type = "COMMIT"
        self.lsn_commit = lsn
        self.lsn_proc = lsn

    def offset(self, lsn: int, message_type: str | None = None) -> dict[str, Any]:
        """The Debezium source offset at ``lsn`` (keys only when known, §2.11)."""
        offset: dict[str, Any] = {}
        if self.commit_ts_us is not None:
            offset["ts_usec"] = self.commit_ts_us
        if self.xid is not None:
            offset["txId"] = self.xid
        offset["lsn"] = lsn
        if self.xmin is not None:
            offset["xmin"] = self.xmin
        if self.lsn_proc is not None:
            offset["lsn_proc"] = self.lsn_proc
        if self.lsn_commit is not None:
            offset["lsn_commit"] = self.lsn_commit
        kind = message_type or self.message_type
        if kind is not None:
            offset["messageType"] = kind
        if self.captured is not None:
            offset[CAPTURED_TABLES] = self.captured
        return offset


@dataclass(frozen=True, slots=True)
class SnapshotPosition:
    """Where the snapshot was taken: the slot's consistent point and the snapshot transaction."""

    lsn: int
    tx_id: int | None = None
    xmin: int | None = None
    captured: str | None = None
    """The tables the snapshot reads (``added_tables.encode``), kept in its offsets."""


# -- per-table cache ----------------------------------------------------------------------------------

_Converter = Callable[[Any], Any]


def _fallback(schema: Schema) -> Any:
    """Value of a required field absent from a partial row image (§2.9): 0, "", false, epoch..."""
    name = schema.name
    if name == DECIMAL:
        return Decimal(0)
    if name == DATE:
        return date(1970, 1, 1)
    if name == TIME:
        return dtime(0)
    if name == TIMESTAMP:
        return datetime(1970, 1, 1, tzinfo=UTC)
    kind = schema.type
    if kind in (SchemaType.INT8, SchemaType.INT16, SchemaType.INT32, SchemaType.INT64):
        return 0
    if kind in (SchemaType.FLOAT32, SchemaType.FLOAT64):
        return 0.0
    if kind is SchemaType.BOOLEAN:
        return False
    if kind is SchemaType.STRING:
        return ""
    if kind is SchemaType.BYTES:
        return b""
    if kind is SchemaType.ARRAY:
        return []
    if kind is SchemaType.MAP:
        return {}
    return Struct(schema, {f.name: _fallback(f.schema) for f in schema.fields})


@dataclass(slots=True)
class TableEvents:
    """The cached, row-independent parts of one table's events."""

    relation: Relation
    topic: str
    key_schema: Schema | None
    value_schema: Schema
    envelope_schema: Schema
    schema_name: str
    table_name: str
    #: (field, row position, convert) of the key / value fields.
    key_fields: tuple[tuple[str, int, _Converter], ...]
    value_fields: tuple[tuple[str, int, _Converter], ...]
    #: (field, row position, convert, fallback) of required value fields (partial images).
    required_fields: tuple[tuple[str, int, Any], ...]
    #: (field, row position, text -> value, convert) of the value fields: the hot path parses
    #: text directly and leaves None, unchanged TOAST values and errors to ``convert``.
    value_parsers: tuple[tuple[str, int, Callable[[str], Any], _Converter], ...] = ()
    #: The key's field names when every key column is a value field (the key reuses the values).
    key_from_value: tuple[str, ...] | None = None

    def key(self, row: Row) -> Struct | None:
        """The key Struct of a row image holding the key columns, or None (no primary key)."""
        if self.key_schema is None:
            return None
        return Struct(self.key_schema, {name: convert(row[i]) for name, i, convert in self.key_fields})

    def value(self, row: Row) -> Struct:
        """The ``before``/``after`` Struct of a full row image."""
        return Struct(self.value_schema, self._values(row))

    def value_and_key(self, row: Row) -> tuple[Struct, Struct | None]:
        """:meth:`value` and :meth:`key` of a full row image, each column converted once."""
        values = self._values(row)
        names = self.key_from_value
        if names is None:
            return Struct(self.value_schema, values), self.key(row)
        key = Struct(self.key_schema, {name: values[name] for name in names})  # type: ignore[arg-type]
        return Struct(self.value_schema, values), key

    def _values(self, row: Row) -> dict[str, Any]:
        try:
            return {
                name: parse(text) if (text := row[i]).__class__ is str else convert(text)
                for name, i, parse, convert in self.value_parsers
            }
        except (ValueError, IndexError, ArithmeticError):  # convert says which column, and why
            return {name: convert(row[i]) for name, i, convert in self.value_fields}

    def partial_value(self, row: Row) -> Struct:
        """A key-only old image: absent (None) required columns get their type's fallback."""
        values = {name: convert(row[i]) for name, i, convert in self.value_fields}
        for name, i, fallback in self.required_fields:
            if row[i] is None:
                values[name] = fallback
        return Struct(self.value_schema, values)


def _key_patterns(spec: str | None) -> list[re.Pattern[str]] | None:
    """``message.key.columns`` as one regex per ``<table regex>.<column regex>``."""
    if not spec or not spec.strip():
        return None
    patterns: list[re.Pattern[str]] = []
    for entry in spec.split(";"):
        if not entry.strip():
            continue
        table, sep, columns = entry.strip().partition(":")
        if not sep:
            raise DataError(f"Invalid message.key.columns entry {entry!r}: expected '<table>:<column>,...'")
        for column in columns.split(","):
            if column.strip():
                patterns.append(re.compile(f"{table.strip()}.{column.strip()}", re.IGNORECASE))
    return patterns


class ChangeEventBuilder:
    """Builds the records of one connector: construct once per task, then call :meth:`relation`
    for each Relation message (or snapshot table) and the change methods for each change.

    ``converters`` turns column text into Connect values (``ValueConverters`` built from the
    connector config with ``ValueOptions.from_config``); ``clock`` returns nanoseconds since the
    epoch, for the envelope's ``ts_*`` (and snapshot rows' ``source.ts_*``).
    """

    def __init__(
        self,
        config: PostgresConfig,
        converters: ValueConverters,
        *,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.converters = converters
        self.clock = clock
        self.partition: dict[str, Any] = config.source_partition
        self.tables: dict[int, TableEvents | None] = {}
        self._metadata: dict[int, TableMetadata] = {}
        self._db = config.database_dbname
        self._name = config.topic_prefix
        self._skipped = config.skipped_operation_codes
        self._tombstones = config.tombstones_on_delete
        self._tx_metadata = config.provide_transaction_metadata
        self._key_patterns = _key_patterns(config.message_key_columns)

    # -- cache ---------------------------------------------------------------------------------------

    def relation(self, relation: Relation, metadata: TableMetadata | None = None) -> TableEvents | None:
        """Build (or rebuild) and cache a table's schemas; None if the table filter excludes it.

        ``metadata`` is kept for later rebuilds; without any, :meth:`TableMetadata.guess` is used.
        """
        if metadata is not None:
            self._metadata[relation.oid] = metadata
        if not self.config.table_filter.is_included(relation.namespace, relation.name):
            self.tables[relation.oid] = None
            return None
        table = self._build(relation, self._metadata.get(relation.oid) or TableMetadata.guess(relation))
        self.tables[relation.oid] = table
        return table

    def _table(self, relation: Relation) -> TableEvents | None:
        try:
            table = self.tables[relation.oid]
        except KeyError:
            return self.relation(relation)
        if table is not None and table.relation is not relation and table.relation != relation:
            return self.relation(relation)
        return table

    def _key_columns(self, schema: str, table: str, relation: Relation) -> tuple[str, ...]:
        """``message.key.columns`` (``<table regex>:<col>,<col>;...``): the table's columns, in
        table order, matching one of ``<table regex>.<col>`` (anchored, case-insensitive), as
        Debezium's ``CustomKeyMapper``; empty when none match (the primary key is used)."""
        if self._key_patterns is None:
            return ()
        return tuple(
            column.name
            for column in relation.columns
            if any(p.fullmatch(f"{schema}.{table}.{column.name}") for p in self._key_patterns)
        )

    def _build(self, relation: Relation, metadata: TableMetadata) -> TableEvents:
        schema, table = relation.namespace, relation.name
        topic = self.config.topic_for(schema, table)
        columns = {column.name: (i, column) for i, column in enumerate(relation.columns)}
        column_filter = self.config.column_filter
        not_null = metadata.not_null

        def converter(column: RelationColumn, optional: bool) -> ColumnConverter:
            return self.converters.for_column(
                column.type_oid,
                column.type_modifier,
                optional=optional,
                column=f"{schema}.{table}.{column.name}",
            )

        key_schema: Schema | None = None
        key_fields: list[tuple[str, int, _Converter]] = []
        key_names = self._key_columns(schema, table, relation) or metadata.primary_key
        if key_names and all(name in columns for name in key_names):
            builder = SchemaBuilder.struct().name(f"{topic}.Key")
            for name in key_names:
                i, column = columns[name]
                conv = converter(column, name not in not_null)
                builder.field(name, conv.schema)
                key_fields.append((name, i, conv.convert))
            key_schema = builder.build()

        value_builder = SchemaBuilder.struct().name(f"{topic}.Value").optional()
        value_fields: list[tuple[str, int, _Converter]] = []
        value_parsers: list[tuple[str, int, Callable[[str], Any], _Converter]] = []
        required: list[tuple[str, int, Any]] = []
        for i, column in enumerate(relation.columns):
            if not column_filter.is_included(schema, table, column.name):
                continue
            optional = column.name not in not_null
            conv = converter(column, optional)
            value_builder.field(column.name, conv.schema)
            value_fields.append((column.name, i, conv.convert))
            value_parsers.append((column.name, i, conv.parse, conv.convert))
            if not optional:
                required.append((column.name, i, _fallback(conv.schema)))
        value_schema = value_builder.build()
        in_value = {name for name, _, _ in value_fields}
        key_from_value = (
            tuple(name for name, _, _ in key_fields)
            if key_schema is not None and all(name in in_value for name, _, _ in key_fields)
            else None
        )

        envelope = (
            SchemaBuilder.struct()
            .name(f"{topic}.Envelope")
            .version(2)
            .field("before", value_schema)
            .field("after", value_schema)
            .field("source", SOURCE_SCHEMA)
            .field("transaction", TRANSACTION_SCHEMA)
            .field("op", SchemaBuilder.string())
            .field("ts_ms", _OPT_INT64)
            .field("ts_us", _OPT_INT64)
            .field("ts_ns", _OPT_INT64)
            .build()
        )
        return TableEvents(
            relation,
            topic,
            key_schema,
            value_schema,
            envelope,
            schema,
            table,
            tuple(key_fields),
            tuple(value_fields),
            tuple(required),
            tuple(value_parsers),
            key_from_value,
        )

    # -- building blocks -----------------------------------------------------------------------------

    def _source(
        self,
        table: TableEvents,
        ts_us: int,
        snapshot: str,
        sequence: str | None,
        tx_id: int | None,
        lsn: int | None,
        xmin: int | None,
    ) -> Struct:
        return Struct(
            SOURCE_SCHEMA,
            {
                "version": DEBEZIUM_VERSION,
                "connector": CONNECTOR,
                "name": self._name,
                "ts_ms": ts_us // 1000,
                "snapshot": snapshot,
                "db": self._db,
                "sequence": sequence,
                "ts_us": ts_us,
                "ts_ns": ts_us * 1000,
                "schema": table.schema_name,
                "table": table.table_name,
                "txId": tx_id,
                "lsn": lsn,
                "xmin": xmin,
            },
        )

    def _envelope(
        self,
        table: TableEvents,
        op: str,
        before: Struct | None,
        after: Struct | None,
        source: Struct,
        tx: Struct | None,
    ) -> Struct:
        now_ns = self.clock()
        return Struct(
            table.envelope_schema,
            {
                "before": before,
                "after": after,
                "source": source,
                "transaction": tx,
                "op": op,
                "ts_ms": now_ns // 1_000_000,
                "ts_us": now_ns // 1000,
                "ts_ns": now_ns,
            },
        )

    def _stream_source(self, table: TableEvents, pos: StreamPosition, lsn: int) -> Struct:
        commit = pos.lsn_commit
        sequence = f'["{commit}","{lsn}"]' if commit is not None else f'[null,"{lsn}"]'
        ts_us = pos.commit_ts_us if pos.commit_ts_us is not None else self.clock() // 1000
        return self._source(table, ts_us, "false", sequence, pos.xid, lsn, pos.xmin)

    def _transaction(self, table: TableEvents, pos: StreamPosition) -> Struct | None:
        if not self._tx_metadata or pos.xid is None:
            return None
        pos.total_order += 1
        collection = f"{table.schema_name}.{table.table_name}"
        order = pos.collection_order.get(collection, 0) + 1
        pos.collection_order[collection] = order
        return Struct(
            TRANSACTION_SCHEMA,
            {"id": str(pos.xid), "total_order": pos.total_order, "data_collection_order": order},
        )

    def _record(
        self,
        table: TableEvents,
        key: Struct | None,
        envelope: Struct | None,
        offset: dict[str, Any],
        headers: tuple[Header, ...] = (),
    ) -> SourceRecord:
        return SourceRecord(
            topic=table.topic,
            value=envelope,
            value_schema=table.envelope_schema if envelope is not None else None,
            key=key,
            key_schema=table.key_schema if key is not None else None,
            headers=headers,
            source_partition=self.partition,
            source_offset=offset,
        )

    def _delete_records(
        self,
        table: TableEvents,
        key: Struct | None,
        envelope: Struct,
        offset: dict[str, Any],
        headers: tuple[Header, ...] = (),
    ) -> list[SourceRecord]:
        records = [self._record(table, key, envelope, offset, headers)]
        if self._tombstones:
            records.append(self._record(table, key, None, offset, headers))
        return records

    # -- snapshot ------------------------------------------------------------------------------------

    def snapshot_read(
        self,
        relation: Relation,
        row: Sequence[Any],
        marker: str,
        position: SnapshotPosition,
        offset: dict[str, Any] | None = None,
    ) -> SourceRecord | None:
        """The ``op=r`` record of one snapshot row (aligned with ``relation.columns``; COPY text
        values), with ``marker`` from :func:`snapshot_marker`; None if the table is excluded.

        ``offset`` replaces the snapshot offset (an incremental snapshot's rows carry the
        stream's position)."""
        table = self._table(relation)
        if table is None:
            return None
        now_us = self.clock() // 1000
        source = self._source(
            table, now_us, marker, f'[null,"{position.lsn}"]', position.tx_id, position.lsn, position.xmin
        )
        row_t = row if isinstance(row, tuple) else tuple(row)
        envelope = self._envelope(table, "r", None, table.value(row_t), source, None)
        if offset is None:
            offset = {"ts_usec": now_us}
            if position.tx_id is not None:
                offset["txId"] = position.tx_id
            offset["lsn"] = position.lsn
            if position.xmin is not None:
                offset["xmin"] = position.xmin
            offset["snapshot"] = True
            offset["last_snapshot_record"] = marker == "last"
            if position.captured is not None:
                offset[CAPTURED_TABLES] = position.captured
        return self._record(table, table.key(row_t), envelope, offset)

    # -- streaming -----------------------------------------------------------------------------------

    def change(self, message: Message, lsn: int, pos: StreamPosition) -> list[SourceRecord]:
        """The records of any change message (Insert/Update/Delete/Truncate); [] for others."""
        if isinstance(message, Insert):
            return self.insert(message, lsn, pos)
        if isinstance(message, Update):
            return self.update(message, lsn, pos)
        if isinstance(message, Delete):
            return self.delete(message, lsn, pos)
        if isinstance(message, Truncate):
            return self.truncate(message, lsn, pos)
        return []

    def insert(self, message: Insert, lsn: int, pos: StreamPosition) -> list[SourceRecord]:
        """``op=c``: after = the new row."""
        table = self._table(message.relation)
        if table is None or "c" in self._skipped:
            pos.lsn_proc = lsn
            return []
        source = self._stream_source(table, pos, lsn)
        offset = pos.offset(lsn, "INSERT")
        after, key = table.value_and_key(message.new)
        envelope = self._envelope(table, "c", None, after, source, self._transaction(table, pos))
        pos.message_type = "INSERT"
        pos.lsn_proc = lsn
        return [self._record(table, key, envelope, offset)]

    def update(self, message: Update, lsn: int, pos: StreamPosition) -> list[SourceRecord]:
        """``op=u`` (before per REPLICA IDENTITY), or delete + tombstone + create when the key changed."""
        table = self._table(message.relation)
        if table is None or "u" in self._skipped:
            pos.lsn_proc = lsn
            return []
        source = self._stream_source(table, pos, lsn)
        offset = pos.offset(lsn, "UPDATE")
        pos.message_type = "UPDATE"
        pos.lsn_proc = lsn
        after, new_key = table.value_and_key(message.new)
        old = message.old
        if old is None:
            envelope = self._envelope(table, "u", None, after, source, self._transaction(table, pos))
            return [self._record(table, new_key, envelope, offset)]
        before = table.value(old) if message.old_kind == "O" else table.partial_value(old)
        old_key = table.key(old)
        if old_key is None or old_key.values == new_key.values:  # type: ignore[union-attr]
            envelope = self._envelope(table, "u", before, after, source, self._transaction(table, pos))
            return [self._record(table, new_key, envelope, offset)]
        # Primary key change: delete (old key) [+ tombstone], then create (new key).
        delete = self._envelope(table, "d", before, None, source, self._transaction(table, pos))
        records = self._delete_records(
            table, old_key, delete, offset, (Header(NEW_KEY_HEADER, new_key, table.key_schema),)
        )
        create = self._envelope(table, "c", None, after, source, self._transaction(table, pos))
        records.append(
            self._record(table, new_key, create, offset, (Header(OLD_KEY_HEADER, old_key, table.key_schema),))
        )
        return records

    def delete(self, message: Delete, lsn: int, pos: StreamPosition) -> list[SourceRecord]:
        """``op=d`` with the old image, then a tombstone (``tombstones.on.delete``)."""
        table = self._table(message.relation)
        if table is None or "d" in self._skipped:
            pos.lsn_proc = lsn
            return []
        source = self._stream_source(table, pos, lsn)
        offset = pos.offset(lsn, "DELETE")
        pos.message_type = "DELETE"
        pos.lsn_proc = lsn
        old = message.old
        before = table.value(old) if message.old_kind == "O" else table.partial_value(old)
        envelope = self._envelope(table, "d", before, None, source, self._transaction(table, pos))
        return self._delete_records(table, table.key(old), envelope, offset)

    def truncate(self, message: Truncate, lsn: int, pos: StreamPosition) -> list[SourceRecord]:
        """``op=t`` per captured table (key null), unless ``t`` is in ``skipped.operations``."""
        records: list[SourceRecord] = []
        if "t" not in self._skipped:
            for relation in message.relations:
                table = self._table(relation)
                if table is None:
                    continue
                source = self._stream_source(table, pos, lsn)
                envelope = self._envelope(table, "t", None, None, source, self._transaction(table, pos))
                records.append(self._record(table, None, envelope, pos.offset(lsn, "TRUNCATE")))
        pos.message_type = "TRUNCATE"
        pos.lsn_proc = lsn
        return records
