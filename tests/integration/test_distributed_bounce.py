"""A stream through three distributed workers while they are stopped, killed and restarted.

FileStreamSource -> a one-partition topic -> FileStreamSink with ``tasks.max=3``: one sink
task holds the partition at a time, so every hand-over of it is a consumer-group rebalance.
Lines are appended to the source file at a steady rate by a feeder thread while the test
bounces workers; at the end every line must be in the sink file.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from tests.support.cluster import KAFKA_ONLY
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, KAFKA_ONLY]

LINES = 80_000
"""Lines streamed while workers are bounced (40 s)."""
QUIET_LINES = 40_000
RATE = 2_000
SOURCE, SINK = "bounce-source", "bounce-sink"
"""Connector names; every test has its own cluster, and its sink group is named after it."""
REBALANCED = re.compile(
    r"^(\S+) .*?sink consumer group rebalanced.*?generation=(-?\d+).*?partitions=(\d+)", re.M
)
MEMBERSHIP = re.compile(r"^(\S+) .*?sink consumer (joining|left) its group", re.M)
EVICTED = "local member_id was not recognized"


class Feeder:
    """Appends ``total`` numbered lines to ``path`` at ``rate`` lines per second."""

    def __init__(self, path: Path, total: int, rate: int) -> None:
        self.path, self.total, self.rate = path, total, rate
        self.written = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        step = self.rate // 10
        with self.path.open("a") as out:
            while self.written < self.total and not self._stop.is_set():
                due = started + (self.written + step) / self.rate
                time.sleep(max(0.0, due - time.monotonic()))
                end = min(self.total, self.written + step)
                out.write("".join(f"{i:012d}\n" for i in range(self.written, end)))
                out.flush()
                self.written = end

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def unreported(bootstrap: str, topic: str, worker_id: str, stopped_at_ms: int) -> tuple[int, dict[str, str]]:
    """(how many connectors and tasks ``worker_id`` ran when it was stopped at ``stopped_at_ms``,
    those the status topic still shows in another state than UNASSIGNED from it)."""

    async def read() -> list[tuple[str, int, str, str]]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        await consumer.start()
        found: list[tuple[str, int, str, str]] = []
        try:
            idle = 0
            while idle < 2:
                batches = await consumer.getmany(timeout_ms=500)
                idle = 0 if batches else idle + 1
                for records in batches.values():
                    for r in records:
                        value = orjson.loads(r.value) if r.value else {}
                        found.append(
                            (r.key.decode(), r.timestamp, value.get("worker_id", ""), value.get("state", ""))
                        )
        finally:
            await consumer.stop()
        return found

    records = sorted(asyncio.run(read()), key=lambda r: r[1])
    before = {key: worker for key, at, worker, _ in records if at < stopped_at_ms}
    owned = {key for key, worker in before.items() if worker == worker_id}
    last = {key: state for key, at, worker, state in records if worker == worker_id and key in owned}
    return len(owned), {key: state for key, state in last.items() if state != "UNASSIGNED"}


def sink_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def duplicates(lines: list[str]) -> int:
    return len(lines) - len(set(lines))


def generations(workers: list[ServerProcess]) -> list[tuple[int, int, str, str]]:
    """(generation, partitions held, worker url, time) for each member of each sink-group generation."""
    return [(int(m[2]), int(m[3]), w.url, m[1]) for w in workers for m in REBALANCED.finditer(w.log())]


def membership_changes(workers: list[ServerProcess]) -> list[str]:
    """When sink consumers joined or left their group."""
    return [m[1] for w in workers for m in MEMBERSHIP.finditer(w.log())]


def sink_members(worker: ServerProcess) -> int:
    """Sink consumers this worker runs now (joined and not yet left)."""
    found = Counter(m[2] for m in MEMBERSHIP.finditer(worker.log()))
    return found["joining"] - found["left"]


def rebalances(workers: list[ServerProcess]) -> int:
    return len({g for g, *_ in generations(workers)})


def holder(workers: list[ServerProcess]) -> ServerProcess:
    """The worker whose sink task holds the partition in the newest generation."""
    seen = generations(workers)
    newest = max(g for g, *_ in seen)
    url = next(u for g, held, u, _ in seen if g == newest and held)
    return next(w for w in workers if w.url == url)


def settled(workers: list[ServerProcess]) -> bool:
    """The sink group has formed again after the last change of its membership (three members)."""
    seen = generations(workers)
    if not seen or sum(sink_members(w) for w in workers) != 3:
        return False
    newest = max(g for g, *_ in seen)
    members = [(held, at) for g, held, _, at in seen if g == newest]
    last_change = max(membership_changes(workers))
    return len(members) == 3 and sum(h for h, _ in members) == 1 and min(a for _, a in members) > last_change


def running(server: ServerProcess, name: str, tasks: int, live: set[str]) -> bool:
    try:
        response = server.client.get(f"/connectors/{name}/status")
    except Exception:
        return False
    if response.status_code != 200:
        return False
    status = response.json()
    return (
        status["connector"]["state"] == "RUNNING"
        and len(status["tasks"]) == tasks
        and all(t["state"] == "RUNNING" and t["worker_id"] in live for t in status["tasks"])
    )


def start_pipeline(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str, **settings: str
) -> tuple[list[ServerProcess], Path, Path]:
    merged = {"plugin.path": str(testkit_path), "offset.flush.interval.ms": "5000", **settings}
    workers = [server_factory(merged) for _ in range(3)]
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.touch()
    topic = f"{cluster_id}-lines"
    workers[0].create(
        SOURCE,
        {
            "connector.class": "FileStreamSource",
            "file": str(source),
            "topic": topic,
            "topic.creation.default.partitions": "1",
            "topic.creation.default.replication.factor": "1",
        },
    )
    workers[1].create(
        SINK,
        {
            "connector.class": "FileStreamSink",
            "file": str(sink),
            "topics": topic,
            "tasks.max": "3",
            "consumer.override.group.id": f"{cluster_id}-sink",
        },
    )
    live = {w.worker_id for w in workers}
    wait_until(lambda: running(workers[2], SINK, 3, live), timeout=60, message="sink not running")
    wait_until(lambda: running(workers[2], SOURCE, 1, live), timeout=60, message="source not running")
    return workers, source, sink


def wait_for_lines(sink: Path, count: int, timeout: float = 90) -> None:
    wait_until(lambda: len(set(sink_lines(sink))) >= count, timeout=timeout, interval=0.2)


@pytest.mark.parametrize("eos", ["disabled", "enabled"])
def test_no_fault_no_rebalance_no_duplicate(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str, eos: str
) -> None:
    """Started together and left alone, the sink group forms once and nothing is written twice."""
    workers, source, sink = start_pipeline(
        server_factory, testkit_path, tmp_path, cluster_id, **{"exactly.once.source.support": eos}
    )
    started = time.monotonic()
    with Feeder(source, QUIET_LINES, RATE):
        wait_for_lines(sink, QUIET_LINES)
    took = time.monotonic() - started
    lines = sink_lines(sink)
    rebalanced, members = rebalances(workers), len(membership_changes(workers))
    print(
        f"\nno fault (exactly.once.source.support={eos}): {QUIET_LINES} lines in {took:.1f}s, {duplicates(lines)} duplicates, "
        f"{rebalanced} rebalances for {members} membership changes"
    )
    assert set(lines) == {f"{i:012d}" for i in range(QUIET_LINES)}
    assert duplicates(lines) == 0
    assert rebalanced <= members
    assert not any(EVICTED in w.log() for w in workers)


def test_bounced_workers_lose_nothing_and_a_clean_stop_repeats_nothing(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str, kafka_bootstrap: str
) -> None:
    workers, source, sink = start_pipeline(server_factory, testkit_path, tmp_path, cluster_id)
    wait_until(lambda: settled(workers), timeout=60, message="sink group did not settle")
    expected = {f"{i:012d}" for i in range(LINES)}
    urls = {w.worker_id for w in workers}
    stops: list[float] = []
    dups: list[int] = []

    def clean_bounce(victim: ServerProcess) -> None:
        began, began_ms = time.monotonic(), int(time.time() * 1000)
        assert victim.stop(timeout=30) in (0, -15)  # uvicorn re-raises SIGTERM after a clean exit
        stops.append(time.monotonic() - began)
        # Before it left, it said that what it ran is no longer running there.
        ran, left_running = unreported(kafka_bootstrap, f"{cluster_id}-status", victim.worker_id, began_ms)
        assert ran > 0 and left_running == {}, left_running
        others = [w for w in workers if w is not victim]
        live = urls - {victim.worker_id}
        wait_until(lambda: running(others[0], SINK, 3, live), timeout=60, message="sink not moved")
        wait_until(lambda: running(others[1], SOURCE, 1, live), timeout=60, message="source not moved")
        wait_until(lambda: settled(others), timeout=60, message="sink group did not settle")
        wait_for_lines(sink, min(feeder.written, LINES) - RATE)
        dups.append(duplicates(sink_lines(sink)))
        victim.start(60)
        wait_until(lambda: running(workers[0], SINK, 3, urls), timeout=60, message="sink not back")
        wait_until(lambda: running(workers[0], SOURCE, 1, urls), timeout=60, message="source not back")
        wait_until(lambda: settled(workers), timeout=60, message="sink group did not settle")

    with Feeder(source, LINES, RATE) as feeder:
        wait_for_lines(sink, 6_000)
        # A worker running a sink task that does not hold the partition: the holder elsewhere
        # hands the partition over while the stream goes on.
        clean_bounce(next(w for w in workers if w is not holder(workers) and sink_members(w)))
        clean_bounce(holder(workers))
        # kill -9 of the holder: at least once, so lines may repeat, but none is lost.
        wait_for_lines(sink, len(set(sink_lines(sink))) + 3_000)  # uncommitted work on the holder
        killed = holder(workers)
        vanished = sink_members(killed)
        killed_at = feeder.written
        killed.kill()
        time.sleep(1)
        killed.start(60)
        wait_for_lines(sink, LINES, timeout=120)
    lines = sink_lines(sink)
    rebalanced, members = rebalances(workers), len(membership_changes(workers))
    print(
        f"\nbounce: clean stops took {', '.join(f'{s:.1f}s' for s in stops)}; duplicates after them {dups}, "
        f"{duplicates(lines)} at the end (kill -9 at line {killed_at}); {rebalanced} rebalances for "
        f"{members} membership changes and {vanished} killed members"
    )
    assert killed_at < LINES  # the kill happened during the stream
    assert set(lines) == expected
    assert dups == [0, 0]
    assert all(s < 5 for s in stops), stops
    assert rebalanced <= members + vanished
    assert not any(EVICTED in w.log() for w in workers)
