"""Idle tasks cost (almost) nothing: a worker with 2,000 idle file sources stays responsive.

Before: every idle FileStreamSource task made a thread-pool round trip every 100 ms, so
3,389 of them kept a core busy and ``GET /`` took seconds.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import psutil
import pytest

from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CONNECTORS = 2000


def latency_ms(server: ServerProcess, url: str, samples: int = 10) -> float:
    """Median latency of ``url`` in milliseconds."""
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        assert server.client.get(url).status_code == 200
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.1)
    return statistics.median(times)


def test_two_thousand_idle_file_sources_leave_the_worker_idle(server_factory, tmp_path: Path) -> None:
    server = server_factory({"offset.flush.interval.ms": "60000"})
    files = tmp_path / "in"
    files.mkdir()
    for i in range(CONNECTORS):
        file = files / f"{i}.txt"
        if i % 2 == 0:
            file.touch()  # half tail an empty file, half wait for a file that does not exist yet
        response = server.client.post(
            "/connectors",
            json={
                "name": f"idle-{i}",
                "config": {
                    "connector.class": "FileStreamSource",
                    "file": str(file),
                    "topic": f"idle-{i % 10}",
                },
            },
        )
        assert response.status_code == 201, response.text

    def all_running() -> bool:
        states = server.client.get("/connectors", params={"expand": "status"}, timeout=60).json()
        return len(states) == CONNECTORS and all(
            [t["state"] for t in s["status"]["tasks"]] == ["RUNNING"] for s in states.values()
        )

    wait_until(all_running, timeout=120, interval=1, message="not every idle source is running")
    time.sleep(3)  # let the start-up settle

    assert server.process is not None
    process = psutil.Process(server.process.pid)
    process.cpu_percent(None)
    time.sleep(10)
    cpu = process.cpu_percent(None)  # percent of one core over the 10 s
    root = latency_ms(server, "/")
    listing = latency_ms(server, "/connectors")
    print(
        f"{CONNECTORS} idle file sources: worker CPU {cpu:.1f}% of one core, GET / {root:.1f} ms, GET /connectors {listing:.1f} ms"
    )
    assert cpu < 50, cpu
    assert root < 200, root
    assert listing < 500, listing

    # Still live: a line appended to an idle file arrives promptly (the backoff is short).
    probe = files / "0.txt"
    sink = tmp_path / "out.txt"
    server.create("probe-sink", {"connector.class": "FileStreamSink", "file": str(sink), "topics": "idle-0"})
    server.wait_for_state("probe-sink", tasks=1)
    time.sleep(5)  # the sources are at their longest idle wait
    started = time.monotonic()
    probe.write_text("hello\n")
    wait_until(lambda: sink.exists() and sink.read_text() == "hello\n", timeout=20, interval=0.05)
    arrival = time.monotonic() - started
    print(f"a line appended to an idle source arrived after {arrival:.2f} s")
    assert arrival < 5, arrival
