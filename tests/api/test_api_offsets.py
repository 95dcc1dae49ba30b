"""KIP-875 offsets: GET, PATCH (alter) and DELETE (reset) for source and sink connectors (reference §2.19)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.api_helpers import (
    assert_error,
    names,
    offsets_of,
    path,
    sink_config,
    source_config,
    uid,
    wait_for_lines,
)
from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration

ALTERED = "The offsets for this connector have been altered successfully"
ALTERED_FRAMEWORK = (
    "The Connect framework-managed offsets for this connector have been altered successfully. However, if this "
    "connector manages offsets externally, they will need to be manually altered in the system that the "
    "connector uses."
)
RESET_FRAMEWORK = (
    "The Connect framework-managed offsets for this connector have been reset successfully. However, if this "
    "connector manages offsets externally, they will need to be manually reset in the system that the "
    "connector uses."
)
PARTITIONS_NEEDED = "Partitions / offsets need to be provided for an alter offsets request"


def stopped_message(name: str) -> str:
    return (
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the "
        f"specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    )


def create(api: ServerProcess, name: str, config: dict[str, Any], **extra: Any) -> None:
    response = api.client.post("/connectors", json={"name": name, "config": config, **extra})
    assert response.status_code == 201, response.text


def stop(api: ServerProcess, name: str) -> None:
    assert api.client.put(path(name) + "/stop").status_code == 204
    api.wait_for_state(name, "STOPPED")


def source_offset(file: Path, position: int | None) -> dict[str, Any]:
    return {
        "partition": {"filename": str(file)},
        "offset": None if position is None else {"position": position},
    }


def sink_offset(topic: str, partition: Any, offset: Any) -> dict[str, Any]:
    return {
        "partition": {"kafka_topic": topic, "kafka_partition": partition},
        "offset": None if offset is None else {"kafka_offset": offset},
    }


@pytest.fixture
def pipeline(api: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    """A file source → topic → file sink pipeline that has copied three lines."""
    source, sink, topic = tmp_path / "in.txt", tmp_path / "out.txt", uid("lines")
    source.write_text("one\ntwo\nthree\n")
    src, snk = uid("osrc"), uid("osnk")
    create(api, src, source_config(source, topic))
    create(api, snk, sink_config(sink, topic))
    wait_for_lines(sink, ["one", "two", "three"])
    return {"source": source, "sink": sink, "topic": topic, "src": src, "snk": snk}


def test_get_offsets_of_source_and_sink(api: ServerProcess, pipeline: dict[str, Any]) -> None:
    src, snk, source, topic = pipeline["src"], pipeline["snk"], pipeline["source"], pipeline["topic"]
    wait_until(lambda: offsets_of(api, src) == [source_offset(source, 14)], message=str(offsets_of(api, src)))
    entry = offsets_of(api, src)[0]
    assert list(entry) == ["partition", "offset"]
    assert entry["offset"]["position"] == 14 and isinstance(
        entry["offset"]["position"], int
    )  # numbers stay numbers
    wait_until(lambda: offsets_of(api, snk) == [sink_offset(topic, 0, 3)], message=str(offsets_of(api, snk)))
    # works in any state, including STOPPED
    stop(api, src)
    assert offsets_of(api, src) == [source_offset(source, 14)]


def test_get_offsets_is_empty_before_anything_was_committed(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("fresh")
    create(api, name, source_config(tmp_path / "in.txt", uid("t")), initial_state="STOPPED")
    assert offsets_of(api, name) == []
    sink = uid("freshsink")
    create(api, sink, sink_config(tmp_path / "o", uid("t")), initial_state="STOPPED")
    assert offsets_of(api, sink) == []


def test_alter_requires_a_stopped_connector(api: ServerProcess, pipeline: dict[str, Any]) -> None:
    src, snk, source, topic = pipeline["src"], pipeline["snk"], pipeline["source"], pipeline["topic"]
    assert_error(
        api.client.patch(path(src) + "/offsets", json={"offsets": [source_offset(source, 0)]}),
        400,
        stopped_message(src),
    )
    assert_error(api.client.delete(path(src) + "/offsets"), 400, stopped_message(src))
    assert_error(
        api.client.patch(path(snk) + "/offsets", json={"offsets": [sink_offset(topic, 0, 0)]}),
        400,
        stopped_message(snk),
    )
    # PAUSED is not STOPPED
    assert api.client.put(path(snk) + "/pause").status_code == 202
    api.wait_for_state(snk, "PAUSED", tasks=1)
    assert_error(api.client.delete(path(snk) + "/offsets"), 400, stopped_message(snk))
    # nothing changed, and the pipeline still runs
    assert api.client.put(path(snk) + "/resume").status_code == 202
    with source.open("a") as f:
        f.write("four\n")
    wait_for_lines(pipeline["sink"], ["one", "two", "three", "four"])


@pytest.mark.parametrize("body", [None, {}, {"offsets": []}, {"offsets": None}])
def test_alter_without_offsets_is_400(api: ServerProcess, pipeline: dict[str, Any], body: Any) -> None:
    stop(api, pipeline["src"])
    if body is None:
        response = api.client.request("PATCH", path(pipeline["src"]) + "/offsets", content=b"")
    else:
        response = api.client.patch(path(pipeline["src"]) + "/offsets", json=body)
    assert_error(response, 400, PARTITIONS_NEEDED)
    # checked before the connector's existence (reference §2.19 step 1)
    assert_error(
        api.client.patch(path(uid("ghost")) + "/offsets", json={"offsets": []}), 400, PARTITIONS_NEEDED
    )


def test_source_resumes_from_an_altered_position(api: ServerProcess, pipeline: dict[str, Any]) -> None:
    src, source, sink = pipeline["src"], pipeline["source"], pipeline["sink"]
    wait_until(lambda: offsets_of(api, src) == [source_offset(source, 14)])
    stop(api, src)
    response = api.client.patch(
        path(src) + "/offsets", json={"offsets": [source_offset(source, 4)]}
    )  # after "one\n"
    assert response.status_code == 200, response.text
    assert response.json() == {"message": ALTERED}  # FileStreamSource handles alterOffsets itself
    assert offsets_of(api, src) == [source_offset(source, 4)]
    assert api.client.put(path(src) + "/resume").status_code == 202
    api.wait_for_state(src, "RUNNING", tasks=1)
    wait_for_lines(sink, ["one", "two", "three", "two", "three"])
    wait_until(lambda: offsets_of(api, src) == [source_offset(source, 14)])


def test_source_offset_null_and_reset_start_over(api: ServerProcess, pipeline: dict[str, Any]) -> None:
    src, source, sink = pipeline["src"], pipeline["source"], pipeline["sink"]
    wait_until(lambda: offsets_of(api, src) == [source_offset(source, 14)])
    stop(api, src)
    response = api.client.patch(path(src) + "/offsets", json={"offsets": [source_offset(source, None)]})
    assert response.status_code == 200, response.text
    assert offsets_of(api, src) == []

    # put one back, then DELETE resets every partition
    assert (
        api.client.patch(path(src) + "/offsets", json={"offsets": [source_offset(source, 8)]}).status_code
        == 200
    )
    assert offsets_of(api, src) == [source_offset(source, 8)]
    response = api.client.delete(path(src) + "/offsets")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": RESET_FRAMEWORK}
    assert offsets_of(api, src) == []
    # idempotent
    assert api.client.delete(path(src) + "/offsets").status_code == 200

    assert api.client.put(path(src) + "/resume").status_code == 202
    wait_for_lines(sink, ["one", "two", "three", "one", "two", "three"])


def test_sink_resumes_from_an_altered_offset(api: ServerProcess, pipeline: dict[str, Any]) -> None:
    snk, topic, sink = pipeline["snk"], pipeline["topic"], pipeline["sink"]
    wait_until(lambda: offsets_of(api, snk) == [sink_offset(topic, 0, 3)])
    stop(api, snk)
    response = api.client.patch(path(snk) + "/offsets", json={"offsets": [sink_offset(topic, 0, 1)]})
    assert response.status_code == 200, response.text
    assert response.json() == {"message": ALTERED_FRAMEWORK}
    assert offsets_of(api, snk) == [sink_offset(topic, 0, 1)]
    assert api.client.put(path(snk) + "/resume").status_code == 202
    wait_for_lines(sink, ["one", "two", "three", "two", "three"])


def test_sink_reset_and_string_numbers(api: ServerProcess, pipeline: dict[str, Any]) -> None:
    snk, topic, sink = pipeline["snk"], pipeline["topic"], pipeline["sink"]
    wait_until(lambda: offsets_of(api, snk) == [sink_offset(topic, 0, 3)])
    stop(api, snk)
    # strings such as "10" are accepted for partition and offset numbers
    response = api.client.patch(path(snk) + "/offsets", json={"offsets": [sink_offset(topic, "0", "2")]})
    assert response.status_code == 200, response.text
    assert offsets_of(api, snk) == [sink_offset(topic, 0, 2)]
    # a null offset removes that partition's offset
    assert (
        api.client.patch(path(snk) + "/offsets", json={"offsets": [sink_offset(topic, 0, None)]}).status_code
        == 200
    )
    assert offsets_of(api, snk) == []
    assert (
        api.client.patch(path(snk) + "/offsets", json={"offsets": [sink_offset(topic, 0, 2)]}).status_code
        == 200
    )
    response = api.client.delete(path(snk) + "/offsets")
    assert response.status_code == 200, response.text
    assert response.json() == {"message": RESET_FRAMEWORK}
    assert offsets_of(api, snk) == []
    # with no committed offset the sink starts from the earliest record again
    assert api.client.put(path(snk) + "/resume").status_code == 202
    wait_for_lines(sink, ["one", "two", "three", "one", "two", "three"])


SINK_ERRORS = [
    (
        {"partition": None, "offset": {"kafka_offset": 1}},
        "The partition for a sink connector offset cannot be null or missing",
    ),
    ({"offset": {"kafka_offset": 1}}, "The partition for a sink connector offset cannot be null or missing"),
    (
        {"partition": {"kafka_topic": "t"}, "offset": {"kafka_offset": 1}},
        "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
    ),
    (
        {"partition": {"kafka_partition": 0}, "offset": {"kafka_offset": 1}},
        "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
    ),
    (
        {"partition": {"kafka_topic": None, "kafka_partition": 0}, "offset": {"kafka_offset": 1}},
        "Kafka topic names must be valid strings and may not be null",
    ),
    (
        {"partition": {"kafka_topic": "t", "kafka_partition": None}, "offset": {"kafka_offset": 1}},
        "Kafka partitions must be valid numbers and may not be null",
    ),
    (
        {"partition": {"kafka_topic": "t", "kafka_partition": "x"}, "offset": {"kafka_offset": 1}},
        "Failed to parse the following Kafka partition value in the provided offsets: 'x'. "
        "Partition values for sink connectors need to be integers.",
    ),
    (
        {"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {}},
        "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
    ),
    (
        {"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"other": 1}},
        "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
    ),
    (
        {"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": "y"}},
        "Failed to parse the following Kafka offset value in the provided offsets: 'y'. "
        "Offset values for sink connectors need to be integers.",
    ),
]


def test_sink_offset_validation_messages(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("sinkv")
    create(api, name, sink_config(tmp_path / "o", uid("t")), initial_state="STOPPED")
    api.wait_for_state(name, "STOPPED")
    for entry, message in SINK_ERRORS:
        assert_error(api.client.patch(path(name) + "/offsets", json={"offsets": [entry]}), 400, message)
    assert offsets_of(api, name) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"offsets": [{"partition": {"filename": "f"}, "offset": {"position": 1}}], "extra": 1},
            "Unrecognized field(s) 'extra'",
        ),
        (
            {"offsets": [{"partition": {"filename": "f"}, "offset": {"position": 1}, "extra": 1}]},
            "Unrecognized field(s) 'extra'",
        ),
        ({"offsets": "x"}, "'offsets' must be a JSON array"),
        ({"offsets": [1]}, "Each element of 'offsets' must be a JSON object"),
        ({"offsets": [{"partition": "x", "offset": {"position": 1}}]}, "'partition' must be a JSON object"),
        ([{"partition": {"filename": "f"}}], "The request body must be a JSON object"),
    ],
)
def test_alter_body_shape_errors_are_400(api: ServerProcess, tmp_path: Path, body: Any, message: str) -> None:
    """Deliberate difference: Kafka answers these with a Jackson 500."""
    name = uid("shape")
    create(api, name, source_config(tmp_path / "in", uid("t")), initial_state="STOPPED")
    assert_error(api.client.patch(path(name) + "/offsets", json=body), 400, contains=(message,))
    assert offsets_of(api, name) == []


def test_alter_malformed_json_is_400(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("malformed")
    create(api, name, source_config(tmp_path / "in", uid("t")), initial_state="STOPPED")
    response = api.client.request("PATCH", path(name) + "/offsets", content=b'{"offsets": [')
    assert_error(response, 400, startswith="Malformed JSON in request body")


def test_source_offsets_must_be_primitive_maps(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("prim")
    source = tmp_path / "in"
    create(api, name, source_config(source, uid("t")), initial_state="STOPPED")
    response = api.client.patch(
        path(name) + "/offsets",
        json={"offsets": [{"partition": {"filename": str(source)}, "offset": {"position": [1]}}]},
    )
    assert_error(
        response,
        400,
        startswith="Offsets may only contain primitive types as values, but field position contains",
    )
    response = api.client.patch(
        path(name) + "/offsets",
        json={"offsets": [{"partition": {"filename": str(source)}, "offset": {"position": -3}}]},
    )
    assert response.status_code == 400  # FileStreamSource rejects a negative position
    assert offsets_of(api, name) == []


def test_offsets_of_unknown_connector(api: ServerProcess) -> None:
    name = uid("ghost")
    before = names(api)
    assert_error(api.client.get(path(name) + "/offsets"), 404, f"Connector {name} not found")
    assert_error(api.client.delete(path(name) + "/offsets"), 404, f"Connector {name} not found")
    assert_error(
        api.client.patch(path(name) + "/offsets", json={"offsets": [source_offset(Path("/f"), 1)]}),
        404,
        f"Connector {name} not found",
    )
    assert names(api) == before
