"""StringConverter: Kafka's text converter, with JSON for containers instead of Java's toString."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.converters.string import StringConverter, StringConverterConfig
from connectors.sdk.data import (
    INT32_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    SchemaAndValue,
    Struct,
    struct_schema,
)
from connectors.sdk.errors import ConfigError


def test_aliases_and_config() -> None:
    assert StringConverter.aliases == ("org.apache.kafka.connect.storage.StringConverter",)
    described = StringConverterConfig.describe()
    assert [(key.name, key.default_value) for key in described] == [("converter.encoding", "UTF-8")]


def test_write_text_and_null() -> None:
    converter = StringConverter()
    assert converter.from_connect_data("t", STRING_SCHEMA, "h\u00e9llo") == b"h\xc3\xa9llo"
    assert converter.from_connect_data("t", None, None) is None
    assert converter.from_connect_data("t", OPTIONAL_STRING_SCHEMA, None) is None


def test_write_scalars_like_java_to_string() -> None:
    converter = StringConverter()
    assert converter.from_connect_data("t", None, 42) == b"42"
    assert converter.from_connect_data("t", None, 1.5) == b"1.5"
    assert converter.from_connect_data("t", None, True) == b"true"
    assert converter.from_connect_data("t", None, False) == b"false"
    assert converter.from_connect_data("t", None, Decimal("10.50")) == b"10.50"


def test_write_bytes_pass_through() -> None:
    converter = StringConverter()
    assert converter.from_connect_data("t", None, b"\x00\xff") == b"\x00\xff"
    assert converter.from_connect_data("t", None, bytearray(b"ab")) == b"ab"


def test_write_containers_and_structs_as_compact_json() -> None:
    converter = StringConverter()
    assert converter.from_connect_data("t", None, {"a": [1, None, "x"], 2: True}) == (
        b'{"a":[1,null,"x"],"2":true}'
    )
    schema = struct_schema([("b", INT32_SCHEMA), ("a", STRING_SCHEMA)])
    inner = struct_schema([("n", INT32_SCHEMA)])
    nested = struct_schema([("s", inner), ("raw", STRING_SCHEMA)])
    assert converter.from_connect_data("t", schema, Struct(schema, {"a": "x", "b": 1})) == b'{"b":1,"a":"x"}'
    value = Struct(nested, {"s": Struct(inner, {"n": 3}), "raw": "r"})
    assert converter.from_connect_data("t", nested, value) == b'{"s":{"n":3},"raw":"r"}'
    assert converter.from_connect_data("t", None, [b"\x01", Decimal("1.50")]) == b'["AQ==",1.50]'


def test_read_is_optional_string() -> None:
    converter = StringConverter()
    assert converter.to_connect_data("t", b"h\xc3\xa9") == SchemaAndValue(OPTIONAL_STRING_SCHEMA, "h\u00e9")
    assert converter.to_connect_data("t", None) == SchemaAndValue(OPTIONAL_STRING_SCHEMA, None)
    assert converter.to_connect_data("t", b"") == SchemaAndValue(OPTIONAL_STRING_SCHEMA, "")
    # Malformed input is replaced, as Java's String(byte[], charset) does.
    assert converter.to_connect_data("t", b"a\xffb").value == "a\ufffdb"


def test_other_encoding() -> None:
    converter = StringConverter()
    converter.configure(
        StringConverterConfig.parse({"converter.encoding": "ISO-8859-1", "converter.type": "value"}),
        is_key=False,
    )
    assert converter.from_connect_data("t", None, "h\u00e9") == b"h\xe9"
    assert converter.from_connect_data("t", None, "\u20ac") == b"?"  # unmappable, like Java
    assert converter.to_connect_data("t", b"h\xe9").value == "h\u00e9"


def test_unknown_encoding_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as excinfo:
        StringConverterConfig.parse({"converter.encoding": "EBCDIC-9000"})
    assert str(excinfo.value) == (
        "Invalid value EBCDIC-9000 for configuration converter.encoding: "
        "Unsupported character encoding: EBCDIC-9000"
    )


def test_header_role() -> None:
    converter = StringConverter()
    converter.configure(StringConverterConfig.parse({"converter.type": "header"}))
    assert converter.from_connect_header("t", "k", None, "v") == b"v"
    assert converter.from_connect_header("t", "k", None, None) is None
    assert converter.to_connect_header("t", "k", b"v") == SchemaAndValue(OPTIONAL_STRING_SCHEMA, "v")
