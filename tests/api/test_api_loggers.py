"""``/admin/loggers`` (reference §2.23). Only loggers under a unique ``penstock.apitest.*`` namespace are changed."""

from __future__ import annotations

import time

import pytest

from app.logging import MAX_NEW_LOGGERS
from tests.api.api_helpers import assert_error, uid
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration


def logger_name() -> str:
    return "penstock.apitest." + uid("l").replace("-", "_")


def test_all_loggers_includes_root(api: ServerProcess) -> None:
    response = api.client.get("/admin/loggers")
    assert response.status_code == 200
    body = response.json()
    assert "root" in body
    for name, level in body.items():
        assert list(level) == ["level", "last_modified"], name
        assert level["level"] in {"OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"}
        assert level["last_modified"] is None or isinstance(level["last_modified"], int)
    named = [n for n in body if n != "root"]
    assert named == sorted(named)


def test_get_root_logger_case_insensitive(api: ServerProcess) -> None:
    for name in ("root", "ROOT"):
        response = api.client.get(f"/admin/loggers/{name}")
        assert response.status_code == 200
        assert list(response.json()) == ["level", "last_modified"]


def test_unknown_logger_is_404(api: ServerProcess) -> None:
    name = logger_name()
    assert_error(api.client.get(f"/admin/loggers/{name}"), 404, f"Logger {name} not found.")


def test_set_level_worker_scope(api: ServerProcess) -> None:
    name = logger_name()
    before = int(time.time() * 1000) - 5000
    response = api.client.put(f"/admin/loggers/{name}", json={"level": "debug"})  # level is case-insensitive
    assert response.status_code == 200, response.text
    assert response.json() == [name]
    got = api.client.get(f"/admin/loggers/{name}")
    assert got.status_code == 200
    assert got.json()["level"] == "DEBUG"
    assert isinstance(got.json()["last_modified"], int) and got.json()["last_modified"] >= before
    assert api.client.get("/admin/loggers").json()[name] == got.json()

    # a parent namespace changes itself and every existing logger below it; the answer is sorted
    child = name + ".child"
    assert api.client.put(f"/admin/loggers/{child}", json={"level": "ERROR"}).json() == [child]
    response = api.client.put(f"/admin/loggers/{name}?scope=worker", json={"level": "WARN"})
    assert response.status_code == 200
    assert response.json() == sorted([name, child])
    assert api.client.get(f"/admin/loggers/{child}").json()["level"] == "WARN"


def test_set_level_cluster_scope_is_204(api: ServerProcess) -> None:
    name = logger_name()
    for scope in ("cluster", "CLUSTER"):
        response = api.client.put(f"/admin/loggers/{name}?scope={scope}", json={"level": "TRACE"})
        assert response.status_code == 204, response.text
        assert response.content == b""
    assert api.client.get(f"/admin/loggers/{name}").json()["level"] == "TRACE"


def test_unknown_scope_is_treated_as_worker(api: ServerProcess) -> None:
    name = logger_name()
    response = api.client.put(f"/admin/loggers/{name}?scope=galaxy", json={"level": "INFO"})
    assert response.status_code == 200
    assert response.json() == [name]


@pytest.mark.parametrize("body", [{}, {"level": None}, {"other": "DEBUG"}])
def test_missing_level_is_400(api: ServerProcess, body: dict[str, str | None]) -> None:
    name = logger_name()
    response = api.client.put(f"/admin/loggers/{name}", json=body)
    assert_error(response, 400, "Desired 'level' parameter was not specified in request.")
    assert api.client.get(f"/admin/loggers/{name}").status_code == 404  # nothing created


@pytest.mark.parametrize("level", ["X", "verbose", "WARNING"])
def test_invalid_level_is_404(api: ServerProcess, level: str) -> None:
    name = logger_name()
    assert_error(
        api.client.put(f"/admin/loggers/{name}", json={"level": level}), 404, f"invalid log level '{level}'."
    )
    assert api.client.get(f"/admin/loggers/{name}").status_code == 404


def test_malformed_logger_body_is_400(api: ServerProcess) -> None:
    response = api.client.put(f"/admin/loggers/{logger_name()}", content=b"{level")
    assert_error(response, 400, startswith="Malformed JSON in request body")


def test_new_logger_names_are_bounded(server: ServerProcess) -> None:
    """Python keeps every logger for the life of the process: a client looping over new names must
    not grow the worker without end. Existing loggers and root stay settable."""
    prefix = logger_name()
    for i in range(MAX_NEW_LOGGERS):
        response = server.client.put(f"/admin/loggers/{prefix}.n{i}", json={"level": "INFO"})
        assert response.status_code == 200, (i, response.text)
    refused = server.client.put(f"/admin/loggers/{prefix}.one-too-many", json={"level": "INFO"})
    assert_error(
        refused,
        400,
        startswith=f"Logger {prefix}.one-too-many does not exist, and {MAX_NEW_LOGGERS} loggers have been created",
        contains=("Set the level of an existing logger or of a parent",),
    )
    assert server.client.get(f"/admin/loggers/{prefix}.one-too-many").status_code == 404
    # already created, existing (a parent placeholder, a library's logger) and root: still fine
    for name in (f"{prefix}.n0", prefix, "uvicorn", "root"):
        response = server.client.put(f"/admin/loggers/{name}", json={"level": "INFO"})
        assert response.status_code == 200, (name, response.text)
