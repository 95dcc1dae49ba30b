"""The sink on a real standalone worker reading a Kafka topic: keyed JSON with schemas, an
update and a tombstone, offsets committed to the Kafka consumer group."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch, pytest.mark.kafka]

SCHEMA = {"type": "struct", "fields": [{"field": "n", "type": "int64"}, {"field": "who", "type": "string"}]}


async def _produce(bootstrap: str, topic: str, items: list[tuple[str, dict[str, object] | None]]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value in items:
            body = None if value is None else orjson.dumps({"schema": SCHEMA, "payload": value})
            await producer.send_and_wait(topic, body, key=key.encode(), partition=0)
    finally:
        await producer.stop()


def _docs(url: str, index: str) -> dict[str, object]:
    with httpx.Client(base_url=url, timeout=10) as es:
        if es.head(f"/{index}").status_code != 200:
            return {}
        es.post(f"/{index}/_refresh")
        hits = es.post(f"/{index}/_search", json={"size": 100}).json()["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def test_json_with_schemas_from_kafka(tmp_path: Path, kafka_bootstrap: str, elasticsearch_url: str) -> None:
    topic = f"es-kafka-{uuid.uuid4().hex[:8]}"
    config = {
        "connector.class": "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector",
        "topics": topic,
        "connection.url": elasticsearch_url,
        "behavior.on.null.values": "delete",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
    }
    connector_file = tmp_path / "es.json"
    name = f"es-sink-{topic}"  # its own consumer group on the shared broker
    connector_file.write_text(json.dumps({"name": name, "config": config}))
    settings = {
        "bootstrap.servers": kafka_bootstrap,
        "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
        "offset.flush.interval.ms": "500",
    }
    asyncio.run(
        _produce(
            kafka_bootstrap,
            topic,
            [
                ("a", {"n": 1, "who": "ann"}),
                ("b", {"n": 2, "who": "bob"}),
                ("a", {"n": 3, "who": "ann"}),
                ("b", None),
            ],
        )
    )
    worker = ServerProcess(
        tmp_path / "w", settings, mode="standalone", connector_files=(connector_file,)
    ).start(60)
    try:
        worker.wait_for_state(name, tasks=1, timeout=60)
        wait_until(
            lambda: _docs(elasticsearch_url, topic) == {"a": {"n": 3, "who": "ann"}}, 60, 0.3, "indexed"
        )
        with httpx.Client(base_url=elasticsearch_url) as es:
            mapping = es.get(f"/{topic}/_mapping").json()[topic]["mappings"]["properties"]
        assert mapping["n"] == {"type": "long"} and mapping["who"]["type"] == "text"
        offsets = wait_until(
            lambda: (
                (got := worker.client.get(f"/connectors/{name}/offsets").json()["offsets"])
                and got[0]["offset"]["kafka_offset"] == 4
                and got
            ),
            30,
            0.3,
            "offsets committed",
        )
        assert [o["partition"] for o in offsets] == [{"kafka_topic": topic, "kafka_partition": 0}]
    finally:
        worker.close()
        httpx.delete(f"{elasticsearch_url}/{topic}", timeout=10)
