"""RegistryConverter: a converter that needs a network service, the way a schema-registry
converter does, to exercise the SDK's async batch hooks.

Wire format of a record: ``b"\\x00"`` + a 4-byte big-endian schema id + the value as UTF-8 text.
The "registry" is a line protocol over TCP, one request per line, one JSON line back:

* ``REGISTER <type>,<type>...`` -> ``{"<type>": id, ...}``
* ``LOOKUP <id>,<id>...``       -> ``{"<id>": "<type>", ...}`` (unknown ids are left out)

Only the batch hooks talk to the registry, with one request per batch for whatever is not cached
yet; the per-record methods read the cache and never block.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import Sequence
from typing import Any

from connectors.sdk import (
    BOOLEAN_SCHEMA,
    FLOAT64_SCHEMA,
    INT64_SCHEMA,
    STRING_SCHEMA,
    Converter,
    DataError,
    PluginConfig,
    RetriableError,
    Schema,
    SchemaAndValue,
    setting,
)

_HEADER = struct.Struct(">bI")
_BY_TYPE: dict[str, Schema] = {
    "string": STRING_SCHEMA,
    "int64": INT64_SCHEMA,
    "double": FLOAT64_SCHEMA,
    "boolean": BOOLEAN_SCHEMA,
}


class RegistryConverterConfig(PluginConfig):
    registry_url: str = setting(doc="host:port of the schema registry", min_length=1)


class RegistryConverter(Converter[RegistryConverterConfig]):
    config_model = RegistryConverterConfig

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.schemas: dict[int, Schema] = {}
        self.requests = 0

    def configure(self, config: RegistryConverterConfig, *, is_key: bool) -> None:
        host, _, port = config.registry_url.rpartition(":")
        self.address = (host or "127.0.0.1", int(port))

    async def _ask(self, line: str) -> dict[str, Any]:
        self.requests += 1
        try:
            reader, writer = await asyncio.open_connection(*self.address)
        except OSError as exc:
            raise RetriableError(f"schema registry unreachable: {exc}") from exc
        try:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            answer: dict[str, Any] = json.loads(await reader.readline())
            return answer
        finally:
            writer.close()
            await writer.wait_closed()

    async def prepare_from_connect(self, records: Sequence[tuple[str, Schema | None, Any]]) -> None:
        missing = sorted({schema.type.value for _, schema, _ in records if schema is not None} - self.ids.keys())
        if missing:
            self.ids.update(await self._ask("REGISTER " + ",".join(missing)))

    async def prepare_to_connect(self, records: Sequence[tuple[str, bytes | None]]) -> None:
        wanted = {_HEADER.unpack_from(data)[1] for _, data in records if data and len(data) >= _HEADER.size}
        missing = sorted(wanted - self.schemas.keys())
        if not missing:
            return
        found = await self._ask("LOOKUP " + ",".join(map(str, missing)))
        unknown = [i for i in missing if str(i) not in found]
        if unknown:
            raise DataError(f"Schema ids not found in the registry: {unknown}")
        self.schemas.update({int(i): _BY_TYPE[kind] for i, kind in found.items()})

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if value is None or schema is None:
            return None
        schema_id = self.ids.get(schema.type.value)
        if schema_id is None:
            raise DataError(f"Schema {schema.type.value} was not registered by prepare_from_connect")
        text = json.dumps(value) if schema.type.value != "string" else value
        return _HEADER.pack(0, schema_id) + text.encode()

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        if data is None:
            return SchemaAndValue(None, None)
        magic, schema_id = _HEADER.unpack_from(data)
        schema = self.schemas.get(schema_id)
        if magic != 0 or schema is None:
            raise DataError(f"Schema id {schema_id} was not looked up by prepare_to_connect")
        text = data[_HEADER.size :].decode()
        return SchemaAndValue(schema, text if schema is STRING_SCHEMA else json.loads(text))


async def serve_registry(types: dict[int, str]) -> tuple[asyncio.Server, list[str]]:
    """A registry on 127.0.0.1 holding ``types`` (id -> type); returns the server and its request log."""
    log: list[str] = []
    ids = {kind: schema_id for schema_id, kind in types.items()}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = (await reader.readline()).decode().strip()
        log.append(line)
        verb, _, args = line.partition(" ")
        items = [a for a in args.split(",") if a]
        if verb == "REGISTER":
            for kind in items:
                if kind not in ids:
                    ids[kind] = max(types, default=0) + 1
                    types[ids[kind]] = kind
            answer: dict[str, Any] = {kind: ids[kind] for kind in items}
        else:
            answer = {i: types[int(i)] for i in items if int(i) in types}
        writer.write(json.dumps(answer).encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, log
