"""``Cast$Key`` / ``Cast$Value``: cast fields, or the whole operand, to another primitive type
(reference §7.8).

Kafka casts with Java's semantics, which users see in their data, so they are reproduced:
numbers narrow by truncation and wrap (300 as int8 is 44), floats to integers saturate, a
boolean from a number is ``number != 0`` after truncation (0.5 is false), strings parse with
``Byte.parseByte``/``Double.parseDouble`` rules, floats print like ``Double.toString``
(``1.0E10``), bytes cast to string as base64, and Date/Time/Timestamp values become their raw
number or ISO text. Python ints have no width, so a schemaless int is a Java ``Long``.
"""

from __future__ import annotations

import base64
import decimal
import math
import re
import struct
from datetime import date, datetime, time
from typing import Any, ClassVar, Final

from pydantic import field_validator

from connectors.sdk.config import CommaList, PluginConfig, setting
from connectors.sdk.data import DATE, TIME, TIMESTAMP, Schema, SchemaType, Struct
from connectors.sdk.date_format import iso_format_for
from connectors.sdk.errors import DataError
from connectors.sdk.logical import Date, Time, Timestamp, logical_name
from connectors.sdk.records import ConnectRecord
from connectors.sdk.schema_builder import SchemaBuilder
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    OperandTransformation,
    SchemaCache,
    Side,
    copy_schema_basics,
    field_value,
    require_map,
    require_struct,
    struct_builder_like,
)

PURPOSE = "cast types"
_OUTPUT_TYPES: Final = (
    SchemaType.INT8,
    SchemaType.INT16,
    SchemaType.INT32,
    SchemaType.INT64,
    SchemaType.FLOAT32,
    SchemaType.FLOAT64,
    SchemaType.BOOLEAN,
    SchemaType.STRING,
)
_INPUT_TYPES: Final = (*_OUTPUT_TYPES, SchemaType.BYTES)
_JAVA_NAMES: Final = {t: t.name for t in SchemaType}
_TYPE_BY_JAVA_NAME: Final = {t.name: t for t in SchemaType}


def _java_set(types: tuple[SchemaType, ...]) -> str:
    return "[" + ", ".join(t.name for t in types) + "]"


def parse_spec(spec: list[str]) -> dict[str | None, SchemaType]:
    """``field:type`` pairs, or one bare type (key None) for the whole operand; ``ValueError``
    with Kafka's message otherwise."""
    if not spec:
        raise ValueError("Must specify at least one field to cast.")
    casts: dict[str | None, SchemaType] = {}
    whole = False
    for mapping in spec:
        parts = mapping.split(":")
        while len(parts) > 1 and parts[-1] == "":
            parts.pop()  # Java's String.split drops trailing empty strings
        if len(parts) > 2:
            raise ValueError(f"Invalid rename mapping: {mapping}")
        if len(parts) == 1:
            casts[None] = _output_type(parts[0].strip())
            whole = True
        else:
            casts[parts[0].strip()] = _output_type(parts[1].strip())
    if whole and len(spec) > 1:
        raise ValueError(
            "Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec"
        )
    return casts


def _output_type(name: str) -> SchemaType:
    found = _TYPE_BY_JAVA_NAME.get(name.upper())
    if found is None:
        raise ValueError(f"Invalid type found in casting spec: {name}")
    if found not in _OUTPUT_TYPES:
        raise ValueError(
            f"Cast transformation does not support casting to {found.name}; supported types are {_java_set(_OUTPUT_TYPES)}"
        )
    return found


class CastConfig(PluginConfig):
    spec: CommaList = setting(
        doc="List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
    )
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    @field_validator("spec")
    @classmethod
    def _spec(cls, value: list[str]) -> list[str]:
        parse_spec(value)
        return value


