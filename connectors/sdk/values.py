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
import re
import struct
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
    SchemaAndValue,
    SchemaType,
    Struct,
    array_schema,
    map_schema,
)
from connectors.sdk.date_format import ISO_DATE, ISO_TIME, ISO_TIMESTAMP
from connectors.sdk.errors import DataError
from connectors.sdk.logical import Date, Decimal, Time, Timestamp, logical_name

__all__ = ["convert_value", "infer_schema", "parse_string", "validate_struct", "validate_value"]

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


# --- Values.parseString ------------------------------------------------------------------------

_DELIMITERS: Final = frozenset(':,{}[]"')
_JAVA_DECIMAL: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_FLOAT32_MAX: Final = 3.4028234663852886e38
_TEMPORAL: Final = frozenset({DATE, TIME, TIMESTAMP})
_STRING: Final = Schema(SchemaType.STRING)
_WIDENING: Final = (
    SchemaType.INT8,
    SchemaType.INT16,
    SchemaType.INT32,
    SchemaType.INT64,
    SchemaType.FLOAT32,
    SchemaType.FLOAT64,
)


def parse_string(text: str | None) -> SchemaAndValue:
    """Connect's ``Values.parseString``: a schema and value inferred from text, as InsertHeader
    reads ``value.literal`` and header converters read header strings.

    ``true``/``false`` are booleans; integers take the narrowest of INT8..INT64 (beyond that a
    scale-0 Decimal); numbers with a fraction FLOAT32, else FLOAT64 when out of float range,
    else a Decimal; ``yyyy-MM-dd``, ``HH:mm:ss.SSSZ`` and ``yyyy-MM-ddTHH:mm:ss.SSSZ`` are Date,
    Time and Timestamp; ``[..]`` an array and ``{k:v,..}`` a map of the common element type
    (elements may be quoted strings); ``null`` is no value. Anything else, including a list or
    map that does not parse, is the whole text as a string. Unlike Kafka, text left over after a
    number or date (``12:30``) makes the whole value a string rather than being dropped.
    """
    if text is None:
        return SchemaAndValue(None, None)
    if not text:
        return SchemaAndValue(_STRING, text)
    parser = _Parser(text)
    result = _parse(parser, embedded=False)
    return result if result is not None else SchemaAndValue(None, None)


