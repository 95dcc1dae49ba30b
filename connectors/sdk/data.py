"""Kafka Connect's data model: schemas, structs and the names of the four logical types.

A ``Schema`` describes a value, a ``Struct`` is a value with a struct schema. Schemaless data is
plain Python (dict, list, str, int, ...). Build schemas with :class:`~connectors.sdk.SchemaBuilder`
or the small helpers here; convert logical values with :mod:`connectors.sdk.logical`; check a
value against a schema with :func:`connectors.sdk.values.validate_value`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from connectors.sdk.errors import DataError
from connectors.sdk.frozen import slot_filling_init


class SchemaType(StrEnum):
    """Connect's schema types; the value is the name the JSON schema envelope uses."""

    INT8 = "int8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float"
    FLOAT64 = "double"
    BOOLEAN = "boolean"
    STRING = "string"
    BYTES = "bytes"
    ARRAY = "array"
    MAP = "map"
    STRUCT = "struct"

    @property
    def is_primitive(self) -> bool:
        """True for every type that has no child schemas."""
        return self not in (SchemaType.ARRAY, SchemaType.MAP, SchemaType.STRUCT)


@dataclass(frozen=True, slots=True)
class Field:
    """One member of a struct schema, in declaration order."""

    name: str
    index: int
    schema: Schema


@dataclass(frozen=True, slots=True)
class Schema:
    """An immutable Connect schema; build structs with :func:`struct_schema`."""

    type: SchemaType
    optional: bool = False
    default: Any = None
    name: str | None = None
    version: int | None = None
    doc: str | None = None
    parameters: Mapping[str, str] | None = None
    fields: tuple[Field, ...] = ()
    key_schema: Schema | None = None
    value_schema: Schema | None = None

    def field(self, name: str) -> Field | None:
        """The struct member called ``name``, or None (also for non-struct schemas)."""
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def as_optional(self) -> Schema:
        """The same schema, accepting null."""
        return replace(self, optional=True)


def struct_schema(
    fields: Iterable[tuple[str, Schema]],
    *,
    name: str | None = None,
    optional: bool = False,
    version: int | None = None,
    doc: str | None = None,
) -> Schema:
    """A struct schema from ``(name, schema)`` pairs, in field order; names must be unique."""
    members = tuple(Field(n, i, s) for i, (n, s) in enumerate(fields))
    names = [f.name for f in members]
    if len(set(names)) != len(names):
        raise DataError(f"Duplicate field names in struct schema: {names}")
    return Schema(SchemaType.STRUCT, optional=optional, name=name, version=version, doc=doc, fields=members)


def array_schema(items: Schema, *, optional: bool = False) -> Schema:
    """An array whose elements all have the schema ``items``."""
    return Schema(SchemaType.ARRAY, optional=optional, value_schema=items)


def map_schema(keys: Schema, values: Schema, *, optional: bool = False) -> Schema:
    """A map from ``keys`` to ``values``; non-string keys are legal (JSON writes them as pairs)."""
    return Schema(SchemaType.MAP, optional=optional, key_schema=keys, value_schema=values)


INT8_SCHEMA = Schema(SchemaType.INT8)
INT16_SCHEMA = Schema(SchemaType.INT16)
INT32_SCHEMA = Schema(SchemaType.INT32)
INT64_SCHEMA = Schema(SchemaType.INT64)
FLOAT32_SCHEMA = Schema(SchemaType.FLOAT32)
FLOAT64_SCHEMA = Schema(SchemaType.FLOAT64)
BOOLEAN_SCHEMA = Schema(SchemaType.BOOLEAN)
STRING_SCHEMA = Schema(SchemaType.STRING)
BYTES_SCHEMA = Schema(SchemaType.BYTES)
OPTIONAL_INT8_SCHEMA = Schema(SchemaType.INT8, optional=True)
OPTIONAL_INT16_SCHEMA = Schema(SchemaType.INT16, optional=True)
OPTIONAL_INT32_SCHEMA = Schema(SchemaType.INT32, optional=True)
OPTIONAL_INT64_SCHEMA = Schema(SchemaType.INT64, optional=True)
OPTIONAL_FLOAT32_SCHEMA = Schema(SchemaType.FLOAT32, optional=True)
OPTIONAL_FLOAT64_SCHEMA = Schema(SchemaType.FLOAT64, optional=True)
OPTIONAL_BOOLEAN_SCHEMA = Schema(SchemaType.BOOLEAN, optional=True)
OPTIONAL_STRING_SCHEMA = Schema(SchemaType.STRING, optional=True)
OPTIONAL_BYTES_SCHEMA = Schema(SchemaType.BYTES, optional=True)

# Logical types: a name on a primitive schema that changes how the value is read.
DECIMAL = "org.apache.kafka.connect.data.Decimal"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"


def decimal_schema(scale: int, *, optional: bool = False) -> Schema:
    """Kafka's ``Decimal.schema(scale)``: bytes holding the unscaled two's-complement integer."""
    return Schema(
        SchemaType.BYTES, optional=optional, name=DECIMAL, version=1, parameters={"scale": str(scale)}
    )


DATE_SCHEMA = Schema(SchemaType.INT32, name=DATE, version=1)
TIME_SCHEMA = Schema(SchemaType.INT32, name=TIME, version=1)
TIMESTAMP_SCHEMA = Schema(SchemaType.INT64, name=TIMESTAMP, version=1)


@dataclass(slots=True)
class Struct:
    """A value for a struct schema; fields are addressed by name.

    ``put`` checks the value against the field's schema, as Kafka's ``Struct.put`` does, so a
    wrong type fails where the connector builds the record rather than later in a converter.
    Building with ``Struct(schema, {...})`` skips that check (converters use it on the hot path);
    call :meth:`validate` to check a whole struct, required fields included.
    """

    schema: Schema
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.schema.type is not SchemaType.STRUCT:
            raise DataError(f"A Struct needs a struct schema, not {self.schema.type}")

    def get(self, name: str) -> Any:
        """The field's value; a ``DataError`` for a name the schema does not have."""
        if self.schema.field(name) is None:
            raise DataError(f"{name} is not a valid field name")
        return self.values.get(name)

    def put(self, name: str, value: Any) -> Struct:
        """Set a field after checking ``value`` against its schema; returns self for chaining."""
        member = self.schema.field(name)
        if member is None:
            raise DataError(f"{name} is not a valid field name")
        from connectors.sdk.values import validate_value  # values builds on this module

        validate_value(member.schema, value, field=name)
        self.values[name] = value
        return self

    def validate(self) -> None:
        """Raise ``DataError`` unless every field holds a valid value (null only where allowed)."""
        from connectors.sdk.values import validate_struct

        validate_struct(self)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict in field order, e.g. for writing a struct as JSON."""
        return {f.name: to_plain(self.values.get(f.name)) for f in self.schema.fields}


def to_plain(value: Any) -> Any:
    """Structs become dicts recursively; everything else is returned unchanged."""
    if isinstance(value, Struct):
        return value.to_dict()
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


@slot_filling_init
@dataclass(frozen=True, slots=True)
class SchemaAndValue:
    """A value with its schema (None for schemaless data), as converters return them."""

    schema: Schema | None
    value: Any
