"""Transforms, predicates and error handling end to end: real workers, embedded and on Kafka.

Connector configs use Kafka's class names unchanged, as a user moving from Kafka Connect would.
Expected records are written from Kafka Connect's documented behaviour (reference §7): a
FileStreamSource record has no timestamp, so ``InsertField``'s ``timestamp.field`` is null on a
source (it is the log timestamp on a sink); ``RegexRouter`` renames the topic before the
record is written; a sink's dead letter holds the record's original bytes with
``__connect.errors.*`` headers; a source's (Penstock's extension) holds the record its task
produced, as JsonConverter-with-schemas bytes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.cluster import BOTH_BACKENDS, KAFKA_ONLY
from tests.support.server import ServerProcess, wait_until
from tests.support.topics import TopicRecord, read_topic

pytestmark = pytest.mark.integration

TopicName = Callable[[str], str]
Reader = Callable[[ServerProcess, str], list[TopicRecord]]
T = "org.apache.kafka.connect.transforms."
P = T + "predicates."
JSON = "org.apache.kafka.connect.json.JsonConverter"
STRING = "org.apache.kafka.connect.storage.StringConverter"


@pytest.fixture
def read(backend: str, request: pytest.FixtureRequest) -> Reader:
    bootstrap = request.getfixturevalue("kafka_bootstrap") if backend == "kafka" else ""
    return lambda server, name: read_topic(backend, server.data_dir, name, bootstrap)


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def append(path: Path, lines: list[str]) -> None:
    with path.open("a") as f:
        f.write("".join(line + "\n" for line in lines))


def file_source(source: Path, topic: str, **config: str) -> dict[str, str]:
    source.touch()
    return {
        "connector.class": "FileStreamSource",
        "tasks.max": "1",
        "file": str(source),
        "topic": topic,
        **config,
    }


def dlq_settings(topic: str) -> dict[str, str]:
    return {
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": topic,
        "errors.deadletterqueue.topic.replication.factor": "1",  # one broker
        "errors.deadletterqueue.context.headers.enable": "true",
    }


def metric(server: ServerProcess, name: str, **labels: str) -> float | None:
    text = server.client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


def task_status(server: ServerProcess, name: str) -> dict[str, Any]:
    """Task 0's status; empty until the connector has its task (a distributed worker assigns it later)."""
    tasks = server.client.get(f"/connectors/{name}/status").json().get("tasks") or [{}]
    return dict(tasks[0])


@BOTH_BACKENDS
def test_a_file_source_chain_writes_hoisted_stamped_records_to_the_routed_topic(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: TopicName, read: Reader
) -> None:
    server = server_factory({"offset.flush.interval.ms": "500"})
    source = tmp_path / "clicks.txt"
    server.create(
        "clicks",
        file_source(
            source,
            topic("clicks-raw"),
            **{
                "value.converter": JSON,
                "value.converter.schemas.enable": "true",
                "transforms": "hoist,stamp,route",
                "transforms.hoist.type": T + "HoistField$Value",
                "transforms.hoist.field": "line",
                "transforms.stamp.type": T + "InsertField$Value",
                "transforms.stamp.topic.field": "topic",
                "transforms.stamp.timestamp.field": "ts",
                "transforms.stamp.static.field": "origin",
                "transforms.stamp.static.value": "e2e",
                "transforms.route.type": T + "RegexRouter",
                "transforms.route.regex": "(.*)-raw",
                "transforms.route.replacement": "$1-routed",
            },
        ),
    )
    server.wait_for_state("clicks", tasks=1)
    append(source, ["home", "cart ü"])
    records = wait_until(
        lambda: (r := read(server, topic("clicks-routed"))) and len(r) >= 2 and r, timeout=30, interval=0.3
    )

    # HoistField: a struct with the line; InsertField appends topic (optional string, the topic
    # before RegexRouter ran), ts (optional Timestamp; null: a FileStreamSource record has no
    # timestamp) and the static field (optional string), in that order.
    schema = {
        "type": "struct",
        "fields": [
            {"type": "string", "optional": False, "field": "line"},
            {"type": "string", "optional": True, "field": "topic"},
            {
                "type": "int64",
                "optional": True,
                "name": "org.apache.kafka.connect.data.Timestamp",
                "version": 1,
                "field": "ts",
            },
            {"type": "string", "optional": True, "field": "origin"},
        ],
        "optional": False,
    }
    assert [json.loads(r.value or b"") for r in records] == [
        {
            "schema": schema,
            "payload": {"line": line, "topic": topic("clicks-raw"), "ts": None, "origin": "e2e"},
        }
        for line in ("home", "cart ü")
    ]
    assert read(server, topic("clicks-raw")) == []  # routed before anything was written

    # A FileStreamSink reading the routed topic sees the structure (JSON lines).
    out = tmp_path / "clicks-out.txt"
    server.create(
        "clicks-out",
        {
            "connector.class": "FileStreamSink",
            "file": str(out),
            "topics": topic("clicks-routed"),
            "value.converter": JSON,
            "value.converter.schemas.enable": "true",
        },
    )
    wait_until(lambda: len(lines_of(out)) == 2, timeout=30)
    assert [json.loads(line) for line in lines_of(out)] == [
        {"line": "home", "topic": topic("clicks-raw"), "ts": None, "origin": "e2e"},
        {"line": "cart ü", "topic": topic("clicks-raw"), "ts": None, "origin": "e2e"},
    ]


