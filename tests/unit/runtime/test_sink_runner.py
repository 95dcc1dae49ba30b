"""The sink runner against the in-memory backend: pause, commits, retries, errant records, batch hooks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from connectors.sdk import (
    Converter,
    DataError,
    EmptyConfig,
    PluginConfig,
    RetriableError,
    Schema,
    SchemaAndValue,
    SinkConnector,
    SinkRecord,
    SinkTask,
    TopicPartition,
    setting,
)
from tests.unit.runtime.memory_runtime import MemoryRuntime, eventually, memory_runtime

TP = TopicPartition("in", 0)


class RecordingConfig(PluginConfig):
    fail_with: str = setting("", doc="'retriable' makes every put fail temporarily")
    bad_values: str = setting("", doc="values reported to the errant-record reporter, comma-separated")


class RecordingTask(SinkTask[RecordingConfig]):
    config_model = RecordingConfig
    puts: ClassVar[list[list[str]]] = []
    replayed_coordinates: ClassVar[list[tuple[str, int, int]]] = []
    put_started: ClassVar[asyncio.Event]
    slow_put_s: ClassVar[float] = 0.0

    async def start(self, config: RecordingConfig) -> None:
        self.config = config
        self.bad = set(filter(None, config.bad_values.split(",")))

    async def put(self, records: Sequence[SinkRecord]) -> None:
        type(self).put_started.set()
        if self.config.fail_with == "retriable":
            raise RetriableError("target unavailable")
        if self.slow_put_s:
            await asyncio.sleep(self.slow_put_s)
        for record in records:
            if record.value in self.bad:
                reporter = self.context.errant_record_reporter
                assert reporter is not None
                await reporter.report(record, DataError(f"cannot write {record.value}"))
        type(self).puts.append([r.value for r in records if r.value not in self.bad])
        type(self).replayed_coordinates.extend((r.topic, r.partition or 0, r.kafka_offset) for r in records)


class RecordingSink(SinkConnector[RecordingConfig]):
    config_model = RecordingConfig
    task_class = RecordingTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


def reset() -> None:
    RecordingTask.puts = []
    RecordingTask.put_started = asyncio.Event()
    RecordingTask.slow_put_s = 0.0


def sink_config(**extra: str) -> dict[str, str]:
    return {"name": "snk", "connector.class": "RecordingSink", "topics": "in", **extra}


def put_values() -> list[str]:
    return [v for batch in RecordingTask.puts for v in batch]


async def committed(rt: MemoryRuntime) -> int | None:
    return (await rt.log.group_offsets("connect-snk")).get(TP)


async def test_nothing_is_put_once_the_status_reads_paused() -> None:
    reset()
    async with memory_runtime(("sink", RecordingSink), **{"consumer.max.poll.records": "10"}) as rt:
        await rt.produce("in", [str(i).encode() for i in range(10)])
        await rt.herder.create("snk", sink_config(), None)
        await eventually(lambda: len(put_values()) == 10)
        RecordingTask.slow_put_s = 0.3  # the next put is in flight when the pause arrives
        await rt.produce("in", [b"a", b"b"])
        await eventually(lambda: RecordingTask.put_started.is_set())
        RecordingTask.put_started.clear()
        await rt.herder.pause("snk")
        assert rt.task_state("snk") == "RUNNING"  # not yet: a put is still running
        await eventually(lambda: rt.task_state("snk") == "PAUSED")
        puts_when_paused = len(RecordingTask.puts)
        await rt.produce("in", [b"late-1", b"late-2"])
        await asyncio.sleep(0.5)
        assert len(RecordingTask.puts) == puts_when_paused  # nothing reached the target after PAUSED
        RecordingTask.slow_put_s = 0.0
        await rt.herder.resume("snk")
        await eventually(lambda: "late-2" in put_values())
        assert sorted(put_values()) == sorted([str(i) for i in range(10)] + ["a", "b", "late-1", "late-2"])


async def test_the_embedded_log_commits_after_every_put_and_before_pausing() -> None:
    reset()
    settings = {"offset.flush.interval.ms": "3600000", "consumer.max.poll.records": "5"}
    async with memory_runtime(("sink", RecordingSink), **settings) as rt:
        await rt.produce("in", [str(i).encode() for i in range(12)])
        await rt.herder.create("snk", sink_config(), None)
        # The flush interval is an hour: only the per-put commit can store these positions.
        await eventually(lambda: _equals(committed(rt), 12), message="committed after each put")
        await rt.herder.pause("snk")
        await eventually(lambda: rt.task_state("snk") == "PAUSED")
        assert await committed(rt) == 12


async def test_a_put_that_keeps_failing_gives_up_after_errors_retry_timeout() -> None:
    reset()
    async with memory_runtime(("sink", RecordingSink)) as rt:
        await rt.produce("in", [b"x"])
        config = sink_config(
            fail_with="retriable",
            **{
                "errors.retry.timeout": "400",
                "errors.retry.delay.max.ms": "50",
                "auto.restart.enable": "false",
            },
        )
        await rt.herder.create("snk", config, None)
        await eventually(lambda: rt.task_state("snk") == "FAILED", message="the task fails after the timeout")
        assert "target unavailable" in rt.herder.status("snk")["tasks"][0]["trace"]
        assert await committed(rt) is None


async def test_errant_records_go_to_the_dead_letter_queue_with_their_original_bytes() -> None:
    reset()
    async with memory_runtime(("sink", RecordingSink)) as rt:
        await rt.produce("in", [b"good-1", b"bad", b"good-2"])
        config = sink_config(
            bad_values="bad",
            **{
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": "dlq",
                "errors.deadletterqueue.context.headers.enable": "true",
            },
        )
        await rt.herder.create("snk", config, None)
        await eventually(lambda: rt.values("dlq"), message="the reported record reached the DLQ")
        [letter] = await rt.records("dlq")
        assert letter.value == b"bad"
        headers = dict(letter.headers)
        assert headers["__connect.errors.stage"] == b"TASK_PUT"
        assert headers["__connect.errors.offset"] == b"1"
        assert b"cannot write bad" in (headers["__connect.errors.exception.message"] or b"")
        assert put_values() == ["good-1", "good-2"]
        assert rt.task_state("snk") == "RUNNING"


async def test_an_errant_record_without_tolerance_fails_the_task() -> None:
    reset()
    async with memory_runtime(("sink", RecordingSink)) as rt:
        await rt.produce("in", [b"bad"])
        await rt.herder.create("snk", sink_config(bad_values="bad", **{"auto.restart.enable": "false"}), None)
        await eventually(lambda: rt.task_state("snk") == "FAILED")
        assert (
            "Tolerance exceeded in error handler at stage TASK_PUT"
            in rt.herder.status("snk")["tasks"][0]["trace"]
        )


class LookupConverter(Converter[EmptyConfig]):
    """Values name a "schema" that only the batch hook may fetch; a per-record lookup would be a bug."""

    config_model = EmptyConfig
    batches: ClassVar[list[int]] = []
    unreachable: ClassVar[bool] = False

    def __init__(self) -> None:
        self.known: set[bytes] = set()

    async def prepare_to_connect(self, records: Sequence[tuple[str, bytes | None]]) -> None:
        if self.unreachable:
            raise RetriableError("registry unreachable")
        await asyncio.sleep(0)  # the network round trip, once per batch
        type(self).batches.append(len(records))
        self.known.update(data for _, data in records if data is not None)

    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        if data is not None and data not in self.known:
            raise DataError(f"{data!r} was not prepared by the batch hook")
        return SchemaAndValue(None, None if data is None else data.decode())

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        return None if value is None else str(value).encode()


async def test_a_converter_batch_hook_runs_once_per_batch_before_the_records() -> None:
    reset()
    LookupConverter.batches, LookupConverter.unreachable = [], False
    async with memory_runtime(
        ("sink", RecordingSink), ("converter", LookupConverter), **{"consumer.max.poll.records": "4"}
    ) as rt:
        await rt.produce("in", [str(i).encode() for i in range(10)])
        await rt.herder.create("snk", sink_config(**{"value.converter": "LookupConverter"}), None)
        await eventually(lambda: len(put_values()) == 10)
        assert LookupConverter.batches == [4, 4, 2]


async def test_a_failing_batch_hook_fails_every_record_of_the_batch_under_the_tolerance() -> None:
    reset()
    LookupConverter.batches, LookupConverter.unreachable = [], True
    async with memory_runtime(("sink", RecordingSink), ("converter", LookupConverter)) as rt:
        await rt.produce("in", [b"a", b"b"])
        config = sink_config(
            **{
                "value.converter": "LookupConverter",
                "errors.tolerance": "all",
                "errors.deadletterqueue.topic.name": "dlq",
            }
        )
        await rt.herder.create("snk", config, None)
        await eventually(lambda: _length(rt.values("dlq"), 2), message="both records dead-lettered")
        assert put_values() == []


async def test_a_retriable_batch_hook_failure_is_retried_under_errors_retry_timeout() -> None:
    reset()
    LookupConverter.batches, LookupConverter.unreachable = [], True
    async with memory_runtime(("sink", RecordingSink), ("converter", LookupConverter)) as rt:
        await rt.produce("in", [b"a", b"b"])
        config = sink_config(**{"value.converter": "LookupConverter", "errors.retry.timeout": "-1"})
        await rt.herder.create("snk", config, None)
        await asyncio.sleep(0.5)
        assert put_values() == [] and rt.task_state("snk") == "RUNNING"  # retrying, not failed
        LookupConverter.unreachable = False
        await eventually(lambda: put_values() == ["a", "b"])


async def _equals(value: Any, expected: Any) -> bool:
    return bool(await value == expected)


async def _length(value: Any, expected: int) -> bool:
    return len(await value) == expected


async def test_a_resume_and_a_new_pause_between_two_passes_still_read_paused() -> None:
    reset()
    async with memory_runtime(("sink", RecordingSink)) as rt:
        await rt.herder.create("snk", sink_config(), None)
        await eventually(lambda: rt.task_state("snk") == "RUNNING")
        await rt.herder.pause("snk")
        await eventually(lambda: rt.task_state("snk") == "PAUSED")
        await rt.herder.resume("snk")  # the loop is inside a fetch: it sees neither change alone
        await rt.herder.pause("snk")
        await eventually(
            lambda: rt.task_state("snk") == "PAUSED", message="the second pause was never reported"
        )
        await rt.produce("in", [b"x"])
        await asyncio.sleep(0.3)
        assert put_values() == []
