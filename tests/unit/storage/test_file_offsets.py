"""Standalone mode's offsets file: only the worker's user may read it."""

from __future__ import annotations

import stat
from pathlib import Path

from app.storage.base import SourceOffsetWrite
from app.storage.file_offsets import FileOffsetStore


async def test_the_offsets_file_and_a_new_folder_are_private_and_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state" / "connect.offsets"
    store = FileOffsetStore(path)
    await store.open()
    await store.write([SourceOffsetWrite("src", {"filename": "/data/in.txt"}, {"position": 42})])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = FileOffsetStore(path)
    await again.open()
    assert await again.get("src", {"filename": "/data/in.txt"}) == {"position": 42}


async def test_a_readable_leftover_temporary_file_does_not_make_the_offsets_readable(tmp_path: Path) -> None:
    path = tmp_path / "connect.offsets"
    leftover = tmp_path / "connect.offsets.tmp"
    leftover.write_text("[]")
    leftover.chmod(0o644)
    store = FileOffsetStore(path)
    await store.write([SourceOffsetWrite("src", {"p": 1}, {"o": 1})])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
