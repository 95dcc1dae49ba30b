"""FileStreamSourceTask driven directly: line splitting, byte positions, batching and restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import connectors.file.source as source_module
from connectors.file.source import FileStreamSourceConfig, FileStreamSourceTask
from connectors.sdk.data import STRING_SCHEMA
from connectors.sdk.records import SourceRecord
from connectors.sdk.source import SourceTaskContext


class StoredOffsets:
    def __init__(self, offsets: dict[str, dict[str, Any]] | None = None) -> None:
        self.offsets = offsets or {}
        self.asked: list[dict[str, Any]] = []

    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        self.asked.append(partition)
        return self.offsets.get(partition["filename"])


StartTask = Callable[..., Awaitable[FileStreamSourceTask]]


@pytest.fixture(autouse=True)
def no_idle_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(source_module, "IDLE_WAIT_MIN_S", 0)
    monkeypatch.setattr(source_module, "IDLE_WAIT_MAX_S", 0)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "input.txt"


@pytest.fixture
async def start_task(path: Path) -> AsyncIterator[StartTask]:
    started: list[FileStreamSourceTask] = []

    async def start(offsets: StoredOffsets | None = None, **settings: str) -> FileStreamSourceTask:
        task = FileStreamSourceTask()
        task.initialize(SourceTaskContext(offsets or StoredOffsets()))
        props = {"file": str(path), "topic": "lines", **settings}
        await task.start(FileStreamSourceConfig.parse(props))
        started.append(task)
        return task

    yield start
    for task in started:
        await task.stop()


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as f:
        f.write(data)


def values(records: list[SourceRecord] | Any) -> list[str]:
    return [r.value for r in records]


def positions(records: list[SourceRecord] | Any) -> list[int]:
    return [r.source_offset["position"] for r in records]


async def drain(task: FileStreamSourceTask, polls: int = 50) -> list[SourceRecord]:
    out: list[SourceRecord] = []
    for _ in range(polls):
        out.extend(await task.poll())
    return out


async def test_lf_lines_with_byte_positions_partition_topic_and_schema(
    path: Path, start_task: StartTask
) -> None:
    path.write_bytes(b"alpha\nbeta\n")
    task = await start_task()
    records = await task.poll()
    assert values(records) == ["alpha", "beta"]
    assert positions(records) == [6, 11]
    assert all(r.topic == "lines" for r in records)
    assert all(r.source_partition == {"filename": str(path)} for r in records)
    assert all(r.value_schema == STRING_SCHEMA for r in records)
    assert all(r.key is None for r in records)
    assert await task.poll() == []


async def test_crlf_lines(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"a\r\nbb\r\n")
    task = await start_task()
    records = await task.poll()
    assert values(records) == ["a", "bb"]
    assert positions(records) == [3, 7]


async def test_lone_cr_ends_a_line(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"a\rb\nc\r\nd\re\n")
    task = await start_task()
    records = await drain(task, 3)
    assert values(records) == ["a", "b", "c", "d", "e"]
    assert positions(records) == [2, 4, 7, 9, 11]


async def test_trailing_cr_waits_for_the_next_read_crlf(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"first\r")
    task = await start_task()
    assert await task.poll() == []
    assert await task.poll() == []
    append(path, b"\nsecond\n")
    records = await drain(task, 3)
    assert values(records) == ["first", "second"]
    assert positions(records) == [7, 14]  # \r\n counted once, as two bytes


async def test_trailing_cr_followed_by_text_is_a_lone_cr(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"first\r")
    task = await start_task()
    assert await task.poll() == []
    append(path, b"second\n")
    records = await drain(task, 3)
    assert values(records) == ["first", "second"]
    assert positions(records) == [6, 13]


async def test_partial_last_line_is_not_emitted_until_terminated(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"done\npart")
    task = await start_task()
    assert values(await task.poll()) == ["done"]
    assert await task.poll() == []
    append(path, b"ial line")
    assert await task.poll() == []
    append(path, b"\n")
    records = await drain(task, 3)
    assert values(records) == ["partial line"]
    assert positions(records) == [18]  # 5 + len("partial line\n")


async def test_empty_lines_are_emitted(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"\n\nx\n\r\n\r\r\n")
    task = await start_task()
    records = await drain(task, 3)
    assert values(records) == ["", "", "x", "", "", ""]
    assert positions(records) == [1, 2, 4, 6, 7, 9]


async def test_utf8_positions_are_byte_offsets(path: Path, start_task: StartTask) -> None:
    path.write_bytes("é\n€uro\n日本\r\n".encode())
    task = await start_task()
    records = await drain(task, 3)
    assert values(records) == ["é", "€uro", "日本"]
    assert positions(records) == [3, 10, 18]


async def test_invalid_utf8_is_replaced_not_fatal(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"ok\n\xff\xfebad\n")
    task = await start_task()
    records = await task.poll()
    assert values(records) == ["ok", "\ufffd\ufffdbad"]
    assert positions(records) == [3, 9]


async def test_tiny_reads_reassemble_lines(
    path: Path, start_task: StartTask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One byte per read: multibyte characters and \\r\\n pairs are split across reads."""
    monkeypatch.setattr(source_module, "READ_CHUNK", 1)
    data = "é\r\nab\rc\n\nü€\n".encode()
    path.write_bytes(data)
    task = await start_task()
    records = await drain(task, len(data) * 3)
    assert values(records) == ["é", "ab", "c", "", "ü€"]
    assert positions(records) == [4, 7, 9, 10, len(data)]


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
async def test_batch_size_limits_records_per_poll(path: Path, start_task: StartTask, newline: bytes) -> None:
    path.write_bytes(newline.join(str(i).encode() for i in range(7)) + newline)
    task = await start_task(**{"batch.size": "3"})
    batches = [values(await task.poll()) for _ in range(4)]
    assert batches == [["0", "1", "2"], ["3", "4", "5"], ["6"], []]


async def test_batch_size_exactly_the_number_of_lines(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"a\nb\n")
    task = await start_task(**{"batch.size": "2"})
    assert values(await task.poll()) == ["a", "b"]
    append(path, b"c\n")
    assert values(await drain(task, 2)) == ["c"]


async def test_restart_from_stored_position_skips_bytes(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"one\ntwo\nthree\n")
    offsets = StoredOffsets({str(path): {"position": 4}})
    task = await start_task(offsets)
    assert offsets.asked == [{"filename": str(path)}]
    assert task.position == 4
    records = await task.poll()
    assert values(records) == ["two", "three"]
    assert positions(records) == [8, 14]


async def test_restart_resumes_exactly_after_the_last_emitted_line(path: Path, start_task: StartTask) -> None:
    path.write_bytes("líne1\r\nline2\npartial".encode())
    first = await start_task(**{"batch.size": "1"})
    [record] = await first.poll()
    await first.stop()
    offsets = StoredOffsets({str(path): record.source_offset})  # type: ignore[dict-item]
    second = await start_task(offsets)
    append(path, b"\n")
    assert values(await drain(second, 3)) == ["line2", "partial"]


async def test_missing_file_returns_nothing_then_picks_up_the_file(path: Path, start_task: StartTask) -> None:
    task = await start_task()
    assert await task.poll() == []
    assert await task.poll() == []
    path.write_bytes(b"late\n")
    assert values(await task.poll()) == ["late"]


async def test_stop_closes_the_file(path: Path, start_task: StartTask) -> None:
    path.write_bytes(b"x\n")
    task = await start_task()
    await task.poll()
    stream = task._stream
    assert stream is not None and not stream.closed
    await task.stop()
    assert stream.closed
