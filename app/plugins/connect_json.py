"""Kafka Connect's JsonConverter with schemas, as the runtime itself uses it: to keep records a
source rejected (the dead-letter queue) and to show Connect data to users (transform preview)."""

from __future__ import annotations

from typing import Any

from app.plugins.registry import PluginRegistry

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


def connect_json_converter(registry: PluginRegistry, *, is_key: bool) -> Any:
    """A JsonConverter with ``schemas.enable=true``: schema and data both kept in the bytes."""
    converter = registry.resolve(JSON_CONVERTER, ("converter",)).new()
    converter.configure(converter.config_model.parse({"schemas.enable": "true"}), is_key=is_key)
    return converter
