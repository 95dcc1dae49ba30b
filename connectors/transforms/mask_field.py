"""``MaskField$Key`` / ``MaskField$Value``: overwrite sensitive fields (reference §7.3).

Without ``replacement`` a non-null value becomes its type's "empty" value (false, 0, 0.0, "",
the epoch for Date/Time/Timestamp, an empty list or map); structs and bytes cannot be masked.
With ``replacement`` only numbers (the text converted to the field's type) and strings can be.
Null values stay null and the schema is unchanged.

Two Kafka behaviours kept on purpose: a null operand fails (a tombstone is not skipped, so a
chain masking PII never lets an unexpected shape through silently), and schemaless data gets a
null entry for a masked field it did not have.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import field_validator

from connectors.sdk.config import Importance, PluginConfig, setting
from connectors.sdk.data import DATE, DECIMAL, TIME, TIMESTAMP, Schema, SchemaType, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.logical import logical_name
from connectors.sdk.records import ConnectRecord
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    NonEmptyList,
    OperandTransformation,
    Side,
    field_value,
    java_class_name,
    require_map,
    require_struct,
)

PURPOSE = "mask fields"

_EPOCH_DATETIME = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_MIDNIGHT = time(0)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
"""Java's ``BigDecimal(String)`` syntax: no NaN, infinities, spaces or underscores."""

_INT_RANGES = {
    SchemaType.INT8: 2**7,
    SchemaType.INT16: 2**15,
    SchemaType.INT32: 2**31,
    SchemaType.INT64: 2**63,
}


class MaskFieldConfig(PluginConfig):
    fields: NonEmptyList = setting(doc="Names of fields to mask.", importance=Importance.HIGH)
    replacement: str | None = setting(
        None,
        doc="Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only).",
        importance=Importance.LOW,
    )
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    @field_validator("replacement")
    @classmethod
    def _non_empty(cls, value: str | None) -> str | None:
        if value is not None and not value:
            raise ValueError("String must be non-empty")
        return value


class MaskField(OperandTransformation[ConnectRecord]):
    config_model = MaskFieldConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, MaskFieldConfig)
        self._fields = tuple(dict.fromkeys(config.fields))
        self._masked = frozenset(self._fields)
        self._replacement = config.replacement
        self._replace_null = config.replace_null_with_default

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if schema is None:
            updated = dict(require_map(value, PURPOSE))
            for name in self._fields:
                updated[name] = self._mask(updated.get(name), None)
            return self.updated(record, None, updated)
        struct = require_struct(value, PURPOSE)
        replace_null = self._replace_null
        masked = self._masked
        values = {}
        for member in struct.schema.fields:
            item = field_value(struct, member.name, replace_null)
            values[member.name] = self._mask(item, member.schema) if member.name in masked else item
        return self.updated(record, schema, Struct(struct.schema, values))

    def _mask(self, value: Any, schema: Schema | None) -> Any:
        if value is None:
            return None
        if self._replacement is None:
            return _empty(value, schema)
        return _replaced(value, schema, self._replacement)


def _empty(value: Any, schema: Schema | None) -> Any:
    """The "empty" value of ``value``'s type; from the schema when there is one, else from the
    Python type (the schemaless values a converter produces)."""
    if schema is not None:
        kind = schema.type
        name = logical_name(schema)
        if kind is SchemaType.BOOLEAN:
            return False
        if kind in _INT_RANGES:
            if name == DATE:
                return _EPOCH_DATE
            if name == TIME:
                return _MIDNIGHT
            if name == TIMESTAMP:
                return _EPOCH_DATETIME
            return 0
        if kind is SchemaType.FLOAT32 or kind is SchemaType.FLOAT64:
            return 0.0
        if kind is SchemaType.STRING:
            return ""
        if kind is SchemaType.BYTES and name == DECIMAL:
            return Decimal(0)
        if kind is SchemaType.ARRAY:
            return []
        if kind is SchemaType.MAP:
            return {}
        raise DataError(f"Cannot mask value of type: class {java_class_name(value)}")
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.0
    if isinstance(value, str):
        return ""
    if isinstance(value, Decimal):
        return Decimal(0)
    if isinstance(value, datetime):
        return _EPOCH_DATETIME
    if isinstance(value, date):
        return _EPOCH_DATE
    if isinstance(value, time):
        return _MIDNIGHT
    if isinstance(value, list | tuple):
        return []
    if isinstance(value, dict):
        return {}
    raise DataError(f"Cannot mask value of type: class {java_class_name(value)}")


def _replaced(value: Any, schema: Schema | None, replacement: str) -> Any:
    """``replacement`` converted to the type of ``value``: numbers and strings only."""
    if schema is not None:
        kind = schema.type
        if kind is SchemaType.STRING:
            return replacement
        if kind in _INT_RANGES and logical_name(schema) is None:
            return _integer(replacement, _INT_RANGES[kind])
        if kind is SchemaType.FLOAT32 or kind is SchemaType.FLOAT64:
            return float(_number(replacement))
        if kind is SchemaType.BYTES and logical_name(schema) == DECIMAL:
            return _number(replacement)
    elif isinstance(value, str):
        return replacement
    elif isinstance(value, int) and not isinstance(value, bool):
        return _integer(replacement, _INT_RANGES[SchemaType.INT64])
    elif isinstance(value, float):
        return float(_number(replacement))
    elif isinstance(value, Decimal):
        return _number(replacement)
    raise DataError(f"Cannot mask value of type class {java_class_name(value)} with custom replacement.")


def _number(text: str) -> Decimal:
    if not _NUMBER.fullmatch(text):
        raise DataError(f"Unable to convert {text} (class java.lang.String) to number")
    return Decimal(text)


def _integer(text: str, bound: int) -> int:
    """The integer part of the number ``text`` (Kafka truncates ``1.9`` to 1), within the type."""
    number = int(_number(text))
    if not -bound <= number < bound:
        raise DataError(f"Unable to convert {text} (class java.lang.String) to number")
    return number


class MaskFieldKey(MaskField):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "MaskField$Key",)


class MaskFieldValue(MaskField):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "MaskField$Value",)
