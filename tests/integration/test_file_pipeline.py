"""The README's file pipeline, end to end over HTTP against a real worker process."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition as KafkaTopicPartition

from tests.support.cluster import BOTH_BACKENDS
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, BOTH_BACKENDS]
TopicName = Callable[[str], str]


def committed_lines(backend: str, data: Path, topic: str, group: str) -> int:
    """How many of the topic's records the sink group had committed (the worker is dead)."""
    if backend == "embedded":
        with closing(sqlite3.connect(data / "penstock.db")) as conn:
            row = conn.execute(
                "SELECT next_offset FROM group_offsets WHERE grp=? AND topic=? AND partition=0", (group, topic)
            ).fetchone()
        return int(row[0]) if row else 0  # one partition, no control records: offset = line number
    return asyncio.run(_kafka_committed_records(topic, group))


async def _kafka_committed_records(topic: str, group: str) -> int:
    """Records below the group's committed offset (exactly-once sources leave transaction markers
    between them, so the offset alone is not a line count)."""
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    tp = KafkaTopicPartition(topic, 0)
    reader = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, isolation_level="read_committed"
    )
    await reader.start()
    try:
        position = await reader.committed(tp) or 0
        reader.assign([tp])
        await reader.seek_to_beginning(tp)
        count = 0
        while True:
            records = (await reader.getmany(tp, timeout_ms=2000)).get(tp, [])
            if not records:
                return count
            for record in records:
                if record.offset >= position:
                    return count
                count += 1
    finally:
        await reader.stop()


def start_pipeline(
    server: ServerProcess, tmp_path: Path, topic: str, sink_name: str = "file-sink"
) -> tuple[Path, Path]:
    source, sink = tmp_path / "in.txt", tmp_path / f"{sink_name}.txt"
    source.touch()
    server.create(
        "file-source",
        {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
            "tasks.max": "1",
            "file": str(source),
            "topic": topic,
        },
    )
    server.create(
        sink_name,
        {
            "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "tasks.max": "1",
            "file": str(sink),
            "topics": topic,
        },
    )
    server.wait_for_state("file-source", tasks=1)
    server.wait_for_state(sink_name, tasks=1)
    return source, sink


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as f:
        f.write("".join(line + "\n" for line in lines))


def test_appended_lines_arrive_in_order_within_a_second(
    server: ServerProcess, tmp_path: Path, topic: TopicName
) -> None:
    source, sink = start_pipeline(server, tmp_path, topic("lines"))
    expected = [f"line {i} ü" for i in range(2000)]
    append(source, expected)
    wait_until(lambda: len(lines_of(sink)) >= len(expected), timeout=15)
    assert lines_of(sink) == expected

    latencies = []
    for i in range(5):
        marker = f"latency probe {i}"
        started = time.monotonic()
        append(source, [marker])
        wait_until(lambda m=marker: lines_of(sink)[-1:] == [m], timeout=5, interval=0.01)
        latencies.append(time.monotonic() - started)
    assert max(latencies) < 1.0, latencies


def test_clean_restart_loses_and_duplicates_nothing(server_factory, tmp_path: Path, topic: TopicName) -> None:
    data = tmp_path / "data"
    server = server_factory({"offset.flush.interval.ms": "60000"}, data_dir=data)
    source, sink = start_pipeline(server, tmp_path, topic("lines"))
    first = [f"before {i}" for i in range(500)]
    append(source, first)
    wait_until(lambda: len(lines_of(sink)) == 500, timeout=15)

    assert server.stop() in (0, -15)  # SIGTERM: drain, flush, commit (uvicorn re-raises the signal)
    assert "worker stopped" in server.log()
    during = [f"while down {i}" for i in range(300)]
    append(source, during)

    restarted = server_factory({"offset.flush.interval.ms": "60000"}, data_dir=data)
    restarted.wait_for_state("file-source", tasks=1)
    after = [f"after {i}" for i in range(200)]
    append(source, after)
    wait_until(lambda: len(lines_of(sink)) >= 1000, timeout=15)
    time.sleep(0.5)
    assert lines_of(sink) == first + during + after


