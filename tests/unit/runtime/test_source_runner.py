"""The source runner against the in-memory backend: when offsets are stored and when the task hears.

``SourceTask.commit(offsets)`` must only ever see offsets that are durably stored, idle sources
must commit on the timer, and a crash between writing records and storing their offsets must
not let the task acknowledge anything upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from app.storage.base import SourceOffsetWrite
from app.storage.memory import MemoryLog, MemoryOffsetStore
from connectors.sdk import (
    CommittedOffsets,
    PluginConfig,
    SourceConnector,
    SourceRecord,
    SourceTask,
    Transformation,
    setting,
)
from connectors.sdk.records import RecordMetadata
from tests.unit.runtime.memory_runtime import eventually, memory_runtime

PARTITION = {"slot": "s1"}


class ScriptConfig(PluginConfig):
    topic: str = setting("out", doc="Where records go")


class ScriptedTask(SourceTask[ScriptConfig]):
    """Emits the batches in ``script`` (one per poll), then stays idle; records every commit."""

    config_model = ScriptConfig
    script: ClassVar[list[list[int]]] = []
    commits: ClassVar[list[CommittedOffsets]] = []
    stored_at_commit: ClassVar[list[dict[str, Any] | None]] = []
    offsets_store: ClassVar[MemoryOffsetStore | None] = None

    async def start(self, config: ScriptConfig) -> None:
        self.topic = config.topic
        self.batches = list(self.script)

    async def poll(self) -> Sequence[SourceRecord]:
        if not self.batches:
            await asyncio.sleep(0.02)
            return []
        return [
            SourceRecord(self.topic, str(n), source_partition=PARTITION, source_offset={"lsn": n})
            for n in self.batches.pop(0)
        ]

    async def commit(self, offsets: CommittedOffsets) -> None:
        type(self).commits.append(offsets)
        store = type(self).offsets_store
        if store is not None:  # what is stored at the moment the task hears of it
            type(self).stored_at_commit.append(await store.get("src", PARTITION))


class ScriptedSource(SourceConnector[ScriptConfig]):
    config_model = ScriptConfig
    task_class = ScriptedTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


class FailingOffsetStore(MemoryOffsetStore):
    """The in-memory store, made to fail its next writes (a crash between write and flush)."""

    fail = False

    async def write(self, offsets: list[SourceOffsetWrite]) -> None:
        if self.fail:
            raise OSError("offset storage unavailable")
        await super().write(offsets)


def reset(script: list[list[int]], store: MemoryOffsetStore | None) -> None:
    ScriptedTask.script = script
    ScriptedTask.commits = []
    ScriptedTask.stored_at_commit = []
    ScriptedTask.offsets_store = store


CONFIG = {"name": "src", "connector.class": "ScriptedSource", "topic": "out"}


async def test_an_idle_source_commits_on_the_timer_without_another_batch() -> None:
    store = MemoryOffsetStore()
    reset([[1, 2, 3]], store)
    log = MemoryLog(store, atomic_offsets=False)  # at-least-once, as on Kafka without transactions
    async with memory_runtime(
        ("source", ScriptedSource), log=log, **{"offset.flush.interval.ms": "100"}
    ) as rt:
        await rt.herder.create("src", CONFIG, None)
        await eventually(lambda: rt.values("out"), message="records written")
        # No further batch ever comes: only the committer's timer can store the offset.
        await eventually(lambda: store.get("src", PARTITION), message="offset stored while idle")
        assert await store.get("src", PARTITION) == {"lsn": 3}
        await eventually(lambda: ScriptedTask.commits, message="task told about the commit")
        assert ScriptedTask.commits[0].get(PARTITION) == {"lsn": 3}


async def test_commit_only_ever_sees_offsets_that_are_stored() -> None:
    store = MemoryOffsetStore()
    reset([[1], [2, 3], [4], [5, 6, 7]], store)
    log = MemoryLog(store, atomic_offsets=False)
    async with memory_runtime(
        ("source", ScriptedSource), log=log, **{"offset.flush.interval.ms": "30"}
    ) as rt:
        await rt.herder.create("src", CONFIG, None)
        await eventually(lambda: store.offsets.get("src", PARTITION) == {"lsn": 7} or None)
        await eventually(lambda: any(c.get(PARTITION) == {"lsn": 7} for c in ScriptedTask.commits))
    told = [c.get(PARTITION) for c in ScriptedTask.commits]
    assert told == ScriptedTask.stored_at_commit  # at each commit() the store already held it
    lsns = [o["lsn"] for o in told if o is not None]
    assert lsns == sorted(lsns)


async def test_records_and_offsets_stored_together_are_committed_after_each_batch() -> None:
    store = MemoryOffsetStore()
    reset([[1, 2], [3]], store)
    log = MemoryLog(store)  # the embedded log: records and offsets in one step
    async with memory_runtime(
        ("source", ScriptedSource), log=log, **{"offset.flush.interval.ms": "60000"}
    ) as rt:
        await rt.herder.create("src", CONFIG, None)
        await eventually(lambda: len(ScriptedTask.commits) == 2 or None)
        assert [c.get(PARTITION) for c in ScriptedTask.commits] == [{"lsn": 2}, {"lsn": 3}]
        assert ScriptedTask.stored_at_commit == [{"lsn": 2}, {"lsn": 3}]
        assert await rt.values("out") == [b"1", b"2", b"3"]


async def test_a_crash_between_write_and_offset_flush_acknowledges_nothing() -> None:
    store = FailingOffsetStore()
    reset([[1, 2, 3]], store)
    store.fail = True
    log = MemoryLog(store, atomic_offsets=False)
    async with memory_runtime(
        ("source", ScriptedSource), log=log, **{"offset.flush.interval.ms": "50"}
    ) as rt:
        await rt.herder.create("src", {**CONFIG, "auto.restart.enable": "false"}, None)
        await eventually(lambda: rt.values("out"))
        await eventually(lambda: rt.task_state("src") == "FAILED", message="the failed flush fails the task")
        status = rt.herder.status("src")["tasks"][0]
        assert "offset storage unavailable" in status["trace"]
    assert await store.get("src", PARTITION) is None  # the records are written, their offset is not
    assert ScriptedTask.commits == []  # so the task never let its upstream discard anything


async def test_a_graceful_stop_stores_and_commits_what_was_written() -> None:
    store = MemoryOffsetStore()
    reset([[1, 2]], store)
    log = MemoryLog(store, atomic_offsets=False)
    async with memory_runtime(
        ("source", ScriptedSource), log=log, **{"offset.flush.interval.ms": "3600000"}
    ) as rt:
        await rt.herder.create("src", CONFIG, None)
        await eventually(lambda: _count(rt, "out", 2))
        assert await store.get("src", PARTITION) is None  # the interval is an hour away
        await rt.herder.delete("src")
    assert await store.get("src", PARTITION) == {"lsn": 2}
    assert [c.get(PARTITION) for c in ScriptedTask.commits] == [{"lsn": 2}]


async def _count(rt: Any, topic: str, expected: int) -> bool:
    return len(await rt.values(topic)) == expected


class RecordCommittingTask(ScriptedTask):
    """A task that wants to hear about every record (``commit_record``), as Kafka's does."""

    committed: ClassVar[list[tuple[str, tuple[str, int, int, int] | None]]] = []

    async def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        where = (
            None
            if metadata is None
            else (metadata.topic, metadata.partition, metadata.offset, metadata.timestamp)
        )
        type(self).committed.append((str(record.value), where))


