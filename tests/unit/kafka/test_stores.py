"""Reading Kafka Connect's record formats back into memory (pure logic, no broker)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from app.cli import read_connector_file
from app.kafka.stores import KafkaConfigStore, KafkaOffsetStore, KafkaStatusStore, encode_offset
from app.metrics import WorkerMetrics
from app.storage.base import SourceOffsetWrite, State, Status, TaskId
from app.storage.file_offsets import FileOffsetStore


def record(store: KafkaConfigStore, key: str, value: object) -> None:
    store.on_record(key.encode(), None if value is None else orjson.dumps(value))


def test_task_configs_become_visible_only_with_their_commit_record() -> None:
    store, seen = KafkaConfigStore(), []
    store.listener = lambda kind, name, _: seen.append((kind, name))
    record(store, "connector-c", {"properties": {"a": "1"}})
    record(store, "target-state-c", {"state": "PAUSED"})
    record(store, "task-c-0", {"properties": {"t": "0"}})
    assert store.get("c").task_configs == []  # not committed yet
    record(store, "task-c-1", {"properties": {"t": "1"}})
    record(store, "commit-c", {"tasks": 2})
    c = store.get("c")
    assert c.config == {"a": "1"} and c.target_state == "PAUSED"
    assert c.task_configs == [{"t": "0"}, {"t": "1"}]
    record(store, "connector-c", None)
    assert store.get("c") is None and store.names() == []
    assert seen == [("connector", "c"), ("target-state", "c"), ("tasks", "c"), ("connector", "c")]


def test_statuses_written_anywhere_are_applied_without_being_published_again() -> None:
    store, published = KafkaStatusStore(), []
    store.publish = lambda key, value: published.append((key, value))
    store.on_record(
        b"status-task-c-3", orjson.dumps({"state": "RUNNING", "worker_id": "h:1", "consumer_lag": 7})
    )
    assert store.task(TaskId("c", 3)) == Status(State.RUNNING, "h:1", None, consumer_lag=7)
    assert published == []
    store.put_task(TaskId("c", 3), Status(State.FAILED, "h:2", "boom"))
    assert published == [("status-task-c-3", {"state": "FAILED", "trace": "boom", "worker_id": "h:2"})]
    store.remove("c")
    assert ("status-connector-c", None) in published and store.get("c") is None


def test_an_own_status_read_back_after_a_newer_write_does_not_bring_the_old_state_back() -> None:
    metrics = WorkerMetrics("me")
    store, published = KafkaStatusStore(metrics), []
    store.publish = lambda key, value: published.append((key, value))
    store.put_connector("c", Status(State.PAUSED, "me"), "sink")
    store.remove("c")  # deleted before the PAUSED record came back from the topic
    paused, tombstone = published[0], published[-1]
    store.on_record(paused[0].encode(), orjson.dumps(paused[1]))
    assert store.get("c") is None
    assert 'connector="c"' not in metrics.render().decode()
    store.on_record(tombstone[0].encode(), None)
    assert store.get("c") is None
    # Once our writes are all read back, records are applied again, ours or anyone's.
    store.on_record(b"status-connector-c", orjson.dumps({"state": "RUNNING", "worker_id": "other"}))
    assert store.get("c").connector.state is State.RUNNING


def test_statuses_converge_when_another_workers_record_lands_between_ours() -> None:
    store, published = KafkaStatusStore(), []
    store.publish = lambda key, value: published.append((key, value))
    store.put_connector("c", Status(State.RUNNING, "me"), "source")
    store.put_connector("c", Status(State.PAUSED, "me"), "source")
    first, second = published
    published.clear()
    store.on_record(first[0].encode(), orjson.dumps(first[1]))
    assert store.get("c").connector.state is State.PAUSED  # the stale RUNNING is skipped
    store.on_record(b"status-connector-c", orjson.dumps({"state": "UNASSIGNED", "worker_id": "other"}))
    store.on_record(second[0].encode(), orjson.dumps(second[1]))
    assert store.get("c").connector.state is State.PAUSED  # the key's last record wins


def test_a_status_that_failed_to_publish_is_not_waited_for() -> None:
    store, published = KafkaStatusStore(), []
    store.publish = lambda key, value: published.append((key, value))
    store.put_connector("c", Status(State.RUNNING, "me"), "source")
    store.not_published("status-connector-c")
    store.on_record(b"status-connector-c", orjson.dumps({"state": "FAILED", "worker_id": "other"}))
    assert store.get("c").connector.state is State.FAILED


def test_offsets_use_kafka_connect_keys_and_tombstones() -> None:
    key, value = encode_offset(SourceOffsetWrite("src", {"file": "a"}, {"pos": 3}))
    assert orjson.loads(key) == ["src", {"file": "a"}] and orjson.loads(value) == {"pos": 3}
    store = KafkaOffsetStore()
    store.on_record(key, value)
    assert store.offsets.all("src") == [({"file": "a"}, {"pos": 3})]
    store.on_record(key, None)
    assert store.offsets.all("src") == []


async def test_file_offsets_survive_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "connect.offsets"
    first = FileOffsetStore(path)
    await first.open()
    await first.write(
        [SourceOffsetWrite("src", {"f": "x"}, {"pos": 1}), SourceOffsetWrite("src", {"f": "y"}, {"pos": 2})]
    )
    await first.write([SourceOffsetWrite("src", {"f": "y"}, None)])
    second = FileOffsetStore(path)
    await second.open()
    assert await second.all("src") == [({"f": "x"}, {"pos": 1})]
    assert await second.get("src", {"f": "x"}) == {"pos": 1}


def test_connector_files_in_both_json_shapes_and_properties(tmp_path: Path) -> None:
    wrapped = tmp_path / "a.json"
    wrapped.write_text('{"name": "a", "config": {"tasks.max": 2, "topic": "t"}}')
    assert read_connector_file(wrapped) == ("a", {"tasks.max": "2", "topic": "t", "name": "a"})
    flat = tmp_path / "b.json"
    flat.write_text('{"name": "b", "topic": "t"}')
    assert read_connector_file(flat) == ("b", {"name": "b", "topic": "t"})
    props = tmp_path / "c.properties"
    props.write_text("name=c\ntopic=t\n")
    assert read_connector_file(props) == ("c", {"name": "c", "topic": "t"})
    nameless = tmp_path / "d.json"
    nameless.write_text('{"topic": "t"}')
    with pytest.raises(ValueError, match="name"):
        read_connector_file(nameless)