@BOTH_BACKENDS
def test_a_sink_chain_with_predicates_filters_masks_and_stamps(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: TopicName
) -> None:
    server = server_factory({"offset.flush.interval.ms": "500"})
    orders, audit = tmp_path / "orders.txt", tmp_path / "audit.txt"
    # The sources write the lines as they are; the sink parses them as schemaless JSON, so the
    # line "null" is a tombstone there.
    server.create("orders", file_source(orders, topic("orders"), **{"value.converter": STRING}))
    server.create("audit", file_source(audit, topic("audit"), **{"value.converter": STRING}))
    server.wait_for_state("orders", tasks=1)
    server.wait_for_state("audit", tasks=1)
    out = tmp_path / "out.txt"
    server.create(
        "orders-out",
        {
            "connector.class": "FileStreamSink",
            "file": str(out),
            "topics": f"{topic('orders')},{topic('audit')}",
            "value.converter": JSON,
            "value.converter.schemas.enable": "false",
            "transforms": "dropTombstones,onlyOrders,mask,stamp",
            "transforms.dropTombstones.type": T + "Filter",
            "transforms.dropTombstones.predicate": "isTombstone",
            "transforms.onlyOrders.type": T + "Filter",
            "transforms.onlyOrders.predicate": "isOrders",
            "transforms.onlyOrders.negate": "true",
            "transforms.mask.type": T + "MaskField$Value",
            "transforms.mask.fields": "card,amount",
            "transforms.stamp.type": T + "InsertField$Value",
            "transforms.stamp.topic.field": "from",
            "transforms.stamp.offset.field": "offset",
            "transforms.stamp.timestamp.field": "seen",
            "transforms.stamp.static.field": "via",
            "transforms.stamp.static.value": "penstock",
            "predicates": "isTombstone,isOrders",
            "predicates.isTombstone.type": P + "RecordIsTombstone",
            "predicates.isOrders.type": P + "TopicNameMatches",
            "predicates.isOrders.pattern": ".*-?orders",
        },
    )
    server.wait_for_state("orders-out", tasks=1)
    started_ms = int(time.time() * 1000)
    append(audit, ['{"who":"admin","card":"0000"}'])
    append(orders, ['{"id":1,"card":"4111-1111","amount":10}', "null", '{"id":2,"card":"5500","amount":2.5}'])
    append(audit, ['{"who":"bot"}'])
    append(orders, ['{"id":3,"card":"6011"}'])
    wait_until(lambda: len(lines_of(out)) >= 3, timeout=30)
    time.sleep(1)  # nothing else may follow: the tombstone and the audit records were filtered out
    written = [json.loads(line) for line in lines_of(out)]
    seen = [w.pop("seen") for w in written]
    # MaskField on a map: strings become "", numbers 0 of their type, a missing field a null
    # entry; InsertField adds the topic, the record's offset (1 was the tombstone) and its log
    # timestamp (epoch milliseconds without a schema).
    assert written == [
        {"id": 1, "card": "", "amount": 0, "from": topic("orders"), "offset": 0, "via": "penstock"},
        {"id": 2, "card": "", "amount": 0.0, "from": topic("orders"), "offset": 2, "via": "penstock"},
        {"id": 3, "card": "", "amount": None, "from": topic("orders"), "offset": 3, "via": "penstock"},
    ]
    assert all(started_ms - 1000 <= ms <= time.time() * 1000 for ms in seen), seen


