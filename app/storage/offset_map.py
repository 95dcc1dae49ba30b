"""Source offsets held in memory, shared by the stores that persist them elsewhere (file, Kafka)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.storage.base import SourceOffsetWrite, offset_key

Entry = tuple[dict[str, Any], dict[str, Any]]


class OffsetMap:
    """connector -> source partition -> offset; writing a ``None`` offset removes the partition."""

    def __init__(self) -> None:
        self._offsets: dict[str, dict[str, Entry]] = {}

    def apply(self, writes: Iterable[SourceOffsetWrite]) -> None:
        for w in writes:
            stored = self._offsets.setdefault(w.connector, {})
            if w.offset is None:
                stored.pop(offset_key(w.partition), None)
            else:
                stored[offset_key(w.partition)] = (w.partition, w.offset)

    def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None:
        entry = self._offsets.get(connector, {}).get(offset_key(partition))
        return entry[1] if entry else None

    def all(self, connector: str) -> list[Entry]:
        return [entry for _, entry in sorted(self._offsets.get(connector, {}).items())]

    def rows(self) -> list[list[Any]]:
        """``[connector, partition, offset]`` for every stored offset."""
        return [[c, p, o] for c, entries in self._offsets.items() for p, o in entries.values()]
