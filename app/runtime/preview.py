"""Transform preview: sample records through a connector's converters and transforms, without
running anything, so a user checks a chain before creating the connector.

None of Kafka Connect, Debezium or the Confluent connectors has this; the only way there is to
run the connector and read its topics. The connector's own config decides the direction:

* a **sink** config takes records as they sit on a topic (key/value text or JSON), runs the key,
  value and header converters to Connect data, then the transforms — what ``put()`` would get;
* a **source** config takes records as a source task produces them (Connect data as JSON, with an
  optional Connect schema), runs the transforms, then the converters — what would be written.

Each record comes back transformed, dropped, or with the stage, transform alias and class that
failed. Connect data is shown as JsonConverter writes it with schemas (``{"schema", "payload"}``),
bytes as UTF-8 text (base64 when they are not text).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from app.config.connector_config import parse_connector_config
from app.errors.tolerance import Stage
from app.plugins.connect_json import connect_json_converter
from app.plugins.registry import PluginRegistry
from app.runtime.pipeline import Converters, TransformChain, build_converters, build_transforms
from app.settings import WorkerSettings
from connectors.sdk.data import Schema
from connectors.sdk.records import ConnectRecord, Header, SinkRecord, SourceRecord


class _Failed(Exception):
    def __init__(
        self, stage: Stage, error: Exception, alias: str | None = None, cls: str | None = None
    ) -> None:
        super().__init__(str(error))
        self.stage, self.error, self.alias, self.cls = stage, error, alias, cls


class Preview:
    """A connector config's pipeline, built once per request; closed by :meth:`close`."""

    def __init__(self, registry: PluginRegistry, settings: WorkerSettings, config: Mapping[str, str]) -> None:
        desc = registry.resolve(config.get("connector.class", ""), ("source", "sink"))
        self.direction = desc.type
        framework = parse_connector_config(config, desc.type)
        self._converters: Converters = build_converters(registry, settings, framework)
        self._chain: TransformChain = build_transforms(registry, framework)
        self._json_key = connect_json_converter(registry, is_key=True)
        self._json_value = connect_json_converter(registry, is_key=False)

    async def run(self, samples: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        results = []
        for index, sample in enumerate(samples):
            result: dict[str, Any] = {"index": index}
            try:
                if self.direction == "sink":
                    out = await self._sink_record(sample)
                else:
                    out = await self._source_record(sample)
                result["dropped"] = out is None
                result["record"] = out
                result["error"] = None
            except _Failed as failed:
                result["dropped"] = False
                result["record"] = None
                result["error"] = {
                    "stage": str(failed.stage),
                    "transform": failed.alias,
                    "class": failed.cls,
                    "exception": type(failed.error).__name__,
                    "message": str(failed.error),
                }
            results.append(result)
        return results

    async def close(self) -> None:
        self._chain.close()
        await self._converters.close()

    # -- sink direction: bytes -> converters -> transforms ------------------------------------------
    async def _sink_record(self, sample: Mapping[str, Any]) -> dict[str, Any] | None:
        conv = self._converters
        topic = str(sample.get("topic") or "preview")
        key_bytes, value_bytes = _bytes(sample.get("key")), _bytes(sample.get("value"))
        if conv.has_hooks:
            await self._stage(Stage.KEY_CONVERTER, conv.key.prepare_to_connect, [(topic, key_bytes)])
            await self._stage(Stage.VALUE_CONVERTER, conv.value.prepare_to_connect, [(topic, value_bytes)])
        key = self._call(Stage.KEY_CONVERTER, conv.key.to_connect_data, topic, key_bytes)
        value = self._call(Stage.VALUE_CONVERTER, conv.value.to_connect_data, topic, value_bytes)
        headers = tuple(
            Header(name, h.value, h.schema)
            for name, raw in _headers(sample)
            for h in [self._call(Stage.HEADER_CONVERTER, conv.header.to_connect_header, topic, name, raw)]
        )
        record = SinkRecord(
            topic=topic,
            partition=int(sample.get("partition") or 0),
            value=value.value,
            value_schema=value.schema,
            key=key.value,
            key_schema=key.schema,
            timestamp=sample.get("timestamp"),
            headers=headers,
            kafka_offset=int(sample.get("offset") or 0),
        )
        out = self._transform(record)
        return None if out is None else self._render_connect(out)

    # -- source direction: Connect data -> transforms -> converters ---------------------------------
    async def _source_record(self, sample: Mapping[str, Any]) -> dict[str, Any] | None:
        conv = self._converters
        topic = str(sample.get("topic") or "preview")
        key_schema, key = self._connect_data(sample, "key", topic)
        value_schema, value = self._connect_data(sample, "value", topic)
        headers = tuple(Header(name, raw.decode() if raw else None) for name, raw in _headers(sample))
        record = SourceRecord(
            topic=topic,
            partition=sample.get("partition"),
            value=value,
            value_schema=value_schema,
            key=key,
            key_schema=key_schema,
            timestamp=sample.get("timestamp"),
            headers=headers,
        )
        out = self._transform(record)
        if out is None:
            return None
        if conv.has_hooks:
            await self._stage(
                Stage.KEY_CONVERTER, conv.key.prepare_from_connect, [(out.topic, out.key_schema, out.key)]
            )
            await self._stage(
                Stage.VALUE_CONVERTER,
                conv.value.prepare_from_connect,
                [(out.topic, out.value_schema, out.value)],
            )
        key_bytes = self._call(
            Stage.KEY_CONVERTER, conv.key.from_connect_data, out.topic, out.key_schema, out.key
        )
        value_bytes = self._call(
            Stage.VALUE_CONVERTER, conv.value.from_connect_data, out.topic, out.value_schema, out.value
        )
        header_bytes = [
            (
                h.key,
                self._call(
                    Stage.HEADER_CONVERTER,
                    conv.header.from_connect_header,
                    out.topic,
                    h.key,
                    h.schema,
                    h.value,
                ),
            )
            for h in out.headers
        ]
        return {
            "topic": out.topic,
            "partition": out.partition,
            "timestamp": out.timestamp,
            "key": _text(key_bytes),
            "value": _text(value_bytes),
            "headers": [{"key": k, "value": _text(v)} for k, v in header_bytes],
        }

    def _connect_data(self, sample: Mapping[str, Any], part: str, topic: str) -> tuple[Schema | None, Any]:
        """A sample's key or value as Connect data: plain JSON is schemaless; with
        ``<part>_schema`` (a Connect schema in JsonConverter's form) it is read as that schema."""
        data = sample.get(part)
        schema = sample.get(f"{part}_schema")
        if schema is None:
            return None, data
        envelope = orjson.dumps({"schema": schema, "payload": data})
        converter = self._json_key if part == "key" else self._json_value
        stage = Stage.KEY_CONVERTER if part == "key" else Stage.VALUE_CONVERTER
        parsed = self._call(stage, converter.to_connect_data, topic, envelope)
        return parsed.schema, parsed.value

    # -- shared -------------------------------------------------------------------------------------
    def _transform(self, record: ConnectRecord) -> ConnectRecord | None:
        try:
            return self._chain.apply(record)
        except Exception as exc:
            raise _Failed(
                Stage.TRANSFORMATION, exc, self._chain.failed_alias, self._chain.failed_class
            ) from exc

    def _call(self, stage: Stage, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as exc:
            raise _Failed(stage, exc, cls=_owner(fn)) from exc

    async def _stage(self, stage: Stage, hook: Any, items: Any) -> None:
        try:
            await hook(items)
        except Exception as exc:
            raise _Failed(stage, exc, cls=_owner(hook)) from exc

    def _render_connect(self, record: ConnectRecord) -> dict[str, Any]:
        """A Connect record as JSON: key, value and headers as JsonConverter envelopes."""
        return {
            "topic": record.topic,
            "partition": record.partition,
            "timestamp": record.timestamp,
            "key": self._envelope(self._json_key, record.topic, record.key_schema, record.key),
            "value": self._envelope(self._json_value, record.topic, record.value_schema, record.value),
            "headers": [
                {"key": h.key, "value": self._envelope(self._json_value, record.topic, h.schema, h.value)}
                for h in record.headers
            ],
        }

    def _envelope(self, converter: Any, topic: str, schema: Schema | None, value: Any) -> Any:
        encoded = self._call(Stage.TRANSFORMATION, converter.from_connect_data, topic, schema, value)
        return None if encoded is None else orjson.loads(encoded)


def _bytes(value: Any) -> bytes | None:
    """A sample key or value as bytes on a topic: text as UTF-8, any other JSON as its JSON text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()
    return orjson.dumps(value)


def _headers(sample: Mapping[str, Any]) -> list[tuple[str, bytes | None]]:
    headers = sample.get("headers") or {}
    return [(str(name), _bytes(value)) for name, value in headers.items()]


def _text(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def _owner(fn: Any) -> str | None:
    owner = getattr(fn, "__self__", None)
    if owner is None:
        return None
    aliases = getattr(owner, "aliases", ())
    return str(aliases[0]) if aliases else f"{type(owner).__module__}.{type(owner).__qualname__}"
