"""Per-connector client overrides are checked when a connector is created, as Kafka Connect does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.support.server import ServerProcess


def sink(tmp_path: Path, **extra: str) -> dict[str, object]:
    config = {"connector.class": "FileStreamSink", "file": str(tmp_path / "out.txt"), "topics": "t", **extra}
    return {"name": "snk", "config": config}


def test_a_bad_override_value_is_400_and_creates_nothing(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory()
    response = server.client.post(
        "/connectors", json=sink(tmp_path, **{"producer.override.linger.ms": "abc"})
    )
    assert response.status_code == 400
    assert "Invalid value abc for configuration producer.override.linger.ms" in response.json()["message"]
    assert server.client.get("/connectors").json() == []
    ok = server.client.post(
        "/connectors", json=sink(tmp_path, **{"consumer.override.max.poll.records": "50"})
    )
    assert ok.status_code == 201, ok.text


def test_the_none_policy_refuses_every_override(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory({"connector.client.config.override.policy": "None"})
    response = server.client.post(
        "/connectors", json=sink(tmp_path, **{"consumer.override.max.poll.records": "50"})
    )
    assert response.status_code == 400
    assert "'None' policy does not allow 'consumer.override.max.poll.records'" in response.json()["message"]
    assert server.client.get("/connectors").json() == []


def test_validate_reports_what_create_refuses(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    """``/config/validate`` and ``POST /connectors`` run the same checks (issue: validate passed acks=bogus)."""
    server = server_factory()
    config = {**sink(tmp_path, **{"producer.override.acks": "bogus"})["config"], "name": "snk"}
    validated = server.client.put("/connector-plugins/FileStreamSink/config/validate", json=config)
    assert validated.status_code == 200
    body = validated.json()
    assert body["error_count"] == 1
    errors = [e for c in body["configs"] for e in c["value"]["errors"]]
    assert any("producer.override.acks" in e for e in errors), errors
    created = server.client.post("/connectors", json={"name": "snk", "config": config})
    assert created.status_code == 400
    assert "producer.override.acks" in created.json()["message"]
