"""Tables: Connect type -> column type, CREATE / ALTER statements, and reading a table's columns.

The type mapping is Confluent's per dialect (reference §5.5 for PostgreSQL; Confluent's
``MySqlDatabaseDialect`` for MySQL/MariaDB). Debezium logical names (``io.debezium.time.*``) are
not recognised, as in Confluent: they map by their underlying type. Evolution only ever adds
nullable (or defaulted) columns; it never drops, renames, retypes or changes nullability.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from connectors.jdbc.dialect import Database, Dialect
from connectors.jdbc.sink_fields import Column
from connectors.sdk import DataError, Schema, SchemaType, logical_name
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP

_PG_TYPES: Final = {
    SchemaType.INT8: "SMALLINT",
    SchemaType.INT16: "SMALLINT",
    SchemaType.INT32: "INT",
    SchemaType.INT64: "BIGINT",
    SchemaType.FLOAT32: "REAL",
    SchemaType.FLOAT64: "DOUBLE PRECISION",
    SchemaType.BOOLEAN: "BOOLEAN",
    SchemaType.STRING: "TEXT",
    SchemaType.BYTES: "BYTEA",
}
_PG_LOGICAL: Final = {DECIMAL: "DECIMAL", DATE: "DATE", TIME: "TIME", TIMESTAMP: "TIMESTAMP"}
_MYSQL_TYPES: Final = {
    SchemaType.INT8: "TINYINT",
    SchemaType.INT16: "SMALLINT",
    SchemaType.INT32: "INT",
    SchemaType.INT64: "BIGINT",
    SchemaType.FLOAT32: "FLOAT",
    SchemaType.FLOAT64: "DOUBLE",
    SchemaType.BOOLEAN: "TINYINT",
    SchemaType.STRING: "TEXT",
    SchemaType.BYTES: "BLOB",
}


def sql_type(dialect: Dialect, column: Column, table: str) -> str:
    """The column type ``auto.create`` / ``auto.evolve`` give ``column``."""
    schema = column.schema
    if schema is None:
        raise DataError(
            f"Table {table}: cannot tell the type of column {column.name!r} (its value is null and the record "
            "has no schema); create the column first or send records with schemas"
        )
    name = logical_name(schema)
    if dialect.name == "postgresql":
        if name in _PG_LOGICAL:
            return _PG_LOGICAL[name]
        if schema.type is SchemaType.ARRAY and schema.value_schema is not None:
            return sql_type(dialect, Column(column.name, schema.value_schema, False), table) + "[]"
        if schema.type in _PG_TYPES:
            return _PG_TYPES[schema.type]
    else:
        if name == DECIMAL:
            scale = int((schema.parameters or {}).get("scale", "0"))
            return f"DECIMAL(65,{scale})"
        if name == DATE:
            return "DATE"
        if name == TIME:
            return "TIME(3)"
        if name == TIMESTAMP:
            return "DATETIME(3)"
        if schema.type is SchemaType.STRING and column.key:
            return "VARCHAR(256)"
        if schema.type is SchemaType.BYTES and column.key:
            return "VARBINARY(1024)"
        if schema.type in _MYSQL_TYPES:
            return _MYSQL_TYPES[schema.type]
    raise DataError(
        f"Table {table}: {dialect.name} has no column type for field {column.name!r} of schema type "
        f"{schema.type.value}"
    )


def _default_literal(dialect: Dialect, schema: Schema) -> str | None:
    value = schema.default
    if value is None:
        return None
    if isinstance(value, bool):
        if dialect.name == "postgresql":
            return "TRUE" if value else "FALSE"
        return "1" if value else "0"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, str | dt.date | dt.time):
        return "'" + str(value).replace("'", "''") + "'"
    return None  # bytes, arrays: no default literal, as Confluent


def column_definition(dialect: Dialect, column: Column, table: str, *, quote: bool) -> str:
    schema = column.schema
    text = f"{identifier(dialect, column.name, quote)} {sql_type(dialect, column, table)}"
    default = _default_literal(dialect, schema) if schema is not None else None
    if default is not None:
        text += f" DEFAULT {default}"
    if column.key or (schema is not None and not schema.optional):
        return text + " NOT NULL"
    return text + " NULL"


def identifier(dialect: Dialect, name: str, quote: bool) -> str:
    return dialect.quote(name) if quote else name


@dataclass(frozen=True, slots=True)
class TableId:
    """``[catalog.][schema.]table`` split on dots, as Confluent parses ``table.name.format``."""

    schema: str | None
    name: str

    @staticmethod
    def parse(text: str) -> TableId:
        parts = text.split(".")
        if len(parts) == 1:
            return TableId(None, parts[0])
        return TableId(parts[-2], parts[-1])

    def sql(self, dialect: Dialect, quote: bool) -> str:
        return ".".join(identifier(dialect, p, quote) for p in (self.schema, self.name) if p)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


def create_table(dialect: Dialect, table: TableId, columns: Sequence[Column], *, quote: bool) -> str:
    lines = [column_definition(dialect, c, str(table), quote=quote) for c in columns]
    keys = [identifier(dialect, c.name, quote) for c in columns if c.key]
    if keys:
        lines.append(f"PRIMARY KEY({', '.join(keys)})")
    body = ",\n".join(lines)
    return f"CREATE TABLE {table.sql(dialect, quote)} (\n{body})"


def alter_table(dialect: Dialect, table: TableId, columns: Sequence[Column], *, quote: bool) -> str:
    """One ``ALTER TABLE`` adding every missing column (comma-separated ADDs, as Confluent)."""
    for column in columns:
        if column.schema is not None and not column.schema.optional and column.schema.default is None:
            raise DataError(
                f"Cannot ALTER TABLE {table} to add missing field {column.name!r}, as the field is not "
                "optional and does not have a default value"
            )
    adds = ", ".join(
        f"ADD {column_definition(dialect, Column(c.name, c.schema, False), str(table), quote=quote)}"
        for c in columns
    )
    return f"ALTER TABLE {table.sql(dialect, quote)} {adds}"


@dataclass(frozen=True, slots=True)
class TableColumn:
    name: str
    type_name: str
    """PostgreSQL: ``format_type`` without modifier (``integer``, ``jsonb``, ``integer[]``);
    MySQL: ``DATA_TYPE`` (``int``, ``varchar``, ``datetime``)."""
    nullable: bool


@dataclass(frozen=True, slots=True)
class TableInfo:
    id: TableId
    kind: str
    """TABLE, PARTITIONED TABLE or VIEW (other kinds are reported as they are)."""
    columns: dict[str, TableColumn]

    def find(self, name: str) -> TableColumn | None:
        """Exact match first, then case-insensitive (as Confluent matches fields to columns)."""
        found = self.columns.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for column in self.columns.values():
            if column.name.lower() == lowered:
                return column
        return None


_PG_KINDS: Final = {
    "r": "TABLE",
    "p": "PARTITIONED TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "f": "FOREIGN TABLE",
}


async def read_table(db: Database, table: TableId, *, quote: bool) -> TableInfo | None:
    """The table's kind and columns, or None when it does not exist.

    Unquoted names (``quote.sql.identifiers=never``) are looked up as the server folds them.
    """
    name, schema = table.name, table.schema
    if db.dialect.name == "postgresql":
        if not quote:
            name, schema = name.lower(), schema.lower() if schema else None
        rows = await db.fetch(
            "SELECT c.relkind::text, a.attname::text, format_type(a.atttypid, NULL), NOT a.attnotnull "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE c.relname = $1 AND n.nspname = COALESCE($2, current_schema()) "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY a.attnum",
            name,
            schema,
        )
        if not rows:
            return None
        kind = _PG_KINDS.get(rows[0][0], rows[0][0])
        columns = {r[1]: TableColumn(r[1], r[2], r[3]) for r in rows if r[1] is not None}
        return TableInfo(table, kind, columns)
    rows = await db.fetch(
        "SELECT t.TABLE_TYPE, c.COLUMN_NAME, c.DATA_TYPE, c.IS_NULLABLE "
        "FROM information_schema.TABLES t LEFT JOIN information_schema.COLUMNS c "
        "ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME "
        "WHERE t.TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND t.TABLE_NAME = %s ORDER BY c.ORDINAL_POSITION",
        schema,
        name,
    )
    if not rows:
        return None
    kind = "TABLE" if rows[0][0] == "BASE TABLE" else str(rows[0][0])
    columns = {
        str(r[1]): TableColumn(str(r[1]), str(r[2]).lower(), r[3] == "YES") for r in rows if r[1] is not None
    }
    return TableInfo(table, kind, columns)


def missing_columns(info: TableInfo, columns: Sequence[Column]) -> list[Column]:
    return [c for c in columns if info.find(c.name) is None]
