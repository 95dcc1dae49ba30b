"""``ExtractField$Key`` / ``ExtractField$Value``: replace the key or value by one of its fields
(reference §7.5).

With ``field.syntax.version=V2`` the field is a dotted path into nested structs or maps (see
:mod:`connectors.transforms.field_path`). The output schema is the field's own schema. A null
operand gives a null output (with the field's schema when the input had one); with a schema an
unknown field is an error, while a key missing from a schemaless map gives null.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from pydantic import model_validator

from connectors.sdk.config import Importance, PluginConfig, SettingError, setting
from connectors.sdk.data import Field, Schema, Struct
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord
from connectors.transforms.field_path import (
    FieldPath,
    FieldPathError,
    SyntaxVersion,
    syntax_version_setting,
)
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    DerivedCache,
    OperandTransformation,
    Side,
    require_map,
    require_struct,
)

PURPOSE = "field extraction"


class ExtractFieldConfig(PluginConfig):
    field: str = setting(doc="Field name to extract.", importance=Importance.MEDIUM)
    field_syntax_version: SyntaxVersion = syntax_version_setting()
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    @model_validator(mode="after")
    def _readable_path(self) -> Self:
        """An unclosed backtick is Kafka's ConfigException at start-up; here it shows on ``field``
        at validation, before the connector exists."""
        try:
            FieldPath.parse(self.field, self.field_syntax_version)
        except FieldPathError as exc:
            raise SettingError("field", str(exc)) from None
        return self


class ExtractField(OperandTransformation[ConnectRecord]):
    config_model = ExtractFieldConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, ExtractFieldConfig)
        self._path = FieldPath.parse(config.field, config.field_syntax_version)
        self._replace_null = config.replace_null_with_default
        self._members: DerivedCache[Field | None] = DerivedCache()

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if schema is None:
            if value is None:
                return self.updated(record, None, None)
            return self.updated(record, None, self._path.value_in_map(require_map(value, PURPOSE)))
        struct: Struct | None = None if value is None else require_struct(value, PURPOSE)
        member = self._members.get(schema, self._path.field_in)
        if member is None:
            raise DataError(f"Unknown field: {self._path.text}")
        if struct is None:
            return self.updated(record, member.schema, None)
        return self.updated(record, member.schema, self._path.value_in_struct(struct, self._replace_null))


class ExtractFieldKey(ExtractField):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "ExtractField$Key",)


class ExtractFieldValue(ExtractField):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "ExtractField$Value",)
