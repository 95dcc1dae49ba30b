"""Status, restart, pause/resume, stop, tasks, task status/restart, topics (reference §2.9-2.18, §4)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.api_helpers import (
    assert_error,
    assert_state_entry,
    path,
    read_lines,
    sink_config,
    source_config,
    uid,
    wait_for_lines,
    worker_id,
)
from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration


def create(api: ServerProcess, name: str, config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = api.client.post("/connectors", json={"name": name, "config": config, **extra})
    assert response.status_code == 201, response.text
    return dict(response.json())


def create_failing_sink(api: ServerProcess, name: str, tmp_path: Path, tasks: int) -> dict[str, Any]:
    """A sink whose tasks fail at start, without automatic restarts: its output directory went
    away after the connector was created (stopped, then resumed; a missing directory is refused
    on create)."""
    folder = tmp_path / f"gone-{name}"
    folder.mkdir()
    config = sink_config(
        folder / "out.txt", uid("t"), **{"tasks.max": str(tasks), "auto.restart.enable": "false"}
    )
    create(api, name, config, initial_state="STOPPED")
    folder.rmdir()
    assert api.client.put(path(name) + "/resume").status_code == 202
    return config


def wait_for_failed_tasks(api: ServerProcess, name: str, count: int) -> dict[str, Any]:
    def failed() -> dict[str, Any] | None:
        status = api.client.get(path(name) + "/status").json()
        states = [t["state"] for t in status.get("tasks", [])]
        return status if len(states) == count and all(s == "FAILED" for s in states) else None

    return dict(wait_until(failed, message=f"{name} tasks never all FAILED"))


# -- status ---------------------------------------------------------------------------------------
def test_status_shape(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("status")
    create(api, name, source_config(tmp_path / "in", uid("t")))
    status = api.wait_for_state(name, "RUNNING", tasks=1)
    assert list(status) == ["name", "connector", "tasks", "type"]
    assert status["name"] == name
    assert status["type"] == "source"
    assert list(status["connector"]) == ["state", "worker_id"]
    assert_state_entry(status["connector"], "RUNNING", worker_id(api))
    assert status["tasks"] == [{"id": 0, "state": "RUNNING", "worker_id": worker_id(api)}]
    assert list(status["tasks"][0]) == ["id", "state", "worker_id"]


def test_status_tasks_are_sorted_numerically(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("many")
    info = create(
        api, name, sink_config(tmp_path / "o", uid("t"), **{"tasks.max": "12"}), initial_state="PAUSED"
    )
    assert info["tasks"] == [{"connector": name, "task": i} for i in range(12)]
    status = api.wait_for_state(name, "PAUSED", tasks=12)
    assert [t["id"] for t in status["tasks"]] == list(range(12))
    tasks = api.client.get(path(name) + "/tasks").json()
    assert [t["id"] for t in tasks] == [{"connector": name, "task": i} for i in range(12)]
    assert list(api.client.get(path(name) + "/tasks-config").json()) == [f"{name}-{i}" for i in range(12)]


def test_failed_task_status_carries_a_trace(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("failing")
    create_failing_sink(api, name, tmp_path, 2)
    status = wait_for_failed_tasks(api, name, 2)
    assert status["connector"]["state"] == "RUNNING"
    for i, task in enumerate(status["tasks"]):
        assert task["id"] == i
        assert_state_entry(task, "FAILED", worker_id(api))
        assert isinstance(task["trace"], str) and task["trace"]
    one = api.client.get(path(name) + "/tasks/1/status")
    assert one.status_code == 200
    assert one.json()["state"] == "FAILED" and one.json()["trace"]


# -- restart --------------------------------------------------------------------------------------
def test_plain_restart_is_204(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("restart")
    create(api, name, source_config(tmp_path / "in", uid("t")))
    api.wait_for_state(name, "RUNNING", tasks=1)
    for query in ("", "?includeTasks=false&onlyFailed=false", "?includeTasks=yes&onlyFailed=1"):
        response = api.client.post(path(name) + "/restart" + query)
        assert response.status_code == 204, (query, response.text)
        assert response.content == b""
        api.wait_for_state(name, "RUNNING", tasks=1)


@pytest.mark.parametrize("query", ["includeTasks=true", "includeTasks=TRUE&onlyFailed=false"])
def test_restart_with_tasks_answers_202_with_the_plan(api: ServerProcess, tmp_path: Path, query: str) -> None:
    name = uid("plan")
    create(api, name, sink_config(tmp_path / "o", uid("t"), **{"tasks.max": "2"}))
    api.wait_for_state(name, "RUNNING", tasks=2)
    response = api.client.post(path(name) + "/restart?" + query)
    assert response.status_code == 202, response.text
    plan = response.json()
    assert list(plan) == ["name", "connector", "tasks", "type"]
    assert plan["name"] == name and plan["type"] == "sink"
    assert_state_entry(plan["connector"], "RESTARTING", worker_id(api))
    assert [(t["id"], t["state"]) for t in plan["tasks"]] == [(0, "RESTARTING"), (1, "RESTARTING")]
    api.wait_for_state(name, "RUNNING", tasks=2)


def test_restart_only_failed_on_a_healthy_connector_restarts_nothing(
    api: ServerProcess, tmp_path: Path
) -> None:
    name = uid("healthy")
    create(api, name, source_config(tmp_path / "in", uid("t")))
    api.wait_for_state(name, "RUNNING", tasks=1)
    for query in ("onlyFailed=true", "includeTasks=true&onlyFailed=true"):
        response = api.client.post(path(name) + "/restart?" + query)
        assert response.status_code == 202, response.text
        plan = response.json()
        assert plan["connector"]["state"] == "RUNNING"
        assert [t["state"] for t in plan["tasks"]] == ["RUNNING"]


def test_restart_only_failed_tasks_marks_just_those_restarting(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("onlyfailed")
    create_failing_sink(api, name, tmp_path, 3)
    before = wait_for_failed_tasks(api, name, 3)
    response = api.client.post(path(name) + "/restart?includeTasks=true&onlyFailed=true")
    assert response.status_code == 202, response.text
    plan = response.json()
    assert plan["connector"]["state"] == "RUNNING"  # not failed, so not restarted
    assert [t["id"] for t in plan["tasks"]] == [0, 1, 2]
    for old, new in zip(before["tasks"], plan["tasks"], strict=True):
        assert new["state"] == "RESTARTING"
        assert new["worker_id"] == old["worker_id"]
        assert new["trace"]  # the previous failure's trace is kept
    wait_for_failed_tasks(api, name, 3)  # they fail again: the directory is still missing


def test_restart_of_unknown_connector(api: ServerProcess) -> None:
    name = uid("ghost")
    # embedded mode answers like Kafka's standalone herder for the plain restart (reference §8)
    assert_error(api.client.post(path(name) + "/restart"), 404, f"Connector {name} not found")
    assert_error(
        api.client.post(path(name) + "/restart?includeTasks=true"), 404, f"Unknown connector: {name}"
    )
    assert_error(api.client.post(path(name) + "/restart?onlyFailed=true"), 404, f"Unknown connector: {name}")


# -- pause / resume -------------------------------------------------------------------------------
def test_pause_and_resume(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("pause")
    create(api, name, source_config(tmp_path / "in", uid("t")))
    api.wait_for_state(name, "RUNNING", tasks=1)
    for _ in range(2):  # idempotent
        response = api.client.put(path(name) + "/pause")
        assert response.status_code == 202
        assert response.content == b""
    status = api.wait_for_state(name, "PAUSED", tasks=1)
    assert_state_entry(status["connector"], "PAUSED", worker_id(api))
    for _ in range(2):
        response = api.client.put(path(name) + "/resume")
        assert response.status_code == 202
        assert response.content == b""
    api.wait_for_state(name, "RUNNING", tasks=1)


def test_paused_source_produces_nothing_until_resumed(api: ServerProcess, tmp_path: Path) -> None:
    source, sink, topic = tmp_path / "in.txt", tmp_path / "out.txt", uid("t")
    source.write_text("one\n")
    src, snk = uid("psrc"), uid("psnk")
    create(api, src, source_config(source, topic))
    create(api, snk, sink_config(sink, topic))
    wait_for_lines(sink, ["one"])
    assert api.client.put(path(src) + "/pause").status_code == 202
    api.wait_for_state(src, "PAUSED", tasks=1)
    with source.open("a") as f:
        f.write("two\n")
    with pytest.raises(AssertionError):
        wait_until(lambda: len(read_lines(sink)) > 1, timeout=1)
    assert api.client.put(path(src) + "/resume").status_code == 202
    wait_for_lines(sink, ["one", "two"])


# -- stop -----------------------------------------------------------------------------------------
def test_stop_then_resume_regenerates_tasks(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("stop")
    create(api, name, source_config(tmp_path / "in", uid("t")))
    api.wait_for_state(name, "RUNNING", tasks=1)
    for _ in range(2):  # idempotent
        response = api.client.put(path(name) + "/stop")
        assert response.status_code == 204
        assert response.content == b""
    status = api.wait_for_state(name, "STOPPED")
    assert status["tasks"] == []
    assert status["type"] == "source"
    assert api.client.get(path(name)).json()["tasks"] == []
    assert api.client.get(path(name) + "/tasks").json() == []
    assert api.client.get(path(name) + "/tasks-config").json() == {}
    assert_error(api.client.get(path(name) + "/tasks/0/status"), 404, f"No status found for task {name}-0")

    assert api.client.put(path(name) + "/resume").status_code == 202
    api.wait_for_state(name, "RUNNING", tasks=1)
    assert api.client.get(path(name)).json()["tasks"] == [{"connector": name, "task": 0}]
    assert len(api.client.get(path(name) + "/tasks").json()) == 1


def test_stop_a_paused_and_a_failed_connector(api: ServerProcess, tmp_path: Path) -> None:
    paused = uid("stopp")
    create(api, paused, sink_config(tmp_path / "o", uid("t")), initial_state="PAUSED")
    api.wait_for_state(paused, "PAUSED", tasks=1)
    assert api.client.put(path(paused) + "/stop").status_code == 204
    assert api.wait_for_state(paused, "STOPPED")["tasks"] == []

    failed = uid("stopf")
    create_failing_sink(api, failed, tmp_path, 1)
    wait_for_failed_tasks(api, failed, 1)
    assert api.client.put(path(failed) + "/stop").status_code == 204
    assert api.wait_for_state(failed, "STOPPED")["tasks"] == []


# -- tasks ----------------------------------------------------------------------------------------
def test_tasks_and_tasks_config(api: ServerProcess, tmp_path: Path) -> None:
    name, topic = uid("tasks"), uid("t")
    config = sink_config(tmp_path / "o", topic, **{"tasks.max": "2"})
    create(api, name, config)
    tasks = api.client.get(path(name) + "/tasks")
    assert tasks.status_code == 200
    body = tasks.json()
    assert [t["id"] for t in body] == [{"connector": name, "task": 0}, {"connector": name, "task": 1}]
    for task in body:
        assert list(task) == ["id", "config"]
        assert task["config"]["task.class"]
        assert task["config"]["topics"] == topic  # sinks get the connector's topics
        assert all(isinstance(v, str) for v in task["config"].values())
    legacy = api.client.get(path(name) + "/tasks-config")
    assert legacy.status_code == 200
    assert legacy.json() == {f"{name}-0": body[0]["config"], f"{name}-1": body[1]["config"]}


def test_task_status_and_restart(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("task")
    create(api, name, sink_config(tmp_path / "o", uid("t"), **{"tasks.max": "2"}))
    api.wait_for_state(name, "RUNNING", tasks=2)
    one = api.client.get(path(name) + "/tasks/1/status")
    assert one.status_code == 200
    assert one.json() == {"id": 1, "state": "RUNNING", "worker_id": worker_id(api)}
    assert list(one.json()) == ["id", "state", "worker_id"]
    assert_error(api.client.get(path(name) + "/tasks/7/status"), 404, f"No status found for task {name}-7")
    for bad in ("abc", "1.5", "x1"):
        assert_error(api.client.get(path(name) + f"/tasks/{bad}/status"), 404, "HTTP 404 Not Found")
        assert_error(api.client.post(path(name) + f"/tasks/{bad}/restart"), 404, "HTTP 404 Not Found")

    response = api.client.post(path(name) + "/tasks/1/restart")
    assert response.status_code == 204
    assert response.content == b""
    api.wait_for_state(name, "RUNNING", tasks=2)
    # standalone messages (reference §2.17, §8)
    assert_error(api.client.post(path(name) + "/tasks/7/restart"), 404, f"Task {name}-7 not found")
    ghost = uid("ghost")
    assert_error(api.client.post(path(ghost) + "/tasks/0/restart"), 404, f"Connector {ghost} not found")


def test_task_restart_brings_a_fixed_task_back(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("fix")
    config = create_failing_sink(api, name, tmp_path, 1)
    wait_for_failed_tasks(api, name, 1)
    Path(config["file"]).parent.mkdir()
    assert api.client.post(path(name) + "/tasks/0/restart").status_code == 204
    api.wait_for_state(name, "RUNNING", tasks=1)


# -- topics ---------------------------------------------------------------------------------------
def test_topics_tracking_and_reset(api: ServerProcess, tmp_path: Path) -> None:
    source, sink, topic = tmp_path / "in.txt", tmp_path / "out.txt", uid("lines")
    source.write_text("a\nb\n")
    src, snk = uid("tsrc"), uid("tsnk")
    create(api, src, source_config(source, topic))
    create(api, snk, sink_config(sink, topic))
    wait_for_lines(sink, ["a", "b"])

    def topics(name: str) -> Any:
        response = api.client.get(path(name) + "/topics")
        assert response.status_code == 200
        return response.json()

    wait_until(lambda: topics(src) == {src: {"topics": [topic]}}, message=str(topics(src)))
    wait_until(lambda: topics(snk) == {snk: {"topics": [topic]}}, message=str(topics(snk)))

    response = api.client.put(path(src) + "/topics/reset")
    assert response.status_code == 202
    assert response.content == b""
    assert topics(src) == {src: {"topics": []}}
    assert topics(snk) == {snk: {"topics": [topic]}}  # other connectors are not affected

    with source.open("a") as f:
        f.write("c\n")
    wait_until(
        lambda: topics(src) == {src: {"topics": [topic]}}, message="writing again tracks the topic again"
    )


def test_topics_of_unknown_connector_is_empty_not_404(api: ServerProcess) -> None:
    name = uid("ghost")
    response = api.client.get(path(name) + "/topics")
    assert response.status_code == 200
    assert response.json() == {name: {"topics": []}}
    assert api.client.put(path(name) + "/topics/reset").status_code == 202
