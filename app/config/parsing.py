"""Small parsers every part of the configuration shares (Kafka Connect's LIST type, key prefixes)."""

from __future__ import annotations

from collections.abc import Mapping


def split_list(value: str | None) -> list[str]:
    """Connect's LIST type: comma-separated, blanks around items dropped (so ``a{1,3}`` splits, as in Kafka)."""
    text = (value or "").strip()
    return [item.strip() for item in text.split(",")] if text else []


def with_prefix(config: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The keys under ``prefix``, with the prefix removed (``transforms.a.``, ``consumer.override.``)."""
    return {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}
