"""``HeaderFrom$Key`` / ``HeaderFrom$Value``: copy or move fields into headers (reference §7.14).

``fields`` and ``headers`` pair up by position; each header gets the field's value and, with a
schema, the field's schema. ``move`` also removes the fields (the smaller schema is cached).
Existing headers stay, duplicates included.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import field_validator, model_validator

from connectors.sdk.config import PluginConfig, SettingError, setting
from connectors.sdk.data import Schema, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord, Header
from connectors.transforms.checks import NonEmptyList, one_of
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    OperandTransformation,
    SchemaCache,
    Side,
    field_value,
    require_map,
    require_struct,
    struct_builder_like,
)

MOVE = "move"
COPY = "copy"


class HeaderFromConfig(PluginConfig):
    fields: NonEmptyList = setting(
        doc="Field names in the record whose values are to be copied or moved to headers."
    )
    headers: NonEmptyList = setting(
        doc="Header names, in the same order as the field names listed in the fields configuration property."
    )
    operation: str = setting(
        doc="Either move if the fields are to be moved to the headers (removed from the key/value), or copy if the fields are to be copied to the headers (retained in the key/value).",
    )
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    _operation = field_validator("operation")(one_of(MOVE, COPY))

    @model_validator(mode="after")
    def _same_length(self) -> Self:
        if len(self.fields) != len(self.headers):
            raise SettingError(
                "headers", "'fields' config must have the same number of elements as 'headers' config."
            )
        return self


class HeaderFrom(OperandTransformation[ConnectRecord]):
    config_model = HeaderFromConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, HeaderFromConfig)
        self._pairs = tuple(zip(config.fields, config.headers, strict=True))
        self._moved = frozenset(config.fields)
        self._move = config.operation == MOVE
        self._purpose = f"header {config.operation}"
        self._replace_null = config.replace_null_with_default
        self._schemas = SchemaCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord | None:
        if schema is None:
            source = require_map(value, self._purpose)
            added = tuple(Header(header, source.get(name)) for name, header in self._pairs)
            kept = {k: v for k, v in source.items() if k not in self._moved} if self._move else dict(source)
            updated = self.updated(record, None, kept)
        else:
            struct = require_struct(value, self._purpose)
            added = tuple(self._header(struct, name, header) for name, header in self._pairs)
            if self._move:
                smaller = self._schemas.get(schema, self._without_fields)
                values = {f.name: field_value(struct, f.name, self._replace_null) for f in smaller.fields}
                updated = self.updated(record, smaller, Struct(smaller, values))
            else:
                updated = self.updated(record, schema, struct)
        return updated.new_record(headers=(*record.headers, *added))

    def _header(self, struct: Struct, name: str, header: str) -> Header:
        member = struct.schema.field(name)
        if member is None:
            # Kafka fails here too (a NullPointerException); name the field instead
            raise DataError(f"Unknown field: {name}")
        return Header(header, field_value(struct, name, self._replace_null), member.schema)

    def _without_fields(self, schema: Schema) -> Schema:
        builder = struct_builder_like(schema)
        for member in schema.fields:
            if member.name not in self._moved:
                builder.field(member.name, member.schema)
        return builder.build()


class HeaderFromKey(HeaderFrom):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "HeaderFrom$Key",)


class HeaderFromValue(HeaderFrom):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "HeaderFrom$Value",)