@BOTH_BACKENDS
def test_debezium_envelopes_read_without_schemas_become_rows(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: TopicName
) -> None:
    """ExtractNewRecordState on change events a sink reads with ``schemas.enable=false`` (Penstock
    flattens schemaless envelopes; Debezium passes them through): with no delete key, deletes and
    tombstones are dropped (Debezium 2.5-3.1); ``rewrite`` marks rows with ``__deleted``."""
    server = server_factory({"offset.flush.interval.ms": "500"})
    changes = tmp_path / "changes.txt"
    server.create("changes", file_source(changes, topic("users"), **{"value.converter": STRING}))
    server.wait_for_state("changes", tasks=1)
    append(
        changes,
        [
            '{"before":null,"after":{"id":1,"name":"ann"},"source":{"table":"users"},"op":"c","ts_ms":1}',
            '{"before":{"id":1,"name":"ann"},"after":{"id":1,"name":"bo"},"source":{"table":"users"},"op":"u","ts_ms":2}',
            '{"before":{"id":1,"name":"bo"},"after":null,"source":{"table":"users"},"op":"d","ts_ms":3}',
            "null",
            '{"id":2,"note":"not an envelope"}',
        ],
    )
    unwrap = {
        "connector.class": "FileStreamSink",
        "topics": topic("users"),
        "value.converter": JSON,
        "value.converter.schemas.enable": "false",
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
    }
    rows, marked = tmp_path / "rows.txt", tmp_path / "marked.txt"
    server.create("rows", {**unwrap, "file": str(rows)})
    server.create(
        "marked",
        {
            **unwrap,
            "file": str(marked),
            "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
            "transforms.unwrap.add.fields": "op,table",
        },
    )
    wait_until(lambda: len(lines_of(rows)) >= 3 and len(lines_of(marked)) >= 4, timeout=30)
    time.sleep(1)
    assert [json.loads(line) for line in lines_of(rows)] == [
        {"id": 1, "name": "ann"},
        {"id": 1, "name": "bo"},
        {"id": 2, "note": "not an envelope"},
    ]
    assert [json.loads(line) for line in lines_of(marked)] == [
        {"id": 1, "name": "ann", "__deleted": "false", "__op": "c", "__table": "users"},
        {"id": 1, "name": "bo", "__deleted": "false", "__op": "u", "__table": "users"},
        {"id": 1, "name": "bo", "__deleted": "true", "__op": "d", "__table": "users"},
        {"id": 2, "note": "not an envelope"},
    ]


