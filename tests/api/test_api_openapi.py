"""``/openapi.json`` describes what the worker really answers (see also ``test_api_openapi_fuzz``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis

from tests.api.api_helpers import FILE_SINK, FILE_SOURCE, assert_error, path, uid
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def document(api: ServerProcess) -> dict[str, Any]:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            yield route, method.upper(), operation


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    refs = {value for key, value in _walk(document) if key == "$ref"}
    assert refs, "the document uses references"
    broken = sorted(ref for ref in refs if ref.removeprefix("#/components/schemas/") not in schemas)
    assert broken == []
    assert "CreateConnectorRequest" in schemas and "ConnectorOffset" in schemas


def test_no_422_is_documented(document: dict[str, Any]) -> None:
    """Bodies and parameters are checked by the routes, which answer 400 (or 404), never 422."""
    documented = [f"{m} {r}" for r, m, op in _operations(document) if "422" in op["responses"]]
    assert documented == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_success_answers_carry_their_real_schemas(document: dict[str, Any]) -> None:
    untyped = []
    for route, method, operation in _operations(document):
        for status, answer in operation["responses"].items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if (
                status.startswith("2")
                and schema is not None
                and (schema == {} or schema.get("type") == "string")
            ):
                untyped.append(f"{method} {route} {status}")
    assert untyped == []
    plugins = document["paths"]["/connector-plugins"]["get"]["responses"]["200"]
    assert plugins["content"]["application/json"]["schema"]["type"] == "array"


@pytest.mark.parametrize(
    ("method", "route", "status"),
    [
        ("PUT", "/connectors/{name}/pause", "202"),
        ("PUT", "/connectors/{name}/resume", "202"),
        ("PUT", "/connectors/{name}/topics/reset", "202"),
        ("PUT", "/connectors/{name}/stop", "204"),
        ("DELETE", "/connectors/{name}", "204"),
        ("POST", "/connectors/{name}/restart", "204"),
        ("POST", "/connectors/{name}/tasks/{task}/restart", "204"),
    ],
)
def test_empty_answers_are_documented_without_a_body(
    document: dict[str, Any], method: str, route: str, status: str
) -> None:
    assert "content" not in document["paths"][route][method.lower()]["responses"][status]


def test_405_names_every_method_the_path_serves(api: ServerProcess) -> None:
    response = api.client.patch("/connectors/anything")
    assert_error(response, 405, "HTTP 405 Method Not Allowed")
    assert sorted(m.strip() for m in response.headers["allow"].split(",")) == ["DELETE", "GET"]
    response = api.client.delete("/connectors")
    assert sorted(m.strip() for m in response.headers["allow"].split(",")) == ["GET", "POST"]


def test_real_answers_match_the_document(api: ServerProcess, tmp_path: Path) -> None:
    """Each operation called as a user would, on real connectors: a documented status and body."""
    schema = schemathesis.openapi.from_url(api.url + "/openapi.json")
    lines = tmp_path / "in.txt"
    lines.write_text("one\ntwo\n")
    topic, source, sink = uid("doc"), uid("doc-src"), uid("doc-sink")
    source_config = {"connector.class": FILE_SOURCE, "file": str(lines), "topic": topic}
    sink_config = {"connector.class": FILE_SINK, "file": str(tmp_path / "out.txt"), "topics": topic}
    seen: list[str] = []

    def call(method: str, route: str, url: str, expected: int, **kwargs: Any) -> httpx.Response:
        response = api.client.request(method, url, **kwargs)
        assert response.status_code == expected, response.text
        assert str(expected) in schema[route][method].definition.raw["responses"], f"{method} {route}"
        schema[route][method].validate_response(response)
        seen.append(f"{method} {route}")
        return response

    call("POST", "/connectors", "/connectors", 201, json={"name": source, "config": source_config})
    call("PUT", "/connectors/{name}/config", path(sink) + "/config", 201, json=sink_config)
    call("PUT", "/connectors/{name}/config", path(sink) + "/config", 200, json=sink_config)
    api.wait_for_state(source, tasks=1)
    api.wait_for_state(sink, tasks=1)
    for name in (source, sink):
        for suffix in ("", "/config", "/status", "/tasks", "/tasks-config", "/topics", "/offsets"):
            call("GET", "/connectors/{name}" + suffix, path(name) + suffix, 200)
        call("GET", "/connectors/{name}/tasks/{task}/status", path(name) + "/tasks/0/status", 200)
    call("GET", "/connectors", "/connectors", 200)
    call("GET", "/connectors", "/connectors?expand=status&expand=info", 200)
    call("PATCH", "/connectors/{name}/config", path(source) + "/config", 200, json={"batch.size": 10})
    call("POST", "/connectors/{name}/restart", path(source) + "/restart?includeTasks=true", 202)
    call("POST", "/connectors/{name}/restart", path(source) + "/restart", 204)
    call("POST", "/connectors/{name}/tasks/{task}/restart", path(source) + "/tasks/0/restart", 204)
    call("PUT", "/connectors/{name}/pause", path(source) + "/pause", 202)
    call("PUT", "/connectors/{name}/resume", path(source) + "/resume", 202)
    call("PUT", "/connectors/{name}/topics/reset", path(source) + "/topics/reset", 202)
    call("PUT", "/connectors/{name}/stop", path(source) + "/stop", 204)
    api.wait_for_state(source, "STOPPED")
    offsets = {"offsets": [{"partition": {"filename": str(lines)}, "offset": {"position": 0}}]}
    call("PATCH", "/connectors/{name}/offsets", path(source) + "/offsets", 200, json=offsets)
    call("DELETE", "/connectors/{name}/offsets", path(source) + "/offsets", 200)
    call("DELETE", "/connectors/{name}", path(source), 204)
    for missing in ("", "/config", "/status", "/tasks", "/offsets"):
        call("GET", "/connectors/{name}" + missing, path(source) + missing, 404)
    call("POST", "/connectors", "/connectors", 409, json={"name": sink, "config": sink_config})
    call("POST", "/connectors", "/connectors", 400, json={"name": uid("doc"), "config": {}})
    call("GET", "/connector-plugins", "/connector-plugins?connectorsOnly=false", 200)
    call("GET", "/connector-plugins/{plugin}/config", "/connector-plugins/FileStreamSink/config", 200)
    call("GET", "/connector-plugins/{plugin}/config", "/connector-plugins/Nope/config", 404)
    validate = "/connector-plugins/{plugin}/config/validate"
    call("PUT", validate, "/connector-plugins/FileStreamSink/config/validate", 200, json=sink_config)
    call("PUT", validate, "/connector-plugins/FileStreamSink/config/validate", 400, json={})
    for route in ("/", "/health", "/healthz", "/readyz", "/admin/loggers", "/metrics"):
        call("GET", route, route, 200)
    call("GET", "/admin/loggers/{logger}", "/admin/loggers/root", 200)
    call("PUT", "/admin/loggers/{logger}", "/admin/loggers/app.api", 200, json={"level": "debug"})
    call(
        "PUT", "/admin/loggers/{logger}", "/admin/loggers/app.api?scope=cluster", 204, json={"level": "INFO"}
    )
    call("PUT", "/admin/loggers/{logger}", "/admin/loggers/app.api", 404, json={"level": "LOUD"})
    assert len(set(seen)) >= 30
