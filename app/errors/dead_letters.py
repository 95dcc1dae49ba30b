"""What a source connector's dead letter holds, and how a replay reads it back.

Kafka Connect has a dead-letter queue only for sinks, whose failed records already exist as bytes.
A source record that fails in a transform or a converter exists only as the object its task
produced, so Penstock writes that object, before any transform, with JsonConverter
(``schemas.enable=true``: schema and data, so nothing is lost), and its source partition and offset
as JSON headers. A replay decodes it and runs it through the connector's whole chain again.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog

from app.plugins.connect_json import connect_json_converter
from app.plugins.registry import PluginRegistry
from app.storage.base import ConsumerRecord, FetchedRecord
from app.storage.topic_log import now_ms
from connectors.sdk.records import Header, SourceRecord

log = structlog.get_logger(__name__)

SOURCE_PARTITION_HEADER = "__connect.errors.source.partition"
SOURCE_OFFSET_HEADER = "__connect.errors.source.offset"
_CONTEXT_PREFIX = "__connect.errors."


class SourceDeadLetters:
    def __init__(self, registry: PluginRegistry) -> None:
        self._key = connect_json_converter(registry, is_key=True)
        self._value = connect_json_converter(registry, is_key=False)

    def encode(self, record: SourceRecord) -> ConsumerRecord:
        """The dead letter's bytes; a part that cannot be encoded is kept as its ``repr`` (logged),
        so a failure to encode never hides the failure being reported."""
        key = self._bytes(self._key, record, record.key_schema, record.key)
        value = self._bytes(self._value, record, record.value_schema, record.value)
        headers = [
            (h.key, self._value.from_connect_header(record.topic, h.key, h.schema, h.value))
            for h in record.headers
        ]
        headers.append((SOURCE_PARTITION_HEADER, orjson.dumps(record.source_partition)))
        headers.append((SOURCE_OFFSET_HEADER, orjson.dumps(record.source_offset)))
        partition = record.partition if record.partition is not None else -1
        # A record without a timestamp is stamped with the time it failed, as the producer would
        # have stamped it: at 0 (1970) it would be the first thing time-based retention deletes.
        timestamp = record.timestamp if record.timestamp is not None else now_ms()
        return ConsumerRecord(record.topic, partition, -1, timestamp, key, value, headers)

    def decode(self, letter: FetchedRecord, topic: str) -> SourceRecord:
        """The source record a dead letter holds; ``topic`` is where it was headed (the
        ``__connect.errors.topic`` context header, or the caller's choice)."""
        key = self._key.to_connect_data(topic, letter.key)
        value = self._value.to_connect_data(topic, letter.value)
        source_partition = source_offset = None
        headers = []
        for name, raw in letter.headers:
            if name == SOURCE_PARTITION_HEADER:
                source_partition = orjson.loads(raw) if raw else None
            elif name == SOURCE_OFFSET_HEADER:
                source_offset = orjson.loads(raw) if raw else None
            elif not name.startswith(_CONTEXT_PREFIX):
                header = self._value.to_connect_header(topic, name, raw)
                headers.append(Header(name, header.value, header.schema))
        return SourceRecord(
            topic=topic,
            value=value.value,
            value_schema=value.schema,
            key=key.value,
            key_schema=key.schema,
            timestamp=letter.timestamp or None,
            headers=tuple(headers),
            source_partition=source_partition,
            source_offset=source_offset,
        )

    @staticmethod
    def _bytes(converter: Any, record: SourceRecord, schema: Any, value: Any) -> bytes | None:
        try:
            encoded: bytes | None = converter.from_connect_data(record.topic, schema, value)
            return encoded
        except Exception as exc:
            log.warning(
                "could not encode a dead letter with JsonConverter; keeping its repr", error=repr(exc)
            )
            return repr(value).encode()
