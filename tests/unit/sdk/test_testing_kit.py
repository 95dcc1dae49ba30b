"""The author test kit follows the runtime's contract: retries, errant records, commit order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from connectors.converters.string import StringConverter
from connectors.sdk import (
    CommittedOffsets,
    ConfigError,
    ConnectError,
    DataError,
    PluginConfig,
    RecordMetadata,
    RetriableError,
    SinkConnector,
    SinkRecord,
    SinkTask,
    SourceConnector,
    SourceRecord,
    SourceTask,
    TopicPartition,
    setting,
)
from connectors.sdk.testing import (
    SinkHarness,
    SourceHarness,
    check_config,
    configured_converter,
    sink_records,
)

# --------------------------------------------------------------------------- a counting source

EVENTS: list[str] = []


class CountConfig(PluginConfig):
    topic: str = setting(doc="Topic", min_length=1)
    fail_first_polls: int = setting(0, doc="Polls that raise RetriableError first")
    tasks: int = setting(1, doc="Task configs to return, whatever max_tasks says")


class CountTask(SourceTask[CountConfig]):
    config_model = CountConfig

    async def start(self, config: CountConfig) -> None:
        self.config = config
        self.failures = config.fail_first_polls
        stored = await self.context.offset({"counter": "c"})
        self.n = stored["n"] if stored else 0

    async def poll(self) -> Sequence[SourceRecord]:
        if self.failures:
            self.failures -= 1
            raise RetriableError("not yet")
        self.n += 1
        return [
            SourceRecord(
                self.config.topic, self.n, source_partition={"counter": "c"}, source_offset={"n": self.n}
            )
        ]

    async def commit_record(self, record: SourceRecord, metadata: RecordMetadata | None) -> None:
        EVENTS.append(f"written {record.value}")

    async def commit(self, offsets: CommittedOffsets) -> None:
        EVENTS.append(f"commit {offsets.get({'counter': 'c'})}")


class CountConnector(SourceConnector[CountConfig]):
    config_model = CountConfig
    task_class = CountTask

    async def start(self, config: CountConfig) -> None:
        self.config = config

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{} for _ in range(self.config.tasks)]


async def test_source_harness_commits_after_storing_and_retries_polls() -> None:
    EVENTS.clear()
    async with SourceHarness(CountConnector, {"topic": "t", "fail.first.polls": "2"}) as kit:
        assert [r.value for r in await kit.poll(count=3)] == [1, 2, 3]
        assert len(kit.retriable_errors) == 2
        assert list(await kit.commit()) == [({"counter": "c"}, {"n": 3})]
        assert kit.offsets.get({"counter": "c"}) == {"n": 3}
        assert not await kit.commit()  # nothing new: task.commit not called
        task = await kit.restart_task()
        assert isinstance(task, CountTask) and task.n == 3
    assert EVENTS == ["written 1", "written 2", "written 3", "commit {'n': 3}"]


async def test_source_harness_rejects_too_many_task_configs() -> None:
    with pytest.raises(ConnectError, match=r"task_configs\(1\) returned 2 configs"):
        await SourceHarness(CountConnector, {"topic": "t", "tasks": "2"}).start()


# --------------------------------------------------------------------------- a picky sink


class PickyConfig(PluginConfig):
    busy_puts: int = setting(0, doc="put() calls that raise RetriableError first")
    keep_one_offset: bool = setting(False, doc="pre_commit commits one record less")


class PickySink(SinkTask[PickyConfig]):
    config_model = PickyConfig

    async def start(self, config: PickyConfig) -> None:
        self.config = config
        self.busy = config.busy_puts
        self.written: list[Any] = []
        self.opened: list[TopicPartition] = []

    async def open(self, partitions: Any) -> None:
        self.opened.extend(sorted(partitions))

    async def put(self, records: Sequence[SinkRecord]) -> None:
        if self.busy:
            self.busy -= 1
            self.context.timeout(250)
            raise RetriableError("target busy", retry_after=None if self.busy else 0.5)
        for record in records:
            if not isinstance(record.value, str):
                await self.context.errant_record_reporter.report(record, DataError("not text"))  # type: ignore[union-attr]
                continue
            self.written.append(record.value)
            if record.value == "rewind":
                self.context.offset(record.original_topic_partition, 0)
            if record.value == "flush now":
                self.context.request_commit()

    async def pre_commit(self, offsets: Mapping[TopicPartition, int]) -> Mapping[TopicPartition, int]:
        if self.config.keep_one_offset:
            return {tp: position - 1 for tp, position in offsets.items()}
        return offsets


class PickyConnector(SinkConnector[PickyConfig]):
    config_model = PickyConfig
    task_class = PickySink

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


async def test_sink_harness_retries_a_retriable_batch_with_the_requested_backoff() -> None:
    async with SinkHarness(PickyConnector, {"topics": "a,b", "busy.puts": "2"}) as kit:
        await kit.put(sink_records("a", ["x", "y"]))
        task = kit.task
        assert isinstance(task, PickySink)
        assert task.opened == [TopicPartition("a", 0), TopicPartition("b", 0)]
        assert task.written == ["x", "y"]  # the same batch, offered again
        assert kit.retry_waits == [0.25, 0.5]  # context.timeout, then retry_after wins
        assert await kit.commit() == {TopicPartition("a", 0): 2}


async def test_sink_harness_gives_up_after_max_retries() -> None:
    kit = SinkHarness(PickyConnector, {"topics": "a", "busy.puts": "5"}, max_retries=2)
    async with kit:
        with pytest.raises(RetriableError):
            await kit.put(sink_records("a", ["x"]))
        assert len(kit.retry_waits) == 3


async def test_sink_harness_records_errant_records_and_honours_requests() -> None:
    async with SinkHarness(PickyConnector, {"topics": "a", "keep.one.offset": "true"}) as kit:
        await kit.put(sink_records("a", ["x", 5, "flush now"]))
        assert [(record.kafka_offset, str(error)) for record, error in kit.errant] == [(1, "not text")]
        assert kit.commit_requests == 1
        assert kit.committed == {TopicPartition("a", 0): 2}  # what pre_commit returned
        await kit.put(sink_records("a", ["rewind"], start_offset=3))
        assert kit.rewinds == {TopicPartition("a", 0): 0}


async def test_errant_record_fails_the_put_without_tolerance() -> None:
    async with SinkHarness(PickyConnector, {"topics": "a"}, tolerate_errors=False) as kit:
        with pytest.raises(DataError, match="not text"):
            await kit.put(sink_records("a", [5]))
        assert len(kit.errant) == 1


# --------------------------------------------------------------------------- config helpers


def test_check_config_and_configured_converter() -> None:
    assert check_config(PickyConnector, {"busy.puts": "x"}) == {
        "busy.puts": ["Invalid value x for configuration busy.puts: Not a number of type INT"]
    }
    assert check_config(StringConverter, {"converter.encoding": "nope"}) == {
        "converter.encoding": [
            "Invalid value nope for configuration converter.encoding: Unsupported character encoding: nope"
        ]
    }
    converter = configured_converter(StringConverter, {"converter.encoding": "ISO-8859-1"}, is_key=True)
    assert converter.is_key and converter.from_connect_data("t", None, "\u00e9") == b"\xe9"
    with pytest.raises(ConfigError):
        configured_converter(StringConverter, {"converter.encoding": "nope"})
