"""JsonConverter: Kafka Connect's JSON wire format, byte-compatible with Kafka's own converter.

Records written here must be readable by ``org.apache.kafka.connect.json.JsonConverter`` and the
other way round, so the schema JSON keeps Kafka's exact key order and the envelope is exactly
``{"schema":...,"payload":...}``. This runs once per record on the data path, so the expensive
parts are done once per schema and cached: the schema JSON text and a tree of small closures
that convert a value for that schema (writing), and the parsed :class:`Schema` plus its reader
closures keyed by the schema's JSON text (reading).

Deliberate differences from Kafka's JsonConverter, all of them stricter or more useful, never
producing different bytes for data Kafka accepts:

* Reading, a payload whose JSON type does not fit the schema (a string for an ``int32``, ...)
  raises :class:`DataError`; Jackson would silently coerce it to ``0``/``false``/``null``.
  Integers outside the schema type's range are rejected instead of wrapping around.
* Writing, a Decimal whose scale differs from the schema's is rescaled when that is exact
  (``10.5`` for scale 2 is written as ``10.50``); Kafka rejects any scale mismatch.
  Integers are accepted for Decimal, Date, Time and Timestamp fields, and a schemaless Struct
  is written as an object (``"schema":null``) instead of failing with "Mismatching schema.".
* ``decimal.format=NUMERIC`` always writes plain notation (``0.0000001``), where Java's
  ``BigDecimal.toString`` may switch to exponent notation; both read back identically.
* Timestamps are read as timezone-aware UTC ``datetime`` objects; naive ones are written as UTC.
"""

from __future__ import annotations

import binascii
import json as stdjson
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final, Generic, TypeVar

import orjson
from pydantic import BeforeValidator

from connectors.sdk.config import Importance, PluginConfig, Width, setting
from connectors.sdk.converter import Converter, HeaderConverter
from connectors.sdk.data import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    Field,
    Schema,
    SchemaAndValue,
    SchemaType,
    Struct,
)
from connectors.sdk.errors import DataError
from connectors.sdk.logical import Date as LogicalDate
from connectors.sdk.logical import Decimal as LogicalDecimal
from connectors.sdk.logical import Time as LogicalTime
from connectors.sdk.logical import Timestamp as LogicalTimestamp
from connectors.sdk.logical import logical_name

__all__ = ["DecimalFormat", "JsonConverter", "JsonConverterConfig"]


class DecimalFormat(StrEnum):
    BASE64 = "BASE64"
    NUMERIC = "NUMERIC"


def _upper(value: Any) -> Any:
    """Kafka documents ``decimal.format`` as case-insensitive."""
    return value.upper() if isinstance(value, str) else value


class JsonConverterConfig(PluginConfig):
    """Kafka's ``JsonConverterConfig`` keys, with Kafka's documentation and defaults."""

    schemas_enable: bool = setting(
        True,
        doc="Include schemas within each of the serialized values and keys.",
        importance=Importance.HIGH,
        group="Schemas",
        order_in_group=0,
        width=Width.MEDIUM,
        display_name="Enable Schemas",
    )
    schemas_cache_size: int = setting(
        1000,
        doc="The maximum number of schemas that can be cached in this converter instance.",
        importance=Importance.HIGH,
        group="Schemas",
        order_in_group=1,
        width=Width.MEDIUM,
        display_name="Schema Cache Size",
        ge=0,
    )
    decimal_format: Annotated[DecimalFormat, BeforeValidator(_upper)] = setting(
        DecimalFormat.BASE64,
        doc=(
            "Controls which format this converter will serialize decimals in. This value is case "
            "insensitive and can be either 'BASE64' (default) or 'NUMERIC'"
        ),
        importance=Importance.LOW,
        group="Serialization",
        order_in_group=0,
        width=Width.MEDIUM,
        display_name="Decimal Format",
        recommended_values=("BASE64", "NUMERIC"),
    )
    replace_null_with_default: bool = setting(
        True,
        doc=(
            "Whether to replace fields that have a default value and that are null to the default "
            "value. When set to true, the default value is used, otherwise null is used."
        ),
        importance=Importance.LOW,
        group="Serialization",
        order_in_group=1,
        width=Width.MEDIUM,
        display_name="Replace null with default",
    )


