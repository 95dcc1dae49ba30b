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
from app.storage.offset_map import OffsetMap


class FileOffsetStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._offsets = OffsetMap()
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        if not self.path.exists():
            return
        raw = await asyncio.to_thread(self.path.read_bytes)
        self._offsets.apply(SourceOffsetWrite(c, p, o) for c, p, o in orjson.loads(raw or b"[]"))

    async def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None:
        return self._offsets.get(connector, partition)

    async def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return self._offsets.all(connector)

    async def write(self, offsets: list[SourceOffsetWrite]) -> None:
        self._offsets.apply(offsets)
        data = orjson.dumps(self._offsets.rows())
        async with self._lock:
            await asyncio.to_thread(self._save, data)

    def _save(self, data: bytes) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # offsets can name what a source reads: the worker's user only
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
