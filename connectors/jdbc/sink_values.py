"""Binding values: a Connect value made into what the driver expects for the target column.

With a schema, most values bind as they are (int to an integer column, ``decimal.Decimal`` to a
numeric one, ``datetime.date`` to a date), so no function runs per value. The exceptions:

* Timestamps are UTC instants; a column without a time zone (PostgreSQL ``timestamp``, MySQL
  ``DATETIME``) receives the wall-clock time in ``db.timezone``, as Confluent binds them.
* Structs, maps and arrays written to a ``json``/``jsonb`` (or MySQL ``JSON``/text) column are
  written as JSON text.

Schemaless values (from JSON without schemas) are coerced to the column's type: numbers to
numeric or text columns, ISO-8601 strings to date/time/timestamp columns, objects and arrays to
JSON text.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any, Final

import orjson

from connectors.sdk import Schema, SchemaType, Struct, logical_name
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP, to_plain

Binder = Callable[[Any], Any]

_INTEGER: Final = {"smallint", "integer", "bigint", "tinyint", "mediumint", "int"}
_FLOAT: Final = {"real", "double precision", "double", "float"}
_NUMERIC: Final = {"numeric", "decimal"}
_TEXT: Final = {
    "text",
    "character varying",
    "character",
    "varchar",
    "char",
    "tinytext",
    "mediumtext",
    "longtext",
}
_JSON: Final = {"json", "jsonb"}
_NAIVE_TIMESTAMP: Final = {"timestamp without time zone", "datetime", "timestamp"}
_AWARE_TIMESTAMP: Final = {"timestamp with time zone"}
_TIME: Final = {"time without time zone", "time"}


def binder(dialect: str, type_name: str, schema: Schema | None, zone: dt.tzinfo) -> Binder | None:
    """The conversion for one column, or None when values bind unchanged."""
    kind = type_name.lower()
    if dialect == "mysql" and kind == "timestamp":
        kind = "datetime"  # MySQL TIMESTAMP takes the session's wall-clock time too
    logical = logical_name(schema) if schema is not None else None
    if schema is not None and schema.type is not SchemaType.STRUCT and schema.type is not SchemaType.MAP:
        if logical == TIMESTAMP or kind in _NAIVE_TIMESTAMP | _AWARE_TIMESTAMP:
            return _timestamp(kind, zone)
        if kind in _JSON and schema.type is SchemaType.ARRAY:
            return _none_safe(_json_text)
        if dialect == "mysql" and schema.type is SchemaType.ARRAY:
            return _none_safe(_json_text)
        if logical in (DECIMAL, DATE, TIME) or _direct(kind, schema):
            return None
        return _coerce(kind, zone)
    return _coerce(kind, zone)


def _direct(kind: str, schema: Schema) -> bool:
    """Whether a value of ``schema`` binds to a ``kind`` column with no conversion."""
    t = schema.type
    if t in (SchemaType.INT8, SchemaType.INT16, SchemaType.INT32, SchemaType.INT64):
        return kind in _INTEGER or kind in _FLOAT or kind in _NUMERIC
    if t in (SchemaType.FLOAT32, SchemaType.FLOAT64):
        return kind in _FLOAT
    if t is SchemaType.STRING:
        return kind in _TEXT or kind in _JSON or kind in ("uuid", "enum", "set")
    if t is SchemaType.BOOLEAN:
        return kind in ("boolean", "tinyint", "bit")
    if t is SchemaType.BYTES:
        return kind in ("bytea", "blob", "varbinary", "binary", "longblob", "mediumblob", "tinyblob")
    return t is SchemaType.ARRAY and kind.endswith("[]")


def _none_safe(fn: Binder) -> Binder:
    return lambda v: None if v is None else fn(v)


def _json_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(to_plain(value), default=_json_default).decode()


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        import base64

        return base64.b64encode(bytes(value)).decode()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _timestamp(kind: str, zone: dt.tzinfo) -> Binder:
    aware = kind in _AWARE_TIMESTAMP

    def bind(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day)
        if not isinstance(value, dt.datetime):
            return value  # the driver says what is wrong with it
        if aware:
            return value if value.tzinfo is not None else value.replace(tzinfo=zone)
        if value.tzinfo is not None:
            return value.astimezone(zone).replace(tzinfo=None)
        return value

    return bind


def _coerce(kind: str, zone: dt.tzinfo) -> Binder:
    """For schemaless values (and struct/map values): make them fit the column's type."""
    if kind in _NAIVE_TIMESTAMP | _AWARE_TIMESTAMP:
        return _timestamp(kind, zone)

    def bind(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, Struct | dict) or (isinstance(value, list) and not kind.endswith("[]")):
            return _json_text(value)
        if kind in _INTEGER:
            return int(value) if isinstance(value, str | bool | float | decimal.Decimal) else value
        if kind in _FLOAT:
            return float(value) if isinstance(value, str | int | decimal.Decimal) else value
        if kind in _NUMERIC:
            return decimal.Decimal(str(value)) if isinstance(value, str | int | float) else value
        if kind in _TEXT or kind in _JSON:
            if kind in _JSON and not isinstance(value, str):
                return _json_text(value)
            return value if isinstance(value, str) else str(value)
        if kind == "date" and isinstance(value, str):
            return dt.date.fromisoformat(value)
        if kind == "date" and isinstance(value, dt.datetime):
            return value.date()
        if kind in _TIME and isinstance(value, str):
            return dt.time.fromisoformat(value)
        if kind == "uuid" and isinstance(value, str):
            return uuid.UUID(value)
        if kind == "boolean" and isinstance(value, str):
            return value.strip().lower() in ("true", "t", "1", "yes")
        if kind in ("bytea",) and isinstance(value, str):
            return value.encode()
        return value

    return bind
