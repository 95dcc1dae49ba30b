"""Helpers shared by the ``tests/api`` modules: unique names, connector configs, error assertions."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from tests.support.server import ServerProcess, wait_until

FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
STATE_KEYS = {"state", "worker_id"}
OPTIONAL_STATE_KEYS = {"trace", "auto_restart"}  # trace when FAILED; auto_restart is a Penstock addition


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def path(name: str) -> str:
    """``/connectors/<percent-encoded name>``."""
    return "/connectors/" + quote(name, safe="")


def source_config(file: Path, topic: str, **extra: Any) -> dict[str, Any]:
    return {"connector.class": FILE_SOURCE, "tasks.max": "1", "file": str(file), "topic": topic, **extra}


def sink_config(file: Path, topic: str, **extra: Any) -> dict[str, Any]:
    return {"connector.class": FILE_SINK, "tasks.max": "1", "file": str(file), "topics": topic, **extra}


def assert_error(
    response: httpx.Response,
    status: int,
    message: str | None = None,
    *,
    startswith: str | None = None,
    contains: tuple[str, ...] = (),
) -> str:
    """The Kafka Connect error body ``{"error_code": N, "message": "..."}`` with exactly these keys."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error_code", "message"], body
    assert body["error_code"] == status, body
    text = body["message"]
    if message is not None:
        assert text == message
    if startswith is not None:
        assert text.startswith(startswith), text
    for part in contains:
        assert part in text, text
    return str(text)


def names(server: ServerProcess) -> list[str]:
    response = server.client.get("/connectors")
    assert response.status_code == 200, response.text
    return sorted(response.json())


def assert_untouched(server: ServerProcess, before: list[str], attempted: str | None = None) -> None:
    """No partial state: the connector list is unchanged and the worker still answers."""
    assert names(server) == before
    if attempted is not None:
        assert server.client.get(path(attempted)).status_code == 404
    root = server.client.get("/")
    assert root.status_code == 200 and root.json()["version"] == "3.9.0"
    assert server.client.get("/health").json()["status"] == "healthy"


def assert_state_entry(entry: dict[str, Any], state: str, worker_id: str) -> None:
    assert STATE_KEYS <= set(entry) <= STATE_KEYS | OPTIONAL_STATE_KEYS | {"id"}, entry
    assert entry["state"] == state, entry
    assert entry["worker_id"] == worker_id, entry


def worker_id(server: ServerProcess) -> str:
    return f"127.0.0.1:{server.port}"


def read_lines(file: Path) -> list[str]:
    return file.read_text().splitlines() if file.exists() else []


def wait_for_lines(file: Path, expected: list[str], timeout: float = 15) -> None:
    wait_until(
        lambda: read_lines(file) == expected,
        timeout=timeout,
        message=f"{file} never held {expected}; it holds {read_lines(file)}",
    )


def offsets_of(server: ServerProcess, name: str) -> list[dict[str, Any]]:
    response = server.client.get(path(name) + "/offsets")
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["offsets"]
    return list(response.json()["offsets"])
