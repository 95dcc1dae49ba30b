"""Values against schemas: check a value, infer a schema for one, convert one to a schema's type.

The Python types each schema accepts (what :func:`validate_value` checks):

=============== ==========================================================================
schema          Python value
=============== ==========================================================================
INT8..INT64     ``int`` (not ``bool``) within the type's range
FLOAT32/64      ``float`` or ``int`` (not ``bool``)
BOOLEAN         ``bool``
STRING          ``str``
BYTES           ``bytes``, ``bytearray``, ``memoryview``
ARRAY           ``list`` or ``tuple`` of valid elements
MAP             any ``Mapping`` of valid keys and values
STRUCT          a :class:`Struct` with an equal schema and valid fields
Decimal         ``decimal.Decimal``
Date            ``datetime.date``
Time            ``datetime.time``
Timestamp       ``datetime.datetime``
=============== ==========================================================================

Messages follow Kafka's ``ConnectSchema.validateValue`` ("Invalid value: null used for required
field: "x", schema type: INT32"), with Python type names in place of Java classes.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any, Final

from connectors.sdk.data import (
    DATE,
    DECIMAL,
    TIME,
    TIMESTAMP,
    Schema,
    SchemaType,
    Struct,
    array_schema,
    map_schema,
)
from connectors.sdk.errors import DataError
from connectors.sdk.logical import Date, Decimal, Time, Timestamp, logical_name

__all__ = ["convert_value", "infer_schema", "validate_struct", "validate_value"]

_INT_RANGES: Final = {
    SchemaType.INT8: (-(2**7), 2**7 - 1),
    SchemaType.INT16: (-(2**15), 2**15 - 1),
    SchemaType.INT32: (-(2**31), 2**31 - 1),
    SchemaType.INT64: (-(2**63), 2**63 - 1),
}
_PRIMITIVE_TYPES: Final[dict[SchemaType, tuple[type, ...]]] = {
    SchemaType.INT8: (int,),
    SchemaType.INT16: (int,),
    SchemaType.INT32: (int,),
    SchemaType.INT64: (int,),
    SchemaType.FLOAT32: (float, int),
    SchemaType.FLOAT64: (float, int),
    SchemaType.BOOLEAN: (bool,),
    SchemaType.STRING: (str,),
    SchemaType.BYTES: (bytes, bytearray, memoryview),
    SchemaType.ARRAY: (list, tuple),
    SchemaType.MAP: (Mapping,),
    SchemaType.STRUCT: (Struct,),
}
_LOGICAL_TYPES: Final[dict[str, tuple[type, ...]]] = {
    DECIMAL: (decimal.Decimal,),
    DATE: (date,),
    TIME: (time,),
    TIMESTAMP: (datetime,),
}


def validate_value(schema: Schema, value: Any, *, field: str | None = None) -> None:
    """Raise ``DataError`` unless ``value`` is valid for ``schema`` (recursively).

    ``field`` names the struct member being checked, for the message.
    """
    _validate(schema, value, "value" if field is None else f'field: "{field}"')


def validate_struct(struct: Struct) -> None:
    """Every field of ``struct`` valid; a null is fine where the field is optional or has a default."""
    for member in struct.schema.fields:
        value = struct.values.get(member.name)
        if value is None and (member.schema.optional or member.schema.default is not None):
            continue
        _validate(member.schema, value, f'field: "{member.name}"')


def _validate(schema: Schema, value: Any, location: str) -> None:
    if value is None:
        if not schema.optional:
            raise DataError(
                f"Invalid value: null used for required {location}, schema type: {schema.type.name}"
            )
        return
    logical = logical_name(schema)
    expected = _LOGICAL_TYPES[logical] if logical is not None else _PRIMITIVE_TYPES[schema.type]
    if not isinstance(value, expected) or (isinstance(value, bool) and schema.type is not SchemaType.BOOLEAN):
        named = f' "{schema.name}"' if schema.name is not None else ""
        raise DataError(
            f"Invalid Python object for schema{named} with type {schema.type.name}: {type(value)} for {location}"
        )
    if logical is None:
        _validate_children(schema, value, location)


def _validate_children(schema: Schema, value: Any, location: str) -> None:
    """Range and members, once the Python type is known to fit."""
    kind = schema.type
    bounds = _INT_RANGES.get(kind)
    if bounds is not None:
        if not bounds[0] <= value <= bounds[1]:
            raise DataError(
                f"Invalid value {value} for schema with type {kind.name}: out of range for {location}"
            )
    elif kind is SchemaType.STRUCT:
        if value.schema is not schema and not _same_struct_schema(value.schema, schema):
            raise DataError("Struct schemas do not match.")
        validate_struct(value)
    elif kind is SchemaType.ARRAY:
        items = _child(schema.value_schema, f"element of array {location}")
        for item in value:
            _validate(items, item, f"element of array {location}")
    elif kind is SchemaType.MAP:
        keys = _child(schema.key_schema, f"key of map {location}")
        values = _child(schema.value_schema, f"value of map {location}")
        for key, item in value.items():
            _validate(keys, key, f"key of map {location}")
            _validate(values, item, f"value of map {location}")


def _child(schema: Schema | None, location: str) -> Schema:
    if schema is None:
        raise DataError(f"No schema defined for {location}")
    return schema


def _same_struct_schema(actual: Schema, declared: Schema) -> bool:
    """Equal, ignoring the default: a struct default is a Struct whose schema has no default."""
    return actual == declared or replace(actual, default=None) == replace(declared, default=None)


def infer_schema(value: Any) -> Schema | None:
    """A schema describing ``value``, or None when it cannot be told (null, empty or mixed
    containers, unknown types).

    Python ints become INT64 (or a scale-0 Decimal beyond 64 bits), floats FLOAT64, a
    ``decimal.Decimal`` a Decimal of its own scale, datetime types the matching logical type.
    Inferred schemas are required; a container holding nulls gets optional elements.
    """
    if isinstance(value, bool):
        return Schema(SchemaType.BOOLEAN)
    if isinstance(value, int):
        low, high = _INT_RANGES[SchemaType.INT64]
        return Schema(SchemaType.INT64) if low <= value <= high else Decimal.schema(0)
    if isinstance(value, float):
        return Schema(SchemaType.FLOAT64)
    if isinstance(value, str):
        return Schema(SchemaType.STRING)
    if isinstance(value, bytes | bytearray | memoryview):
        return Schema(SchemaType.BYTES)
    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        return Decimal.schema(-exponent) if isinstance(exponent, int) else None
    if isinstance(value, datetime):
        return Timestamp.schema()
    if isinstance(value, date):
        return Date.schema()
    if isinstance(value, time):
        return Time.schema()
    if isinstance(value, Struct):
        return value.schema
    if isinstance(value, list | tuple):
        items = _common_schema(value)
        return array_schema(items) if items is not None else None
    if isinstance(value, Mapping):
        keys = _common_schema(list(value.keys()))
        values = _common_schema(list(value.values()))
        return map_schema(keys, values) if keys is not None and values is not None else None
    return None


def _common_schema(items: list[Any] | tuple[Any, ...]) -> Schema | None:
    found: Schema | None = None
    nullable = False
    for item in items:
        if item is None:
            nullable = True
            continue
        schema = infer_schema(item)
        if schema is None or (found is not None and schema != found):
            return None
        found = schema
    if found is None:
        return None
    return found.as_optional() if nullable else found


def convert_value(schema: Schema, value: Any) -> Any:
    """``value`` turned into the Python type ``schema`` expects, where that loses nothing.

    For values that come from text or loosely typed sources: ``"42"`` to an INT32, ``"true"`` to a
    BOOLEAN, ``3`` to FLOAT64, an ISO string or epoch number to Date/Time/Timestamp, a string or
    number to Decimal. The result is validated; anything that cannot be converted exactly is a
    ``DataError``. Structs, arrays and maps are validated, not rebuilt.
    """
    if value is None:
        validate_value(schema, None)
        return None
    logical = logical_name(schema)
    try:
        converted = _convert_logical(logical, schema, value) if logical else _convert(schema.type, value)
    except (ValueError, ArithmeticError) as exc:
        raise DataError(f"Cannot convert {value!r} to schema type {schema.type.name}: {exc}") from exc
    validate_value(schema, converted)
    return converted


def _convert(kind: SchemaType, value: Any) -> Any:
    if kind in _INT_RANGES:
        if isinstance(value, str):
            return int(value.strip())
        if isinstance(value, float | decimal.Decimal) and value == int(value):
            return int(value)
        return value
    if kind is SchemaType.FLOAT32 or kind is SchemaType.FLOAT64:
        if isinstance(value, str | decimal.Decimal) or (
            isinstance(value, int) and not isinstance(value, bool)
        ):
            return float(value)
        return value
    if kind is SchemaType.BOOLEAN and isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError("expected true or false")
    if kind is SchemaType.STRING and isinstance(value, int | float | decimal.Decimal | bool):
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if kind is SchemaType.BYTES and isinstance(value, str):
        return value.encode("utf-8")
    return value


def _convert_logical(logical: str, schema: Schema, value: Any) -> Any:
    if logical == DECIMAL:
        if isinstance(value, str | int) and not isinstance(value, bool):
            value = decimal.Decimal(value.strip() if isinstance(value, str) else value)
        if isinstance(value, decimal.Decimal):
            scale = Decimal.scale(schema)
            return Decimal.from_unscaled(Decimal.unscaled(value, scale), scale)
        return value
    if logical == DATE:
        if isinstance(value, str):
            return date.fromisoformat(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            return Date.from_days(value)
        if isinstance(value, datetime):
            return Date.from_days(Date.to_days(value))
        return value
    if logical == TIME:
        if isinstance(value, str):
            return time.fromisoformat(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            return Time.from_millis(value)
        return value
    if isinstance(value, str):
        return datetime.fromisoformat(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return Timestamp.from_millis(value)
    return value
