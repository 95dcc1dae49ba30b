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
    # A sink whose file became a directory after it was created fails in start().
    bad = tmp_path / "bad.txt"
    response = server.client.post(
        "/connectors",
        json={
            "name": "bad-sink",
            "config": {"connector.class": "FileStreamSink", "file": str(bad), "topics": "t"},
            "initial_state": "STOPPED",
        },
    )
    assert response.status_code == 201, response.text
    bad.mkdir()
    assert server.client.put("/connectors/bad-sink/resume").status_code == 202
    status = wait_until(
        lambda: (
            (s := server.client.get("/connectors/bad-sink/status").json())["tasks"]
            and s["tasks"][0]["state"] == "FAILED"
            and s
        ),
        timeout=10,
    )
    assert "IsADirectoryError" in status["tasks"][0]["trace"]
    assert "it is a directory; give the path of a file to append to" in status["tasks"][0]["trace"]
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


@pytest.mark.parametrize(("cause", "error"), [("fatal", "ConfigError"), ("path", "FileNotFoundError")])
def test_fatal_failures_are_not_retried(
    server_factory, testkit_path: Path, tmp_path: Path, cause: str, error: str
) -> None:
    """A config error, or an OS error about a path (a missing directory), is not retried."""
    server = server_factory({"plugin.path": str(testkit_path)})
    state = tmp_path / "attempts"
    server.create(
        "broken",
        {
            "connector.class": "FlakySource",
            "topic": "broken",
            "state.file": str(state),
            "failures": "5",
            "cause": cause,
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
    assert error in status["tasks"][0]["trace"]
    time.sleep(1.0)
    assert state.read_text() == "1"
    assert "auto_restart" not in server.client.get("/connectors/broken/status").json()["tasks"][0]
    # A manual restart still works (and fails again, the config is still bad).
    assert server.client.post("/connectors/broken/tasks/0/restart").status_code == 204
    wait_until(lambda: state.read_text() == "2", timeout=10)


def test_sink_whose_directory_disappears_fails_once_without_automatic_restarts(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A path error is not transient: the task is FAILED with the reason and the fix, and not
    restarted ten times with a backoff (auto-restart is on by default)."""
    folder = tmp_path / "gone"
    folder.mkdir()
    out = folder / "out.txt"
    server.create(
        "gone-sink",
        {
            "connector.class": "FileStreamSink",
            "file": str(out),
            "topics": "gone",
            "auto.restart.backoff.initial.ms": "100",
        },
    )
    server.wait_for_state("gone-sink", tasks=1)
    out.unlink(missing_ok=True)
    folder.rmdir()
    # The running task keeps its open file; it opens the path again when it is restarted (as
    # after a worker restart or a rebalance).
    assert server.client.post("/connectors/gone-sink/restart?includeTasks=true").status_code in (202, 204)
    status = wait_until(
        lambda: (
            (s := server.client.get("/connectors/gone-sink/status").json())["tasks"]
            and s["tasks"][0]["state"] == "FAILED"
            and s
        ),
        timeout=10,
    )
    trace = status["tasks"][0]["trace"]
    assert "FileNotFoundError" in trace
    assert (
        f"Cannot write to {out}: its directory does not exist; create it, or choose a file in an "
        "existing directory" in trace
    )
    time.sleep(1.0)  # ten times the initial backoff: a retriable failure would have been restarted
    status = server.client.get("/connectors/gone-sink/status").json()
    assert status["tasks"][0]["state"] == "FAILED"
    assert "auto_restart" not in status["tasks"][0]
    assert "scheduling automatic restart" not in server.log()


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
