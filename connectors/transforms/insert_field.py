"""``InsertField$Key`` / ``InsertField$Value``: add the record's topic, partition, offset,
timestamp or a constant as fields (reference §7.1).

A field name ending in ``!`` makes the added field required, ``?`` (or nothing) optional. Records
whose operand is null (tombstones) pass unchanged, as in Kafka.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Self

from pydantic import model_validator

from connectors.sdk.config import PluginConfig, SettingError, setting
from connectors.sdk.data import INT32_SCHEMA, INT64_SCHEMA, STRING_SCHEMA, Schema, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.logical import Timestamp
from connectors.sdk.records import ConnectRecord, SinkRecord
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    OperandTransformation,
    SchemaCache,
    Side,
    field_value,
    java_class_name,
    require_map,
    require_struct,
    struct_builder_like,
)

PURPOSE = "field insertion"


class InsertFieldConfig(PluginConfig):
    topic_field: str | None = setting(
        None, doc="Field name for the record topic; suffix with ! to make it required, ? (default) optional."
    )
    partition_field: str | None = setting(
        None,
        doc="Field name for the Kafka partition; suffix with ! to make it required, ? (default) optional.",
    )
    offset_field: str | None = setting(
        None,
        doc="Field name for the Kafka offset (sink connectors only); suffix with ! to make it required, ? (default) optional.",
    )
    timestamp_field: str | None = setting(
        None,
        doc="Field name for the record timestamp; suffix with ! to make it required, ? (default) optional.",
    )
    static_field: str | None = setting(
        None,
        doc="Field name for a static data field; suffix with ! to make it required, ? (default) optional.",
    )
    static_value: str | None = setting(None, doc="Static field value, if a field name is configured.")
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    @model_validator(mode="after")
    def _something_to_insert(self) -> Self:
        fields = (
            self.topic_field,
            self.partition_field,
            self.offset_field,
            self.timestamp_field,
            self.static_field,
        )
        if not any(fields):
            raise SettingError("topic.field", "No field insertion configured")
        if self.static_field and self.static_value is None:
            raise SettingError("static.value", "No value specified for static field: " + self.static_field)
        return self


@dataclass(frozen=True, slots=True)
class _Spec:
    """A configured field name with Kafka's ``!`` (required) / ``?`` (optional) suffix parsed."""

    name: str
    optional: bool

    @classmethod
    def parse(cls, spec: str | None) -> _Spec | None:
        if not spec:
            return None
        if spec.endswith("!"):
            return cls(spec[:-1], False)
        if spec.endswith("?"):
            return cls(spec[:-1], True)
        return cls(spec, True)


class InsertField(OperandTransformation[ConnectRecord]):
    config_model = InsertFieldConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, InsertFieldConfig)
        self._topic = _Spec.parse(config.topic_field)
        self._partition = _Spec.parse(config.partition_field)
        self._offset = _Spec.parse(config.offset_field)
        self._timestamp = _Spec.parse(config.timestamp_field)
        self._static = _Spec.parse(config.static_field)
        self._static_value = config.static_value
        self._replace_null = config.replace_null_with_default
        self._schemas = SchemaCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord | None:
        if value is None:
            return record
        additions = self._additions(record)
        if schema is None:
            updated = dict(require_map(value, PURPOSE))
            for spec, item in additions:
                updated[spec.name] = record.timestamp if spec is self._timestamp else item
            return self.updated(record, None, updated)
        struct = require_struct(value, PURPOSE)
        new_schema = self._schemas.get(schema, self._widen)
        values = {f.name: field_value(struct, f.name, self._replace_null) for f in schema.fields}
        values.update((spec.name, item) for spec, item in additions)
        return self.updated(record, new_schema, Struct(new_schema, values))

    def _additions(self, record: ConnectRecord) -> list[tuple[_Spec, Any]]:
        """The fields to add with their values; null partitions and timestamps are skipped."""
        result: list[tuple[_Spec, Any]] = []
        if self._topic:
            result.append((self._topic, record.topic))
        if self._partition and record.partition is not None:
            result.append((self._partition, record.partition))
        if self._offset:
            if not isinstance(record, SinkRecord):
                raise DataError(
                    f"Only SinkRecord supported for [{PURPOSE}], found: {java_class_name(record)}"
                )
            result.append((self._offset, record.kafka_offset))
        if self._timestamp and record.timestamp is not None:
            result.append((self._timestamp, Timestamp.from_millis(record.timestamp)))
        if self._static:
            result.append((self._static, self._static_value))
        return result

    def _widen(self, schema: Schema) -> Schema:
        builder = struct_builder_like(schema)
        for member in schema.fields:
            builder.field(member.name, member.schema)
        for spec, required in (
            (self._topic, STRING_SCHEMA),
            (self._partition, INT32_SCHEMA),
            (self._offset, INT64_SCHEMA),
            (self._timestamp, Timestamp.schema()),
            (self._static, STRING_SCHEMA),
        ):
            if spec is not None:
                builder.field(spec.name, required.as_optional() if spec.optional else required)
        return builder.build()


class InsertFieldKey(InsertField):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "InsertField$Key",)


class InsertFieldValue(InsertField):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "InsertField$Value",)
