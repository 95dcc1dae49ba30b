"""A sink record as one bulk action: the document id, its version, and the JSON body (§6.3, §6.4).

Bodies are serialised once, here, with orjson, and travel as bytes to the bulk request: the hot
path of the sink. Records that cannot become a document raise ``DataError`` (Confluent's
``DataException``), which the task drops or fails on per ``drop.invalid.message``.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

import orjson

from connectors.elasticsearch.config import ElasticsearchSinkConfig, NullValueBehavior, WriteMethod
from connectors.elasticsearch.naming import IndexNames
from connectors.sdk import DataError, Schema, SchemaType, SinkRecord, Struct, logical_name
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP
from connectors.sdk.logical import Date, Decimal, Time, Timestamp

_ID_TYPES = (SchemaType.INT8, SchemaType.INT16, SchemaType.INT32, SchemaType.INT64, SchemaType.STRING)


@dataclass(slots=True)
class Action:
    """One bulk item: its NDJSON lines, the document it writes and the record it came from."""

    record: SinkRecord
    index: str
    doc_id: str | None
    lines: bytes
    """The action line and (except for deletes) the source line, each ending in a newline."""


def document_id(record: SinkRecord, ignore_key: bool) -> str:
    """``topic+partition+offset`` when the key is ignored, else the key: an integer or a
    non-empty string (by schema, or by value when schemaless), anything else a ``DataError``."""
    if ignore_key:
        return f"{record.topic}+{record.partition}+{record.kafka_offset}"
    key, schema = record.key, record.key_schema
    if key is None:
        raise DataError("Key is used as document id and can not be null.")
    if schema is not None:
        if schema.type not in _ID_TYPES or logical_name(schema) is not None:
            raise DataError(f"Key type {schema.type.name} is not supported as the document id.")
    elif isinstance(key, bool) or not isinstance(key, int | str):
        raise DataError(f"Key type {type(key).__name__} is not supported as the document id.")
    text = str(key)
    if not text:
        raise DataError("Key is used as document id and can not be empty.")
    return text


def _version(record: SinkRecord, header: str) -> int:
    """The external version: the record's offset, or the numeric ``external.version.header``."""
    if not header:
        return record.kafka_offset
    for h in reversed(record.headers):
        if h.key == header:
            try:
                return int(h.value.decode() if isinstance(h.value, bytes | bytearray) else h.value)
            except (TypeError, ValueError):
                raise DataError(
                    f"Header {header} must hold a number to be used as the external version."
                ) from None
    raise DataError(f"Header {header} is missing: it is used as the external version.")


# -- body ---------------------------------------------------------------------------------------------
def preprocess(schema: Schema, value: Any, compact_maps: bool) -> Any:
    """Confluent's pre-processing when the schema is used: Decimal -> float, Date/Time/Timestamp
    -> Connect's epoch numbers, maps -> objects (string keys, ``compact.map.entries``) or arrays
    of ``{"key", "value"}``, structs -> objects, bytes -> base64."""
    if value is None:
        return None
    name = logical_name(schema)
    if name is not None:
        if name == DECIMAL:
            return float(value)
        if name == DATE:
            return Date.to_days(value)
        if name == TIME:
            return Time.to_millis(value)
        if name == TIMESTAMP:
            return Timestamp.to_millis(value)
    kind = schema.type
    if kind is SchemaType.STRUCT:
        values = value.values if isinstance(value, Struct) else value
        return {f.name: preprocess(f.schema, values.get(f.name), compact_maps) for f in schema.fields}
    if kind is SchemaType.ARRAY:
        assert schema.value_schema is not None
        return [preprocess(schema.value_schema, v, compact_maps) for v in value]
    if kind is SchemaType.MAP:
        assert schema.key_schema is not None and schema.value_schema is not None
        ks, vs = schema.key_schema, schema.value_schema
        if compact_maps and ks.type is SchemaType.STRING:
            return {k: preprocess(vs, v, compact_maps) for k, v in value.items()}
        return [
            {"key": preprocess(ks, k, compact_maps), "value": preprocess(vs, v, compact_maps)}
            for k, v in value.items()
        ]
    if kind is SchemaType.BYTES:
        return base64.b64encode(bytes(value)).decode()
    return value


