"""SimpleHeaderConverter: header values as plain UTF-8 text, with types guessed back on read.

Plays the role of ``org.apache.kafka.connect.storage.SimpleHeaderConverter`` (Kafka Connect's
default header converter) with a deliberately smaller inference, so that what a header turns
into is easy to predict:

* write: ``None`` -> no bytes; text as UTF-8; ``bytes`` unchanged; ``true``/``false`` for
  booleans; numbers as their text; dicts, lists and Structs as compact JSON; dates and times
  in ISO 8601.
* read: ``true``/``false`` -> bool; a JSON integer (no leading zeros, within int64) -> int;
  a JSON fraction or exponent number -> float; a JSON object or array -> dict/list without a
  schema; anything else stays a string. Schemas are the *optional* variants, since a header
  value may always be absent. Kafka would also guess dates, decimals and the smallest integer
  type; that is left out on purpose (``"007"`` stays a string, a timestamp stays text).
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

import orjson

from connectors.converters.string import to_text
from connectors.sdk.config import PluginConfig
from connectors.sdk.converter import HeaderConverter
from connectors.sdk.data import (
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    Schema,
    SchemaAndValue,
)

__all__ = [
    "OPTIONAL_BOOLEAN_SCHEMA",
    "OPTIONAL_FLOAT64_SCHEMA",
    "OPTIONAL_INT64_SCHEMA",
    "SimpleHeaderConverter",
    "infer",
]

_NULL: Final = SchemaAndValue(None, None)
_TRUE: Final = SchemaAndValue(OPTIONAL_BOOLEAN_SCHEMA, True)
_FALSE: Final = SchemaAndValue(OPTIONAL_BOOLEAN_SCHEMA, False)
_INTEGER: Final = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FRACTION: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][+-]?[0-9]+)?|[eE][+-]?[0-9]+)")
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1


class SimpleHeaderConverter(HeaderConverter):
    """Header values as text; see the module docstring for the exact rules."""

    aliases = ("org.apache.kafka.connect.storage.SimpleHeaderConverter",)

    def configure(self, config: PluginConfig) -> None:
        """No settings."""

    def from_connect_header(
        self,
        topic: str,
        key: str,
        schema: Schema | None,
        value: Any,
    ) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        return to_text(value).encode("utf-8", "replace")

    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> SchemaAndValue:
        if data is None:
            return _NULL
        text = bytes(data).decode("utf-8", "replace")
        return infer(text)


def infer(text: str) -> SchemaAndValue:
    """The typed value a header's text most plausibly meant (strict JSON number grammar)."""
    if text == "true":
        return _TRUE
    if text == "false":
        return _FALSE
    if len(text) <= 20 and _INTEGER.fullmatch(text):  # int64 has at most 19 digits
        number = int(text)
        if _INT64_MIN <= number <= _INT64_MAX:
            return SchemaAndValue(OPTIONAL_INT64_SCHEMA, number)
    elif _FRACTION.fullmatch(text):
        real = float(text)
        if math.isfinite(real):
            return SchemaAndValue(OPTIONAL_FLOAT64_SCHEMA, real)
    elif text.startswith(("{", "[")):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict | list):
            return SchemaAndValue(None, parsed)
    return SchemaAndValue(OPTIONAL_STRING_SCHEMA, text)
