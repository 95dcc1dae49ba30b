"""Shared fixtures. Service fixtures (Kafka, PostgreSQL, Elasticsearch) live in tests.infra.services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess

pytest_plugins = ["tests.infra.services"]


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start real penstock processes; each gets its own data dir unless one is given."""
    started: list[ServerProcess] = []

    def start(
        settings: dict[str, str] | None = None, data_dir: Path | None = None, **kwargs: Any
    ) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path / f"data{len(started)}", settings, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    """One running penstock worker (embedded mode) with a fast offset flush."""
    return server_factory({"offset.flush.interval.ms": "500"})


PLUGINS = Path(__file__).parent / "plugins"


def pip_install_target(package: Path, target: Path) -> None:
    """``pip install --target``: how a user adds a plugin to a worker's ``plugin.path``."""
    import subprocess
    import sys

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(package),
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def testkit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plugin.path folder with the penstock-testkit plugins installed."""
    target = tmp_path_factory.mktemp("plugin-path")
    pip_install_target(PLUGINS / "testkit", target)
    return target