class _Parser:
    """Connect's tokenizer: delimiters ``:,{}[]"`` (unless escaped with a backslash) are tokens of
    their own, everything between them one token."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.index = 0
        self.peeked: str | None = None
        self.previous: str | None = None

    def mark(self) -> int:
        return self.index - (len(self.peeked) if self.peeked is not None else 0)

    def rewind(self, position: int) -> None:
        self.index = position
        self.peeked = None
        self.previous = None

    def has_next(self) -> bool:
        return self.peeked is not None or self.index < len(self.original)

    def _consume(self) -> str:
        text, start = self.original, self.index
        escaped = False
        i = start
        while i < len(text):
            char = text[i]
            if char == "\\":
                escaped = not escaped
            elif char in _DELIMITERS and not escaped:
                if i > start:
                    self.index = i
                    return text[start:i]
                self.index = i + 1
                return char
            else:
                escaped = False
            i += 1
        self.index = len(text)
        return text[start:]

    def next(self) -> str:
        if self.peeked is not None:
            token, self.peeked = self.peeked, None
        else:
            token = self._consume()
        self.previous = token
        return token

    def next_n(self, count: int) -> str | None:
        start = self.mark()
        for _ in range(count):
            if not self.has_next():
                self.rewind(start)
                return None
            self.next()
        return self.original[start : self.index]

    def can_consume(self, expected: str) -> bool:
        if self.peeked is None:
            if not self.has_next():
                return False
            self.peeked = self._consume()
        while not self.peeked.strip() and self.index < len(self.original):
            self.peeked = self._consume()
        if self.peeked.strip() == expected:
            self.peeked = None
            return True
        return False


def _literal(parser: _Parser, embedded: bool, literal: str) -> bool:
    start = parser.mark()
    if parser.can_consume(literal) and (embedded or not parser.has_next()):
        return True
    parser.rewind(start)
    return False


def _parse(parser: _Parser, *, embedded: bool) -> SchemaAndValue | None:
    if not parser.has_next():
        return None
    if embedded and parser.can_consume('"'):
        pieces = []
        while parser.has_next() and not parser.can_consume('"'):
            pieces.append(parser.next())
        content = "".join(pieces)
        parsed = parse_string(content)
        if parsed.schema is not None and parsed.schema.name in _TEMPORAL:
            return parsed
        return SchemaAndValue(_STRING, content)
    if _literal(parser, embedded, "null"):
        return None
    if _literal(parser, embedded, "true"):
        return SchemaAndValue(Schema(SchemaType.BOOLEAN), True)
    if _literal(parser, embedded, "false"):
        return SchemaAndValue(Schema(SchemaType.BOOLEAN), False)
    start = parser.mark()
    try:
        if parser.can_consume("["):
            return _parse_array(parser)
        if parser.can_consume("{"):
            return _parse_map(parser)
    except DataError:
        parser.rewind(start)
    token = parser.next()
    if not token.strip():
        return SchemaAndValue(_STRING, token)
    token = token.strip()
    first = token[0]
    if first.isdecimal():
        position = parser.mark()
        remainder = parser.next_n(4)
        if remainder is not None:
            temporal = _temporal(token + remainder)
            if temporal is not None and (embedded or not parser.has_next()):
                return temporal
        parser.rewind(position)
        temporal = _temporal(token)
        if temporal is not None and (embedded or not parser.has_next()):
            return temporal
    if (first.isdecimal() or first in "+-") and (embedded or not parser.has_next()):
        number = _number(token)
        if number is not None:
            return number
    if embedded:
        raise DataError("Failed to parse embedded value")
    return SchemaAndValue(_STRING, parser.original)


def _parse_array(parser: _Parser) -> SchemaAndValue:
    result: list[Any] = []
    element: Schema | None = None
    while parser.has_next():
        if parser.can_consume("]"):
            if element is None:
                return SchemaAndValue(Schema(SchemaType.ARRAY), result)
            return SchemaAndValue(array_schema(element), [_align(element, v) for v in result])
        if parser.can_consume(","):
            raise DataError(f"Unable to parse an empty array element: {parser.original}")
        item = _parse(parser, embedded=True)
        element = _common_schema_for(element, item)
        result.append(item.value if item is not None else None)
        position = parser.mark()
        if parser.can_consume("]"):
            parser.rewind(position)
        elif not parser.can_consume(","):
            raise DataError("Array elements missing ',' delimiter")
    if parser.previous == ",":
        raise DataError(f"Array is missing element after ',': {parser.original}")
    raise DataError(f"Array is missing terminating ']': {parser.original}")


def _parse_map(parser: _Parser) -> SchemaAndValue:
    result: dict[Any, Any] = {}
    keys: Schema | None = None
    values: Schema | None = None
    while parser.has_next():
        if parser.can_consume("}"):
            if keys is not None and values is not None:
                aligned = {_align(keys, k): _align(values, v) for k, v in result.items()}
                return SchemaAndValue(map_schema(keys, values), aligned)
            if keys is not None:
                schema = Schema(SchemaType.MAP, key_schema=keys)
                return SchemaAndValue(schema, {_align(keys, k): v for k, v in result.items()})
            return SchemaAndValue(Schema(SchemaType.MAP), result)
        if parser.can_consume(","):
            raise DataError(f"Unable to parse a map entry with no key or value: {parser.original}")
        key = _parse(parser, embedded=True)
        if key is None or key.value is None:
            raise DataError(f"Map entry may not have a null key: {parser.original}")
        if not parser.can_consume(":"):
            raise DataError(f"Map entry is missing ':' at {parser.index} in {parser.original}")
        value = _parse(parser, embedded=True)
        result[key.value] = value.value if value is not None else None
        parser.can_consume(",")
        keys = _common_schema_for(keys, key)
        values = _common_schema_for(values, value)
    if parser.previous == ",":
        raise DataError(f"Map is missing element after ',': {parser.original}")
    raise DataError(f"Map is missing terminating '}}': {parser.original}")


def _temporal(token: str) -> SchemaAndValue | None:
    token = token.replace("\\:", ":")
    for fmt, schema in (
        (ISO_TIME, Time.schema()),
        (ISO_TIMESTAMP, Timestamp.schema()),
        (ISO_DATE, Date.schema()),
    ):
        if len(token) != len(fmt.pattern) - fmt.pattern.count("'"):
            continue
        try:
            millis = fmt.parse(token)
        except ValueError:
            return None
        moment = Timestamp.from_millis(millis)
        if schema.name == TIMESTAMP:
            return SchemaAndValue(schema, moment)
        if schema.name == DATE:
            return SchemaAndValue(schema, moment.date())
        return SchemaAndValue(schema, moment.time()) if 0 <= millis < 86_400_000 else None
    return None


def _number(token: str) -> SchemaAndValue | None:
    if not _JAVA_DECIMAL.fullmatch(token):
        return None
    number = decimal.Decimal(token)
    if number == number.to_integral_value():
        whole = int(number)
        for kind in (SchemaType.INT8, SchemaType.INT16, SchemaType.INT32, SchemaType.INT64):
            low, high = _INT_RANGES[kind]
            if low <= whole <= high:
                return SchemaAndValue(Schema(kind), whole)
    exponent = number.as_tuple().exponent
    scale = -exponent if isinstance(exponent, int) else 0
    if scale != 0:
        as_float = float(number)
        if abs(as_float) <= _FLOAT32_MAX:
            return SchemaAndValue(
                Schema(SchemaType.FLOAT32), struct.unpack("f", struct.pack("f", as_float))[0]
            )
        if as_float not in (float("inf"), float("-inf")):
            return SchemaAndValue(Schema(SchemaType.FLOAT64), as_float)
    return SchemaAndValue(Decimal.schema(scale), number)


def _common_schema_for(previous: Schema | None, latest: SchemaAndValue | None) -> Schema | None:
    """Connect's ``commonSchemaFor``: numbers widen; other mixes have no common schema (and the
    next element then starts afresh, as in Kafka)."""
    if latest is None:
        return previous
    if previous is None:
        return latest.schema
    new = latest.schema
    if new is None:
        return previous
    if previous.type is not new.type:
        if previous.type in _WIDENING and new.type in _WIDENING:
            wider = max(_WIDENING.index(previous.type), _WIDENING.index(new.type))
            return previous if _WIDENING[wider] is previous.type else new
        return None
    if previous.optional == new.optional:
        return previous if previous.optional else new
    return previous if previous == new else None


def _align(schema: Schema, value: Any) -> Any:
    """An element converted to the collection's common schema (ints become floats in a float list)."""
    if value is None or schema.name is not None:
        return value
    if schema.type in (SchemaType.FLOAT32, SchemaType.FLOAT64) and isinstance(value, int | decimal.Decimal):
        return float(value)
    if schema.type in _INT_RANGES and not isinstance(value, int):
        raise DataError(f"Cannot align {value!r} with schema type {schema.type.name}")
    if schema.type is SchemaType.STRING and not isinstance(value, str):
        raise DataError(f"Cannot align {value!r} with schema type STRING")
    return value
