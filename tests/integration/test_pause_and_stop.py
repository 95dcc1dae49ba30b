"""Pause and stop mean what the status says: end to end against a real embedded worker.

Every test here failed on the runtime before "pause means paused" (commit a04dfac), where a
task reported PAUSED as soon as the REST call arrived (its data loop still put the batch it
was handling), an embedded sink committed its offsets only every ``offset.flush.interval.ms``,
a paused sink left the log's reader registry (so its source ran ahead without limit), and
retention deleted records by age whether or not a sink had read them. Each test says which
of these it catches.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import ServerProcess, wait_until

pytestmark = pytest.mark.integration

SOURCE, SINK = "file-source", "file-sink"
WIDTH = 16  # bytes per line with its newline: a source's byte position counts its lines


def lines(start: int, stop: int) -> list[str]:
    return [f"rec {i:011d}" for i in range(start, stop)]


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def append(path: Path, new: list[str]) -> None:
    with path.open("a") as f:
        f.write("".join(x + "\n" for x in new))


def start_pipeline(
    server: ServerProcess,
    tmp_path: Path,
    source_extra: dict[str, str] | None = None,
    sink_extra: dict[str, str] | None = None,
) -> tuple[Path, Path]:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.touch()
    server.create(
        SOURCE,
        {
            "connector.class": "FileStreamSource",
            "file": str(source),
            "topic": "lines",
            **(source_extra or {}),
        },
    )
    server.create(
        SINK,
        {"connector.class": "FileStreamSink", "file": str(sink), "topics": "lines", **(sink_extra or {})},
    )
    server.wait_for_state(SOURCE, tasks=1)
    server.wait_for_state(SINK, tasks=1)
    return source, sink


def sink_task(server: ServerProcess) -> dict[str, Any]:
    response = server.client.get(f"/connectors/{SINK}/tasks/0/status")
    assert response.status_code == 200, response.text
    return dict(response.json())


def source_lines_written(server: ServerProcess) -> int:
    """Lines the source has written to the topic, from its committed byte position."""
    offsets = server.client.get(f"/connectors/{SOURCE}/offsets").json()["offsets"]
    position = offsets[0]["offset"]["position"] if offsets else 0
    assert position % WIDTH == 0, position
    return int(position) // WIDTH


def pause(server: ServerProcess, name: str) -> None:
    assert server.client.put(f"/connectors/{name}/pause").status_code == 202


def resume(server: ServerProcess, name: str) -> None:
    assert server.client.put(f"/connectors/{name}/resume").status_code == 202


def duplicates(output: list[str]) -> int:
    return sum(n - 1 for n in Counter(output).values())


class Streamer:
    """Appends lines to the source file in small bursts from a thread, until stopped or done."""

    def __init__(self, path: Path, total: int, burst: int = 50, gap_s: float = 0.005) -> None:
        self.path, self.total, self.burst, self.gap_s = path, total, burst, gap_s
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.written < self.total and not self._stop.is_set():
            n = min(self.burst, self.total - self.written)
            append(self.path, lines(self.written, self.written + n))
            self.written += n
            time.sleep(self.gap_s)

    def __enter__(self) -> Streamer:
        self._thread.start()
        return self

    def finish(self) -> None:
        """Wait until every line is written."""
        self._thread.join(120)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def __exit__(self, *exc: object) -> None:
        self.stop()


def test_no_line_is_written_once_the_sink_reads_paused(server_factory, tmp_path: Path) -> None:
    """Old runtime: PAUSED was reported at once while the loop still put the batch it was
    fetching or converting, so the file grew after the status read PAUSED. A tight sampler
    (status, then file size) catches that write in a few milliseconds; several cycles make
    missing it on the old runtime very unlikely."""
    server = server_factory({"offset.flush.interval.ms": "500", "consumer.max.poll.records": "200"})
    source, sink = start_pipeline(server, tmp_path)
    total = 200_000  # more than the test streams: stopped after the last cycle
    with Streamer(source, total, burst=20, gap_s=0.005) as streamer:
        for cycle in range(4):
            wait_until(lambda c=cycle: len(lines_of(sink)) > 1000 * (c + 1), timeout=30)
            pause(server, SINK)
            baseline: int | None = None
            deadline = time.monotonic() + 15
            while baseline is None and time.monotonic() < deadline:
                if sink_task(server)["state"] == "PAUSED":
                    baseline = sink.stat().st_size  # read after the answer said PAUSED
            assert baseline is not None, "the sink never reported PAUSED"
            samples = []
            until = time.monotonic() + (3.0 if cycle == 0 else 1.0)
            while time.monotonic() < until:
                assert sink_task(server)["state"] == "PAUSED"
                samples.append(sink.stat().st_size)
            assert set(samples) == {baseline}, (
                f"cycle {cycle}: the file grew while PAUSED: {baseline} -> {max(samples)}"
            )
            assert streamer.written < total, "the stream ended before the check; nothing would have been put"
            resume(server, SINK)
        streamer.stop()
        written = streamer.written

    expected = lines(0, written)
    wait_until(lambda: len(lines_of(sink)) >= written, timeout=60, message="lines missing after resume")
    time.sleep(0.5)
    assert lines_of(sink) == expected  # every line exactly once, in order


def test_kill_9_of_an_embedded_sink_repeats_at_most_one_batch(server_factory, tmp_path: Path) -> None:
    """Old runtime: offsets were committed only on the timer (a minute here), so a kill -9
    repeated everything put since the last commit: thousands of lines."""
    data = tmp_path / "data"
    max_poll = 300
    settings = {"offset.flush.interval.ms": "60000", "consumer.max.poll.records": str(max_poll)}
    server = server_factory(settings, data_dir=data)
    source, sink = start_pipeline(server, tmp_path)
    total = 20_000
    with Streamer(source, total, burst=100, gap_s=0.002) as streamer:
        wait_until(lambda: len(lines_of(sink)) > 5000, timeout=60)
        server.kill()  # mid-stream: the source file keeps growing while the worker is down
        streamer.finish()
    server_factory(settings, data_dir=data)
    expected = lines(0, total)
    wait_until(lambda: set(lines_of(sink)) >= set(expected), timeout=90, message="records were lost")
    time.sleep(1)
    output = lines_of(sink)
    dup = duplicates(output)
    print(f"kill -9 mid-stream: {dup} duplicate lines (max.poll.records={max_poll})")
    assert dup <= max_poll, dup
    assert list(dict.fromkeys(output)) == expected


def test_a_paused_sink_has_committed_what_it_put(server_factory, tmp_path: Path) -> None:
    """Old runtime: pausing committed nothing and the timer (a minute) had not fired, so after
    a kill -9 and a resume the sink wrote every line again."""
    data = tmp_path / "data"
    settings = {"offset.flush.interval.ms": "60000"}
    server = server_factory(settings, data_dir=data)
    source, sink = start_pipeline(server, tmp_path)
    append(source, lines(0, 3000))
    wait_until(lambda: len(lines_of(sink)) == 3000, timeout=30)
    pause(server, SINK)
    server.wait_for_state(SINK, "PAUSED", tasks=1)
    time.sleep(2)
    server.kill()

    restarted = server_factory(settings, data_dir=data)
    restarted.wait_for_state(SINK, "PAUSED", tasks=1)  # the target state survives the restart
    resume(restarted, SINK)
    restarted.wait_for_state(SINK, "RUNNING", tasks=1)
    append(source, lines(3000, 3100))
    wait_until(lambda: lines_of(sink)[-1:] == lines(3099, 3100), timeout=30)
    time.sleep(0.5)
    output = lines_of(sink)
    assert duplicates(output) == 0, duplicates(output)
    assert output == lines(0, 3100)


def test_a_paused_sink_holds_back_its_source(server_factory, tmp_path: Path) -> None:
    """Old runtime: a paused sink left the log's reader registry, so ``log.max.lag.records``
    no longer applied and the source wrote all 20,000 lines while the sink was paused."""
    limit, batch = 1000, 100
    server = server_factory({"offset.flush.interval.ms": "300", "log.max.lag.records": str(limit)})
    source, sink = start_pipeline(server, tmp_path, source_extra={"batch.size": str(batch)})
    append(source, lines(0, 500))
    wait_until(lambda: len(lines_of(sink)) == 500, timeout=30)
    pause(server, SINK)
    server.wait_for_state(SINK, "PAUSED", tasks=1)

    total = 20_000
    append(source, lines(500, total))
    time.sleep(4)
    ahead = source_lines_written(server) - 500
    lag = sink_task(server).get("consumer_lag")
    print(f"paused sink: source ran {ahead} lines ahead, consumer_lag={lag}")
    # The source waits once the lag exceeds the limit; one more batch may be in flight.
    assert 0 < ahead <= limit + batch, ahead
    assert lag is not None and lag <= limit + batch, lag

    resume(server, SINK)
    wait_until(lambda: len(lines_of(sink)) >= total, timeout=90, message="the source did not catch up")
    time.sleep(0.5)
    assert lines_of(sink) == lines(0, total)


def test_retention_keeps_what_a_paused_sink_has_not_read(server_factory, tmp_path: Path) -> None:
    """Old runtime: retention deleted records older than ``log.retention.ms`` whether or not a
    sink had read them, so a sink paused longer than that silently skipped them."""
    server = server_factory(
        {
            "offset.flush.interval.ms": "300",
            "log.retention.ms": "500",
            "log.retention.check.interval.ms": "1000",
        }
    )
    source, sink = start_pipeline(server, tmp_path)
    append(source, lines(0, 100))
    wait_until(lambda: len(lines_of(sink)) == 100, timeout=30)
    pause(server, SINK)
    server.wait_for_state(SINK, "PAUSED", tasks=1)
    append(source, lines(100, 2100))
    wait_until(lambda: source_lines_written(server) == 2100, timeout=30)
    time.sleep(3.5)  # several retention runs, every unread record far older than retention
    resume(server, SINK)
    wait_until(lambda: len(lines_of(sink)) >= 2100, timeout=30, message="paused sink lost records")
    time.sleep(0.5)
    assert lines_of(sink) == lines(0, 2100)
    assert "records_lost" not in sink_task(server)


def test_records_retention_had_to_delete_are_counted_as_lost(server_factory, tmp_path: Path) -> None:
    """``log.retention.unread.max.records`` caps what retention keeps for a paused sink; what
    it deletes anyway shows up as ``records_lost`` in the sink task's status (old runtime: the
    records were skipped without a trace)."""
    cap = 500
    server = server_factory(
        {
            "offset.flush.interval.ms": "300",
            "log.retention.ms": "500",
            "log.retention.check.interval.ms": "1000",
            "log.retention.unread.max.records": str(cap),
        }
    )
    source, sink = start_pipeline(server, tmp_path)
    append(source, lines(0, 100))
    wait_until(lambda: len(lines_of(sink)) == 100, timeout=30)
    pause(server, SINK)
    server.wait_for_state(SINK, "PAUSED", tasks=1)
    append(source, lines(100, 2100))
    wait_until(lambda: source_lines_written(server) == 2100, timeout=30)
    time.sleep(3.5)
    resume(server, SINK)
    wait_until(lambda: lines_of(sink)[-1:] == lines(2099, 2100), timeout=30)
    status = wait_until(lambda: (s := sink_task(server)).get("records_lost") and s, timeout=10)
    assert status["records_lost"] == 2000 - cap, status
    assert lines_of(sink) == lines(0, 100) + lines(2100 - cap, 2100)
    assert "records were deleted by retention before this sink read them" in server.log()
