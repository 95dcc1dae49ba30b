"""ByteArrayConverter: bytes in, bytes out, like ``org.apache.kafka.connect.converters.ByteArrayConverter``.

For pipelines that move opaque payloads: nothing is parsed, so nothing can be lost. The schema
check exists so that a misconfigured connector (a Struct value, say) fails loudly instead of
writing ``repr()`` garbage.
"""

from __future__ import annotations

from typing import Any

from connectors.sdk.config import PluginConfig
from connectors.sdk.converter import Converter, HeaderConverter
from connectors.sdk.data import OPTIONAL_BYTES_SCHEMA, Schema, SchemaAndValue, SchemaType
from connectors.sdk.errors import DataError

__all__ = ["ByteArrayConverter"]


class ByteArrayConverter(Converter, HeaderConverter):
    """Passes ``bytes`` through; usable for keys, values and headers. No settings."""

    aliases = ("org.apache.kafka.connect.converters.ByteArrayConverter",)

    def configure(self, config: PluginConfig, *, is_key: bool = False) -> None:
        """Nothing to configure; accepts both the converter and the header-converter call."""

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if schema is not None and schema.type is not SchemaType.BYTES:
            raise DataError(f"Invalid schema type for ByteArrayConverter: {schema.type.name}")
        if value is None or type(value) is bytes:
            return value
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise DataError(f"ByteArrayConverter is not compatible with objects of type {type(value)}")

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        return SchemaAndValue(OPTIONAL_BYTES_SCHEMA, data)

    def from_connect_header(
        self,
        topic: str,
        key: str,
        schema: Schema | None,
        value: Any,
    ) -> bytes | None:
        return self.from_connect_data(topic, schema, value)

    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> SchemaAndValue:
        return self.to_connect_data(topic, data)
