"""Small record builders shared by the transform tests."""

from __future__ import annotations

from typing import Any

from connectors.sdk import SinkRecord


def sink_record(value: Any = None, schema: Any = None, **extra: Any) -> SinkRecord:
    """A sink record on topic ``test`` with ``value`` (and its schema); key fields via ``extra``."""
    return SinkRecord(
        topic="test", partition=0, value=value, value_schema=schema, kafka_offset=42, timestamp=1_000, **extra
    )
