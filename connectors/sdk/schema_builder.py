"""A fluent builder for :class:`~connectors.sdk.data.Schema`, shaped like Kafka's ``SchemaBuilder``.

    schema = (
        SchemaBuilder.struct().name("com.example.Order").version(2)
        .field("id", SchemaBuilder.int64())
        .field("note", SchemaBuilder.string().optional().default_value(""))
        .field("price", Decimal.builder(2))
        .build()
    )

Every setter may be called once (Kafka's rule: a second ``name(...)`` is a mistake, not an
override). ``field`` takes a built :class:`Schema` or another builder. The default value is
checked against the finished schema in :meth:`SchemaBuilder.build`, so the order of the calls
does not matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Self

from connectors.sdk.data import Field, Schema, SchemaType
from connectors.sdk.errors import DataError

__all__ = ["SchemaBuilder"]

_UNSET: Any = object()


class SchemaBuilder:
    """Collects a schema's parts; :meth:`build` returns the immutable :class:`Schema`."""

    def __init__(self, schema_type: SchemaType) -> None:
        self._type = schema_type
        self._optional: bool | None = None
        self._default: Any = _UNSET
        self._name: str | None = None
        self._version: int | None = None
        self._doc: str | None = None
        self._parameters: dict[str, str] | None = None
        self._fields: dict[str, Schema] = {}
        self._key_schema: Schema | None = None
        self._value_schema: Schema | None = None

    # -- starting points ------------------------------------------------------------------------
    @classmethod
    def of(cls, schema_type: SchemaType) -> SchemaBuilder:
        """A builder for any type (Kafka's ``SchemaBuilder.type``)."""
        return cls(schema_type)

    @classmethod
    def int8(cls) -> SchemaBuilder:
        """An 8-bit signed integer."""
        return cls(SchemaType.INT8)

    @classmethod
    def int16(cls) -> SchemaBuilder:
        """A 16-bit signed integer."""
        return cls(SchemaType.INT16)

    @classmethod
    def int32(cls) -> SchemaBuilder:
        """A 32-bit signed integer."""
        return cls(SchemaType.INT32)

    @classmethod
    def int64(cls) -> SchemaBuilder:
        """A 64-bit signed integer."""
        return cls(SchemaType.INT64)

    @classmethod
    def float32(cls) -> SchemaBuilder:
        """A single-precision float (Python values are ``float``)."""
        return cls(SchemaType.FLOAT32)

    @classmethod
    def float64(cls) -> SchemaBuilder:
        """A double-precision float."""
        return cls(SchemaType.FLOAT64)

    @classmethod
    def boolean(cls) -> SchemaBuilder:
        """A boolean."""
        return cls(SchemaType.BOOLEAN)

    @classmethod
    def string(cls) -> SchemaBuilder:
        """Unicode text."""
        return cls(SchemaType.STRING)

    @classmethod
    def bytes_(cls) -> SchemaBuilder:
        """Raw bytes (named with a trailing underscore so it does not shadow ``bytes``)."""
        return cls(SchemaType.BYTES)

    @classmethod
    def struct(cls) -> SchemaBuilder:
        """A struct; add members with :meth:`field`."""
        return cls(SchemaType.STRUCT)

    @classmethod
    def array(cls, items: Schema | SchemaBuilder) -> SchemaBuilder:
        """An array whose elements have the schema ``items``."""
        builder = cls(SchemaType.ARRAY)
        builder._value_schema = _built(items)
        return builder

    @classmethod
    def map_(cls, keys: Schema | SchemaBuilder, values: Schema | SchemaBuilder) -> SchemaBuilder:
        """A map from ``keys`` to ``values``."""
        builder = cls(SchemaType.MAP)
        builder._key_schema = _built(keys)
        builder._value_schema = _built(values)
        return builder

    @classmethod
    def from_schema(cls, schema: Schema) -> SchemaBuilder:
        """A builder holding everything ``schema`` has, so that the unset parts can be added."""
        builder = cls(schema.type)
        builder._optional = schema.optional if schema.optional else None
        builder._default = schema.default if schema.default is not None else _UNSET
        builder._name = schema.name
        builder._version = schema.version
        builder._doc = schema.doc
        builder._parameters = dict(schema.parameters) if schema.parameters is not None else None
        builder._fields = {member.name: member.schema for member in schema.fields}
        builder._key_schema = schema.key_schema
        builder._value_schema = schema.value_schema
        return builder

    # -- settings -------------------------------------------------------------------------------
    @property
    def type(self) -> SchemaType:
        """The type being built."""
        return self._type

    def optional(self) -> Self:
        """Null is a valid value."""
        self._set_once("optional", self._optional)
        self._optional = True
        return self

    def required(self) -> Self:
        """Null is not a valid value (the default)."""
        self._set_once("optional", self._optional)
        self._optional = False
        return self

    def default_value(self, value: Any) -> Self:
        """Used by converters in place of null (checked against the schema in :meth:`build`)."""
        self._set_once("default", None if self._default is _UNSET else self._default)
        self._default = value
        return self

    def name(self, name: str) -> Self:
        """The schema's name; for structs, usually the record's fully qualified type name."""
        self._set_once("name", self._name)
        self._name = name
        return self

    def version(self, version: int) -> Self:
        """The schema's version, for consumers that track schema evolution."""
        self._set_once("version", self._version)
        self._version = version
        return self

    def doc(self, doc: str) -> Self:
        """Documentation carried with the schema."""
        self._set_once("doc", self._doc)
        self._doc = doc
        return self

    def parameter(self, key: str, value: str) -> Self:
        """One string parameter (a logical type's settings, a source column's type...)."""
        if self._parameters is None:
            self._parameters = {}
        self._parameters[key] = value
        return self

    def parameters(self, values: Mapping[str, str]) -> Self:
        """Several parameters at once; added to any set before."""
        for key, value in values.items():
            self.parameter(key, value)
        return self

    def field(self, name: str, schema: Schema | SchemaBuilder) -> Self:
        """Append a struct member; names must be unique."""
        if self._type is not SchemaType.STRUCT:
            raise DataError(f"Cannot create fields on type {self._type.name}")
        if not name:
            raise DataError("fieldName cannot be null.")
        if name in self._fields:
            raise DataError(f"Cannot create field because of field name duplication {name}")
        self._fields[name] = _built(schema)
        return self

    def build(self) -> Schema:
        """The immutable schema; a ``DataError`` if the default value does not fit it."""
        schema = Schema(
            self._type,
            optional=bool(self._optional),
            name=self._name,
            version=self._version,
            doc=self._doc,
            parameters=dict(self._parameters) if self._parameters is not None else None,
            fields=tuple(
                Field(name, index, member) for index, (name, member) in enumerate(self._fields.items())
            ),
            key_schema=self._key_schema,
            value_schema=self._value_schema,
        )
        if self._default is _UNSET or self._default is None:
            return schema
        from connectors.sdk.values import validate_value  # values builds on data, not on this module

        try:
            validate_value(schema, self._default)
        except DataError as exc:
            raise DataError(f"Invalid default value: {exc}") from exc
        return replace(schema, default=self._default)

    def _set_once(self, what: str, current: Any) -> None:
        if current is not None:
            raise DataError(f"Invalid SchemaBuilder call: {what} has already been set.")


def _built(schema: Schema | SchemaBuilder) -> Schema:
    return schema.build() if isinstance(schema, SchemaBuilder) else schema