@BOTH_BACKENDS
def test_a_poison_record_fails_the_task_under_none_and_goes_to_the_dlq_under_all(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: TopicName, read: Reader
) -> None:
    server = server_factory({"offset.flush.interval.ms": "500"})
    payments = tmp_path / "payments.txt"
    server.create("payments", file_source(payments, topic("payments"), **{"value.converter": STRING}))
    server.wait_for_state("payments", tasks=1)
    append(payments, ['{"id":1,"amount":"10"}', '{"id":2,"amount":"ten"}', '{"id":3,"amount":"30"}'])
    chain = {
        "connector.class": "FileStreamSink",
        "topics": topic("payments"),
        "value.converter": JSON,
        "value.converter.schemas.enable": "false",
        "transforms": "cast",
        "transforms.cast.type": T + "Cast$Value",
        "transforms.cast.spec": "amount:int32",
    }
    message = "Value (ten) was out of range for requested data type"

    # errors.tolerance=none (the default): the task fails, its trace names the stage and the transform.
    server.create("strict", {**chain, "file": str(tmp_path / "strict.txt")})
    failed = wait_until(
        lambda: (t := task_status(server, "strict")).get("state") == "FAILED" and t, timeout=30
    )
    assert (
        "Tolerance exceeded in error handler at stage TRANSFORMATION in "
        f"org.apache.kafka.connect.transforms.Cast$Value: {message}"
    ) in failed["trace"]
    assert task_status(server, "payments")["state"] == "RUNNING"

    # errors.tolerance=all with a DLQ: the record goes there with its context, the rest goes on.
    out = tmp_path / "tolerant.txt"
    server.create("tolerant", {**chain, "file": str(out), **dlq_settings(topic("payments-dlq"))})
    wait_until(lambda: len(lines_of(out)) == 2, timeout=30)
    append(payments, ['{"id":4,"amount":"40"}'])
    wait_until(lambda: len(lines_of(out)) == 3, timeout=30)
    assert [json.loads(line) for line in lines_of(out)] == [
        {"id": 1, "amount": 10},
        {"id": 3, "amount": 30},
        {"id": 4, "amount": 40},
    ]
    [letter] = wait_until(lambda: read(server, topic("payments-dlq")), timeout=30, interval=0.3)
    assert letter.value == b'{"id":2,"amount":"ten"}'  # the original bytes
    assert letter.key is None
    context = {k: letter.header(k) for k, _ in letter.headers}
    assert message in (context.pop("__connect.errors.exception.stacktrace") or "")
    assert context == {
        "__connect.errors.topic": topic("payments"),
        "__connect.errors.partition": "0",
        "__connect.errors.offset": "1",
        "__connect.errors.connector.name": "tolerant",
        "__connect.errors.task.id": "0",
        "__connect.errors.stage": "TRANSFORMATION",
        "__connect.errors.class.name": "org.apache.kafka.connect.transforms.Cast$Value",
        "__connect.errors.exception.class.name": "connectors.sdk.errors.DataError",
        "__connect.errors.exception.message": message,
    }
    status = task_status(server, "tolerant")
    assert status["state"] == "RUNNING"
    assert status["dead_lettered"] == 1
    labels = {"connector": "tolerant", "task": "0"}
    assert (
        metric(server, "kafka_connect_task_error_metrics_deadletterqueue_produce_requests_total", **labels)
        == 1
    )
    assert (
        metric(
            server, "kafka_connect_task_error_metrics_record_errors_total", **labels, stage="TRANSFORMATION"
        )
        == 1
    )

    # Tolerating the failed connector's poison record: it restarts from its committed position,
    # the poison goes to the DLQ and the rest arrives once.
    strict = {**chain, "file": str(tmp_path / "strict.txt"), **dlq_settings(topic("payments-dlq"))}
    assert server.client.put("/connectors/strict/config", json=strict).status_code == 200
    wait_until(lambda: len(lines_of(tmp_path / "strict.txt")) >= 3, timeout=30)
    time.sleep(1)
    assert lines_of(tmp_path / "strict.txt") == lines_of(out)
    letters = wait_until(lambda: (r := read(server, topic("payments-dlq"))) and len(r) == 2 and r, timeout=30)
    assert [r.header("__connect.errors.connector.name") for r in letters] == ["tolerant", "strict"]
    assert letters[1].value == b'{"id":2,"amount":"ten"}'
    assert task_status(server, "strict")["dead_lettered"] == 1


