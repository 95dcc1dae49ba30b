"""A sink that writes in the background reports a bad record after its ``put`` returned: the
record still reaches the dead-letter queue (re-serialised with the connector's converters, as
Kafka does for records reported after transformation) before its offset is committed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from connectors.sdk import ConnectError, EmptyConfig, SinkConnector, SinkRecord, SinkTask, TopicPartition
from tests.unit.runtime.memory_runtime import eventually, memory_runtime


class LateReportingTask(SinkTask[EmptyConfig]):
    config_model = EmptyConfig
    held: ClassVar[list[SinkRecord]] = []

    async def put(self, records: Sequence[SinkRecord]) -> None:
        self.held.extend(r for r in records if str(r.value).startswith("bad"))

    async def pre_commit(self, offsets: Mapping[TopicPartition, int]) -> Mapping[TopicPartition, int]:
        reporter = self.context.errant_record_reporter
        assert reporter is not None
        while self.held:
            await reporter.report(self.held.pop(0), ConnectError("rejected by the target"))
        return offsets


class LateReportingSink(SinkConnector[EmptyConfig]):
    config_model = EmptyConfig
    task_class = LateReportingTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]


async def test_a_record_reported_after_put_lands_in_the_dlq_before_its_offset_commits() -> None:
    LateReportingTask.held.clear()
    config: dict[str, Any] = {
        "name": "late",
        "connector.class": "LateReportingSink",
        "topics": "in",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": "dlq",
    }
    async with memory_runtime(("sink", LateReportingSink)) as rt:
        await rt.herder.create("late", config, None)
        await rt.produce("in", [b"1", b"bad-2", b"3"])
        assert await eventually(lambda: rt.values("dlq")) == [b"bad-2"]
        assert rt.task_state("late") == "RUNNING"
