"""From a result set's columns to a Connect struct schema, and from a row to a Struct.

The mapping is Confluent's (``GenericDatabaseDialect.addFieldToSchema`` with the PostgreSQL
overrides): one field per column in SELECT order, optional iff the column is nullable, logical
``Decimal`` / ``Date`` / ``Time`` / ``Timestamp`` types, ``numeric.mapping`` for NUMERIC, and
columns of unknown types (arrays, composites, intervals, geometry, ...) left out with a warning.

Columns are described by :class:`Column`, with the type normalised to a JDBC type name
(``INTEGER``, ``NUMERIC``, ...) by :func:`pg_column` / :func:`mysql_column`.

An unconstrained PostgreSQL ``numeric`` (no precision) is always a Decimal with scale 127, as
Confluent's PostgreSQL dialect makes it in its Decimal branch; ``precision_only`` and
``best_fit`` never narrow it to an integer or a double (whose range its values may exceed).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from connectors.jdbc.source_config import NumericMapping
from connectors.sdk import Schema, SchemaType, Struct, struct_schema
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP

log = logging.getLogger(__name__)

Convert = Callable[[Any], Any]

DECIMAL_PRECISION: Final = "connect.decimal.precision"
UNSET_SCALE: Final = 127
_MAX_INTEGER_PRECISION: Final = 18
_SCALE_LOW: Final = -84


@dataclass(frozen=True)
class Column:
    """A result column: its label, JDBC type name, nullability and numeric shape."""

    name: str
    jdbc_type: str
    nullable: bool = True
    precision: int = 0
    scale: int = 0
    unsigned: bool = False
    source_type: str = ""


@dataclass(frozen=True)
class RowSchema:
    """The struct schema of a result set and how to turn each row (a tuple) into a Struct."""

    schema: Schema
    indexes: tuple[int, ...]
    converters: tuple[Convert | None, ...]
    names: tuple[str, ...]

    def struct(self, row: Sequence[Any]) -> Struct:
        values: dict[str, Any] = {}
        for name, index, convert in zip(self.names, self.indexes, self.converters, strict=True):
            value = row[index]
            values[name] = value if value is None or convert is None else convert(value)
        return Struct(self.schema, values)


_PG_TYPES: Final = {
    "bool": "BOOLEAN",
    "bit": "BIT",
    "int2": "SMALLINT",
    "int4": "INTEGER",
    "int8": "BIGINT",
    "oid": "BIGINT",
    "float4": "REAL",
    "float8": "DOUBLE",
    "numeric": "NUMERIC",
    "bpchar": "CHAR",
    "char": "CHAR",
    "varchar": "VARCHAR",
    "text": "VARCHAR",
    "name": "VARCHAR",
    "citext": "VARCHAR",
    "json": "VARCHAR",
    "jsonb": "VARCHAR",
    "uuid": "UUID",
    "xml": "VARCHAR",
    "bytea": "BINARY",
    "date": "DATE",
    "time": "TIME",
    "timetz": "TIME",
    "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMP",
}


def pg_column(name: str, type_name: str, typmod: int = -1, nullable: bool = True) -> Column:
    """A PostgreSQL column from its type name (``pg_type.typname``) and ``atttypmod``."""
    jdbc = _PG_TYPES.get(type_name, "OTHER")
    precision = scale = 0
    if jdbc == "NUMERIC" and typmod >= 4:
        precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
        if scale > 1000:  # negative scales (PostgreSQL 15) are stored in 11 bits
            scale -= 2048
    elif jdbc == "BIT":
        precision = typmod if typmod > 0 else 1
    return Column(name, jdbc, nullable, precision, scale, source_type=type_name)


# MySQL protocol field types (``asyncmy.constants.FIELD_TYPE``) as Connector/J reports them.
_MYSQL_TYPES: Final = {
    1: "TINYINT",
    2: "SMALLINT",
    3: "INTEGER",
    4: "REAL",
    5: "DOUBLE",
    7: "TIMESTAMP",
    8: "BIGINT",
    9: "INTEGER",
    10: "DATE",
    11: "TIME",
    12: "TIMESTAMP",
    13: "SMALLINT",  # YEAR (Connector/J yearIsDateType=true reports DATE; Penstock keeps the number)
    15: "VARCHAR",
    16: "BIT",
    245: "VARCHAR",  # JSON
    246: "DECIMAL",
    247: "CHAR",  # ENUM
    248: "CHAR",  # SET
    249: "BLOB",
    250: "BLOB",
    251: "BLOB",
    252: "BLOB",
    253: "VARCHAR",
    254: "CHAR",
}
_BINARY_CHARSET: Final = 63


def mysql_column(
    name: str,
    type_code: int,
    *,
    length: int,
    scale: int,
    nullable: bool,
    unsigned: bool,
    binary: bool,
) -> Column:
    """A MySQL/MariaDB column from its protocol field description."""
    jdbc = _MYSQL_TYPES.get(type_code, "OTHER")
    precision = 0
    if jdbc == "TINYINT" and length == 1 and not unsigned:
        jdbc = "BOOLEAN"  # TINYINT(1): Connector/J's tinyInt1isBit
    if jdbc == "BLOB":
        jdbc = "BINARY" if binary else "VARCHAR"
    elif jdbc in ("VARCHAR", "CHAR") and binary and type_code in (15, 253, 254):
        jdbc = "BINARY"
    elif jdbc == "DECIMAL":
        precision = max(length - (1 if scale else 0) - (0 if unsigned else 1), 1)
    elif jdbc == "BIT":
        precision = length
        jdbc = "BOOLEAN" if length == 1 else "BIT"
    return Column(name, jdbc, nullable, precision, scale, unsigned, source_type=str(type_code))


def _int_schema(precision: int) -> SchemaType:
    if precision > 9:
        return SchemaType.INT64
    if precision > 4:
        return SchemaType.INT32
    if precision > 2:
        return SchemaType.INT16
    return SchemaType.INT8


def _decimal(column: Column, dialect: str, optional: bool) -> Schema:
    scale = column.scale
    if dialect == "postgresql" and column.precision == 0 and column.scale == 0:
        scale = UNSET_SCALE
    params = {"scale": str(scale), DECIMAL_PRECISION: str(column.precision)}
    return Schema(SchemaType.BYTES, optional=optional, name=DECIMAL, version=1, parameters=params)


def numeric_schema(
    column: Column, mapping: NumericMapping, dialect: str, optional: bool
) -> tuple[Schema, Convert | None]:
    """The schema of a NUMERIC column under ``numeric.mapping`` (Confluent's rules)."""
    p, s = column.precision, column.scale
    unconstrained = dialect == "postgresql" and p == 0 and s == 0
    if not unconstrained and mapping is not NumericMapping.NONE:
        if mapping is NumericMapping.PRECISION_ONLY:
            if s == 0 and p <= _MAX_INTEGER_PRECISION:
                return Schema(_int_schema(p), optional=optional), int
        elif mapping is NumericMapping.BEST_FIT:
            if p <= _MAX_INTEGER_PRECISION:
                if _SCALE_LOW <= s <= 0:
                    return Schema(_int_schema(p), optional=optional), int
                if s > 0:
                    return Schema(SchemaType.FLOAT64, optional=optional), float
        elif mapping is NumericMapping.BEST_FIT_EAGER_DOUBLE:
            if _SCALE_LOW <= s <= 0 and p <= _MAX_INTEGER_PRECISION:
                return Schema(_int_schema(p), optional=optional), int
            if s > 0:
                return Schema(SchemaType.FLOAT64, optional=optional), float
    return _decimal(column, dialect, optional), None


def _pg_bit(precision: int) -> tuple[SchemaType, Convert]:
    if precision <= 1:
        return SchemaType.BOOLEAN, lambda v: v.to_int() != 0 if hasattr(v, "to_int") else bool(v)
    if precision <= 8:
        return SchemaType.INT8, lambda v: v.to_int() if hasattr(v, "to_int") else int(v)
    return SchemaType.BYTES, lambda v: bytes(v.bytes) if hasattr(v, "bytes") else bytes(v)


def _mysql_bit(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return int.from_bytes(value, "big")
    return int(value)


def _naive_in(zone: datetime.tzinfo | None) -> Convert | None:
    """Timestamps without a zone are read in ``db.timezone`` (None: UTC, already the SDK's reading)."""
    if zone is None:
        return None
    return lambda v: v.replace(tzinfo=zone) if v.tzinfo is None else v


def _time_value(value: Any) -> Any:
    if isinstance(value, datetime.timedelta):  # MySQL TIME
        return (datetime.datetime.min + value).time() if value >= datetime.timedelta(0) else datetime.time()
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


def field_schema(
    column: Column, mapping: NumericMapping, dialect: str, zone: datetime.tzinfo | None
) -> tuple[Schema, Convert | None] | None:
    """The field schema and value converter of ``column``, or None for a type left out."""
    optional = column.nullable
    kind = column.jdbc_type

    def plain(t: SchemaType, convert: Convert | None = None) -> tuple[Schema, Convert | None]:
        return Schema(t, optional=optional), convert

    match kind:
        case "BOOLEAN":
            return plain(SchemaType.BOOLEAN, bool if dialect == "mysql" else None)
        case "BIT":
            if dialect == "postgresql":
                t, convert = _pg_bit(column.precision)
                return plain(t, convert)
            return plain(SchemaType.INT64 if column.precision > 8 else SchemaType.INT8, _mysql_bit)
        case "TINYINT":
            return plain(SchemaType.INT16 if column.unsigned else SchemaType.INT8)
        case "SMALLINT":
            return plain(SchemaType.INT32 if column.unsigned else SchemaType.INT16)
        case "INTEGER":
            return plain(SchemaType.INT64 if column.unsigned else SchemaType.INT32)
        case "BIGINT":
            if column.unsigned:
                return _decimal(Column(column.name, "DECIMAL", optional, 20, 0), dialect, optional), None
            return plain(SchemaType.INT64)
        case "REAL":
            return plain(SchemaType.FLOAT32)
        case "DOUBLE":
            return plain(SchemaType.FLOAT64)
        case "NUMERIC":
            return numeric_schema(column, mapping, dialect, optional)
        case "DECIMAL":
            return numeric_schema(column, mapping, dialect, optional) if dialect == "mysql" else None
        case "CHAR" | "VARCHAR":
            return plain(SchemaType.STRING, None if dialect == "postgresql" else _text)
        case "UUID":
            return plain(SchemaType.STRING, str)
        case "BINARY":
            return plain(SchemaType.BYTES, bytes)
        case "DATE":
            return Schema(SchemaType.INT32, optional=optional, name=DATE, version=1), None
        case "TIME":
            return Schema(SchemaType.INT32, optional=optional, name=TIME, version=1), _time_value
        case "TIMESTAMP":
            return Schema(SchemaType.INT64, optional=optional, name=TIMESTAMP, version=1), _naive_in(zone)
    return None


def _text(value: Any) -> Any:
    if isinstance(value, set):  # MySQL SET
        return ",".join(sorted(value))
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "replace")


def row_schema(
    columns: Sequence[Column],
    *,
    name: str | None,
    mapping: NumericMapping,
    dialect: str,
    zone: datetime.tzinfo | None,
    where: str,
) -> RowSchema:
    """The struct schema of a result set; unknown column types are left out with a warning."""
    fields: list[tuple[str, Schema]] = []
    indexes: list[int] = []
    converters: list[Convert | None] = []
    for index, column in enumerate(columns):
        mapped = field_schema(column, mapping, dialect, zone)
        if mapped is None:
            log.warning(
                "JDBC type %s (%s) of column %s in %s is not supported; the column is left out",
                column.jdbc_type,
                column.source_type or "?",
                column.name,
                where,
            )
            continue
        fields.append((column.name, mapped[0]))
        indexes.append(index)
        converters.append(mapped[1])
    schema = struct_schema(fields, name=name)
    return RowSchema(schema, tuple(indexes), tuple(converters), tuple(f[0] for f in fields))


__all__ = [
    "Column",
    "RowSchema",
    "field_schema",
    "mysql_column",
    "numeric_schema",
    "pg_column",
    "row_schema",
]
