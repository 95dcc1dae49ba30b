"""``HoistField$Key`` / ``HoistField$Value``: wrap the key or value in a one-field Struct or Map
(reference §7.6).

With a schema the result is an unnamed struct whose only field has the original schema; without
one, a single-entry map. Null values are wrapped too (``{"field": null}``), as in Kafka.
"""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.sdk.config import Importance, PluginConfig, setting
from connectors.sdk.data import Schema, Struct
from connectors.sdk.records import ConnectRecord
from connectors.sdk.schema_builder import SchemaBuilder
from connectors.transforms.operand import KAFKA_TRANSFORMS, OperandTransformation, SchemaCache, Side


class HoistFieldConfig(PluginConfig):
    field: str = setting(
        doc="Field name for the single field that will be created in the resulting Struct or Map.",
        importance=Importance.MEDIUM,
    )


class HoistField(OperandTransformation[ConnectRecord]):
    config_model = HoistFieldConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, HoistFieldConfig)
        self._field = config.field
        self._schemas = SchemaCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if schema is None:
            return self.updated(record, None, {self._field: value})
        wrapper = self._schemas.get(schema, self._wrapper)
        return self.updated(record, wrapper, Struct(wrapper, {self._field: value}))

    def _wrapper(self, schema: Schema) -> Schema:
        return SchemaBuilder.struct().field(self._field, schema).build()


class HoistFieldKey(HoistField):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "HoistField$Key",)


class HoistFieldValue(HoistField):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "HoistField$Value",)
