"""What an administrator lets connectors do: ``connector.plugins.allowed`` / ``.denied`` and
``file.allowed.paths``, against a real worker process over HTTP."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[ServerProcess]:
    started: list[ServerProcess] = []

    def start(settings: Mapping[str, str]) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", {"offset.flush.interval.ms": "500", **settings}).start()
        started.append(server)
        return server

    yield start  # type: ignore[misc]
    for server in started:
        server.close()


def post(server: ServerProcess, name: str, config: Mapping[str, str]) -> tuple[int, str]:
    response = server.client.post("/connectors", json={"name": name, "config": dict(config)})
    return response.status_code, response.json().get("message", "")


def source(path: Path | str, topic: str = "lines") -> dict[str, str]:
    return {"connector.class": "FileStreamSource", "file": str(path), "topic": topic}


def sink(path: Path | str, topic: str = "lines") -> dict[str, str]:
    return {"connector.class": "FileStreamSink", "file": str(path), "topics": topic}


def test_a_denied_plugin_is_refused_by_alias_and_class_name_and_others_still_work(
    worker, tmp_path: Path
) -> None:
    server = worker({"connector.plugins.denied": "FileStreamSource,Filter"})
    status, message = post(server, "src", source(tmp_path / "in.txt"))
    assert status == 400
    assert (
        message == "Connector class FileStreamSource is not allowed on this worker (connector.plugins.denied)"
    )
    java = {
        **source(tmp_path / "in.txt"),
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
    }
    status, message = post(server, "src", java)
    assert (status, "connector.plugins.denied") == (400, message[message.rindex("(") + 1 : -1])
    # PUT (create or update) and validation are refused the same way, before the plugin sees the config
    put = server.client.put("/connectors/src/config", json=source(tmp_path / "in.txt"))
    assert put.status_code == 400 and "connector.plugins.denied" in put.json()["message"]
    validate = server.client.put(
        "/connector-plugins/FileStreamSource/config/validate", json=source(tmp_path / "in.txt")
    )
    assert validate.status_code == 400 and "connector.plugins.denied" in validate.json()["message"]
    # a transform is a plugin too, denied by its Java class name's alias
    filtered = {
        **sink(tmp_path / "out.txt"),
        "transforms": "drop",
        "transforms.drop.type": "org.apache.kafka.connect.transforms.Filter",
    }
    status, message = post(server, "snk", filtered)
    assert status == 400
    assert message == (
        "Transform drop org.apache.kafka.connect.transforms.Filter is not allowed on this worker "
        "(connector.plugins.denied)"
    )
    assert post(server, "snk", sink(tmp_path / "out.txt"))[0] == 201
    assert server.client.get("/connectors").json() == ["snk"]


def test_an_allow_list_refuses_everything_else(worker, tmp_path: Path) -> None:
    server = worker({"connector.plugins.allowed": "FileStreamSink,StringConverter"})
    status, message = post(server, "src", source(tmp_path / "in.txt"))
    assert (status, message) == (
        400,
        "Connector class FileStreamSource is not allowed on this worker (not in connector.plugins.allowed)",
    )
    json_values = {
        **sink(tmp_path / "out.txt"),
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    }
    status, message = post(server, "snk", json_values)
    assert status == 400 and "Converter value.converter" in message and "connector.plugins.allowed" in message
    strings = {
        **sink(tmp_path / "out.txt"),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    }
    assert post(server, "snk", strings)[0] == 201


def test_files_outside_file_allowed_paths_are_refused_symlinks_and_dotdot_resolved(
    worker, tmp_path: Path
) -> None:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    outbox.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("root only\n")
    (inbox / "escape.txt").symlink_to(secret)
    (inbox / "escape-dir").symlink_to(tmp_path)
    server = worker({"file.allowed.paths": f"{inbox},{outbox}"})
    where = f"file.allowed.paths ({inbox}, {outbox})"
    for path in (
        secret,
        inbox / ".." / "secret.txt",
        inbox / "escape.txt",
        inbox / "escape-dir" / "secret.txt",
    ):
        status, message = post(server, "src", source(path))
        assert status == 400, (path, message)
        assert f"Invalid value {path} for configuration file: " in message
        assert where in message
    status, message = post(server, "snk", sink(tmp_path / "copy.txt"))
    assert status == 400 and where in message
    # validation reports it on the file key, as other invalid values
    validate = server.client.put(
        "/connector-plugins/FileStreamSink/config/validate", json={**sink(secret), "name": "snk"}
    )
    assert validate.status_code == 200 and validate.json()["error_count"] == 1
    [file_errors] = [c["value"]["errors"] for c in validate.json()["configs"] if c["value"]["name"] == "file"]
    assert where in file_errors[0]
    # inside the folders the pipeline works
    (inbox / "lines.txt").write_text("one\ntwo\n")
    assert post(server, "src", source(inbox / "lines.txt"))[0] == 201
    assert post(server, "snk", sink(outbox / "copy.txt"))[0] == 201
    wait_until(
        lambda: (outbox / "copy.txt").exists() and (outbox / "copy.txt").read_text() == "one\ntwo\n",
        message="the lines did not arrive",
    )


def test_a_symlink_that_appears_after_creation_is_refused_when_the_task_opens_it(
    worker, tmp_path: Path
) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("root only\n")
    server = worker({"file.allowed.paths": str(inbox)})
    assert post(server, "src", source(inbox / "later.txt", topic="stolen"))[0] == 201  # waits for the file
    server.wait_for_state("src", tasks=1)
    (inbox / "later.txt").symlink_to(secret)
    status = wait_until(
        lambda: (
            (s := server.client.get("/connectors/src/status").json())["tasks"][0]["state"] == "FAILED" and s
        ),
        message="the task did not fail",
    )
    assert "outside file.allowed.paths" in status["tasks"][0]["trace"]
    # nothing was read: a sink of the topic gets no line
    out = inbox / "out.txt"
    assert post(server, "snk", {**sink(out, topic="stolen")})[0] == 201
    server.wait_for_state("snk", tasks=1)
    time.sleep(2)  # a line on the topic would have arrived within a flush interval (0.5 s)
    assert out.read_text() == ""


def test_a_relative_file_allowed_paths_folder_is_refused_at_start(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", {"file.allowed.paths": "data/in"})
    with pytest.raises(
        RuntimeError, match=re.escape("file.allowed.paths must be absolute paths, not data/in")
    ):
        server.start(timeout=20)
    server.close()
