"""Dead letters and their replay on Kafka: the same flow as the embedded API test, on a standalone
worker against the real broker (the DLQ topic is created with replication factor 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.test_api_dead_letters import poison_then_replay
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def test_poison_records_are_dead_lettered_then_replayed_on_kafka(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    settings = {
        "bootstrap.servers": kafka_bootstrap,
        "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
        "offset.flush.interval.ms": "1000",
    }
    server = ServerProcess(tmp_path / "w", settings, mode="standalone").start(60)
    try:
        poison_then_replay(server, tmp_path, **{"errors.deadletterqueue.topic.replication.factor": "1"})
    finally:
        server.close()
