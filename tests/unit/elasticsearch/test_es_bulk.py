"""The bulk writer against a scripted client: ordered retries per document, committable offsets,
and what the task status says while Elasticsearch is away."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
from elastic_transport import ConnectionError as TransportConnectionError

from connectors.elasticsearch.bulk import BulkWriter, Progress
from connectors.elasticsearch.config import ElasticsearchSinkConfig
from connectors.elasticsearch.documents import ActionBuilder
from connectors.sdk import SinkRecord, StatusDetails, TopicPartition
from tests.unit.runtime.memory_runtime import eventually

TP = TopicPartition("t", 0)


def test_progress_commits_up_to_the_first_unsettled_offset() -> None:
    progress = Progress()
    for offset in (0, 1, 2):
        progress.add(TP, offset)
    progress.seen(TP, 3)  # skipped on purpose (an ignored tombstone)
    assert progress.safe(TP) == 0
    progress.settle(TP, 1)
    assert progress.safe(TP) == 0
    progress.settle(TP, 0)
    assert progress.safe(TP) == 2
    progress.settle(TP, 2)
    assert progress.safe(TP) == 4 and progress.unsettled == 0


class ScriptedClient:
    """Answers each bulk with the next scripted outcome (an exception, or per-item statuses)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.sent: list[list[tuple[str, int]]] = []  # per request: (id, version or offset)

    async def bulk(self, body: bytes, filter_path: str) -> SimpleNamespace:
        rows = [orjson.loads(line) for line in body.splitlines()]
        heads = [next(iter(r.values())) for r in rows if set(r) & {"index", "delete", "update", "create"}]
        self.sent.append([(h["_id"], h.get("version", -1)) for h in heads])
        outcome = self.script.pop(0) if self.script else None
        if isinstance(outcome, BaseException):
            raise outcome
        statuses = outcome or [201] * len(heads)
        items = [
            {
                "index": {
                    "status": s,
                    **({"error": {"type": "es_rejected_execution_exception"}} if s >= 300 else {}),
                }
            }
            for s in statuses
        ]
        return SimpleNamespace(body={"errors": any(s >= 300 for s in statuses), "items": items})


def make(script: list[Any], **props: str) -> tuple[BulkWriter, ScriptedClient, StatusDetails, ActionBuilder]:
    config = ElasticsearchSinkConfig.parse(
        {"connection.url": "http://es", "retry.backoff.ms": "1", "linger.ms": "0", **props}
    )
    client = ScriptedClient(script)
    details = StatusDetails()

    async def report(record: SinkRecord, error: BaseException) -> None:
        raise AssertionError("nothing is malformed here")

    writer = BulkWriter(client, config, report, details)  # type: ignore[arg-type]
    return writer, client, details, ActionBuilder(config)


def rec(key: str, offset: int) -> SinkRecord:
    return SinkRecord(topic="t", partition=0, key=key, value={"v": offset}, kafka_offset=offset, original_topic="t",
                      original_offset=offset)  # fmt: skip


async def test_a_retried_write_is_not_overtaken_by_a_later_write_to_the_same_document() -> None:
    writer, client, _, builder = make([[429, 201]], **{"max.in.flight.requests": "3"})
    writer.start()
    try:
        writer.add(builder.build(r) for r in (rec("a", 0), rec("b", 1), rec("a", 2)))  # type: ignore[misc]
        await eventually(lambda: writer.buffered == 0, timeout=5)
    finally:
        await writer.stop()
    writes_to_a = [v for request in client.sent for (doc, v) in request if doc == "a"]
    assert writes_to_a == [0, 0, 2]  # offset 0 failed (429), was retried, and only then offset 2 went
    assert all(len({d for d, _ in request}) == len(request) for request in client.sent)
    assert writer.progress.safe(TP) == 3


async def test_unreachable_elasticsearch_is_waited_for_and_said_in_the_status() -> None:
    refused = TransportConnectionError("Connection error")
    refused.__context__ = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 9200)")
    writer, client, details, builder = make([refused, refused, refused], **{"retry.backoff.ms": "200"})
    writer.start()
    try:
        writer.add([builder.build(rec("a", 0))])  # type: ignore[list-item]
        said = await eventually(lambda: details.values.get("waiting"), timeout=5)
        assert said.startswith("waiting for Elasticsearch: connection refused, retry in")
        assert writer.progress.safe(TP) == 0  # nothing committable while it waits
        await eventually(lambda: writer.buffered == 0, timeout=5)
        assert "waiting" not in details.values
    finally:
        await writer.stop()
    assert len(client.sent) == 4
    assert writer.progress.safe(TP) == 1


async def test_batches_respect_batch_size_and_bytes() -> None:
    writer, client, _, builder = make([], **{"batch.size": "2", "max.buffered.records": "10"})
    writer.start()
    try:
        writer.add(builder.build(rec(str(i), i)) for i in range(5))  # type: ignore[misc]
        await eventually(lambda: writer.buffered == 0, timeout=5)
    finally:
        await writer.stop()
    assert sorted(len(r) for r in client.sent) == [1, 2, 2]
    await asyncio.sleep(0)


async def test_wait_settled_returns_once_everything_is_written() -> None:
    """``flush.synchronously``: the flush waits for the in-flight requests, bounded in time."""
    gate = asyncio.Event()

    class SlowClient(ScriptedClient):
        async def bulk(self, body: bytes, filter_path: str) -> SimpleNamespace:
            await gate.wait()
            return await super().bulk(body, filter_path)

    writer, _, _, builder = make([])
    writer._client = SlowClient([])  # type: ignore[assignment]
    writer.start()
    try:
        writer.add([builder.build(rec("a", 0))])  # type: ignore[list-item]
        try:
            await writer.wait_settled(0.1)
            raise AssertionError("returned while the request was held")
        except TimeoutError:
            pass
        gate.set()
        await writer.wait_settled(5)
        assert writer.buffered == 0 and writer.progress.safe(TP) == 1
    finally:
        await writer.stop()
