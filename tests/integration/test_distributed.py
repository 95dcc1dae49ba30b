"""Several distributed workers on one real Kafka: sharing work, losing a worker, a worker joining."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from app.api.auth import forward
from app.api.auth.users import Role, UsersFile
from tests.support.cluster import KAFKA_ONLY, distributed_settings
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, KAFKA_ONLY]

TOTAL = 100_000
TASKS = 6


def sequence_source(topic: str, **extra: str) -> dict[str, str]:
    return {
        "connector.class": "penstock_testkit.plugins.SequenceSourceConnector",
        "tasks.max": str(TASKS),
        "topic": topic,
        "count": str(TOTAL),
        "payload.bytes": "100",
        "batch.size": "200",
        "topic.creation.default.partitions": str(TASKS),
        "topic.creation.default.replication.factor": "1",
        **extra,
    }


def file_sink(topic: str, pattern: Path) -> dict[str, str]:
    return {
        "connector.class": "penstock_testkit.plugins.SlowSinkConnector",
        "tasks.max": str(TASKS),
        "topics": topic,
        "file": str(pattern),
        "delay.ms.per.batch": "0",
        "timestamps": "true",
    }


@dataclass(frozen=True)
class SinkLine:
    value: str
    written_at: float  # wall clock, as the sink task wrote it
    file: str  # out-<pid>.txt: which worker wrote it


def sink_lines(folder: Path) -> list[SinkLine]:
    lines = []
    for path in sorted(folder.glob("out-*.txt")):
        for line in path.read_text().splitlines():
            value, written_at = line.split(" ")
            lines.append(SinkLine(value, float(written_at), path.name))
    return lines


def converged(server: ServerProcess, name: str, live: set[str]) -> bool:
    response = server.client.get(f"/connectors/{name}/status")
    if response.status_code != 200:
        return False
    status = response.json()
    tasks = status["tasks"]
    return (
        status["connector"]["state"] == "RUNNING"
        and status["connector"]["worker_id"] in live
        and len(tasks) == TASKS
        and all(t["state"] == "RUNNING" and t["worker_id"] in live for t in tasks)
    )


class RestProbe:
    """Asks a worker for a status every 100 ms in the background and keeps every failure."""

    def __init__(self, servers: list[ServerProcess], name: str) -> None:
        self.servers, self.name = servers, name
        self.failures: list[str] = []
        self.calls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for server in self.servers:
                try:
                    response = server.client.get(f"/connectors/{self.name}/status", timeout=5)
                    if response.status_code != 200:
                        self.failures.append(f"{server.url}: {response.status_code} {response.text}")
                except Exception as exc:
                    self.failures.append(f"{server.url}: {exc!r}")
                self.calls += 1
            time.sleep(0.1)

    def __enter__(self) -> RestProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def read_topic(bootstrap: str, topic: str) -> list[tuple[str, float]]:
    """Each record's sequence number and timestamp (the producer's clock), as a read-committed consumer sees them."""

    async def read() -> list[tuple[bytes, int]]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", isolation_level="read_committed"
        )
        await consumer.start()
        records: list[tuple[bytes, int]] = []
        try:
            idle = 0
            while idle < 3:
                batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                idle = 0 if batches else idle + 1
                records.extend((r.value, r.timestamp) for batch in batches.values() for r in batch)
        finally:
            await consumer.stop()
        return records

    return [
        (orjson.loads(value)["payload"][:12], timestamp / 1000) for value, timestamp in asyncio.run(read())
    ]


# The stream is throttled (1,000 records/s per task, ~17 s in all) so that the kill lands in its
# middle and what a crash repeats can be told from the rest by when it was written.
THROTTLED = {"batch.size": "100", "poll.interval.ms": "100"}
FLUSH_INTERVAL_S = 0.5
# At least once: a kill -9 repeats what the dead worker wrote after its last offset flush (source)
# or commit (sink), i.e. within one flush interval before it died, plus the time the flush itself
# and one poll-put cycle take on a busy machine. Nothing older may come twice.
REPEAT_WINDOW_S = FLUSH_INTERVAL_S + 1.5


@dataclass(frozen=True)
class KilledRun:
    lines: list[SinkLine]
    victim_file: str
    killed_at: float  # wall clock
    recovered: float  # seconds from the kill until every task ran on the survivors


def kill_one_during_the_stream(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str, settings: dict[str, str]
) -> KilledRun:
    merged = {
        "plugin.path": str(testkit_path),
        "offset.flush.interval.ms": str(int(FLUSH_INTERVAL_S * 1000)),
        **settings,
    }
    workers = [server_factory(merged) for _ in range(3)]
    out = tmp_path / "sink"
    out.mkdir()
    topic = f"{cluster_id}-numbers"
    # The source first: it creates the topic with one partition per task, so every sink task has one
    # (a sink subscribing first would have the broker create it with its default of one partition).
    workers[1].create("numbers", sequence_source(topic, **THROTTLED))  # a follower: forwarded to the leader
    wait_until(
        lambda: workers[0].client.get("/connectors/numbers/topics").json()["numbers"]["topics"], timeout=60
    )
    workers[0].create("numbers-sink", file_sink(topic, out / "out-{pid}.txt"))
    every = {w.worker_id for w in workers}
    wait_until(lambda: converged(workers[2], "numbers", every), timeout=60)
    wait_until(lambda: converged(workers[2], "numbers-sink", every), timeout=60)
    victim, survivors = workers[1], [workers[0], workers[2]]
    live = {w.worker_id for w in survivors}
    victim_file = f"out-{victim.process.pid}.txt"  # type: ignore[union-attr]

    def the_victims_sink_tasks_have_been_working() -> bool:
        # Long enough that what it wrote before its last commits is older than the repeat window
        # (a sink task joins its group a few seconds after it starts: the group's members rejoin
        # on their next heartbeat).
        first = next((line.written_at for line in sink_lines(out) if line.file == victim_file), None)
        return first is not None and time.time() - first > REPEAT_WINDOW_S + 1

    with RestProbe(survivors, "numbers") as probe:
        wait_until(the_victims_sink_tasks_have_been_working, timeout=60, interval=0.2)
        victim.kill()
        killed_at, killed_monotonic = time.time(), time.monotonic()
        wait_until(lambda: converged(survivors[0], "numbers", live), timeout=60, interval=0.2)
        wait_until(lambda: converged(survivors[1], "numbers-sink", live), timeout=60, interval=0.2)
        recovered = time.monotonic() - killed_monotonic
        expected = {f"{i:012d}" for i in range(TOTAL)}
        wait_until(
            lambda: {line.value for line in sink_lines(out)} >= expected,
            timeout=120,
            interval=0.5,
            message="records lost",
        )
    assert probe.calls > 20
    assert probe.failures == []
    return KilledRun(sink_lines(out), victim_file, killed_at, recovered)


def test_three_workers_share_six_tasks_and_survive_kill_9(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str, kafka_bootstrap: str
) -> None:
    run = kill_one_during_the_stream(server_factory, testkit_path, tmp_path, cluster_id, {})
    records = read_topic(kafka_bootstrap, f"{cluster_id}-numbers")
    assert {value for value, _ in records} == {f"{i:012d}" for i in range(TOTAL)}
    oldest_repeatable = run.killed_at - REPEAT_WINDOW_S

    # Source side: a number on the topic twice was first written by the victim after its last flush.
    written: dict[str, list[float]] = {}
    for value, timestamp in records:
        written.setdefault(value, []).append(timestamp)
    repeated_on_topic = {value: min(times) for value, times in written.items() if len(times) > 1}
    too_old = {v: round(t - run.killed_at, 3) for v, t in repeated_on_topic.items() if t < oldest_repeatable}
    assert too_old == {}, (
        f"written again though first written longer than a flush interval before the kill (s before it): {list(too_old.items())[:5]}"
    )

    # Sink side: a number in the files more often than on the topic was put by the victim after its
    # last commit, then put again by the survivor that took its partition over.
    in_files = Counter(line.value for line in run.lines)
    on_topic = Counter(value for value, _ in records)
    repeated_by_sink = {value for value, n in in_files.items() if n > on_topic[value]}
    stale = [
        (line.value, line.file, round(line.written_at - run.killed_at, 3))
        for line in run.lines
        if line.value in repeated_by_sink
        and (line.file != run.victim_file or line.written_at < oldest_repeatable)
        and line.written_at < run.killed_at
    ]
    assert stale == [], (
        f"put again though first put by a survivor, or longer than a commit interval before the kill: {stale[:5]}"
    )
    print(
        f"\nkill -9: tasks running elsewhere after {run.recovered:.1f}s; written again: "
        f"{len(repeated_on_topic)} by the source, {len(repeated_by_sink)} by the sink"
    )


def test_exactly_once_sources_write_no_duplicates_despite_kill_9(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str, kafka_bootstrap: str
) -> None:
    kill_one_during_the_stream(
        server_factory, testkit_path, tmp_path, cluster_id, {"exactly.once.source.support": "enabled"}
    )
    counts = Counter(value for value, _ in read_topic(kafka_bootstrap, f"{cluster_id}-numbers"))
    assert len(counts) == TOTAL
    assert max(counts.values()) == 1, [k for k, n in counts.items() if n > 1][:5]


def test_a_joining_worker_moves_only_the_tasks_it_takes_over(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str
) -> None:
    settings = {"plugin.path": str(testkit_path)}
    first, second = server_factory(settings), server_factory(settings)
    starts = tmp_path / "starts.txt"
    first.create(
        "slow-numbers",
        sequence_source(
            f"{cluster_id}-slow", count="100000000", **{"batch.size": "1", "start.log": str(starts)}
        ),
    )
    wait_until(lambda: converged(first, "slow-numbers", {first.worker_id, second.worker_id}), timeout=60)
    before = starts.read_text().splitlines()
    assert sorted(int(line.split()[0]) for line in before) == list(range(TASKS))

    joined_at = time.monotonic()
    third = server_factory(settings)
    pid = str(third.process.pid)  # type: ignore[union-attr]

    def third_runs_its_share() -> bool:
        tasks = first.client.get("/connectors/slow-numbers/status").json()["tasks"]
        return sum(t["worker_id"] == third.worker_id and t["state"] == "RUNNING" for t in tasks) == 2

    wait_until(third_runs_its_share, timeout=60, interval=0.1)
    rebalance_s = time.monotonic() - joined_at
    print(f"\njoin: the new worker runs its 2 tasks {rebalance_s:.1f}s after it was started")
    time.sleep(1)
    after = starts.read_text().splitlines()[len(before) :]
    assert sorted(line.split()[1] for line in after) == [pid, pid], after  # only the moved tasks restarted
    live = {w.worker_id for w in (first, second, third)}
    assert converged(second, "slow-numbers", live)
    per_worker = Counter(
        t["worker_id"] for t in second.client.get("/connectors/slow-numbers/status").json()["tasks"]
    )
    assert sorted(per_worker.values()) == [2, 2, 2]


def test_lifecycle_calls_on_a_follower_reach_the_tasks_wherever_they_run(
    server_factory: Any, testkit_path: Path, tmp_path: Path, cluster_id: str
) -> None:
    """Restart, pause, resume, stop and delete sent to either worker act on the whole cluster."""
    settings = {"plugin.path": str(testkit_path)}
    first, second = server_factory(settings), server_factory(settings)
    state = tmp_path / "attempts"
    second.create(
        "flaky",
        {
            "connector.class": "FlakySource",
            "tasks.max": "1",
            "topic": f"{cluster_id}-flaky",
            "state.file": str(state),
            "failures": "1",
            "cause": "fatal",
        },
    )

    def states() -> tuple[str, list[str]]:
        response = first.client.get("/connectors/flaky/status")
        if response.status_code != 200:
            return "", []
        status = response.json()
        return status["connector"]["state"], [t["state"] for t in status["tasks"]]

    wait_until(lambda: states() == ("RUNNING", ["FAILED"]), timeout=60)
    restarted = second.client.post("/connectors/flaky/restart?includeTasks=true&onlyFailed=true")
    assert restarted.status_code == 202, restarted.text
    assert restarted.json()["tasks"][0]["state"] == "RESTARTING"
    assert restarted.json()["connector"]["state"] == "RUNNING"  # only the failed task restarts
    wait_until(lambda: states() == ("RUNNING", ["RUNNING"]), timeout=30)
    assert state.read_text() == "2"

    assert second.client.put("/connectors/flaky/pause").status_code == 202
    wait_until(lambda: states() == ("PAUSED", ["PAUSED"]), timeout=30)
    assert first.client.put("/connectors/flaky/resume").status_code == 202
    wait_until(lambda: states() == ("RUNNING", ["RUNNING"]), timeout=30)
    assert second.client.put("/connectors/flaky/stop").status_code == 204
    wait_until(lambda: states() == ("STOPPED", []), timeout=30)
    assert first.client.get("/connectors/flaky/tasks").json() == []
    assert second.client.delete("/connectors/flaky").status_code == 204
    wait_until(lambda: first.client.get("/connectors/flaky/status").status_code == 404, timeout=30)
    assert second.client.get("/connectors").json() == []


def test_writes_sent_while_the_workers_join_wait_and_succeed(
    backend: str, kafka_bootstrap: str, testkit_path: Path, tmp_path: Path, cluster_id: str
) -> None:
    """Three workers started together each get a create as soon as they answer HTTP at all:
    each create waits for the group and succeeds, and then every worker lists every connector."""
    settings = {**distributed_settings(kafka_bootstrap, cluster_id), "plugin.path": str(testkit_path)}
    workers = [ServerProcess(tmp_path / f"w{i}", settings, mode="distributed") for i in range(3)]
    answers: dict[str, tuple[int, str]] = {}
    right_after: dict[str, tuple[list[str], int]] = {}

    def create(i: int, worker: ServerProcess) -> None:
        worker.start(60, ready=False)  # /healthz answers: the worker has not joined its group yet
        name = f"c{i}"
        config = {
            "connector.class": "FileStreamSink",
            "topics": f"{cluster_id}-t{i}",
            "file": str(tmp_path / name),
        }
        response = worker.client.post("/connectors", json={"name": name, "config": config}, timeout=100)
        answers[name] = (response.status_code, response.text)
        right_after[name] = (
            worker.client.get("/connectors").json(),
            worker.client.get(f"/connectors/{name}/status").status_code,
        )

    try:
        creators = [threading.Thread(target=create, args=(i, w)) for i, w in enumerate(workers)]
        for t in creators:
            t.start()
        for t in creators:
            t.join()
        assert {name: code for name, (code, _) in answers.items()} == {"c0": 201, "c1": 201, "c2": 201}, (
            answers
        )
        for name, (listed, status_code) in right_after.items():
            assert name in listed and status_code == 200, (name, listed, status_code)
        for worker in workers:
            wait_until(
                lambda w=worker: sorted(w.client.get("/connectors").json()) == ["c0", "c1", "c2"], timeout=5
            )
    finally:
        for worker in workers:
            worker.close()


def test_writes_on_a_follower_reach_the_leader_with_auth_on(
    server_factory: Any, tmp_path: Path, cluster_id: str
) -> None:
    """With rest.auth.users.file, a follower authenticates the caller and forwards writes with the
    caller's name and role signed by the shared cluster secret: admin and operator calls sent to
    either worker act on the cluster, a read-only caller is refused, a forged signature is 401."""
    users = UsersFile.load_or_new(tmp_path / "users.json")
    users.add("root", "admin-pass-1", Role.ADMIN)
    users.add("ops", "operator-pass-1", Role.OPERATOR)
    users.add("viewer", "reader-pass-1", Role.READ_ONLY)
    users.save()
    settings = {"rest.auth.users.file": str(users.path)}
    first, second = server_factory(settings), server_factory(settings)
    assert second.client.get("/connectors").status_code == 401
    for worker in (first, second):
        worker.client.auth = ("root", "admin-pass-1")
    config = {"connector.class": "FileStreamSink", "topics": f"{cluster_id}-t", "file": str(tmp_path / "out")}
    for worker, name in ((second, "via-second"), (first, "via-first")):
        created = worker.client.post("/connectors", json={"name": name, "config": config}, timeout=100)
        assert created.status_code == 201, created.text
    for worker in (first, second):
        wait_until(lambda w=worker: sorted(w.client.get("/connectors").json()) == ["via-first", "via-second"])
    for worker in (first, second):
        viewer = worker.client.post(
            "/connectors", json={"name": "nope", "config": config}, auth=("viewer", "reader-pass-1")
        )
        assert viewer.status_code == 403, viewer.text
        restarted = worker.client.post(
            "/connectors/via-second/restart?includeTasks=true&onlyFailed=false",
            auth=("ops", "operator-pass-1"),
        )
        assert restarted.status_code == 202, restarted.text
        paused = worker.client.put("/connectors/via-second/pause", auth=("ops", "operator-pass-1"))
        assert paused.status_code == 202, paused.text
        wait_until(
            lambda w=worker: (
                w.client.get("/connectors/via-second/status").json()["connector"]["state"] == "PAUSED"
            ),
            timeout=30,
        )
        assert (
            worker.client.put("/connectors/via-second/resume", auth=("ops", "operator-pass-1")).status_code
            == 202
        )
        refused = worker.client.delete("/connectors/via-first", auth=("ops", "operator-pass-1"))
        assert refused.status_code == 403, refused.text
    for worker, name in ((second, "via-first"), (first, "via-second")):
        deleted = worker.client.delete(f"/connectors/{name}")
        assert deleted.status_code == 204, deleted.text
    wait_until(lambda: first.client.get("/connectors").json() == [], timeout=30)
    # a forwarded-auth header without the secret is worth nothing, on either worker
    forged = forward.sign("0" * 64, "root", Role.ADMIN, "POST", "/connectors", b"{}")
    for worker in (first, second):
        refused = httpx.post(
            worker.url + "/connectors",
            content=b"{}",
            headers={forward.HEADER: forged, "content-type": "application/json"},
        )
        assert refused.status_code == 401, refused.text
    # forwarded writes authenticated on the leader: the only failures logged are the forged ones
    for worker in (first, second):
        failures = [line for line in worker.log().splitlines() if "REST authentication failed" in line]
        assert len(failures) == 1 and "worker-to-worker" in failures[0], failures
        assert "admin-pass-1" not in worker.log() and "operator-pass-1" not in worker.log()
