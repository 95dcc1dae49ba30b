"""ByteArrayConverter: opaque bytes through, anything else refused with Kafka's messages."""

from __future__ import annotations

import pytest

from connectors.converters.bytearray import ByteArrayConverter
from connectors.sdk.config import EmptyConfig
from connectors.sdk.data import (
    BYTES_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    STRING_SCHEMA,
    SchemaAndValue,
    struct_schema,
)
from connectors.sdk.errors import DataError


def test_aliases() -> None:
    assert ByteArrayConverter.aliases == ("org.apache.kafka.connect.converters.ByteArrayConverter",)


def test_write_passes_bytes_through() -> None:
    converter = ByteArrayConverter()
    converter.configure(EmptyConfig(), is_key=False)
    payload = b"\x00\x01\xfe"
    assert converter.from_connect_data("t", BYTES_SCHEMA, payload) is payload
    assert converter.from_connect_data("t", None, payload) is payload
    assert converter.from_connect_data("t", OPTIONAL_BYTES_SCHEMA, bytearray(b"ab")) == b"ab"
    assert converter.from_connect_data("t", None, memoryview(b"xyz")[1:]) == b"yz"


def test_write_null() -> None:
    converter = ByteArrayConverter()
    assert converter.from_connect_data("t", None, None) is None
    assert converter.from_connect_data("t", OPTIONAL_BYTES_SCHEMA, None) is None


def test_wrong_schema_type_is_rejected() -> None:
    with pytest.raises(DataError) as excinfo:
        ByteArrayConverter().from_connect_data("t", STRING_SCHEMA, b"x")
    assert str(excinfo.value) == "Invalid schema type for ByteArrayConverter: STRING"
    with pytest.raises(DataError) as excinfo:
        ByteArrayConverter().from_connect_data("t", struct_schema([]), None)
    assert str(excinfo.value) == "Invalid schema type for ByteArrayConverter: STRUCT"


def test_non_bytes_value_is_rejected() -> None:
    with pytest.raises(DataError) as excinfo:
        ByteArrayConverter().from_connect_data("t", None, "text")
    assert str(excinfo.value) == "ByteArrayConverter is not compatible with objects of type <class 'str'>"


def test_read_is_optional_bytes() -> None:
    converter = ByteArrayConverter()
    assert converter.to_connect_data("t", b"\x00\xff") == SchemaAndValue(OPTIONAL_BYTES_SCHEMA, b"\x00\xff")
    assert converter.to_connect_data("t", None) == SchemaAndValue(OPTIONAL_BYTES_SCHEMA, None)


def test_header_role() -> None:
    converter = ByteArrayConverter()
    converter.configure(EmptyConfig())
    assert converter.from_connect_header("t", "k", BYTES_SCHEMA, b"v") == b"v"
    assert converter.to_connect_header("t", "k", b"v") == SchemaAndValue(OPTIONAL_BYTES_SCHEMA, b"v")
    with pytest.raises(DataError, match="Invalid schema type for ByteArrayConverter: STRING"):
        converter.from_connect_header("t", "k", STRING_SCHEMA, "v")