class RecordCommittingSource(ScriptedSource):
    task_class = RecordCommittingTask


class DropTwo(Transformation[Any]):
    aliases = ("com.example.DropTwo",)

    def apply(self, record: Any) -> Any:
        return None if record.value == "2" else record


async def test_commit_record_hears_where_each_record_landed_and_none_for_dropped_ones() -> None:
    """Deliveries are worked out lazily from each batch's placement: they must still be exact."""
    reset([[1, 2, 3], [4, 5]], MemoryOffsetStore())
    RecordCommittingTask.committed = []
    config = {
        **CONFIG,
        "connector.class": "RecordCommittingSource",
        "topic": "out",
        "transforms": "drop",
        "transforms.drop.type": "com.example.DropTwo",
    }
    plugins = (("source", RecordCommittingSource), ("transformation", DropTwo))
    async with memory_runtime(*plugins) as rt:
        await rt.herder.create("src", config, None)
        await eventually(lambda: len(RecordCommittingTask.committed) == 5 or None)
        stored = {r.offset: r for r in await rt.records("out")}
    committed = dict(RecordCommittingTask.committed)
    assert committed["2"] is None
    assert [committed[v][:3] for v in ("1", "3", "4", "5")] == [("out", 0, i) for i in range(4)]  # type: ignore[index]
    for value in ("1", "3", "4", "5"):
        _, _, offset, timestamp = committed[value]  # type: ignore[misc]
        assert (stored[offset].value, stored[offset].timestamp) == (value.encode(), timestamp)
