"""Source offsets in one local JSON file: standalone mode's ``offset.storage.file.filename``.

Kept in memory and rewritten whole (write to a temporary file, then rename) on each flush, in
a thread so the event loop never waits on the disk. Kafka's standalone worker uses a Java
serialized map here; this file is JSON, readable and editable by hand.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

from app.storage.base import SourceOffsetWrite
from app.storage.sqlite.log import offset_key


class FileOffsetStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {}
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        if not self.path.exists():
            return
        raw = await asyncio.to_thread(self.path.read_bytes)
        for connector, partition, offset in orjson.loads(raw or b"[]"):
            self._offsets.setdefault(connector, {})[offset_key(partition)] = (partition, offset)

    async def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None:
        entry = self._offsets.get(connector, {}).get(offset_key(partition))
        return entry[1] if entry else None

    async def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [entry for _, entry in sorted(self._offsets.get(connector, {}).items())]

    async def write(self, offsets: list[SourceOffsetWrite]) -> None:
        for w in offsets:
            stored = self._offsets.setdefault(w.connector, {})
            if w.offset is None:
                stored.pop(offset_key(w.partition), None)
            else:
                stored[offset_key(w.partition)] = (w.partition, w.offset)
        rows = [[c, p, o] for c, entries in self._offsets.items() for p, o in entries.values()]
        async with self._lock:
            await asyncio.to_thread(self._save, orjson.dumps(rows))

    def _save(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
