"""An index mapping built from a Connect value schema (``schema.ignore=false``), as Confluent's
``Mapping.buildMapping`` does: PUT once per index, never updated afterwards."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from typing import Any

from connectors.sdk import DataError, Schema, SchemaType, logical_name
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP, Struct
from connectors.sdk.logical import Date, Time, Timestamp

_PRIMITIVES = {
    SchemaType.BOOLEAN: "boolean",
    SchemaType.INT8: "byte",
    SchemaType.INT16: "short",
    SchemaType.INT32: "integer",
    SchemaType.INT64: "long",
    SchemaType.FLOAT32: "float",
    SchemaType.FLOAT64: "double",
    SchemaType.BYTES: "binary",
}
_LOGICAL = {DATE: "date", TIME: "date", TIMESTAMP: "date", DECIMAL: "double"}
_KEYWORD = {"keyword": {"type": "keyword", "ignore_above": 256}}


def build_mapping(schema: Schema | None) -> dict[str, Any]:
    """The mapping body for ``PUT /<index>/_mapping``; a record without a value schema cannot
    have one (Confluent's message, which tells the user to set ``schema.ignore=true``)."""
    if schema is None:
        raise DataError("Cannot infer mapping without schema.")
    mapping = _field(schema)
    if "properties" not in mapping:
        raise DataError(
            f"Cannot build an index mapping from a {schema.type} value schema: a struct is needed."
        )
    return {"properties": mapping["properties"]}


def _field(schema: Schema) -> dict[str, Any]:
    name = logical_name(schema)
    result: dict[str, Any]
    if name in _LOGICAL:
        result = {"type": _LOGICAL[name]}
    elif schema.type is SchemaType.STRUCT:
        return {"properties": {f.name: _field(f.schema) for f in schema.fields}}
    elif schema.type is SchemaType.ARRAY:
        assert schema.value_schema is not None
        return _field(schema.value_schema)
    elif schema.type is SchemaType.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        return {"properties": {"key": _field(schema.key_schema), "value": _field(schema.value_schema)}}
    elif schema.type is SchemaType.STRING:
        result = {"type": "text", "fields": dict(_KEYWORD)}
    else:
        result = {"type": _PRIMITIVES[schema.type]}
    if schema.default is not None and result["type"] not in ("text", "binary"):
        # Elasticsearch refuses null_value on text and binary fields (it would fail the mapping)
        result["null_value"] = _null_value(schema.default)
    return result


def _null_value(default: Any) -> Any:
    """A schema default as Elasticsearch reads ``null_value`` (logical values as Connect's numbers)."""
    if isinstance(default, decimal.Decimal):
        return float(default)
    if isinstance(default, dt.datetime):
        return Timestamp.to_millis(default)
    if isinstance(default, dt.date):
        return Date.to_days(default)
    if isinstance(default, dt.time):
        return Time.to_millis(default)
    if isinstance(default, bytes | bytearray):
        return base64.b64encode(default).decode()
    if isinstance(default, Struct):
        return default.to_dict()
    return default
