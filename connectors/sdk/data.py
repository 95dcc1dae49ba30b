"""Kafka Connect's data model: schemas, structs and the logical types JsonConverter knows.

Only what converters and transforms need: a ``Schema`` describes a value, a ``Struct`` is a
value with a struct schema. Schemaless data is plain Python (dict, list, str, int, ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from connectors.sdk.errors import DataError


class SchemaType(StrEnum):
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
        for f in self.fields:
            if f.name == name:
                return f
        return None

    def as_optional(self) -> Schema:
        return replace(self, optional=True)


def struct_schema(
    fields: Iterable[tuple[str, Schema]],
    *,
    name: str | None = None,
    optional: bool = False,
    version: int | None = None,
    doc: str | None = None,
) -> Schema:
    members = tuple(Field(n, i, s) for i, (n, s) in enumerate(fields))
    names = [f.name for f in members]
    if len(set(names)) != len(names):
        raise DataError(f"Duplicate field names in struct schema: {names}")
    return Schema(SchemaType.STRUCT, optional=optional, name=name, version=version, doc=doc, fields=members)


def array_schema(items: Schema, *, optional: bool = False) -> Schema:
    return Schema(SchemaType.ARRAY, optional=optional, value_schema=items)


def map_schema(keys: Schema, values: Schema, *, optional: bool = False) -> Schema:
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
OPTIONAL_STRING_SCHEMA = Schema(SchemaType.STRING, optional=True)
OPTIONAL_BYTES_SCHEMA = Schema(SchemaType.BYTES, optional=True)

# Logical types: a name on a primitive schema that changes how the value is read.
DECIMAL = "org.apache.kafka.connect.data.Decimal"
DATE = "org.apache.kafka.connect.data.Date"
TIME = "org.apache.kafka.connect.data.Time"
TIMESTAMP = "org.apache.kafka.connect.data.Timestamp"


def decimal_schema(scale: int, *, optional: bool = False) -> Schema:
    return Schema(
        SchemaType.BYTES, optional=optional, name=DECIMAL, version=1, parameters={"scale": str(scale)}
    )


DATE_SCHEMA = Schema(SchemaType.INT32, name=DATE, version=1)
TIME_SCHEMA = Schema(SchemaType.INT32, name=TIME, version=1)
TIMESTAMP_SCHEMA = Schema(SchemaType.INT64, name=TIMESTAMP, version=1)


@dataclass(slots=True)
class Struct:
    """A value for a struct schema; fields are addressed by name."""

    schema: Schema
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.schema.type is not SchemaType.STRUCT:
            raise DataError(f"A Struct needs a struct schema, not {self.schema.type}")

    def get(self, name: str) -> Any:
        if self.schema.field(name) is None:
            raise DataError(f"{name} is not a valid field name")
        return self.values.get(name)

    def put(self, name: str, value: Any) -> Struct:
        if self.schema.field(name) is None:
            raise DataError(f"{name} is not a valid field name")
        self.values[name] = value
        return self

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


@dataclass(frozen=True, slots=True)
class SchemaAndValue:
    schema: Schema | None
    value: Any