_Writer = Callable[[Any], Any]
"""Connect value -> something ``orjson.dumps`` writes as the right JSON."""
_Reader = Callable[[Any], Any]
"""Parsed JSON -> Connect value."""

_NULL: Final = SchemaAndValue(None, None)
_PREFIX: Final = b'{"schema":'
_SEPARATOR: Final = b',"payload":'
_ENVELOPE_ERROR: Final = (
    'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain '
    "additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false "
    "in your converter configuration."
)
_REQUIRED_NULL_ERROR: Final = (
    "Conversion error: null value for field that is required and has no default value"
)
_NO_ITEMS: Final = "Array schema has no element schema"
_NO_KEYS: Final = "Map schema has no key schema"
_NO_VALUES: Final = "Map schema has no value schema"
_SCHEMALESS_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME

_INT_RANGES: Final = {
    SchemaType.INT8: (-(2**7), 2**7 - 1),
    SchemaType.INT16: (-(2**15), 2**15 - 1),
    SchemaType.INT32: (-(2**31), 2**31 - 1),
    SchemaType.INT64: (-(2**63), 2**63 - 1),
}
_MS_PER_DAY: Final = 86_400_000
_NON_FINITE_TEXT: Final = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _NeedExactNumbers(Exception):
    """orjson reads JSON fractions as floats; a NUMERIC Decimal needs the exact digits.

    Raised by a Decimal reader that meets a float, so the record is parsed again with the
    (slower) stdlib parser producing ``Decimal`` fractions. Only NUMERIC decimals pay for it.
    """


_K = TypeVar("_K")
_V = TypeVar("_V")


def _compact(payload: bytes) -> bytes:
    """A copy of orjson's output that holds only its bytes.

    Each ``orjson.dumps`` result keeps 4-8 KB of memory alive, whatever its length (measured with
    orjson 3.13: 20,000 results of 100 B held 80 MB). A source keeps thousands of converted values
    in flight, so without this copy a JSON pipeline of small records needed twice the memory of a
    String one. Copying costs ~0.2 µs; values wrapped in an envelope are copied by the join anyway.
    """
    return bytes(memoryview(payload))


class _Lru(Generic[_K, _V]):
    """A bounded least-recently-used map, like Kafka's ``SynchronizedCache(LRUCache)``."""

    __slots__ = ("_data", "_size")

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[_K, _V] = OrderedDict()
        self._size = size

    def get(self, key: _K) -> _V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> None:
        if self._size <= 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self._size:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


@dataclass(frozen=True, slots=True)
class _WriteEntry:
    schema: Schema  # keeps the schema alive, so its id() cannot be reused while cached
    schema_json: bytes
    write: _Writer


@dataclass(frozen=True, slots=True)
class _ReadEntry:
    schema: Schema
    read: _Reader


