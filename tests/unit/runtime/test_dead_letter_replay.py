"""Replaying a dead-letter queue through the connector once the cause is fixed, on the in-memory
backend: sinks get the records at their original coordinates, sources write them to their topics,
a second replay repeats nothing, and records failing again return to the DLQ without looping."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from app.herder.base import ConflictError
from app.runtime.replay import REPLAY_HEADER
from app.storage.base import ProducerRecord
from app.storage.memory import MemoryLog, MemoryOffsetStore
from connectors.sdk import DataError, TopicPartition, Transformation
from tests.unit.runtime.memory_runtime import eventually, memory_runtime
from tests.unit.runtime.test_sink_runner import RecordingSink, RecordingTask, put_values, reset, sink_config
from tests.unit.runtime.test_source_runner import CONFIG, PARTITION, ScriptedSource
from tests.unit.runtime.test_source_runner import reset as reset_source

DLQ = {
    "errors.tolerance": "all",
    "errors.deadletterqueue.topic.name": "dlq",
    "errors.deadletterqueue.context.headers.enable": "true",
    "transforms": "strict",
    "transforms.strict.type": "RejectUntilFixed",
}


class RejectUntilFixed(Transformation[Any]):
    """Rejects values starting with "bad" until the test fixes the cause."""

    fixed: ClassVar[bool] = False

    def apply(self, record: Any) -> Any:
        if str(record.value).startswith("bad") and not self.fixed:
            raise DataError(f"cannot handle {record.value}")
        return record


async def test_a_sink_gets_its_dead_letters_again_once_fixed_and_only_once() -> None:
    reset()
    RejectUntilFixed.fixed = False
    async with memory_runtime(("sink", RecordingSink), ("transformation", RejectUntilFixed)) as rt:
        await rt.herder.create("snk", sink_config(**DLQ), None)
        await rt.produce("in", [b"1", b"bad-2", b"3"])
        await eventually(lambda: put_values() == ["1", "3"])
        await eventually(lambda: rt.values("dlq"))

        RejectUntilFixed.fixed = True
        result = await rt.herder.replay_dead_letters("snk")
        assert result == {"topic": "dlq", "replayed": 1, "failed_again": 0, "skipped": 0, "error": None}
        assert put_values() == ["1", "3", "bad-2"]
        # the sink saw it where it first came from
        assert RecordingTask.replayed_coordinates[-1] == ("in", 0, 1)

        again = await rt.herder.replay_dead_letters("snk")
        assert again["replayed"] == 0
        assert put_values() == ["1", "3", "bad-2"]
        assert await rt.log.group_offsets("connect-snk-dlq-replay")


async def test_records_failing_again_go_back_to_the_dlq_and_the_replay_ends() -> None:
    reset()
    RejectUntilFixed.fixed = False
    async with memory_runtime(("sink", RecordingSink), ("transformation", RejectUntilFixed)) as rt:
        await rt.herder.create("snk", sink_config(**DLQ), None)
        await rt.produce("in", [b"bad-1"])
        await eventually(lambda: rt.values("dlq"))

        result = await rt.herder.replay_dead_letters("snk")  # not fixed yet
        assert (result["replayed"], result["failed_again"]) == (0, 1)
        letters = await rt.records("dlq")
        assert len(letters) == 2
        assert REPLAY_HEADER in dict(letters[1].headers)
        assert dict(letters[1].headers)["__connect.errors.topic"] == b"in"  # still replayable

        RejectUntilFixed.fixed = True
        fixed = await rt.herder.replay_dead_letters("snk")
        assert (fixed["replayed"], fixed["failed_again"]) == (1, 0)
        assert put_values() == ["bad-1"]


async def test_a_source_writes_its_dead_letters_to_their_topic_once_fixed() -> None:
    store = MemoryOffsetStore()
    reset_source([[1, 2]], store)
    RejectUntilFixed.fixed = False
    config = {**CONFIG, **DLQ, "transforms.strict.type": "RejectUntilFixed"}
    source = ScriptedSourceRejectingOne
    plugins = (("source", source), ("transformation", RejectUntilFixed))
    async with memory_runtime(*plugins, log=MemoryLog(store)) as rt:
        await rt.herder.create("src", {**config, "connector.class": source.__name__}, None)
        await eventually(lambda: rt.values("dlq"))
        await eventually(lambda: rt.values("out"))
        assert await rt.values("out") == [b"2"]
        offset_before = await store.get("src", PARTITION)

        RejectUntilFixed.fixed = True
        result = await rt.herder.replay_dead_letters("src")
        assert (result["replayed"], result["failed_again"], result["error"]) == (1, 0, None)
        assert await rt.values("out") == [b"2", b"bad-1"]
        assert await store.get("src", PARTITION) == offset_before  # replay writes no offsets


async def test_a_connector_without_a_dlq_is_told_how_to_have_one() -> None:
    reset()
    async with memory_runtime(("sink", RecordingSink)) as rt:
        await rt.herder.create("snk", sink_config(), None)
        await eventually(lambda: rt.herder.task_configs("snk"))
        try:
            await rt.herder.replay_dead_letters("snk")
        except Exception as exc:
            assert "errors.deadletterqueue.topic.name is not set" in str(exc)
        else:
            raise AssertionError("a replay without a DLQ must be refused")


class ScriptedSourceRejectingOne(ScriptedSource):
    """The scripted source whose first value is "bad-1" (rejected until fixed)."""

    task_class = type(
        "BadFirstTask",
        (ScriptedSource.task_class,),
        {"poll": lambda self: _poll_bad_first(self)},
    )


async def _poll_bad_first(task: Any) -> Any:
    records = await ScriptedSource.task_class.poll(task)
    return [r.new_record(value="bad-1") if r.value == "1" else r for r in records]


async def test_letters_that_cannot_come_back_are_skipped_and_the_rest_replayed() -> None:
    """An undecodable letter (kept as its repr) and another connector's letter in a shared DLQ
    are counted as skipped; they never block the letters after them."""
    store = MemoryOffsetStore()
    reset_source([[1, 2]], store)
    RejectUntilFixed.fixed = False
    source = ScriptedSourceRejectingOne
    config = {**CONFIG, **DLQ, "connector.class": source.__name__}
    async with memory_runtime(
        ("source", source), ("transformation", RejectUntilFixed), log=MemoryLog(store)
    ) as rt:
        await rt.log.send_batch(
            [
                ProducerRecord("dlq", b"'not json'", headers=[("__connect.errors.topic", b"out")]),
                ProducerRecord(
                    "dlq",
                    b'{"schema":null,"payload":"theirs"}',
                    headers=[
                        ("__connect.errors.topic", b"out"),
                        ("__connect.errors.connector.name", b"other"),
                    ],
                ),
            ]
        )
        await rt.herder.create("src", config, None)
        await eventually(lambda: len_of(rt, "dlq", 3))
        RejectUntilFixed.fixed = True
        result = await rt.herder.replay_dead_letters("src")
        assert (result["replayed"], result["skipped"], result["error"]) == (1, 2, None)
        assert await rt.values("out") == [b"2", b"bad-1"]
        assert (await rt.herder.replay_dead_letters("src"))["replayed"] == 0


async def test_only_one_replay_of_a_connector_runs_at_a_time() -> None:
    reset()
    RejectUntilFixed.fixed = True
    async with memory_runtime(("sink", RecordingSink), ("transformation", RejectUntilFixed)) as rt:
        await rt.herder.create("snk", sink_config(**DLQ), None)
        await eventually(lambda: rt.herder.task_configs("snk"))
        outcomes = await asyncio.gather(
            rt.herder.replay_dead_letters("snk"), rt.herder.replay_dead_letters("snk"), return_exceptions=True
        )
        refused = [o for o in outcomes if isinstance(o, ConflictError)]
        assert len(refused) == 1 and "already running" in str(refused[0])


class UnflushedTask(RecordingTask):
    """A sink that never says anything is safe to commit (an asynchronous writer still busy)."""

    async def pre_commit(self, offsets: dict[TopicPartition, int]) -> dict[TopicPartition, int]:
        return {}


class UnflushedSink(RecordingSink):
    task_class = UnflushedTask


async def test_dead_letters_the_sink_has_not_confirmed_are_not_acknowledged() -> None:
    reset()
    RejectUntilFixed.fixed = False
    async with memory_runtime(("sink", UnflushedSink), ("transformation", RejectUntilFixed)) as rt:
        await rt.herder.create("snk", sink_config(**DLQ, **{"connector.class": "UnflushedSink"}), None)
        await rt.produce("in", [b"bad-1"])
        await eventually(lambda: rt.values("dlq"))
        RejectUntilFixed.fixed = True
        assert (await rt.herder.replay_dead_letters("snk"))["replayed"] == 1
        assert not await rt.log.group_offsets("connect-snk-dlq-replay")  # nothing was confirmed
        assert (await rt.herder.replay_dead_letters("snk"))["replayed"] == 1  # so it comes again


async def len_of(rt: Any, topic: str, n: int) -> bool:
    return len(await rt.values(topic)) >= n
