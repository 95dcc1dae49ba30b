"""The built-in file connectors run under the SDK test kit, as a third-party author would test theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

import connectors.file.source as source_module
from connectors.file.sink import FileStreamSinkConnector
from connectors.file.source import FileStreamSourceConnector
from connectors.sdk import ConfigError, Struct, TopicPartition, struct_schema
from connectors.sdk.data import INT32_SCHEMA
from connectors.sdk.testing import InMemoryOffsetStore, SinkHarness, SourceHarness, check_config, sink_records


@pytest.fixture(autouse=True)
def short_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "IDLE_WAIT_MIN_S", 0.01)
    monkeypatch.setattr(source_module, "IDLE_WAIT_MAX_S", 0.01)


async def test_source_resumes_from_its_committed_offset_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("a\nb\nc\n")
    partition = {"filename": str(path)}
    async with SourceHarness(FileStreamSourceConnector, {"file": str(path), "topic": "lines"}) as kit:
        assert [r.value for r in await kit.poll(count=3, timeout=2)] == ["a", "b", "c"]
        committed = await kit.commit()
        assert committed.get(partition) == {"position": 6}
        assert kit.offsets.get(partition) == {"position": 6}

        with path.open("a") as out:
            out.write("d\ne\n")
        await kit.restart_task()
        assert [r.value for r in await kit.poll(count=2, timeout=2)] == ["d", "e"]
        assert [r.value for r in await kit.poll(timeout=0.1)] == []  # nothing re-read


async def test_source_without_a_commit_rereads_after_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("a\nb\n")
    async with SourceHarness(FileStreamSourceConnector, {"file": str(path), "topic": "lines"}) as kit:
        await kit.poll(count=1, timeout=2)
        await kit.commit()
        assert kit.commits[-1].get({"filename": str(path)}) == {"position": 4}  # both lines polled
        with path.open("a") as out:
            out.write("c\n")
        await kit.poll(count=1, timeout=2)
        await kit.restart_task(graceful=False)  # "c" was written but its offset never stored
        assert [r.value for r in await kit.poll(count=1, timeout=2)] == ["c"]


async def test_source_starts_from_a_seeded_offset(tmp_path: Path) -> None:
    path = tmp_path / "in.txt"
    path.write_text("skip\nkeep\n")
    offsets = InMemoryOffsetStore([({"filename": str(path)}, {"position": 5})])
    kit = SourceHarness(FileStreamSourceConnector, {"file": str(path), "topic": "t"}, offsets=offsets)
    async with kit:
        assert [r.value for r in await kit.poll(count=1, timeout=2)] == ["keep"]


async def test_sink_writes_what_was_put_and_commits_its_offsets(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    schema = struct_schema([("n", INT32_SCHEMA)])
    async with SinkHarness(FileStreamSinkConnector, {"file": str(path), "topics": "t"}) as kit:
        await kit.put(sink_records("t", ["x", {"a": 1}, None]))
        await kit.put(sink_records("t", [Struct(schema, {"n": 7})], start_offset=3))
        assert await kit.commit() == {TopicPartition("t", 0): 4}
        assert kit.errant == []
    assert path.read_text() == 'x\n{"a":1}\nnull\n{"n":7}\n'


async def test_bad_config_gives_the_expected_error(tmp_path: Path) -> None:
    assert check_config(FileStreamSourceConnector, {"file": str(tmp_path / "f")}) == {
        "topic": ['Missing required configuration "topic" which has no default value.']
    }
    assert check_config(FileStreamSourceConnector, {"topic": "t", "batch.size": "0"}) == {
        "batch.size": ["Invalid value 0 for configuration batch.size: Value must be at least 1"]
    }
    assert check_config(FileStreamSourceConnector, {"topic": "t"}) == {}
    with pytest.raises(ConfigError, match='Missing required configuration "topic"'):
        await SourceHarness(FileStreamSourceConnector, {}).start()