def _node_type(value: Any) -> str:
    """The Jackson node type name Kafka's messages use for a parsed JSON value."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float | Decimal):
        return "NUMBER"
    if isinstance(value, str):
        return "STRING"
    if isinstance(value, list):
        return "ARRAY"
    if isinstance(value, dict):
        return "OBJECT"
    return type(value).__name__


def _b64(data: bytes | bytearray | memoryview) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _serialization_error(exc: Exception) -> DataError:
    return DataError(f"Converting Kafka Connect data to byte[] failed due to serialization error: {exc}")


def _deserialization_error(exc: Exception) -> DataError:
    return DataError(f"Converting byte[] to Kafka Connect data failed due to serialization error: {exc}")


_decimal_scale: Final = LogicalDecimal.scale
_unscaled: Final = LogicalDecimal.unscaled
_twos_complement: Final = LogicalDecimal.encode
_decode_unscaled: Final = LogicalDecimal.decode
_from_unscaled: Final = LogicalDecimal.from_unscaled


def _plain_decimal(unscaled: int, scale: int) -> bytes:
    """Plain-notation digits with exactly ``scale`` decimals, e.g. (1050, 2) -> ``10.50``."""
    if scale <= 0:
        return str(unscaled * 10**-scale).encode("ascii")
    digits = str(abs(unscaled)).rjust(scale + 1, "0")
    sign = "-" if unscaled < 0 else ""
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}".encode("ascii")


# --------------------------------------------------------------------------- writers (no config)


def _int_writer(schema_type: SchemaType) -> _Writer:
    low, high = _INT_RANGES[schema_type]
    label = schema_type.name

    def write(value: Any) -> Any:
        if type(value) is not int:
            if not isinstance(value, int) or isinstance(value, bool):
                raise DataError(f"Invalid type for {label}: {type(value)}")
            value = int(value)
        if low <= value <= high:
            return value
        raise DataError(f"Invalid value for {label}: {value} is out of range")

    return write


def _float_writer(schema_type: SchemaType) -> _Writer:
    label = schema_type.name
    isfinite = math.isfinite

    def write(value: Any) -> Any:
        if type(value) is not float:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise DataError(f"Invalid type for {label}: {type(value)}")
            value = float(value)
        if isfinite(value):
            return value
        # Jackson quotes non-finite numbers; orjson would silently write null.
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")

    return write


def _write_boolean(value: Any) -> Any:
    if value is True or value is False:
        return value
    raise DataError(f"Invalid type for BOOLEAN: {type(value)}")


def _write_string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    raise DataError(f"Invalid type for STRING: {type(value)}")


def _write_bytes(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return _b64(value)
    raise DataError(f"Invalid type for bytes type: {type(value)}")


def _write_date(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT32_WRITER(value)
    return _date_to_days(value)


def _write_time(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < _MS_PER_DAY:
            return int(value)
        raise DataError(f"Invalid value for Time: {value} ms is not within one day")
    return _time_to_millis(value)


def _write_timestamp(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return _INT64_WRITER(value)
    return _timestamp_to_millis(value)


_date_to_days: Final = LogicalDate.to_days
_time_to_millis: Final = LogicalTime.to_millis
_timestamp_to_millis: Final = LogicalTimestamp.to_millis
_INT32_WRITER: Final = _int_writer(SchemaType.INT32)
_INT64_WRITER: Final = _int_writer(SchemaType.INT64)


def _primitive_writer(schema_type: SchemaType) -> _Writer | None:
    if schema_type in _INT_RANGES:
        return _int_writer(schema_type)
    if schema_type is SchemaType.FLOAT32 or schema_type is SchemaType.FLOAT64:
        return _float_writer(schema_type)
    if schema_type is SchemaType.BOOLEAN:
        return _write_boolean
    if schema_type is SchemaType.STRING:
        return _write_string
    if schema_type is SchemaType.BYTES:
        return _write_bytes
    return None


# --------------------------------------------------------------------------- readers (no config)


def _int_reader(schema_type: SchemaType) -> _Reader:
    low, high = _INT_RANGES[schema_type]
    label = schema_type.name

    def read(value: Any) -> Any:
        if type(value) is int and low <= value <= high:
            return value
        if type(value) is int:
            raise DataError(f"Invalid value for {label}: {value} is out of range")
        raise DataError(f"Invalid type for {label}: expected an integer but found {_node_type(value)}")

    return read


def _float_reader(schema_type: SchemaType) -> _Reader:
    label = schema_type.name

    def read(value: Any) -> Any:
        kind = type(value)
        if kind is float:
            return value
        if kind is int or kind is Decimal:
            return float(value)
        if kind is str and value in _NON_FINITE_TEXT:
            return _NON_FINITE_TEXT[value]
        raise DataError(f"Invalid type for {label}: expected a number but found {_node_type(value)}")

    return read


def _read_boolean(value: Any) -> Any:
    if value is True or value is False:
        return value
    raise DataError(f"Invalid type for BOOLEAN: expected a boolean but found {_node_type(value)}")


def _read_string(value: Any) -> Any:
    if type(value) is str:
        return value
    raise DataError(f"Invalid type for STRING: expected a string but found {_node_type(value)}")


def _read_bytes(value: Any) -> Any:
    if type(value) is not str:
        raise DataError(f"Invalid type for BYTES: expected a base64 string but found {_node_type(value)}")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise DataError(f"Invalid bytes field: {exc}") from exc


def _decimal_reader(scale: int) -> _Reader:
    def read(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            return _from_unscaled(_decode_unscaled(_read_bytes(value)), scale)
        if kind is Decimal:
            return value
        if kind is int:
            return Decimal(value)
        if kind is float:
            raise _NeedExactNumbers
        raise DataError(
            "Invalid type for Decimal, underlying representation should be numeric or bytes but was "
            + _node_type(value)
        )

    return read


def _read_date(value: Any) -> Any:
    if type(value) is not int:
        raise DataError(
            f"Invalid type for Date, underlying representation should be integer but was {_node_type(value)}"
        )
    return LogicalDate.from_days(value)


def _read_time(value: Any) -> Any:
    if type(value) is not int:
        raise DataError(
            f"Invalid type for Time, underlying representation should be integer but was {_node_type(value)}"
        )
    return LogicalTime.from_millis(value)


def _read_timestamp(value: Any) -> Any:
    if type(value) is not int:
        raise DataError(
            "Invalid type for Timestamp, underlying representation should be integral but was "
            + _node_type(value)
        )
    return LogicalTimestamp.from_millis(value)


def _primitive_reader(schema_type: SchemaType) -> _Reader | None:
    if schema_type in _INT_RANGES:
        return _int_reader(schema_type)
    if schema_type is SchemaType.FLOAT32 or schema_type is SchemaType.FLOAT64:
        return _float_reader(schema_type)
    if schema_type is SchemaType.BOOLEAN:
        return _read_boolean
    if schema_type is SchemaType.STRING:
        return _read_string
    if schema_type is SchemaType.BYTES:
        return _read_bytes
    return None


_logical_kind: Final = logical_name
"""The logical type name if ``schema`` is one of the four JsonConverter knows."""


class JsonConverter(Converter[JsonConverterConfig], HeaderConverter[JsonConverterConfig]):
    """Kafka Connect's JsonConverter, usable for keys, values and headers."""

    config_model = JsonConverterConfig
    aliases = ("org.apache.kafka.connect.json.JsonConverter",)

    def __init__(self) -> None:
        self.is_key = False
        self._apply(JsonConverterConfig())

    def configure(self, config: JsonConverterConfig, *, is_key: bool = False) -> None:
        """One method for both roles: the header role has no ``is_key`` and means a value."""
        self.is_key = is_key
        self._apply(config)

    def _apply(self, config: JsonConverterConfig) -> None:
        self.config = config
        self._schemas_enable = config.schemas_enable
        self._numeric_decimals = config.decimal_format is DecimalFormat.NUMERIC
        self._replace_null = config.replace_null_with_default
        size = config.schemas_cache_size
        self._writers_by_id: _Lru[int, _WriteEntry] = _Lru(size)
        self._writers_by_json: _Lru[bytes, _WriteEntry] = _Lru(size)
        self._readers: _Lru[bytes, _ReadEntry] = _Lru(size)

    # ------------------------------------------------------------------ header converter role

    def from_connect_header(
        self,
        topic: str,
        key: str,
        schema: Schema | None,
        value: Any,
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, data)

    # ------------------------------------------------------------------ writing

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if schema is None:
            if value is None:
                return None  # the only tombstone JsonConverter produces
            payload = self._dump_schemaless(value)
            if self._schemas_enable:
                return b'{"schema":null,"payload":' + payload + b"}"
            return _compact(payload)
        entry = self._write_entry(schema)
        try:
            payload = orjson.dumps(entry.write(value))
        except orjson.JSONEncodeError as exc:
            raise _serialization_error(exc) from exc
        if self._schemas_enable:
            return b"".join((_PREFIX, entry.schema_json, _SEPARATOR, payload, b"}"))
        return _compact(payload)

    def schema_json(self, schema: Schema) -> bytes:
        """The exact schema text the envelope carries (cached like the data path's)."""
        return self._write_entry(schema).schema_json

    def _write_entry(self, schema: Schema) -> _WriteEntry:
        """Per Schema object first (no hashing), then per schema text for equal rebuilt schemas.

        ``Schema`` is hashable only without dict parameters/defaults, and hashing a deep frozen
        dataclass is recomputed on every call, so identity is the fast path. A connector that
        builds an equal schema for every record still avoids recompiling after the text lookup.
        """
        entry = self._writers_by_id.get(id(schema))
        if entry is not None and entry.schema is schema:
            return entry
        schema_json = orjson.dumps(self._schema_to_json(schema))
        shared = self._writers_by_json.get(schema_json)
        if shared is not None and (shared.schema is schema or shared.schema == schema):
            entry = _WriteEntry(schema, schema_json, shared.write)
        else:
            entry = _WriteEntry(schema, schema_json, self._writer(schema))
            self._writers_by_json.put(schema_json, entry)
        self._writers_by_id.put(id(schema), entry)
        return entry

    def _schema_to_json(self, schema: Schema) -> dict[str, Any]:
        """Kafka's key order: type, items|keys,values|fields, optional, name, version, doc, ..."""
        out: dict[str, Any] = {"type": schema.type.value}
        kind = schema.type
        if kind is SchemaType.ARRAY:
            out["items"] = self._schema_to_json(_require(schema.value_schema, _NO_ITEMS))
        elif kind is SchemaType.MAP:
            out["keys"] = self._schema_to_json(_require(schema.key_schema, _NO_KEYS))
            out["values"] = self._schema_to_json(_require(schema.value_schema, _NO_VALUES))
        elif kind is SchemaType.STRUCT:
            fields = []
            for member in schema.fields:
                field_json = self._schema_to_json(member.schema)
                field_json["field"] = member.name
                fields.append(field_json)
            out["fields"] = fields
        out["optional"] = schema.optional
        if schema.name is not None:
            out["name"] = schema.name
        if schema.version is not None:
            out["version"] = schema.version
        if schema.doc is not None:
            out["doc"] = schema.doc
        if schema.parameters is not None:
            out["parameters"] = dict(schema.parameters)
        if schema.default is not None:
            out["default"] = self._core_writer(schema)(schema.default)
        return out

    def _writer(self, schema: Schema) -> _Writer:
        """The core conversion wrapped in the null rule: default, JSON null, or an error."""
        core = self._core_writer(schema)
        if schema.default is not None and self._replace_null:
            default_json = core(schema.default)

            def write_or_default(value: Any) -> Any:
                return default_json if value is None else core(value)

            return write_or_default
        if schema.optional:

            def write_optional(value: Any) -> Any:
                return None if value is None else core(value)

            return write_optional

        def write_required(value: Any) -> Any:
            if value is None:
                raise DataError(_REQUIRED_NULL_ERROR)
            return core(value)

        return write_required

    def _core_writer(self, schema: Schema) -> _Writer:
        """Conversion of a non-null value for ``schema``."""
        logical = _logical_kind(schema)
        if logical == DECIMAL:
            return self._decimal_writer(_decimal_scale(schema))
        if logical == DATE:
            return _write_date
        if logical == TIME:
            return _write_time
        if logical == TIMESTAMP:
            return _write_timestamp
        primitive = _primitive_writer(schema.type)
        if primitive is not None:
            return primitive
        if schema.type is SchemaType.ARRAY:
            return self._array_writer(_require(schema.value_schema, _NO_ITEMS))
        if schema.type is SchemaType.MAP:
            return self._map_writer(
                _require(schema.key_schema, _NO_KEYS),
                _require(schema.value_schema, _NO_VALUES),
            )
        return self._struct_writer(schema)

    def _decimal_writer(self, scale: int) -> _Writer:
        if self._numeric_decimals:

            def write_numeric(value: Any) -> Any:
                return orjson.Fragment(_plain_decimal(_unscaled(value, scale), scale))

            return write_numeric

        def write_base64(value: Any) -> Any:
            return _b64(_twos_complement(_unscaled(value, scale)))

        return write_base64

    def _array_writer(self, items: Schema) -> _Writer:
        write_item = self._writer(items)

        def write(value: Any) -> Any:
            if not isinstance(value, list | tuple):
                raise DataError(f"Invalid type for ARRAY: {type(value)}")
            return [write_item(item) for item in value]

        return write

    def _map_writer(self, keys: Schema, values: Schema) -> _Writer:
        write_key = self._writer(keys)
        write_value = self._writer(values)

        if keys.type is SchemaType.STRING:

            def write_object(value: Any) -> Any:
                if not isinstance(value, Mapping):
                    raise DataError(f"Invalid type for MAP: {type(value)}")
                return {write_key(k): write_value(v) for k, v in value.items()}

            return write_object

        def write_pairs(value: Any) -> Any:
            if not isinstance(value, Mapping):
                raise DataError(f"Invalid type for MAP: {type(value)}")
            return [[write_key(k), write_value(v)] for k, v in value.items()]

        return write_pairs

    def _struct_writer(self, schema: Schema) -> _Writer:
        members = tuple((member.name, self._writer(member.schema)) for member in schema.fields)

        def write(value: Any) -> Any:
            if not isinstance(value, Struct):
                raise DataError(f"Invalid type for STRUCT: {type(value)}")
            if value.schema is not schema and not _same_struct_schema(value.schema, schema):
                raise DataError("Mismatching schema.")
            get = value.values.get
            return {name: write_member(get(name)) for name, write_member in members}

        return write

    def _dump_schemaless(self, value: Any) -> bytes:
        """orjson handles plain JSON natively; the hook covers bytes and Structs.

        A dict with non-string keys makes orjson fail; only then is the value rebuilt in Kafka's
        shape (array of ``[key, value]`` pairs), so the common case costs one C call.
        """
        try:
            return orjson.dumps(value, default=self._schemaless_default, option=_SCHEMALESS_OPTIONS)
        except orjson.JSONEncodeError as exc:
            if isinstance(exc.__cause__, DataError):
                raise exc.__cause__ from None
        try:
            return orjson.dumps(
                self._schemaless_plain(value), default=self._schemaless_default, option=_SCHEMALESS_OPTIONS
            )
        except orjson.JSONEncodeError as exc:
            if isinstance(exc.__cause__, DataError):
                raise exc.__cause__ from None
            raise _serialization_error(exc) from exc

    def _schemaless_default(self, value: Any) -> Any:
        if isinstance(value, bytes | bytearray | memoryview):
            return _b64(value)
        if isinstance(value, Struct):
            return self._write_entry(value.schema).write(value)
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, set | frozenset):
            return list(value)
        raise DataError(f"{type(value)} does not have a corresponding Kafka Connect schema type.")

    def _schemaless_plain(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            if all(isinstance(key, str) for key in value):
                return {key: self._schemaless_plain(item) for key, item in value.items()}
            plain = self._schemaless_plain
            return [[plain(key), plain(item)] for key, item in value.items()]
        if isinstance(value, list | tuple):
            return [self._schemaless_plain(item) for item in value]
        return value

    # ------------------------------------------------------------------ reading

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        if data is None:
            return _NULL
        if type(data) is not bytes:
            data = bytes(data)
        try:
            return self._to_connect(data, exact=False)
        except _NeedExactNumbers:
            return self._to_connect(data, exact=True)

    def _to_connect(self, data: bytes, *, exact: bool) -> SchemaAndValue:
        if not data:
            # Jackson reads no content as a missing node: null when schemaless, no envelope otherwise.
            if self._schemas_enable:
                raise DataError(_ENVELOPE_ERROR)
            return _NULL
        if not self._schemas_enable:
            return SchemaAndValue(None, _loads(data, exact=exact))
        if not exact:
            fast = self._fast_envelope(data)
            if fast is not None:
                entry, payload = fast
                if entry is None:
                    return SchemaAndValue(None, payload)
                return SchemaAndValue(entry.schema, entry.read(payload))
        document = _loads(data, exact=exact)
        if type(document) is not dict or len(document) != 2 or not {"schema", "payload"} <= document.keys():
            raise DataError(_ENVELOPE_ERROR)
        schema_json = document["schema"]
        payload = document["payload"]
        if schema_json is None:
            return SchemaAndValue(None, payload)
        try:
            key: bytes | None = orjson.dumps(schema_json, default=str)
        except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: parse, do not cache
            key = None
        entry = self._readers.get(key) if key is not None else None
        if entry is None:
            entry = self._read_entry(schema_json)
            if key is not None:
                self._readers.put(key, entry)
        return SchemaAndValue(entry.schema, entry.read(payload))

    def _fast_envelope(self, data: bytes) -> tuple[_ReadEntry | None, Any] | None:
        """Kafka writes ``{"schema":S,"payload":P}`` compactly; split it without parsing S.

        The text between the prefix and the first ``,"payload":`` is looked up as-is, so a
        known schema is never parsed again. This is safe: if both that text and the remainder
        are complete JSON values, the record is exactly a two-key envelope. Anything else
        (other spacing, key order, extra keys, broken JSON) returns None for the full parser.
        """
        if not data.startswith(_PREFIX) or not data.endswith(b"}"):
            return None
        separator = data.find(_SEPARATOR, len(_PREFIX))
        if separator < 0:
            return None
        try:
            payload = orjson.loads(memoryview(data)[separator + len(_SEPARATOR) : -1])
        except orjson.JSONDecodeError:
            return None
        raw_schema = data[len(_PREFIX) : separator]
        if raw_schema == b"null":
            return None, payload
        entry = self._readers.get(raw_schema)
        if entry is None:
            try:
                schema_json = orjson.loads(raw_schema)
            except orjson.JSONDecodeError:
                return None
            if schema_json is None:
                return None, payload
            entry = self._read_entry(schema_json)
            self._readers.put(raw_schema, entry)
        return entry, payload

    def _read_entry(self, schema_json: Any) -> _ReadEntry:
        schema = self._parse_schema(schema_json)
        return _ReadEntry(schema, self._reader(schema))

    def _parse_schema(self, node: Any) -> Schema:
        """Kafka's ``asConnectSchema``: the same checks, with Kafka's error messages."""
        type_name = node.get("type") if type(node) is dict else None
        if not isinstance(type_name, str):
            raise DataError("Schema must contain 'type' field")
        try:
            kind = SchemaType(type_name)
        except ValueError:
            raise DataError(f"Unknown schema type: {type_name}") from None
        key_schema: Schema | None = None
        value_schema: Schema | None = None
        members: list[Field] = []
        if kind is SchemaType.ARRAY:
            items = node.get("items")
            if items is None:
                raise DataError("Array schema did not specify the element type")
            value_schema = self._parse_schema(items)
        elif kind is SchemaType.MAP:
            keys = node.get("keys")
            if keys is None:
                raise DataError("Map schema did not specify the key type")
            values = node.get("values")
            if values is None:
                raise DataError("Map schema did not specify the value type")
            key_schema = self._parse_schema(keys)
            value_schema = self._parse_schema(values)
        elif kind is SchemaType.STRUCT:
            fields = node.get("fields")
            if type(fields) is not list:
                raise DataError('Struct schema\'s "fields" argument is not an array.')
            seen: set[str] = set()
            for index, field_node in enumerate(fields):
                name = field_node.get("field") if type(field_node) is dict else None
                if not isinstance(name, str):
                    raise DataError("Struct schema's field name not specified properly")
                if name in seen:
                    raise DataError(f"Cannot create field because of field name duplication {name}")
                seen.add(name)
                members.append(Field(name, index, self._parse_schema(field_node)))
        parameters = node.get("parameters")
        if type(parameters) is dict:
            if not all(type(v) is str for v in parameters.values()):
                raise DataError("Schema parameters must have string values.")
        else:
            parameters = None
        name = node.get("name")
        version = node.get("version")
        doc = node.get("doc")
        schema = Schema(
            kind,
            optional=node.get("optional") is True,
            name=name if type(name) is str else None,
            version=version if type(version) is int else None,
            doc=doc if type(doc) is str else None,
            parameters=parameters,
            fields=tuple(members),
            key_schema=key_schema,
            value_schema=value_schema,
        )
        default = node.get("default")
        if default is not None:
            schema = replace(schema, default=self._core_reader(schema)(default))
        return schema

    def _reader(self, schema: Schema) -> _Reader:
        core = self._core_reader(schema)
        default = schema.default
        if default is not None and self._replace_null:

            def read_or_default(value: Any) -> Any:
                return default if value is None else core(value)

            return read_or_default
        if schema.optional:

            def read_optional(value: Any) -> Any:
                return None if value is None else core(value)

            return read_optional
        message = f"Invalid null value for required {schema.type.name} field"

        def read_required(value: Any) -> Any:
            if value is None:
                raise DataError(message)
            return core(value)

        return read_required

    def _core_reader(self, schema: Schema) -> _Reader:
        logical = _logical_kind(schema)
        if logical == DECIMAL:
            return _decimal_reader(_decimal_scale(schema))
        if logical == DATE:
            return _read_date
        if logical == TIME:
            return _read_time
        if logical == TIMESTAMP:
            return _read_timestamp
        primitive = _primitive_reader(schema.type)
        if primitive is not None:
            return primitive
        if schema.type is SchemaType.ARRAY:
            return self._array_reader(_require(schema.value_schema, _NO_ITEMS))
        if schema.type is SchemaType.MAP:
            return self._map_reader(
                _require(schema.key_schema, _NO_KEYS),
                _require(schema.value_schema, _NO_VALUES),
            )
        return self._struct_reader(schema)

    def _array_reader(self, items: Schema) -> _Reader:
        read_item = self._reader(items)

        def read(value: Any) -> Any:
            if type(value) is not list:
                raise DataError(f"Invalid type for ARRAY: expected an array but found {_node_type(value)}")
            return [read_item(item) for item in value]

        return read

    def _map_reader(self, keys: Schema, values: Schema) -> _Reader:
        read_key = self._reader(keys)
        read_value = self._reader(values)

        if keys.type is SchemaType.STRING:

            def read_object(value: Any) -> Any:
                if type(value) is not dict:
                    raise DataError(f"Invalid type for MAP: expected an object but found {_node_type(value)}")
                return {k: read_value(v) for k, v in value.items()}

            return read_object

        def read_pairs(value: Any) -> Any:
            if type(value) is not list:
                raise DataError(
                    "Maps with non-string fields should be encoded as JSON array of tuples, but found "
                    + _node_type(value)
                )
            result: dict[Any, Any] = {}
            for pair in value:
                if type(pair) is not list or len(pair) != 2:
                    raise DataError(f"Found invalid map entry instead of array tuple: {_node_type(pair)}")
                try:
                    result[read_key(pair[0])] = read_value(pair[1])
                except TypeError as exc:
                    raise DataError(f"Map key cannot be used in Python: {exc}") from exc
            return result

        return read_pairs

    def _struct_reader(self, schema: Schema) -> _Reader:
        members = tuple((member.name, self._reader(member.schema)) for member in schema.fields)

        def read(value: Any) -> Any:
            if type(value) is not dict:
                raise DataError(f"Structs should be encoded as JSON objects, but found {_node_type(value)}")
            get = value.get
            return Struct(schema, {name: read_member(get(name)) for name, read_member in members})

        return read


def _same_struct_schema(actual: Schema, declared: Schema) -> bool:
    """Kafka's ``equals``, except that a default value is ignored.

    A struct default is itself a Struct whose schema cannot contain that default, so comparing
    defaults would reject every schema's own default value.
    """
    if actual == declared:
        return True
    return replace(actual, default=None) == replace(declared, default=None)


def _require(schema: Schema | None, message: str) -> Schema:
    if schema is None:
        raise DataError(message)
    return schema


def _loads(data: bytes, *, exact: bool) -> Any:
    try:
        if exact:
            return stdjson.loads(data, parse_float=Decimal)
        return orjson.loads(data)
    except ValueError as exc:  # orjson.JSONDecodeError, json.JSONDecodeError, UnicodeDecodeError
        raise _deserialization_error(exc) from exc
