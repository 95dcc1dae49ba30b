"""Integration fixtures: the same pipeline tests run on the embedded log and on a real Kafka.

``backend`` parametrises a test; ``server_factory`` then starts embedded workers or distributed
workers of one fresh cluster (its own group.id and internal topics), and ``topic`` names a topic
uniquely per test on Kafka, where all tests share one broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess

BOTH_BACKENDS = pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("kafka", marks=pytest.mark.kafka)], indirect=True
)
"""Mark a test module or test with this to run it on both backends."""


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "embedded"))


@pytest.fixture
def cluster_id() -> str:
    return f"it-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def topic(backend: str, cluster_id: str) -> Callable[[str], str]:
    return lambda name: name if backend == "embedded" else f"{cluster_id}-{name}"


def distributed_settings(bootstrap: str, cluster: str) -> dict[str, str]:
    """A small, fast cluster: few internal partitions, a short session timeout."""
    return {
        "bootstrap.servers": bootstrap,
        "group.id": cluster,
        "config.storage.topic": f"{cluster}-configs",
        "offset.storage.topic": f"{cluster}-offsets",
        "offset.storage.partitions": "3",
        "status.storage.topic": f"{cluster}-status",
        "status.storage.partitions": "1",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "1000",
    }


@pytest.fixture
def server_factory(
    backend: str, cluster_id: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []
    bootstrap = request.getfixturevalue("kafka_bootstrap") if backend == "kafka" else ""

    def start(
        settings: dict[str, str] | None = None, data_dir: Path | None = None, **kwargs: Any
    ) -> ServerProcess:
        merged = dict(settings or {})
        if backend == "kafka":
            merged = {**distributed_settings(bootstrap, cluster_id), **merged}
            kwargs.setdefault("mode", "distributed")
        server = ServerProcess(data_dir or tmp_path / f"data{len(started)}", merged, **kwargs).start(
            timeout=60
        )
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> ServerProcess:
    return server_factory({"offset.flush.interval.ms": "500"})
