"""Worker-level endpoints and HTTP conventions: ``/``, health probes, 404/405, trailing slashes,
and the OpenAPI document (reference §1, §2.1, §2.2). Content-Type handling: test_api_safety."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from tests.api.api_helpers import assert_error, names, path, sink_config, uid
from tests.support.cluster import KAFKA_ONLY
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration


def test_server_info(api: ServerProcess) -> None:
    response = api.client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["version", "commit", "kafka_cluster_id"]
    assert body["version"] == "3.9.0"
    assert re.fullmatch(r"[0-9a-f]{16}", body["commit"])  # Kafka Connect's form: 16 hex digits
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", body["kafka_cluster_id"])  # Kafka's base64 UUID form


def test_the_embedded_cluster_id_is_kept_in_the_data_dir_across_restarts(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    first = server_factory(data_dir=tmp_path / "one")
    cluster_id = first.client.get("/").json()["kafka_cluster_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id) and not cluster_id.startswith("-")
    assert (tmp_path / "one" / "cluster.id").read_text().strip() == cluster_id
    assert (tmp_path / "one" / "cluster.id").stat().st_mode & 0o777 == 0o600
    first.stop()
    again = server_factory(data_dir=tmp_path / "one")
    assert again.client.get("/").json()["kafka_cluster_id"] == cluster_id
    other = server_factory(data_dir=tmp_path / "two")
    assert other.client.get("/").json()["kafka_cluster_id"] != cluster_id


@KAFKA_ONLY
def test_a_kafka_worker_reports_the_brokers_cluster_id(
    server_factory: Callable[..., ServerProcess], kafka_bootstrap: str
) -> None:
    async def broker_cluster_id() -> str:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            return str((await admin.describe_cluster())["cluster_id"])
        finally:
            await admin.close()

    expected = asyncio.run(broker_cluster_id())
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", expected)
    assert server_factory().client.get("/").json()["kafka_cluster_id"] == expected


def test_health_is_a_worker_status_not_an_error_body(api: ServerProcess) -> None:
    response = api.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "message": "Worker has completed startup and is ready to handle requests.",
    }


def test_orchestrator_probes(api: ServerProcess) -> None:
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/healthz").json() == {"status": "ok"}
    readyz = api.client.get("/readyz")
    assert readyz.status_code == 200
    assert readyz.json() == {"status": "ready"}


@pytest.mark.parametrize(
    "url", ["/nope", "/connectors/x/bogus", "/connector-plugins/a/b/c", "/admin", "/connectors/x/tasks/0"]
)
def test_unknown_route_is_jersey_404(api: ServerProcess, url: str) -> None:
    assert_error(api.client.get(url), 404, "HTTP 404 Not Found")


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("DELETE", "/connectors"),
        ("PUT", "/"),
        ("POST", "/connectors/x/pause"),
        ("GET", "/connectors/x/restart"),
        ("POST", "/connector-plugins"),
        ("GET", "/connector-plugins/FileStreamSink/config/validate"),
        ("DELETE", "/admin/loggers"),
    ],
)
def test_wrong_method_is_405(api: ServerProcess, method: str, url: str) -> None:
    assert_error(api.client.request(method, url), 405, "HTTP 405 Method Not Allowed")


def test_trailing_slashes_are_accepted(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("slash")
    created = api.client.post(
        "/connectors/", json={"name": name, "config": sink_config(tmp_path / "o.txt", uid("t"))}
    )
    assert created.status_code == 201, created.text
    listing = api.client.get("/connectors/")
    assert listing.status_code == 200
    assert sorted(listing.json()) == names(api)
    api.wait_for_state(name, "RUNNING", tasks=1)
    status = api.client.get(path(name) + "/status/")
    assert status.status_code == 200
    assert status.json()["name"] == name
    assert api.client.get(path(name) + "/config/").json()["name"] == name
    assert api.client.delete(path(name) + "/").status_code == 204


def test_swagger_ui_is_served(api: ServerProcess) -> None:
    response = api.client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "swagger" in response.text.lower()


def test_openapi_lists_the_connect_paths_with_examples(api: ServerProcess) -> None:
    response = api.client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    for expected in [
        "/",
        "/health",
        "/connectors",
        "/connectors/{name}",
        "/connectors/{name}/config",
        "/connectors/{name}/status",
        "/connectors/{name}/restart",
        "/connectors/{name}/pause",
        "/connectors/{name}/resume",
        "/connectors/{name}/stop",
        "/connectors/{name}/tasks",
        "/connectors/{name}/tasks-config",
        "/connectors/{name}/tasks/{task}/status",
        "/connectors/{name}/tasks/{task}/restart",
        "/connectors/{name}/topics",
        "/connectors/{name}/topics/reset",
        "/connectors/{name}/offsets",
        "/connector-plugins",
        "/connector-plugins/{plugin}/config",
        "/connector-plugins/{plugin}/config/validate",
        "/admin/loggers",
        "/admin/loggers/{logger}",
    ]:
        assert expected in paths, expected
    assert set(paths["/connectors"]) >= {"get", "post"}
    assert set(paths["/connectors/{name}/config"]) >= {"get", "put", "patch"}
    assert set(paths["/connectors/{name}/offsets"]) >= {"get", "patch", "delete"}
    # The internal endpoints are hidden from the spec (reference §2.24).
    assert "/connectors/{name}/fence" not in paths
    assert "post" not in paths["/connectors/{name}/tasks"]
    # The hidden forwarding parameter is not documented.
    post = paths["/connectors"]["post"]
    assert all(p.get("name") != "forward" for p in post.get("parameters", []))
    example = post["requestBody"]["content"]["application/json"]["example"]
    assert example["name"]
    assert example["config"]["connector.class"].endswith("FileStreamSourceConnector")
    assert "201" in post["responses"]


def test_topic_tracking_can_be_disabled(server_factory: Callable[..., ServerProcess]) -> None:
    """Worker settings ``topic.tracking.enable`` / ``topic.tracking.allow.reset`` (reference §2.18, §6.1)."""
    disabled = server_factory({"topic.tracking.enable": "false"})
    assert_error(disabled.client.get("/connectors/x/topics"), 403, "Topic tracking is disabled.")
    assert_error(disabled.client.put("/connectors/x/topics/reset"), 403, "Topic tracking is disabled.")
    no_reset = server_factory({"topic.tracking.allow.reset": "false"})
    assert no_reset.client.get("/connectors/x/topics").json() == {"x": {"topics": []}}
    assert_error(no_reset.client.put("/connectors/x/topics/reset"), 403, "Topic tracking reset is disabled.")


def test_admin_endpoints_can_be_disabled(server_factory: Callable[..., ServerProcess]) -> None:
    """An empty ``admin.listeners`` turns ``/admin/loggers`` off (reference §2.23, §6.1)."""
    server = server_factory({"admin.listeners": ""})
    assert_error(server.client.get("/admin/loggers"), 404, "HTTP 404 Not Found")
    assert_error(server.client.put("/admin/loggers/root", json={"level": "DEBUG"}), 404, "HTTP 404 Not Found")
    assert server.client.get("/connectors").status_code == 200