def test_kill_9_loses_nothing_and_the_log_has_no_duplicates(
    server_factory, tmp_path: Path, topic: TopicName, backend: str
) -> None:
    """Embedded: offsets and records share a transaction. Kafka: the same with exactly-once sources."""
    data = tmp_path / "data"
    settings = {"offset.flush.interval.ms": "100"}
    if backend == "kafka":
        settings["exactly.once.source.support"] = "enabled"
    server = server_factory(settings, data_dir=data)
    source, sink = start_pipeline(server, tmp_path, topic("lines"))

    total = 20_000
    stop_writing = threading.Event()

    def writer() -> None:
        for start in range(0, total, 100):
            append(source, [f"rec {i:06d}" for i in range(start, start + 100)])
            time.sleep(0.002)
        stop_writing.set()

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: len(lines_of(sink)) > 3000, timeout=30)
    server.kill()  # mid-stream, no chance to commit
    written_before_kill = len(lines_of(sink))
    committed = committed_lines(backend, data, topic("lines"), "connect-file-sink")
    thread.join()

    restarted = server_factory(settings, data_dir=data)
    expected = [f"rec {i:06d}" for i in range(total)]
    wait_until(lambda: set(lines_of(sink)) >= set(expected), timeout=60, message="records were lost")
    time.sleep(0.5)
    output = lines_of(sink)
    duplicates = sum(n - 1 for n in Counter(output).values())
    # The sink repeats exactly what it wrote after its last offset commit, never more. Embedded
    # sinks commit after every put, so that is at most one batch (500 lines); on Kafka they commit
    # every offset.flush.interval.ms, so it depends on how fast the sink wrote meanwhile.
    print(f"\n{backend}: {duplicates} duplicates; {written_before_kill} lines written, {committed} committed")
    assert duplicates <= written_before_kill - committed, (duplicates, written_before_kill, committed)
    if backend == "embedded":
        assert duplicates <= 500, duplicates
    assert list(dict.fromkeys(output)) == expected  # order kept, nothing missing

    # The topic itself holds every line exactly once: a fresh sink reading from the start sees no duplicates.
    fresh = tmp_path / "fresh.txt"
    restarted.create(
        "fresh-sink", {"connector.class": "FileStreamSink", "file": str(fresh), "topics": topic("lines")}
    )
    wait_until(lambda: len(lines_of(fresh)) >= total, timeout=30)
    time.sleep(0.3)
    assert lines_of(fresh) == expected


def test_json_converter_envelope_reaches_the_topic(
    server: ServerProcess, tmp_path: Path, topic: TopicName
) -> None:
    """Per-connector converter overrides really change the bytes on the topic."""
    source = tmp_path / "in.txt"
    source.touch()
    server.create(
        "json-source",
        {
            "connector.class": "FileStreamSource",
            "file": str(source),
            "topic": topic("enveloped"),
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "true",
        },
    )
    raw, plain = tmp_path / "raw.txt", tmp_path / "plain.txt"
    server.create(
        "raw-sink",
        {
            "connector.class": "FileStreamSink",
            "file": str(raw),
            "topics": topic("enveloped"),
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        },
    )
    server.create(
        "plain-sink",
        {
            "connector.class": "FileStreamSink",
            "file": str(plain),
            "topics": topic("enveloped"),
            "value.converter": "JsonConverter",
            "value.converter.schemas.enable": "true",
        },
    )
    append(source, ["hello", "wörld"])
    wait_until(lambda: len(lines_of(raw)) == 2 and len(lines_of(plain)) == 2, timeout=15)
    assert lines_of(raw) == [
        '{"schema":{"type":"string","optional":false},"payload":"hello"}',
        '{"schema":{"type":"string","optional":false},"payload":"wörld"}',
    ]
    assert lines_of(plain) == ["hello", "wörld"]


def test_sink_tasks_share_the_partitions_of_a_topic(server_factory, tmp_path: Path, topic: TopicName) -> None:
    server = server_factory({"num.partitions": "4", "offset.flush.interval.ms": "500"})
    source = tmp_path / "in.txt"
    source.touch()
    out = tmp_path / "out.txt"
    server.create("src", {"connector.class": "FileStreamSource", "file": str(source), "topic": topic("wide")})
    server.create(
        "sink",
        {"connector.class": "FileStreamSink", "file": str(out), "topics": topic("wide"), "tasks.max": "3"},
    )
    status = server.wait_for_state("sink", tasks=3)
    assert [t["id"] for t in status["tasks"]] == [0, 1, 2]
    expected = [f"n{i}" for i in range(3000)]
    for start in range(0, 3000, 300):  # several batches so the sticky partitioner spreads them
        append(source, expected[start : start + 300])
        time.sleep(0.05)
    wait_until(lambda: len(lines_of(out)) >= 3000, timeout=20)
    time.sleep(0.3)
    assert sorted(lines_of(out)) == sorted(expected)
