"""``InsertHeader`` and ``DropHeaders``: add a literal header, remove headers by name (reference
§7.15, §7.16).

InsertHeader parses ``value.literal`` once, at configuration, with Connect's
``Values.parseString`` (:func:`connectors.sdk.values.parse_string`), so ``42`` is an INT8
header and ``[1,2]`` an array, as in Kafka Connect.
"""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk.config import PluginConfig, setting
from connectors.sdk.records import ConnectRecord, Header
from connectors.sdk.transform import Transformation
from connectors.sdk.values import parse_string
from connectors.transforms.checks import NonEmptyList, NonEmptyString
from connectors.transforms.operand import KAFKA_TRANSFORMS


class InsertHeaderConfig(PluginConfig):
    header: NonEmptyString = setting(doc="The name of the header.")
    value_literal: str = setting(
        doc="The literal value that is to be set as the header value on all records."
    )


class InsertHeader(Transformation[ConnectRecord]):
    config_model = InsertHeaderConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "InsertHeader",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, InsertHeaderConfig)
        parsed = parse_string(config.value_literal)
        self._header = Header(config.header, parsed.value, parsed.schema)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        # Always added, even when a header with that name exists
        return record.new_record(headers=(*record.headers, self._header))


class DropHeadersConfig(PluginConfig):
    headers: NonEmptyList = setting(doc="The name of the headers to be removed.")


class DropHeaders(Transformation[ConnectRecord]):
    config_model = DropHeadersConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "DropHeaders",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, DropHeadersConfig)
        self._names = frozenset(config.headers)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        kept = tuple(h for h in record.headers if h.key not in self._names)
        if len(kept) == len(record.headers):
            return record
        return record.new_record(headers=kept)