def _plain_default(value: Any) -> Any:
    """orjson's fallback for what a schema-ignored or schemaless value may hold, written as
    Kafka's JsonConverter (schemas off) writes it."""
    if isinstance(value, Struct):
        return value.to_dict()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        scale = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return base64.b64encode(Decimal.encode(Decimal.unscaled(value, scale))).decode()
    if isinstance(value, dt.datetime):
        return Timestamp.to_millis(value)
    if isinstance(value, dt.date):
        return Date.to_days(value)
    if isinstance(value, dt.time):
        return Time.to_millis(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
"""Dates go through ``_plain_default`` (Connect's epoch numbers, not ISO text); a map key that is
not a string is written as its text (Kafka's JsonConverter would write the map as pairs)."""


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=_plain_default, option=_OPTIONS)
    except TypeError as exc:
        raise DataError(f"Cannot write the value as JSON: {exc}") from None


def body(record: SinkRecord, config: ElasticsearchSinkConfig) -> bytes:
    """The document's JSON. Data streams also get ``@timestamp`` (the first
    ``data.stream.timestamp.field`` present, else the record timestamp)."""
    value = record.value
    if record.value_schema is not None and not config.ignores_schema(record.topic):
        value = preprocess(record.value_schema, value, config.compact_map_entries)
    elif isinstance(value, Struct):
        value = value.to_dict()
    if config.is_data_stream and isinstance(value, dict):
        stamp: Any = record.timestamp
        for field in config.data_stream_timestamp_field:
            if value.get(field) is not None:
                stamp = value[field]
                break
        value = {**value, "@timestamp": stamp}
    return _dumps(value)


# -- actions ------------------------------------------------------------------------------------------
class ActionBuilder:
    """Turns records into bulk actions; None for a record that is skipped on purpose (a tombstone
    under ``behavior.on.null.values=ignore``, or one with a null key under ``delete``)."""

    def __init__(self, config: ElasticsearchSinkConfig) -> None:
        self._config = config
        self.index_of = IndexNames(config)
        self._retry_on_conflict = min(config.max_in_flight_requests, 5)

    def build(self, record: SinkRecord) -> Action | None:
        config = self._config
        index = self.index_of(record.topic)
        ignore_key = config.ignores_key(record.topic)
        if record.value is None:
            behavior = config.behavior_on_null_values
            if behavior is NullValueBehavior.IGNORE or (
                behavior is NullValueBehavior.DELETE and record.key is None
            ):
                return None
            if behavior is NullValueBehavior.FAIL:
                raise DataError(
                    f"Sink record with key of {record.key} and null value encountered for topic/partition/offset "
                    f"{record.topic}/{record.partition}/{record.kafka_offset} (to ignore future records like this "
                    "change the configuration property 'behavior.on.null.values' from 'fail' to 'ignore')"
                )
            doc_id = document_id(record, ignore_key)
            head: dict[str, Any] = {"_index": index, "_id": doc_id}
            if not ignore_key:
                head |= {
                    "version": _version(record, config.external_version_header),
                    "version_type": "external",
                }
            return Action(record, index, doc_id, orjson.dumps({"delete": head}) + b"\n")
        doc_id = document_id(record, ignore_key)
        source = body(record, config)
        if config.write_method is WriteMethod.UPSERT:
            head = {"_index": index, "_id": doc_id, "retry_on_conflict": self._retry_on_conflict}
            lines = b"".join(
                (orjson.dumps({"update": head}), b'\n{"doc":', source, b',"upsert":', source, b"}\n")
            )
            return Action(record, index, doc_id, lines)
        if config.is_data_stream:
            head = {"_index": index, "_id": doc_id}
            return Action(
                record, index, doc_id, b"".join((orjson.dumps({"create": head}), b"\n", source, b"\n"))
            )
        head = {"_index": index, "_id": doc_id}
        if not ignore_key:
            head |= {"version": _version(record, config.external_version_header), "version_type": "external"}
        return Action(record, index, doc_id, b"".join((orjson.dumps({"index": head}), b"\n", source, b"\n")))
