"""Converter batch hooks: a converter backed by a network registry makes one round trip per batch
(none for a batch whose schemas are cached), and its per-record calls never touch the network."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from connectors.converters.bytearray import ByteArrayConverter
from connectors.converters.json import JsonConverter
from connectors.sdk import (
    INT64_SCHEMA,
    STRING_SCHEMA,
    Converter,
    DataError,
    RetriableError,
    has_batch_hooks,
)
from connectors.sdk.testing import configured_converter
from tests.plugins.testkit.penstock_testkit.converters import RegistryConverter, serve_registry


@pytest.fixture
async def registry() -> AsyncIterator[tuple[str, list[str], dict[int, str]]]:
    types = {1: "string", 2: "int64"}
    server, log = await serve_registry(types)
    port = server.sockets[0].getsockname()[1]
    yield f"127.0.0.1:{port}", log, types
    server.close()
    await server.wait_closed()


def test_has_batch_hooks_tells_overriding_converters_apart() -> None:
    assert has_batch_hooks(RegistryConverter())
    assert not has_batch_hooks(JsonConverter())
    assert not has_batch_hooks(ByteArrayConverter())


async def test_default_hooks_are_no_ops() -> None:
    converter: Converter = JsonConverter()
    await converter.prepare_from_connect([("t", STRING_SCHEMA, "v")])
    await converter.prepare_to_connect([("t", b"{}")])
    await converter.close()
    assert converter.from_connect_data("t", None, {"a": 1}) is not None


async def test_reading_makes_one_round_trip_per_batch(
    registry: tuple[str, list[str], dict[int, str]],
) -> None:
    url, log, _ = registry
    converter = configured_converter(RegistryConverter, {"registry.url": url})
    batch = [("t", b"\x00\x00\x00\x00\x01" + f"v{i}".encode()) for i in range(50)]
    batch += [("t", b"\x00\x00\x00\x00\x02" + str(i).encode()) for i in range(50)]
    batch.append(("t", None))

    with pytest.raises(DataError, match="was not looked up"):
        converter.to_connect_data("t", batch[0][1])  # the per-record call never fetches
    await converter.prepare_to_connect(batch)
    assert log == ["LOOKUP 1,2"]
    values = [converter.to_connect_data(topic, data) for topic, data in batch]
    assert values[0].schema == STRING_SCHEMA and values[0].value == "v0"
    assert values[50].schema == INT64_SCHEMA and values[50].value == 0
    assert values[-1].value is None

    await converter.prepare_to_connect(batch)  # all cached: no request
    assert log == ["LOOKUP 1,2"]


async def test_writing_registers_once_per_batch(registry: tuple[str, list[str], dict[int, str]]) -> None:
    url, log, types = registry
    converter = configured_converter(RegistryConverter, {"registry.url": url})
    batch = [("t", STRING_SCHEMA, f"v{i}") for i in range(20)] + [("t", INT64_SCHEMA, 7)]
    await converter.prepare_from_connect(batch)
    await converter.prepare_from_connect(batch)
    assert log == ["REGISTER int64,string"]
    data = [converter.from_connect_data(topic, schema, value) for topic, schema, value in batch]
    assert data[0] == b"\x00\x00\x00\x00\x01v0"
    assert data[-1] == b"\x00\x00\x00\x00\x027"
    assert types == {1: "string", 2: "int64"}


async def test_hook_errors_are_what_the_runner_applies_to_the_whole_batch(
    registry: tuple[str, list[str], dict[int, str]],
) -> None:
    url, _, _ = registry
    converter = configured_converter(RegistryConverter, {"registry.url": url})
    with pytest.raises(DataError, match=r"Schema ids not found in the registry: \[9\]"):
        await converter.prepare_to_connect([("t", b"\x00\x00\x00\x00\x01a"), ("t", b"\x00\x00\x00\x00\x09a")])

    down = configured_converter(RegistryConverter, {"registry.url": "127.0.0.1:1"})
    with pytest.raises(RetriableError, match="schema registry unreachable"):
        await down.prepare_to_connect([("t", b"\x00\x00\x00\x00\x01a")])
