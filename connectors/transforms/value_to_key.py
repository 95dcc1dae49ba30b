"""``ValueToKey``: a new key built from fields of the value (reference §7.4).

With a schema the key is a Struct of the named value fields, in the order listed (a name the
value schema lacks is an error); without one it is a Map, a missing field giving a null entry.
The value is untouched. A null value fails, as in Kafka: there is nothing to build the key from.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk.config import Importance, PluginConfig, setting
from connectors.sdk.data import Schema, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord
from connectors.sdk.schema_builder import SchemaBuilder
from connectors.sdk.transform import Transformation
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    NonEmptyList,
    SchemaCache,
    field_value,
    require_map,
    require_struct,
)

PURPOSE = "copying fields from value to key"


class ValueToKeyConfig(PluginConfig):
    fields: NonEmptyList = setting(
        doc="Field names on the record value to extract as the record key.", importance=Importance.HIGH
    )
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )


class ValueToKey(Transformation[ConnectRecord]):
    config_model = ValueToKeyConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "ValueToKey",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, ValueToKeyConfig)
        self._fields = tuple(config.fields)
        self._replace_null = config.replace_null_with_default
        self._schemas = SchemaCache()

    def apply(self, record: ConnectRecord) -> ConnectRecord:
        if record.value_schema is None:
            value = require_map(record.value, PURPOSE)
            key = {name: value.get(name) for name in self._fields}
            return record.new_record(key_schema=None, key=key)
        struct = require_struct(record.value, PURPOSE)
        key_schema = self._schemas.get(struct.schema, self._key_schema)
        replace_null = self._replace_null
        values = {name: field_value(struct, name, replace_null) for name in self._fields}
        return record.new_record(key_schema=key_schema, key=Struct(key_schema, values))

    def _key_schema(self, schema: Schema) -> Schema:
        builder = SchemaBuilder.struct()
        for name in self._fields:
            member = schema.field(name)
            if member is None:
                raise DataError(f"Field does not exist: {name}")
            builder.field(name, member.schema)
        return builder.build()
