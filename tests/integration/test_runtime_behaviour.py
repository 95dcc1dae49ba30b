"""Backpressure, failure handling, automatic restarts and plugin discovery on a real worker."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import PLUGINS, pip_install_target
from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration


def count_lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_slow_sink_slows_the_source_and_memory_stays_bounded(
    server_factory, testkit_path: Path, tmp_path: Path
) -> None:
    max_lag = 5_000
    server = server_factory(
        {
            "plugin.path": str(testkit_path),
            "log.max.lag.records": str(max_lag),
            "consumer.max.poll.records": "200",
            "offset.flush.interval.ms": "500",
        }
    )
    out = tmp_path / "slow.txt"
    server.create(
        "slow-sink",
        {
            "connector.class": "SlowSink",
            "topics": "firehose",
            "file": str(out),
            "delay.ms.per.batch": "20",
        },
    )
    server.wait_for_state("slow-sink", tasks=1)
    server.create(
        "firehose",
        {
            "connector.class": "SequenceSource",
            "topic": "firehose",
            "count": "10000000",
            "payload.bytes": "1024",
        },
    )
    server.wait_for_state("firehose", tasks=1)

    process = psutil.Process(server.process.pid)  # type: ignore[union-attr]
    time.sleep(3)  # let the source fill the allowed lag
    rss_start = process.memory_info().rss
    samples = []
    for _ in range(8):
        time.sleep(1)
        written = server.client.get("/connectors/firehose/offsets").json()["offsets"][0]["offset"]["next"]
        consumed = count_lines(out)
        samples.append((written, consumed, process.memory_info().rss))
    # The source never runs more than the allowed lag (+ one in-flight window) ahead of the slow sink.
    window = 4 * 500
    for written, consumed, _ in samples:
        assert written - consumed <= max_lag + window + 400, (written, consumed)
    # ...and it keeps moving at the sink's pace (no deadlock), while memory stays flat.
    assert samples[-1][0] > samples[0][0]
    assert samples[-1][1] > samples[0][1]
    growth_mb = (max(rss for *_, rss in samples) - rss_start) / 1e6
    assert growth_mb < 40, f"RSS grew {growth_mb:.1f} MB"
    # Nothing is lost: what the sink wrote is a prefix of the sequence, in order.
    got = out.read_text().splitlines()
    assert got == [f"{i:012d}" for i in range(len(got))]


def test_a_failing_task_is_failed_with_trace_and_others_keep_running(
    server: ServerProcess, tmp_path: Path
) -> None:
    source = tmp_path / "in.txt"
    source.touch()
    ok_out = tmp_path / "ok.txt"
    server.create("src", {"connector.class": "FileStreamSource", "file": str(source), "topic": "t"})
    server.create("ok-sink", {"connector.class": "FileStreamSink", "file": str(ok_out), "topics": "t"})
    # A sink that writes into a directory path fails in start() with IsADirectoryError.
    server.create(
        "bad-sink",
        {
            "connector.class": "FileStreamSink",
            "file": str(tmp_path),
            "topics": "t",
            "auto.restart.enable": "false",
        },
    )
    status = wait_until(
        lambda: (
            (s := server.client.get("/connectors/bad-sink/status").json())["tasks"]
            and s["tasks"][0]["state"] == "FAILED"
            and s
        ),
        timeout=10,
    )
    assert "IsADirectoryError" in status["tasks"][0]["trace"]
    assert "Traceback" in status["tasks"][0]["trace"]
    source.write_text("still flowing\n")
    wait_until(lambda: ok_out.exists() and ok_out.read_text() == "still flowing\n", timeout=10)
    assert server.client.get("/connectors/src/status").json()["tasks"][0]["state"] == "RUNNING"


def test_retriable_failures_restart_by_themselves_with_backoff(
    server_factory, testkit_path: Path, tmp_path: Path
) -> None:
    server = server_factory({"plugin.path": str(testkit_path)})
    state = tmp_path / "attempts"
    server.create(
        "flaky",
        {
            "connector.class": "FlakySource",
            "topic": "flaky",
            "state.file": str(state),
            "failures": "2",
            "auto.restart.backoff.initial.ms": "300",
            "auto.restart.max.attempts": "5",
        },
    )
    seen_failed = wait_until(
        lambda: (
            (s := server.client.get("/connectors/flaky/status").json())["tasks"]
            and s["tasks"][0]["state"] == "FAILED"
            and s["tasks"][0].get("auto_restart")
            and s
        ),
        timeout=10,
    )
    restart = seen_failed["tasks"][0]["auto_restart"]
    assert restart["max_attempts"] == 5 and restart["attempts"] >= 1 and restart["next_attempt_at"]
    assert "ConnectionRefusedError" in seen_failed["tasks"][0]["trace"]
    server.wait_for_state("flaky", tasks=1, timeout=15)
    assert state.read_text() == "3"  # two failed starts, then a good one


def test_fatal_failures_are_not_retried(server_factory, testkit_path: Path, tmp_path: Path) -> None:
    server = server_factory({"plugin.path": str(testkit_path)})
    state = tmp_path / "attempts"
    server.create(
        "broken",
        {
            "connector.class": "FlakySource",
            "topic": "broken",
            "state.file": str(state),
            "failures": "5",
            "cause": "fatal",
            "auto.restart.backoff.initial.ms": "100",
        },
    )
    status = wait_until(
        lambda: (
            (s := server.client.get("/connectors/broken/status").json())["tasks"]
            and s["tasks"][0]["state"] == "FAILED"
            and s
        ),
        timeout=10,
    )
    assert "ConfigError" in status["tasks"][0]["trace"]
    time.sleep(1.0)
    assert state.read_text() == "1"
    assert "auto_restart" not in server.client.get("/connectors/broken/status").json()["tasks"][0]
    # A manual restart still works (and fails again, the config is still bad).
    assert server.client.post("/connectors/broken/tasks/0/restart").status_code == 204
    wait_until(lambda: state.read_text() == "2", timeout=10)


def test_plugin_installed_while_running_is_listed_without_restart(server_factory, tmp_path: Path) -> None:
    plugin_path = tmp_path / "plugins"
    plugin_path.mkdir()
    server = server_factory({"plugin.path": str(plugin_path)})
    names = [p["class"] for p in server.client.get("/connector-plugins").json()]
    assert "com.example.HelloSourceConnector" not in names

    pip_install_target(PLUGINS / "hello", plugin_path)

    plugins = server.client.get("/connector-plugins").json()
    assert {"class": "com.example.HelloSourceConnector", "type": "source", "version": "0.3.0"} in plugins
    out = tmp_path / "hello.txt"
    server.create("hello", {"connector.class": "HelloSource", "topic": "greetings"})
    server.create(
        "hello-sink", {"connector.class": "FileStreamSink", "topics": "greetings", "file": str(out)}
    )
    wait_until(lambda: out.exists() and out.read_text().startswith("hello\n"), timeout=10)
