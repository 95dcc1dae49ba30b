"""What the catalog says about a table's columns, and about a result set's columns.

Table mode reads nullability, numeric precision/scale and auto-increment from the catalog
(``pg_attribute`` / ``information_schema.columns``) because a result set's description does not
carry them all; query mode describes the result columns from the driver alone (every column is
then optional, and an unconstrained PostgreSQL ``numeric`` is assumed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from connectors.jdbc.dialect import Database
from connectors.jdbc.source_schema import Column, mysql_column, pg_column
from connectors.jdbc.tables import TableId

_UNSIGNED_FLAG = 32
_BINARY_CHARSET = 63


@dataclass(frozen=True)
class TableColumn:
    column: Column
    auto_increment: bool


_PG_COLUMNS = """
SELECT a.attname, t.typname, a.atttypmod, NOT a.attnotnull,
       (a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%%')
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_type t0 ON t0.oid = a.atttypid
JOIN pg_catalog.pg_type t ON t.oid = CASE WHEN t0.typtype = 'd' THEN t0.typbasetype ELSE t0.oid END
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
""".replace("%%", "%")

_MYSQL_COLUMNS = """
SELECT column_name, data_type, column_type, is_nullable = 'YES', extra LIKE '%%auto_increment%%',
       coalesce(numeric_precision, 0), coalesce(numeric_scale, 0)
FROM information_schema.columns WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position
"""

_MYSQL_DATA_TYPES = {
    "tinyint": (1, 4),
    "smallint": (2, 6),
    "mediumint": (9, 9),
    "int": (3, 11),
    "integer": (3, 11),
    "bigint": (8, 20),
    "float": (4, 12),
    "double": (5, 22),
    "decimal": (246, 0),
    "date": (10, 10),
    "time": (11, 10),
    "datetime": (12, 19),
    "timestamp": (7, 19),
    "year": (13, 4),
    "char": (254, 0),
    "varchar": (253, 0),
    "binary": (254, 0),
    "varbinary": (253, 0),
    "bit": (16, 1),
    "json": (245, 0),
    "enum": (247, 0),
    "set": (248, 0),
}


async def table_columns(db: Database, table: TableId) -> list[TableColumn]:
    """The table's columns in ordinal order (empty if the table does not exist)."""
    if db.dialect.name == "postgresql":
        rows = await db.fetch(_PG_COLUMNS, table.schema, table.name)
        return [TableColumn(pg_column(r[0], r[1], r[2], bool(r[3])), bool(r[4])) for r in rows]
    rows = await db.fetch(_MYSQL_COLUMNS, table.schema, table.name)
    result = []
    for name, data_type, column_type, nullable, auto, precision, scale in rows:
        kind = str(data_type).lower()
        text = str(column_type).lower()
        code, length = _MYSQL_DATA_TYPES.get(kind, (0, 0))
        if kind == "tinyint" and text.startswith("tinyint(1)"):
            length = 1
        elif kind == "bit":
            length = int(precision or 1)
        elif kind == "decimal":
            length = int(precision) + (1 if scale else 0) + (0 if "unsigned" in text else 1)
        binary = kind in ("binary", "varbinary") or kind.endswith("blob")
        if kind.endswith("blob") or kind.endswith("text"):
            code = 252
        column = mysql_column(
            str(name),
            code,
            length=length,
            scale=int(scale),
            nullable=bool(nullable),
            unsigned="unsigned" in text,
            binary=binary,
        )
        result.append(TableColumn(column, bool(auto)))
    return result


def column_problem(
    table: TableId, columns: Sequence[TableColumn], names: Sequence[str], what: str, non_null: bool
) -> str | None:
    """Why the ``what`` (incrementing/timestamp) columns ``names`` cannot be used, or None."""
    by_name = {c.column.name: c.column for c in columns}
    for name in names:
        column = by_name.get(name)
        if column is None:
            return (
                f"The {what} column {name!r} does not exist in table {table.fqn}; its columns are "
                f"{', '.join(by_name)} (check {what}.column.name)"
            )
        if non_null and column.nullable:
            return (
                f"Cannot make incremental queries using {what} column {name} on {table.fqn} because "
                "this column is nullable (make it NOT NULL or set validate.non.null=false)"
            )
    return None


def result_columns(dialect: str, fields: Sequence[Any]) -> list[Column]:
    """A result set's columns from the driver's description (query mode)."""
    if dialect == "postgresql":
        return [pg_column(a.name, a.type.name) for a in fields]
    columns = []
    for description, flags, charset in fields:
        name, code, _, length, _, scale, null_ok = description[:7]
        columns.append(
            mysql_column(
                str(name),
                int(code),
                length=int(length or 0),
                scale=int(scale or 0),
                nullable=bool(null_ok) if null_ok is not None else True,
                unsigned=bool(int(flags or 0) & _UNSIGNED_FLAG),
                binary=int(charset or 0) == _BINARY_CHARSET,
            )
        )
    return columns
