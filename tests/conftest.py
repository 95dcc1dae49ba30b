"""Shared fixtures. Service fixtures (Kafka, PostgreSQL, MariaDB, Elasticsearch) live in tests.infra.services.

``backend`` is ``embedded`` unless a test is parametrised with ``tests.support.cluster.BOTH_BACKENDS``
(or ``KAFKA_ONLY``); on ``kafka`` the workers ``server_factory`` starts are distributed workers of one
fresh cluster, and ``topic`` names topics uniquely, since all tests share one broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import distributed_settings
from tests.support.server import ServerProcess

pytest_plugins = ["tests.infra.services"]


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "embedded"))


@pytest.fixture
def cluster_id() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def topic(backend: str, cluster_id: str) -> Callable[[str], str]:
    return lambda name: name if backend == "embedded" else f"{cluster_id}-{name}"


@pytest.fixture
def server_factory(
    backend: str, cluster_id: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ServerProcess]]:
    """Start real penstock processes; each gets its own data dir unless one is given."""
    started: list[ServerProcess] = []
    bootstrap = request.getfixturevalue("kafka_bootstrap") if backend == "kafka" else ""

    def start(
        settings: dict[str, str] | None = None, data_dir: Path | None = None, **kwargs: Any
    ) -> ServerProcess:
        merged = dict(settings or {})
        timeout = 30
        if backend == "kafka":
            merged = {**distributed_settings(bootstrap, cluster_id), **merged}
            kwargs.setdefault("mode", "distributed")
            timeout = 60
        server = ServerProcess(data_dir or tmp_path / f"data{len(started)}", merged, **kwargs).start(timeout)
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
