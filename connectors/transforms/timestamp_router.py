"""``TimestampRouter``: the topic becomes ``topic.format`` with ``${topic}`` and ``${timestamp}``
filled in, the record's timestamp written with a SimpleDateFormat pattern in UTC (reference
§7.10). Mostly for sinks, where the topic names a table or index (``orders-20240131``)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import field_validator

from connectors.sdk.config import PluginConfig, setting
from connectors.sdk.date_format import DateFormatError, SimpleDateFormat
from connectors.sdk.errors import DataError
from connectors.sdk.records import ConnectRecord
from connectors.sdk.transform import Transformation
from connectors.transforms.operand import KAFKA_TRANSFORMS


class TimestampRouterConfig(PluginConfig):
    topic_format: str = setting(
        "${topic}-${timestamp}",
        doc="Format string which can contain ${topic} and ${timestamp} as placeholders for the topic and timestamp, respectively.",
    )
    timestamp_format: str = setting(
        "yyyyMMdd", doc="Format string for the timestamp that is compatible with java.text.SimpleDateFormat."
    )

    @field_validator("timestamp_format")
    @classmethod
    def _pattern(cls, value: str) -> str:
        """Kafka only fails on the first record; a bad pattern is refused up front here."""
        try:
            SimpleDateFormat(value)
        except DateFormatError as exc:
            raise ValueError(str(exc)) from None
        return value


class TimestampRouter(Transformation[ConnectRecord]):
    config_model = TimestampRouterConfig
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "TimestampRouter",)

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, TimestampRouterConfig)
        self._topic_format = config.topic_format
        self._format = SimpleDateFormat(config.timestamp_format)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        if record.timestamp is None:
            raise DataError(f"Timestamp missing on record: {record}")
        # Kafka substitutes the topic first, then the timestamp (in the result)
        topic = self._topic_format.replace("${topic}", record.topic)
        topic = topic.replace("${timestamp}", self._format.format(record.timestamp))
        return record.new_record(topic=topic)