class Cast(OperandTransformation[ConnectRecord]):
    config_model = CastConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, CastConfig)
        self._casts = parse_spec(config.spec)
        self._whole = self._casts.get(None)
        self._replace_null = config.replace_null_with_default
        self._schemas = SchemaCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord | None:
        if value is None:
            return record
        if schema is None:
            if self._whole is not None:
                return self.updated(record, None, cast_value(None, value, self._whole))
            source = require_map(value, PURPOSE)
            updated = dict(source)
            for name, target in self._casts.items():
                updated[name] = cast_value(None, source.get(name), target)
            return self.updated(record, None, updated)
        new_schema = self._schemas.get(schema, self._cast_schema)
        if self._whole is not None:
            return self.updated(record, new_schema, cast_value(schema, value, self._whole))
        struct_value = require_struct(value, PURPOSE)
        values = {}
        for member in schema.fields:
            item = field_value(struct_value, member.name, self._replace_null)
            cast_to = self._casts.get(member.name)
            values[member.name] = cast_value(member.schema, item, cast_to) if cast_to is not None else item
        return self.updated(record, new_schema, Struct(new_schema, values))

    def _cast_schema(self, schema: Schema) -> Schema:
        whole = self._whole
        if whole is not None:
            builder = SchemaBuilder(whole)
            if logical_name(schema) is None:  # Kafka copies the name even off a logical type; not its meaning
                copy_schema_basics(schema, builder)
        else:
            builder = struct_builder_like(schema)
            for member in schema.fields:
                target = self._casts.get(member.name)
                if target is None:
                    builder.field(member.name, member.schema)
                    continue
                field_builder = SchemaBuilder(target)
                if member.schema.optional:
                    field_builder.optional()
                if member.schema.default is not None:
                    field_builder.default_value(cast_value(member.schema, member.schema.default, target))
                builder.field(member.name, field_builder.build())
        if schema.optional:
            builder.optional()
        if whole is not None and schema.default is not None:
            builder.default_value(cast_value(schema, schema.default, whole))
        return builder.build()


def _inferred_type(value: Any) -> SchemaType:
    """Connect's ``ConnectSchema.schemaType`` for a schemaless value."""
    if isinstance(value, bool):
        return SchemaType.BOOLEAN
    if isinstance(value, int):
        return SchemaType.INT64
    if isinstance(value, float):
        return SchemaType.FLOAT64
    if isinstance(value, str):
        return SchemaType.STRING
    if isinstance(value, bytes | bytearray | memoryview):
        return SchemaType.BYTES
    if isinstance(value, list | tuple):
        return SchemaType.ARRAY
    if isinstance(value, dict):
        return SchemaType.MAP
    if isinstance(value, Struct):
        return SchemaType.STRUCT
    java = {
        decimal.Decimal: "java.math.BigDecimal",
        datetime: "java.util.Date",
        date: "java.util.Date",
        time: "java.util.Date",
    }
    name = next((n for t, n in java.items() if isinstance(value, t)), type(value).__name__)
    raise DataError(
        f"Cast transformation was passed a value of type class {name} which is not supported by Connect's data API"
    )


def cast_value(schema: Schema | None, value: Any, target: SchemaType) -> Any:
    """``value`` (of ``schema``, or schemaless) cast to ``target`` with Java's semantics."""
    if value is None:
        return None
    kind = schema.type if schema is not None else _inferred_type(value)
    if kind not in _INPUT_TYPES:
        raise DataError(
            f"Cast transformation does not support casting from {kind.name}; supported types are {_java_set(_INPUT_TYPES)}"
        )
    logical = logical_name(schema) if schema is not None else None
    if logical in (DATE, TIME, TIMESTAMP):
        millis = _temporal_millis(logical, value)
        if target is SchemaType.STRING:
            return iso_format_for(millis).format(millis)
        value = millis // 86_400_000 if logical == DATE else millis  # the raw encoding
    if target is SchemaType.STRING and isinstance(value, float):
        return java_double_string(value, single=kind is SchemaType.FLOAT32)
    try:
        return _CASTS[target](value)
    except ValueError:
        raise DataError(f"Value ({_java_string(value)}) was out of range for requested data type") from None


def _temporal_millis(logical: str, value: Any) -> int:
    if logical == DATE:
        return Date.to_days(value) * 86_400_000
    if logical == TIME:
        return Time.to_millis(value)
    return Timestamp.to_millis(value)


_INT_BITS: Final = {SchemaType.INT8: 8, SchemaType.INT16: 16, SchemaType.INT32: 32, SchemaType.INT64: 64}
_JAVA_INTEGER: Final = re.compile(r"[+-]?\d+")
_JAVA_FLOAT: Final = re.compile(r"[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)")


def _wrap(number: int, bits: int) -> int:
    """Two's-complement truncation to ``bits`` (Java's narrowing of integers)."""
    half = 1 << (bits - 1)
    return (number + half) % (1 << bits) - half