@BOTH_BACKENDS
def test_records_a_source_chain_rejects_go_to_the_source_dlq(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: TopicName, read: Reader
) -> None:
    server = server_factory({"offset.flush.interval.ms": "500"})
    readings, strict = tmp_path / "readings.txt", tmp_path / "strict.txt"
    chain = {
        "value.converter": JSON,
        "value.converter.schemas.enable": "false",
        "transforms": "hoist,cast",
        "transforms.hoist.type": T + "HoistField$Value",
        "transforms.hoist.field": "line",
        "transforms.cast.type": T + "Cast$Value",
        "transforms.cast.spec": "line:int32",
    }
    server.create(
        "readings", file_source(readings, topic("readings"), **chain, **dlq_settings(topic("readings-dlq")))
    )
    server.create("strict-readings", file_source(strict, topic("strict-readings"), **chain))
    server.wait_for_state("readings", tasks=1)
    server.wait_for_state("strict-readings", tasks=1)
    appended_ms = int(time.time() * 1000)
    append(readings, ["1", "2", "x", "3"])
    append(strict, ["1", "x"])

    # errors.tolerance=none: the source task fails, naming the stage and the transform.
    failed = wait_until(lambda: (t := task_status(server, "strict-readings")).get("state") == "FAILED" and t)
    assert (
        "Tolerance exceeded in error handler at stage TRANSFORMATION in "
        "org.apache.kafka.connect.transforms.Cast$Value: Value (x) was out of range for requested data type"
    ) in failed["trace"]
    written = wait_until(
        lambda: (r := read(server, topic("readings"))) and len(r) >= 3 and r, timeout=30, interval=0.3
    )
    assert [json.loads(r.value or b"") for r in written] == [{"line": 1}, {"line": 2}, {"line": 3}]
    [letter] = wait_until(lambda: read(server, topic("readings-dlq")), timeout=30, interval=0.3)
    # The record as the task produced it, before any transform, with its source position.
    assert json.loads(letter.value or b"") == {
        "schema": {"type": "string", "optional": False},
        "payload": "x",
    }
    assert letter.key is None
    assert letter.timestamp >= appended_ms  # the time it failed (a FileStreamSource record has none)
    assert json.loads(letter.header("__connect.errors.source.partition") or "") == {"filename": str(readings)}
    assert json.loads(letter.header("__connect.errors.source.offset") or "") == {"position": len("1\n2\nx\n")}
    assert letter.header("__connect.errors.topic") == topic("readings")
    assert letter.header("__connect.errors.connector.name") == "readings"
    assert letter.header("__connect.errors.stage") == "TRANSFORMATION"
    assert letter.header("__connect.errors.class.name") == "org.apache.kafka.connect.transforms.Cast$Value"
    assert letter.header("__connect.errors.exception.message") == (
        "Value (x) was out of range for requested data type"
    )

    append(readings, ["4"])  # the pipeline goes on
    wait_until(lambda: len(read(server, topic("readings"))) == 4, timeout=30, interval=0.3)
    status = task_status(server, "readings")
    assert status["state"] == "RUNNING"
    assert status["dead_lettered"] == 1
    labels = {"connector": "readings", "task": "0"}
    assert (
        metric(server, "kafka_connect_task_error_metrics_deadletterqueue_produce_requests_total", **labels)
        == 1
    )


@KAFKA_ONLY
def test_source_dead_letters_are_written_in_the_exactly_once_transaction(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: TopicName, read: Reader
) -> None:
    """With exactly-once sources, dead letters go in the batch's transaction with its records
    and offsets: a read_committed reader sees them once the batch is committed."""
    server = server_factory({"offset.flush.interval.ms": "500", "exactly.once.source.support": "enabled"})
    readings = tmp_path / "readings.txt"
    server.create(
        "readings",
        file_source(
            readings,
            topic("readings"),
            **{
                "value.converter": JSON,
                "value.converter.schemas.enable": "false",
                "transforms": "hoist,cast",
                "transforms.hoist.type": T + "HoistField$Value",
                "transforms.hoist.field": "line",
                "transforms.cast.type": T + "Cast$Value",
                "transforms.cast.spec": "line:int32",
                **dlq_settings(topic("readings-dlq")),
            },
        ),
    )
    server.wait_for_state("readings", tasks=1)
    append(readings, ["1", "x", "2"])
    written = wait_until(
        lambda: (r := read(server, topic("readings"))) and len(r) >= 2 and r, timeout=30, interval=0.3
    )
    assert [json.loads(r.value or b"") for r in written] == [{"line": 1}, {"line": 2}]
    [letter] = wait_until(lambda: read(server, topic("readings-dlq")), timeout=30, interval=0.3)
    assert json.loads(letter.value or b"")["payload"] == "x"
    assert task_status(server, "readings")["dead_lettered"] == 1
