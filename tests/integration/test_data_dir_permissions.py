"""The embedded database holds connector configs with their passwords: only the worker's user can read it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_data_dir_and_its_database_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data, {"offset.flush.interval.ms": "500"}).start()
    try:
        server.create(
            "secret-holder",
            {
                "connector.class": "FileStreamSink",
                "file": str(tmp_path / "out.txt"),
                "topics": "t",
                "database.password": "hunter2",
            },
        )
        server.wait_for_state("secret-holder", tasks=1)
        files = sorted(data.glob("penstock.db*"))
        assert {f.name for f in files} >= {"penstock.db", "penstock.db-wal", "penstock.db-shm"}, files
        assert mode(data) == 0o700, oct(mode(data))
        for file in files:
            assert mode(file) == 0o600, f"{file.name}: {oct(mode(file))}"
        assert mode(data / "cluster.id") == 0o600, oct(mode(data / "cluster.id"))
        others = {f.name for f in data.iterdir()} - {f.name for f in files} - {"cluster.id"}
        assert not others, f"files the test does not know the mode of: {others}"
    finally:
        server.close()


def test_database_files_an_older_version_left_readable_are_narrowed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "penstock.db").touch(mode=0o644)
    (data / "penstock.db").chmod(0o644)
    server = ServerProcess(data, {"offset.flush.interval.ms": "500"}).start()
    try:
        for file in sorted(data.glob("penstock.db*")):
            assert mode(file) == 0o600, f"{file.name}: {oct(mode(file))}"
    finally:
        server.close()