def _float_to_int(number: float, bits: int) -> int:
    """Java's ``(long)d`` / ``(int)d``: truncate, saturate, NaN is 0; byte and short go via int."""
    if math.isnan(number):
        return 0
    width = 64 if bits == 64 else 32
    low, high = -(1 << (width - 1)), (1 << (width - 1)) - 1
    whole = high if number >= high else low if number <= low else int(number)
    return _wrap(whole, bits)


def _to_int(bits: int) -> Any:
    def cast(value: Any) -> int:
        if isinstance(value, bool):
            return 1 if value else 0
        if isinstance(value, int):
            return _wrap(value, bits)
        if isinstance(value, float):
            return _float_to_int(value, bits)
        if isinstance(value, decimal.Decimal):  # BigDecimal.xxxValue(): integer part, low bits
            return (
                _wrap(int(value), 32 if bits < 64 else 64)
                if bits >= 32
                else _wrap(_wrap(int(value), 32), bits)
            )
        if isinstance(value, str):
            if not _JAVA_INTEGER.fullmatch(value):
                raise ValueError(value)
            number = int(value)
            if number != _wrap(number, bits):
                raise ValueError(value)
            return number
        raise DataError(f"Unexpected type in Cast transformation: class {type(value).__name__}")

    return cast


def _parse_java_float(text: str) -> float:
    """``Double.parseDouble``: surrounding control/space characters ignored, ``NaN``,
    ``Infinity`` and a trailing ``f``/``d`` accepted."""
    trimmed = text.strip("".join(map(chr, range(0x21))))
    if not _JAVA_FLOAT.fullmatch(trimmed):
        raise ValueError(text)
    return float(
        trimmed.rstrip("fFdD") if trimmed[-1] in "fFdD" and not trimmed.endswith("Infinity") else trimmed
    )


def _to_float32(number: float) -> float:
    try:
        return float(struct.unpack("f", struct.pack("f", number))[0])
    except OverflowError:
        return math.copysign(math.inf, number)


def _to_float(single: bool) -> Any:
    def cast(value: Any) -> float:
        if isinstance(value, bool):
            result = 1.0 if value else 0.0
        elif isinstance(value, int | float | decimal.Decimal):
            result = float(value)
        elif isinstance(value, str):
            result = _parse_java_float(value)
        else:
            raise DataError(f"Unexpected type in Cast transformation: class {type(value).__name__}")
        return _to_float32(result) if single else result

    return cast


def _to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, float):
        return _float_to_int(value, 64) != 0
    if isinstance(value, decimal.Decimal):
        return _wrap(int(value), 64) != 0
    if isinstance(value, str):
        return value.lower() == "true"
    raise DataError(f"Unexpected type in Cast transformation: class {type(value).__name__}")


def _to_string(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return _java_string(value)


def _java_string(value: Any) -> str:
    """Java's ``toString`` of a boxed value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double_string(value)
    return str(value)


def java_double_string(number: float, *, single: bool = False) -> str:
    """``Double.toString`` (``Float.toString`` when ``single``): the shortest digits that read
    back as the same value, plain between 1e-3 and 1e7, otherwise ``d.dddE<n>``."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "-0.0" if math.copysign(1, number) < 0 else "0.0"
    digits = repr(number)
    if single:
        digits = next(t for p in range(1, 10) if _to_float32(float(t := f"{number:.{p}g}")) == number)
    shortest = decimal.Decimal(digits)
    if 1e-3 <= abs(number) < 1e7:
        text = format(shortest, "f")
        return text if "." in text else text + ".0"
    sign, numerals, exponent = shortest.normalize().as_tuple()
    assert isinstance(exponent, int)
    body = "".join(map(str, numerals))
    power = exponent + len(body) - 1
    return f"{'-' if sign else ''}{body[0]}.{body[1:] or '0'}E{power}"


_CASTS: Final = {
    SchemaType.INT8: _to_int(8),
    SchemaType.INT16: _to_int(16),
    SchemaType.INT32: _to_int(32),
    SchemaType.INT64: _to_int(64),
    SchemaType.FLOAT32: _to_float(True),
    SchemaType.FLOAT64: _to_float(False),
    SchemaType.BOOLEAN: _to_boolean,
    SchemaType.STRING: _to_string,
}


class CastKey(Cast):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "Cast$Key",)


class CastValue(Cast):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "Cast$Value",)
