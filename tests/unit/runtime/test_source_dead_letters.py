"""A source's dead-letter queue (Penstock's extension): records its transforms or converters
reject are written to the DLQ with context headers, the others go on, the count is visible."""

from __future__ import annotations

import time
from typing import Any

import orjson

from app.errors.dead_letters import SourceDeadLetters
from app.plugins.registry import PluginRegistry
from app.storage.memory import MemoryLog, MemoryOffsetStore
from connectors.sdk import Converter, DataError, EmptyConfig, SchemaAndValue, Transformation
from connectors.sdk.records import SourceRecord
from tests.unit.runtime.memory_runtime import eventually, memory_runtime
from tests.unit.runtime.test_source_runner import CONFIG, PARTITION, ScriptedSource, reset


class RejectOdd(Transformation[Any]):
    """Fails on odd values, as a transform meeting data it cannot handle would."""

    aliases = ("com.example.RejectOdd",)

    def apply(self, record: Any) -> Any:
        if int(record.value) % 2:
            raise DataError(f"odd value {record.value}")
        return record


TOLERANT = {
    **CONFIG,
    "transforms": "reject",
    "transforms.reject.type": "RejectOdd",
    "errors.tolerance": "all",
    "errors.deadletterqueue.topic.name": "src-dlq",
    "errors.deadletterqueue.context.headers.enable": "true",
}


async def test_rejected_records_reach_the_dead_letter_queue_and_the_rest_goes_on() -> None:
    store = MemoryOffsetStore()
    reset([[1, 2, 3, 4]], store)
    plugins = (("source", ScriptedSource), ("transformation", RejectOdd))
    async with memory_runtime(*plugins, log=MemoryLog(store)) as rt:
        await rt.herder.create("src", TOLERANT, None)
        await eventually(lambda: rt.values("out"))
        await eventually(lambda: rt.values("src-dlq"))
        assert await rt.values("out") == [b"2", b"4"]
        letters = await rt.records("src-dlq")
        assert [orjson.loads(r.value or b"null") for r in letters] == [
            {"schema": None, "payload": "1"},
            {"schema": None, "payload": "3"},
        ]
        headers = dict(letters[0].headers)
        assert headers["__connect.errors.stage"] == b"TRANSFORMATION"
        assert headers["__connect.errors.class.name"] == b"com.example.RejectOdd"
        assert headers["__connect.errors.topic"] == b"out"
        assert headers["__connect.errors.exception.message"] == b"odd value 1"
        assert orjson.loads(headers["__connect.errors.source.offset"] or b"") == {"lsn": 1}
        status = await eventually(lambda: rt.herder.status("src")["tasks"][0].get("dead_lettered"))
        assert status == 2
        assert rt.herder.status("src")["tasks"][0]["state"] == "RUNNING"
        assert await store.get("src", PARTITION) == {"lsn": 4}  # the rejected records count as handled


async def test_a_dead_letter_decodes_to_the_record_the_task_produced() -> None:
    reset([[7]], None)
    async with memory_runtime(("source", ScriptedSource), ("transformation", RejectOdd)) as rt:
        await rt.herder.create("src", TOLERANT, None)
        letter = (await eventually(lambda: rt.records("src-dlq")))[0]
    record = SourceDeadLetters(PluginRegistry()).decode(letter, "out")
    assert (record.topic, record.value, record.value_schema) == ("out", "7", None)
    assert (record.source_partition, record.source_offset) == (PARTITION, {"lsn": 7})
    assert record.headers == ()  # context headers are not part of the record


async def test_without_tolerance_the_task_fails_naming_the_stage_and_the_transform() -> None:
    reset([[1]], None)
    strict = {k: v for k, v in TOLERANT.items() if k != "errors.tolerance"}
    async with memory_runtime(("source", ScriptedSource), ("transformation", RejectOdd)) as rt:
        await rt.herder.create("src", strict, None)
        await eventually(lambda: rt.task_state("src") == "FAILED")
        trace = rt.herder.status("src")["tasks"][0]["trace"]
        assert "Tolerance exceeded in error handler at stage TRANSFORMATION in com.example.RejectOdd" in trace
        assert "odd value 1" in trace
        assert await rt.values("src-dlq") == []


def test_a_dead_letter_keeps_the_record_timestamp_or_gets_the_time_it_failed() -> None:
    """Never 0: a DLQ record stamped 1970 is deleted by the first time-based retention check."""
    letters = SourceDeadLetters(PluginRegistry())
    stamped = SourceRecord(topic="out", value="v", timestamp=1_700_000_000_000)
    assert letters.encode(stamped).timestamp == 1_700_000_000_000
    before = time.time_ns() // 1_000_000
    unstamped = letters.encode(SourceRecord(topic="out", value="v"))
    assert before <= unstamped.timestamp <= time.time_ns() // 1_000_000


class Unwritable(Converter[EmptyConfig]):
    """A converter that can convert nothing (a schema registry that is gone, say)."""

    config_model = EmptyConfig

    def configure(self, config: EmptyConfig, *, is_key: bool) -> None:
        pass

    def from_connect_data(self, topic: str, schema: Any, value: Any) -> bytes | None:
        raise DataError("cannot write anything")

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        raise DataError("cannot read anything")


async def test_a_record_whose_key_and_value_both_fail_is_dead_lettered_once() -> None:
    reset([[2]], None)
    config = {
        **CONFIG,
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "src-dlq",
        "key.converter": "Unwritable",
        "value.converter": "Unwritable",
    }
    async with memory_runtime(("source", ScriptedSource), ("converter", Unwritable)) as rt:
        await rt.herder.create("src", config, None)
        await eventually(lambda: rt.values("src-dlq"))
        await eventually(lambda: rt.herder.status("src")["tasks"][0].get("dead_lettered"))
        assert len(await rt.values("src-dlq")) == 1
        assert rt.herder.status("src")["tasks"][0]["dead_lettered"] == 1


class OddUnwritable(Converter[EmptyConfig]):
    """Writes even numbers, fails on odd ones: failures in the middle of a converted batch."""

    config_model = EmptyConfig
    calls = 0

    def configure(self, config: EmptyConfig, *, is_key: bool) -> None:
        pass

    def from_connect_data(self, topic: str, schema: Any, value: Any) -> bytes | None:
        if value is None:
            return None
        OddUnwritable.calls += 1
        if int(value) % 2:
            raise DataError(f"cannot write {value}")
        return str(value).encode()

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        raise NotImplementedError


async def test_failures_inside_a_batch_leave_the_rest_of_it_converted_in_order() -> None:
    """The runner converts a batch in one loop outside the error handler and hands only a failing
    record to it: every good record still goes out once, in order, each bad one to the DLQ once."""
    store = MemoryOffsetStore()
    reset([[2, 3, 4, 5, 6, 8, 9], [10, 11]], store)
    OddUnwritable.calls = 0
    config = {
        **CONFIG,
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "src-dlq",
        "value.converter": "OddUnwritable",
    }
    plugins = (("source", ScriptedSource), ("converter", OddUnwritable))
    async with memory_runtime(*plugins, log=MemoryLog(store)) as rt:
        await rt.herder.create("src", config, None)
        await eventually(lambda: [t.get("dead_lettered") for t in rt.herder.status("src")["tasks"]] == [4])
        assert await rt.values("out") == [b"2", b"4", b"6", b"8", b"10"]
        assert len(await rt.values("src-dlq")) == 4
        assert await store.get("src", PARTITION) == {"lsn": 11}
    # each good record converted once; each bad one twice (the loop, then the error handler)
    assert OddUnwritable.calls == 5 + 2 * 4
