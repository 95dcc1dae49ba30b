"""Standalone mode, and what a Kafka worker does with bad settings and refusals from the broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.cluster import distributed_settings
from tests.support.server import ServerProcess, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as f:
        f.write("".join(line + "\n" for line in lines))


def test_standalone_runs_connectors_from_files_and_keeps_source_offsets(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str
) -> None:
    source, sink, offsets = tmp_path / "in.txt", tmp_path / "out.txt", tmp_path / "connect.offsets"
    source.touch()
    topic = f"{cluster_id}-standalone"
    source_file = tmp_path / "source.json"
    source_file.write_text(
        json.dumps(
            {
                "name": "src",
                "config": {"connector.class": "FileStreamSource", "file": str(source), "topic": topic},
            }
        )
    )
    sink_file = tmp_path / "sink.properties"
    sink_file.write_text(f"name=snk\nconnector.class=FileStreamSink\nfile={sink}\ntopics={topic}\n")
    settings = {
        "bootstrap.servers": kafka_bootstrap,
        "offset.storage.file.filename": str(offsets),
        "offset.flush.interval.ms": "60000",
    }

    def start() -> ServerProcess:
        return ServerProcess(
            tmp_path / "w", settings, mode="standalone", connector_files=(source_file, sink_file)
        ).start(60)

    server = start()
    try:
        assert sorted(server.client.get("/connectors").json()) == ["snk", "src"]
        server.wait_for_state("src", tasks=1)
        server.wait_for_state("snk", tasks=1)
        first = [f"first {i}" for i in range(300)]
        append(source, first)
        wait_until(lambda: len(lines_of(sink)) == 300, timeout=30)
        assert server.stop() in (0, -15)
    finally:
        server.close()
    stored = json.loads(offsets.read_text())
    assert stored[0][:2] == ["src", {"filename": str(source)}]

    append(source, [f"second {i}" for i in range(200)])
    server = start()
    try:
        wait_until(lambda: len(lines_of(sink)) >= 500, timeout=30)
        time.sleep(0.5)
        assert lines_of(sink) == first + [f"second {i}" for i in range(200)]  # resumed, nothing repeated
    finally:
        server.close()


def test_unreachable_brokers_keep_rest_up_with_the_reason(tmp_path: Path, cluster_id: str) -> None:
    settings = distributed_settings(f"127.0.0.1:{free_port()}", cluster_id)
    server = ServerProcess(tmp_path / "w", settings, mode="distributed").start(30, ready=False)
    try:

        def not_ready_with_reason() -> dict[str, str] | None:
            response = server.client.get("/readyz")
            body = response.json()
            return (
                body
                if response.status_code == 503 and "Cannot start on Kafka" in body.get("message", "")
                else None
            )

        body = wait_until(not_ready_with_reason, timeout=30)
        assert "bootstrap.servers" in body["message"]
        assert server.client.get("/connectors").status_code == 200
        created = server.client.post(
            "/connectors", json={"name": "x", "config": {"connector.class": "FileStreamSink", "topics": "t"}}
        )
        assert created.status_code == 503
        assert "Cannot start on Kafka" in created.json()["message"]
        assert server.process is not None and server.process.poll() is None  # still running, still retrying
    finally:
        server.close()


def test_a_worker_with_another_config_topic_is_refused(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str
) -> None:
    good = ServerProcess(
        tmp_path / "a", distributed_settings(kafka_bootstrap, cluster_id), mode="distributed"
    ).start(60)
    other = {
        **distributed_settings(kafka_bootstrap, cluster_id),
        "config.storage.topic": f"{cluster_id}-other-configs",
    }
    odd = ServerProcess(tmp_path / "b", other, mode="distributed").start(60, ready=False)
    try:

        def refused() -> str | None:
            response = odd.client.get("/readyz")
            message = response.json().get("message", "")
            return message if response.status_code == 503 and "config.storage.topic" in message else None

        message = wait_until(refused, timeout=60)
        assert f"{cluster_id}-other-configs" in message and f"{cluster_id}-configs" in message
        assert good.client.get("/readyz").status_code == 200
    finally:
        odd.close()
        good.close()


def test_topic_creation_refused_by_the_broker_fails_the_task_with_the_reason(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str
) -> None:
    """A replication factor above the broker count (KIP-158 settings of a source): the task is
    FAILED, not restarted, with a trace naming the broker count and the setting to change."""
    server = ServerProcess(
        tmp_path / "w", distributed_settings(kafka_bootstrap, cluster_id), mode="distributed"
    ).start(60)
    source = tmp_path / "in.txt"
    source.write_text("one\n")
    replicated, grouped = f"{cluster_id}-replicated", f"{cluster_id}-grouped"
    try:
        server.create(
            "src",
            {
                "connector.class": "FileStreamSource",
                "file": str(source),
                "topic": replicated,
                "topic.creation.default.partitions": "1",
                "topic.creation.default.replication.factor": "3",  # one broker only
            },
        )
        server.create(
            "grouped",
            {
                "connector.class": "FileStreamSource",
                "file": str(source),
                "topic": grouped,
                "topic.creation.default.partitions": "1",
                "topic.creation.default.replication.factor": "1",
                "topic.creation.groups": "wide",
                "topic.creation.wide.include": f"{cluster_id}-gr.*",
                "topic.creation.wide.replication.factor": "2",
            },
        )

        def failed(name: str) -> dict[str, str] | None:
            status = server.client.get(f"/connectors/{name}/status").json()
            tasks = status.get("tasks", [])
            return tasks[0] if tasks and tasks[0]["state"] == "FAILED" else None

        task = wait_until(lambda: failed("src"), timeout=30)
        assert (
            f"ConfigError: Cannot create topic {replicated} with replication factor 3: the Kafka cluster has "
            "only 1 broker; set topic.creation.default.replication.factor to 1 or less" in task["trace"]
        )
        assert "bootstrap.servers" not in task["trace"]
        task = wait_until(lambda: failed("grouped"), timeout=30)
        assert (
            f"Cannot create topic {grouped} with replication factor 2: the Kafka cluster has only 1 broker; "
            "set topic.creation.wide.replication.factor to 1 or less" in task["trace"]
        )
        time.sleep(1.5)  # past the first automatic restart's backoff: a config error gets none
        status = server.client.get("/connectors/src/status").json()
        assert status["tasks"][0]["state"] == "FAILED" and "auto_restart" not in status["tasks"][0]
    finally:
        server.close()


def test_internal_topic_replication_above_the_broker_count_names_the_setting(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str
) -> None:
    """A distributed worker whose config topic asks for 3 replicas on a 1-broker cluster says
    which worker setting to change, without a "check bootstrap.servers" hint, and keeps
    retrying (brokers may still be registering while a cluster starts)."""
    settings = {**distributed_settings(kafka_bootstrap, cluster_id), "config.storage.replication.factor": "3"}
    server = ServerProcess(tmp_path / "w", settings, mode="distributed").start(60, ready=False)
    try:

        def not_ready_with_reason() -> str | None:
            response = server.client.get("/readyz")
            message = str(response.json().get("message", ""))
            return message if response.status_code == 503 and "Cannot create topic" in message else None

        message = wait_until(not_ready_with_reason, timeout=60)
        assert (
            f"Cannot create topic {cluster_id}-configs with replication factor 3: the Kafka cluster has only "
            "1 broker; set config.storage.replication.factor to 1 or less" in message
        )
        assert "bootstrap.servers" not in message
        assert "Retrying in" in message
        assert "config.storage.replication.factor" in server.log()
        assert server.process is not None and server.process.poll() is None
    finally:
        server.close()


def test_distributed_without_group_id_exits_with_a_clear_error(tmp_path: Path) -> None:
    properties = tmp_path / "worker.properties"
    properties.write_text("bootstrap.servers=127.0.0.1:9092\nconfig.storage.topic=c\n")
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "distributed", str(properties)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert 'Missing required configuration "group.id"' in result.stderr
    assert '"offset.storage.topic"' in result.stderr


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        (
            {"connector.class": "io.debezium.connector.mysql.MySqlConnector", "topics": "t"},
            "io.debezium.connector.mysql.MySqlConnector is a Kafka Connect plugin",
        ),
        (
            {"connector.class": "FileStreamSink", "file": "out.txt"},
            "Must configure one of topics or topics.regex",
        ),
    ],
)
def test_standalone_exits_when_a_connector_file_is_refused(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str, config: dict[str, str], reason: str
) -> None:
    """As connect-standalone: "Stopping after connector error", exit code 3, even after a good file."""
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "name": f"{cluster_id}-good",
                "config": {
                    "connector.class": "FileStreamSink",
                    "file": str(tmp_path / "good.txt"),
                    "topics": f"{cluster_id}-good",
                },
            }
        )
    )
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": f"{cluster_id}-bad", "config": config}))
    properties = tmp_path / "worker.properties"
    properties.write_text(
        f"bootstrap.servers={kafka_bootstrap}\noffset.storage.file.filename={tmp_path / 'offsets'}\n"
    )
    listen = ["--host", "127.0.0.1", "--port", str(free_port())]
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "standalone", str(properties), str(good), str(bad), *listen],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    error = result.stderr.split("\nerror: ", 1)[1]
    assert error.startswith(f"Connector {cluster_id}-bad from the command line was refused: ")
    assert reason in error


def broker_process(bootstrap: str) -> psutil.Process:
    """The broker ``scripts/services`` started (its record names the pid), to make it stall."""
    state = Path(os.environ.get("PENSTOCK_SERVICES_DIR") or Path(__file__).resolve().parents[2] / ".services")
    record = json.loads((state / "kafka.json").read_text())
    assert record["exports"]["KAFKA_BOOTSTRAP_SERVERS"] == bootstrap, "the broker under test is not ours"
    return psutil.Process(record["pid"])


def test_a_stalled_broker_delays_the_pipeline_and_loses_nothing(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str
) -> None:
    """The broker stops answering for 8 s mid-stream (SIGSTOP, then SIGCONT): the pipeline resumes."""
    broker = broker_process(kafka_bootstrap)
    settings = {**distributed_settings(kafka_bootstrap, cluster_id), "offset.flush.interval.ms": "500"}
    server = ServerProcess(tmp_path / "w", settings, mode="distributed").start(60)
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.touch()
    topic = f"{cluster_id}-stall"
    try:
        server.create("src", {"connector.class": "FileStreamSource", "file": str(source), "topic": topic})
        server.create("snk", {"connector.class": "FileStreamSink", "file": str(sink), "topics": topic})
        server.wait_for_state("snk", tasks=1)
        server.wait_for_state("src", tasks=1)
        append(source, [f"before {i}" for i in range(2000)])
        wait_until(lambda: len(lines_of(sink)) >= 2000, timeout=30)
        broker.suspend()
        try:
            append(source, [f"during {i}" for i in range(2000)])
            time.sleep(8)
            assert server.client.get("/connectors/src/status").status_code == 200  # REST keeps answering
        finally:
            broker.resume()
        append(source, [f"after {i}" for i in range(2000)])
        expected = [f"{phase} {i}" for phase in ("before", "during", "after") for i in range(2000)]
        wait_until(
            lambda: set(lines_of(sink)) >= set(expected), timeout=90, interval=0.5, message="records lost"
        )
        assert list(dict.fromkeys(lines_of(sink))) == expected
        status = server.client.get("/connectors/src/status").json()
        assert status["tasks"][0]["state"] == "RUNNING"
    finally:
        server.close()


def test_a_sink_paused_longer_than_max_poll_interval_keeps_its_group_membership(
    kafka_bootstrap: str, tmp_path: Path, cluster_id: str
) -> None:
    """A paused Kafka sink keeps polling (fetching nothing), as Kafka Connect does: a pause
    longer than ``max.poll.interval.ms`` must not make the client leave the group."""
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.touch()
    topic = f"{cluster_id}-long-pause"
    server = ServerProcess(
        tmp_path / "w",
        {
            "bootstrap.servers": kafka_bootstrap,
            "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
            "consumer.max.poll.interval.ms": "3000",
            "consumer.session.timeout.ms": "6000",
        },
        mode="standalone",
    ).start(60)
    try:
        for name, config in (
            ("src", {"connector.class": "FileStreamSource", "file": str(source), "topic": topic}),
            ("snk", {"connector.class": "FileStreamSink", "file": str(sink), "topics": topic}),
        ):
            assert server.client.put(f"/connectors/{name}/config", json=config).status_code == 201
            server.wait_for_state(name, tasks=1)
        append(source, [f"before {i}" for i in range(100)])
        wait_until(lambda: len(lines_of(sink)) == 100, timeout=30)
        assert server.client.put("/connectors/snk/pause").status_code == 202
        server.wait_for_state("snk", state="PAUSED", tasks=1)
        joins_before = server.log().count("sink consumer group rebalanced")
        append(source, [f"during {i}" for i in range(100)])
        time.sleep(8)  # well past max.poll.interval.ms
        assert len(lines_of(sink)) == 100
        assert server.client.put("/connectors/snk/resume").status_code == 202
        wait_until(lambda: len(lines_of(sink)) == 200, timeout=15)
        rejoined = server.log().count("sink consumer group rebalanced") - joins_before
        assert rejoined == 0, "the paused consumer left its group and joined again"
    finally:
        server.close()
