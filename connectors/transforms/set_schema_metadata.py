"""``SetSchemaMetadata$Key`` / ``SetSchemaMetadata$Value``: set the name and/or version of the
key's or value's schema (reference §7.12).

Everything else about the schema is kept. A Struct value is rebuilt on the new schema, because a
Struct names its schema and a converter (Avro, JSON with schemas) reads the name from there; any
other value is kept as is. Data without a schema cannot have one renamed, except a null (a
tombstone), which passes unchanged.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Self

from pydantic import model_validator

from connectors.sdk.config import Importance, PluginConfig, SettingError, setting
from connectors.sdk.data import Schema, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    DerivedCache,
    OperandTransformation,
    Side,
)

PURPOSE = "updating schema metadata"


class SetSchemaMetadataConfig(PluginConfig):
    schema_name: str | None = setting(None, doc="Schema name to set.", importance=Importance.HIGH)
    schema_version: int | None = setting(None, doc="Schema version to set.", importance=Importance.HIGH)
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    @model_validator(mode="after")
    def _something_to_set(self) -> Self:
        if self.schema_name is None and self.schema_version is None:
            raise SettingError("schema.name", "Neither schema name nor version configured")
        return self


class SetSchemaMetadata(OperandTransformation[ConnectRecord]):
    config_model = SetSchemaMetadataConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, SetSchemaMetadataConfig)
        self._name = config.schema_name
        self._version = config.schema_version
        self._replace_null = config.replace_null_with_default
        self._plans: DerivedCache[tuple[Schema, tuple[tuple[str, Any], ...]]] = DerivedCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if schema is None:
            if value is None:
                return record
            raise DataError(f"Schema required for [{PURPOSE}]")
        updated, defaults = self._plans.get(schema, self._plan)
        if isinstance(value, Struct):
            values = dict(value.values)
            for name, default in defaults:
                if values.get(name) is None:
                    values[name] = default
            value = Struct(updated, values)
        return self.updated(record, updated, value)

    def _plan(self, schema: Schema) -> tuple[Schema, tuple[tuple[str, Any], ...]]:
        """The renamed schema, and the fields whose null a Struct copy replaces by their default
        (none when ``replace.null.with.default`` is off), so a copy is one dict copy."""
        updated = replace(
            schema,
            name=self._name if self._name is not None else schema.name,
            version=self._version if self._version is not None else schema.version,
        )
        defaults = tuple(
            (f.name, f.schema.default)
            for f in schema.fields
            if self._replace_null and f.schema.default is not None
        )
        return updated, defaults


class SetSchemaMetadataKey(SetSchemaMetadata):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "SetSchemaMetadata$Key",)


class SetSchemaMetadataValue(SetSchemaMetadata):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "SetSchemaMetadata$Value",)
