"""Running the same tests on the embedded log and on a real Kafka (distributed workers)."""

from __future__ import annotations

import pytest

BOTH_BACKENDS = pytest.mark.parametrize(
    "backend", ["embedded", pytest.param("kafka", marks=pytest.mark.kafka)], indirect=True
)
"""Mark a test module or test with this to run it on both backends."""

KAFKA_ONLY = pytest.mark.parametrize(
    "backend", [pytest.param("kafka", marks=pytest.mark.kafka)], indirect=True
)


def distributed_settings(bootstrap: str, cluster: str) -> dict[str, str]:
    """A small, fast cluster: its own group and internal topics, few partitions, a short session."""
    return {
        "bootstrap.servers": bootstrap,
        "group.id": cluster,
        "config.storage.topic": f"{cluster}-configs",
        "offset.storage.topic": f"{cluster}-offsets",
        "offset.storage.partitions": "3",
        "status.storage.topic": f"{cluster}-status",
        "status.storage.partitions": "1",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "1000",
    }
