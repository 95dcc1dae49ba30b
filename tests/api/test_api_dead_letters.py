"""Dead letters end to end on a real embedded worker: a sink's poison records go to the DLQ with
the count in its status, and ``POST /connectors/{c}/dead-letters/replay`` delivers them once the
config is fixed, exactly once."""

from __future__ import annotations

from pathlib import Path

from tests.api.api_helpers import (
    assert_error,
    path,
    sink_config,
    source_config,
    uid,
    wait_for_lines,
)
from tests.support.server import ServerProcess, wait_until

STRINGS = {
    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
}


def test_poison_records_are_dead_lettered_then_replayed_once_the_config_is_fixed(
    api: ServerProcess, tmp_path: Path
) -> None:
    poison_then_replay(api, tmp_path)


def poison_then_replay(api: ServerProcess, tmp_path: Path, **dlq_settings: str) -> None:
    """Shared with the Kafka-mode test (tests/integration/test_dead_letters_kafka.py)."""
    topic, dlq = uid("numbers"), uid("numbers-dlq")
    source, sink = uid("numbers-src"), uid("numbers-snk")
    (tmp_path / "in.txt").write_text("12\nx\n30\n")
    out = tmp_path / "out.txt"
    assert (
        api.client.put(
            path(source) + "/config", json=source_config(tmp_path / "in.txt", topic, **STRINGS)
        ).status_code
        == 201
    )
    strict = sink_config(
        out,
        topic,
        **STRINGS,
        **{
            "transforms": "toInt",
            "transforms.toInt.type": "org.apache.kafka.connect.transforms.Cast$Value",
            "transforms.toInt.spec": "int32",
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.context.headers.enable": "true",
            **dlq_settings,
        },
    )
    assert api.client.put(path(sink) + "/config", json=strict).status_code == 201
    wait_for_lines(out, ["12", "30"])
    wait_until(
        lambda: api.client.get(path(sink) + "/status").json()["tasks"][0].get("dead_lettered") == 1,
        message="the DLQ count never reached the sink's status",
    )

    fixed = {k: v for k, v in strict.items() if not k.startswith("transforms")}
    assert api.client.put(path(sink) + "/config", json=fixed).status_code == 200
    response = api.client.post(path(sink) + "/dead-letters/replay")
    assert response.status_code == 200, response.text
    assert response.json() == {"topic": dlq, "replayed": 1, "failed_again": 0, "skipped": 0, "error": None}
    wait_for_lines(out, ["12", "30", "x"])

    again = api.client.post(path(sink) + "/dead-letters/replay")
    assert again.status_code == 200 and again.json()["replayed"] == 0
    assert out.read_text().splitlines() == ["12", "30", "x"]


def test_replay_needs_a_dead_letter_queue(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("no-dlq")
    assert (
        api.client.put(path(name) + "/config", json=sink_config(tmp_path / "o.txt", uid("t"))).status_code
        == 201
    )
    wait_until(lambda: api.client.get(path(name) + "/tasks").json(), message="no tasks")
    assert_error(
        api.client.post(path(name) + "/dead-letters/replay"),
        400,
        contains=("errors.deadletterqueue.topic.name is not set",),
    )
    assert_error(api.client.post(path(uid("missing")) + "/dead-letters/replay"), 404)
