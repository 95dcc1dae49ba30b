"""``Flatten$Key`` / ``Flatten$Value``: nested structs or maps become top-level fields named
``parent<delimiter>child`` (reference §7.7).

With a schema, a flattened field is optional when it or any ancestor struct is, and takes its
default from its own schema or else from an ancestor's default struct; arrays are kept as they
are and a MAP field is refused. Without a schema nested maps are flattened and every other value
(lists included) is copied. A null operand passes unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, time
from decimal import Decimal
from typing import Any, ClassVar

from connectors.sdk.config import Importance, PluginConfig, setting
from connectors.sdk.data import Schema, SchemaType, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord
from connectors.sdk.schema_builder import SchemaBuilder
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    DerivedCache,
    OperandTransformation,
    Side,
    field_value,
    java_class_name,
    require_map,
    require_struct,
    struct_builder_like,
)

PURPOSE = "flattening"

_LEAVES = (bool, int, float, str, bytes, bytearray, memoryview, Decimal, date, time, list, tuple)
"""Schemaless values copied as they are (Kafka's primitives and arrays, plus the logical types'
Python values, which a schemaless map can hold here)."""

_Step = tuple[str, str | None, "tuple[_Step, ...]"]
"""(field name, flattened name for a leaf or None for a nested struct, the nested struct's steps)."""


class FlattenConfig(PluginConfig):
    delimiter: str = setting(
        ".",
        doc="Delimiter to insert between field names from the input record when generating field names for the output record",
        importance=Importance.MEDIUM,
    )


class Flatten(OperandTransformation[ConnectRecord]):
    config_model = FlattenConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, FlattenConfig)
        self._delimiter = config.delimiter
        self._plans: DerivedCache[tuple[Schema, tuple[_Step, ...]]] = DerivedCache()

    def _name(self, prefix: str, name: Any) -> Any:
        return f"{prefix}{self._delimiter}{name}" if prefix else name

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if value is None:
            return record
        if schema is None:
            flat: dict[Any, Any] = {}
            self._flatten_map(require_map(value, PURPOSE), "", flat)
            return self.updated(record, None, flat)
        struct = require_struct(value, PURPOSE)
        new_schema, steps = self._plans.get(struct.schema, self._plan)
        values: dict[str, Any] = {}
        _copy(struct, steps, values)
        return self.updated(record, new_schema, Struct(new_schema, values))

    def _flatten_map(self, mapping: Mapping[Any, Any], prefix: str, out: dict[Any, Any]) -> None:
        for key, item in mapping.items():
            name = self._name(prefix, key)
            if item is None or isinstance(item, _LEAVES):
                out[name] = item
            elif isinstance(item, Mapping):
                self._flatten_map(item, name, out)
            elif isinstance(item, Struct):
                raise DataError(
                    f"Flatten transformation does not support class {java_class_name(item)} "
                    f"for record without schemas (for field {name})."
                )
            else:
                raise DataError(
                    f"Flatten transformation was passed a value of type class {java_class_name(item)} "
                    "which is not supported by Connect's data API"
                )

    def _plan(self, schema: Schema) -> tuple[Schema, tuple[_Step, ...]]:
        """The flattened schema and the steps that copy a struct's values into it."""
        builder = struct_builder_like(schema)
        default = schema.default if isinstance(schema.default, Struct) else None
        steps = self._fields(schema, "", builder, schema.optional, default)
        return builder.build(), steps

    def _fields(
        self, schema: Schema, prefix: str, builder: SchemaBuilder, optional: bool, inherited: Struct | None
    ) -> tuple[_Step, ...]:
        steps: list[_Step] = []
        for member in schema.fields:
            name = self._name(prefix, member.name)
            member_schema = member.schema
            member_optional = optional or member_schema.optional
            default = member_schema.default
            if default is None and inherited is not None:
                default = field_value(inherited, member.name, True)
            kind = member_schema.type
            if kind is SchemaType.STRUCT:
                nested = default if isinstance(default, Struct) else None
                inner = self._fields(member_schema, name, builder, member_optional, nested)
                steps.append((member.name, None, inner))
            elif kind is SchemaType.MAP:
                raise DataError(
                    f"Flatten transformation does not support MAP for record with schemas (for field {name})."
                )
            else:
                builder.field(name, replace(member_schema, optional=member_optional, default=default))
                steps.append((member.name, name, ()))
        return tuple(steps)


def _copy(struct: Struct, steps: tuple[_Step, ...], out: dict[str, Any]) -> None:
    """Struct values into ``out`` by the plan; a null nested struct leaves its fields null."""
    for name, flat_name, inner in steps:
        item = field_value(struct, name, True)
        if flat_name is not None:
            out[flat_name] = item
        elif item is not None:
            _copy(require_struct(item, PURPOSE), inner, out)


class FlattenKey(Flatten):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "Flatten$Key",)


class FlattenValue(Flatten):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "Flatten$Value",)
