"""StringConverter: values as text, compatible with ``org.apache.kafka.connect.storage.StringConverter``.

Kafka writes ``value.toString()``. For text, numbers and booleans that is reproduced (booleans
as ``true``/``false``). Two deliberate improvements, because Java's ``toString`` of these is
useless to any reader:

* dicts, lists and Structs are written as compact JSON (a Struct as an object in field order)
  instead of Java's ``{a=1}`` / ``Struct{a=1}``;
* bytes are passed through unchanged instead of becoming ``[B@1b6d3586``.

Reading never looks at the content: the schema is always an optional string.
"""

from __future__ import annotations

import binascii
import codecs
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final

import orjson
from pydantic import field_validator

from connectors.sdk.config import Importance, PluginConfig, Width, setting
from connectors.sdk.converter import Converter, HeaderConverter
from connectors.sdk.data import OPTIONAL_STRING_SCHEMA, Schema, SchemaAndValue, Struct

__all__ = ["StringConverter", "StringConverterConfig", "to_text"]

_TEXT_OPTIONS: Final = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
_NULL_STRING: Final = SchemaAndValue(OPTIONAL_STRING_SCHEMA, None)


class StringConverterConfig(PluginConfig):
    converter_encoding: str = setting(
        "UTF-8",
        doc="The name of the Java character set to use for encoding strings as byte arrays.",
        importance=Importance.HIGH,
        group="Converter",
        order_in_group=0,
        width=Width.MEDIUM,
        display_name="Character encoding",
    )

    @field_validator("converter_encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        """Fail at configuration time rather than on the first record."""
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"Unsupported character encoding: {value}") from None
        return value


def _json_default(value: Any) -> Any:
    """Values orjson cannot write on its own, rendered the way a reader would expect."""
    if isinstance(value, Struct):
        values = value.values
        return {member.name: values.get(member.name) for member in value.schema.fields}
    if isinstance(value, bytes | bytearray | memoryview):
        return binascii.b2a_base64(value, newline=False).decode("ascii")
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(format(value, "f"))
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    return str(value)


def to_text(value: Any) -> str:
    """Java's ``toString`` where it is meaningful, compact JSON for containers and Structs."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list | tuple | Struct | Mapping):
        return orjson.dumps(value, default=_json_default, option=_TEXT_OPTIONS).decode("utf-8")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


class StringConverter(Converter[StringConverterConfig], HeaderConverter[StringConverterConfig]):
    """Text in a configurable encoding; usable for keys, values and headers."""

    config_model = StringConverterConfig
    aliases = ("org.apache.kafka.connect.storage.StringConverter",)

    def __init__(self) -> None:
        self.is_key = False
        self._apply(StringConverterConfig())

    def configure(self, config: StringConverterConfig, *, is_key: bool = False) -> None:
        """One method for both roles: the header role has no ``is_key``."""
        self.is_key = is_key
        self._apply(config)

    def _apply(self, config: StringConverterConfig) -> None:
        self.config = config
        # Java replaces unmappable characters and malformed input; "replace" does the same.
        self._encoding = codecs.lookup(config.converter_encoding).name

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        return to_text(value).encode(self._encoding, "replace")

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        if data is None:
            return _NULL_STRING
        if type(data) is not bytes:
            data = bytes(data)
        return SchemaAndValue(OPTIONAL_STRING_SCHEMA, data.decode(self._encoding, "replace"))

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
