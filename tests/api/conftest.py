"""One real ``penstock run`` worker per test module (tests use unique connector names and topics)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A worker shared by the tests of one module, with a fast offset flush."""
    server = ServerProcess(
        tmp_path_factory.mktemp("api") / "data", {"offset.flush.interval.ms": "500"}
    ).start()
    try:
        yield server
    finally:
        server.close()
