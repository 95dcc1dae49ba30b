"""``ReplaceField$Key`` / ``ReplaceField$Value``: drop, keep and rename fields (reference §7.2).

Fields are filtered by their original names (``exclude`` wins over ``include``) and the survivors
renamed by ``renames`` (``old:new`` pairs), in their original order. ``blacklist`` / ``whitelist``
are the names Kafka used before 2.7 (removed in 4.0); old connector JSON still carries them, so
they are accepted, and when both the old and the new key are set the new one wins, as in Kafka.
A null operand (a tombstone) passes unchanged.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from pydantic import field_validator

from connectors.sdk.config import CommaList, Importance, PluginConfig, setting
from connectors.sdk.data import Schema, Struct
from connectors.sdk.records import ConnectRecord
from connectors.transforms.operand import (
    KAFKA_TRANSFORMS,
    DerivedCache,
    OperandTransformation,
    Side,
    field_value,
    require_map,
    require_struct,
    struct_builder_like,
)

PURPOSE = "field replacement"

_Plan = tuple[Schema, tuple[tuple[str, str], ...]]

log = logging.getLogger(__name__)


class ReplaceFieldConfig(PluginConfig):
    exclude: CommaList = setting(
        [], doc="Fields to exclude. This takes precedence over the fields to include."
    )
    blacklist: CommaList | None = setting(
        None, doc="Deprecated. Use exclude instead.", importance=Importance.LOW
    )
    include: CommaList = setting([], doc="Fields to include. If specified, only these fields will be used.")
    whitelist: CommaList | None = setting(
        None, doc="Deprecated. Use include instead.", importance=Importance.LOW
    )
    renames: CommaList = setting([], doc="Field rename mappings.")
    replace_null_with_default: bool = setting(
        True,
        doc="Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used.",
    )

    @field_validator("renames")
    @classmethod
    def _pairs(cls, renames: list[str]) -> list[str]:
        for mapping in renames:
            _pair(mapping)
        return renames

    def rename_map(self) -> dict[str, str]:
        """``renames`` as old name -> new name (a later pair for the same name wins)."""
        return dict(_pair(mapping) for mapping in self.renames)

    def effective(self, new: str, old: str) -> list[str]:
        """The value of ``new``, or of its deprecated alias ``old`` when only that one is set
        (Kafka's ``ConfigUtils.translateDeprecatedConfigs``)."""
        new_value: list[str] = getattr(self, new)
        old_value: list[str] | None = getattr(self, old)
        if new in self.model_fields_set:
            if old_value is not None:
                log.error("Config property %r is deprecated and ignored because %r is also set", old, new)
            return new_value
        return old_value if old_value is not None else new_value


def _pair(mapping: str) -> tuple[str, str]:
    """One ``old:new`` mapping, split as Java's ``String.split(":")`` does (trailing empty parts
    dropped, so ``a:b:`` is valid and ``a:`` is not)."""
    parts = mapping.split(":")
    while parts and not parts[-1]:
        parts.pop()
    if len(parts) != 2:
        raise ValueError(f"Invalid rename mapping: {mapping}")
    return parts[0], parts[1]


class ReplaceField(OperandTransformation[ConnectRecord]):
    config_model = ReplaceFieldConfig

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, ReplaceFieldConfig)
        self._exclude = frozenset(config.effective("exclude", "blacklist"))
        self._include = frozenset(config.effective("include", "whitelist"))
        self._renames = config.rename_map()
        self._replace_null = config.replace_null_with_default
        self._plans: DerivedCache[_Plan] = DerivedCache()

    def _kept(self, name: str) -> bool:
        return name not in self._exclude and (not self._include or name in self._include)

    def transform(self, record: ConnectRecord, schema: Schema | None, value: Any) -> ConnectRecord:
        if value is None:
            return record
        if schema is None:
            renames = self._renames
            kept = self._kept
            items = require_map(value, PURPOSE).items()
            return self.updated(record, None, {renames.get(k, k): v for k, v in items if kept(k)})
        struct = require_struct(value, PURPOSE)
        new_schema, moves = self._plans.get(struct.schema, self._plan)
        replace_null = self._replace_null
        values = {new: field_value(struct, old, replace_null) for old, new in moves}
        return self.updated(record, new_schema, Struct(new_schema, values))

    def _plan(self, schema: Schema) -> _Plan:
        """The derived schema and the (old name, new name) of each kept field, in order.

        Values are copied by these pairs rather than by reversing ``renames`` (Kafka's way), so
        a rename of an excluded field can never pull its value into a kept field of that name.
        """
        builder = struct_builder_like(schema)
        moves = []
        for member in schema.fields:
            if self._kept(member.name):
                new = self._renames.get(member.name, member.name)
                builder.field(new, member.schema)
                moves.append((member.name, new))
        return builder.build(), tuple(moves)


class ReplaceFieldKey(ReplaceField):
    side = Side.KEY
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "ReplaceField$Key",)


class ReplaceFieldValue(ReplaceField):
    side = Side.VALUE
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "ReplaceField$Value",)
