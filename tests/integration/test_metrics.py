"""``/metrics`` of a real worker while a FileStreamSource -> FileStreamSink pipeline runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.cluster import BOTH_BACKENDS
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, BOTH_BACKENDS]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: ServerProcess) -> Samples:
    response = server.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_counters_move_during_a_run_and_series_go_with_the_connector(
    server_factory: Callable[..., ServerProcess], tmp_path: Path, topic: Callable[[str], str], backend: str
) -> None:
    server = server_factory({"offset.flush.interval.ms": "200"})
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.touch()
    server.create(
        "metrics-src",
        {"connector.class": "FileStreamSource", "tasks.max": "1", "file": str(source), "topic": topic("m")},
    )
    server.create(
        "metrics-sink",
        {"connector.class": "FileStreamSink", "tasks.max": "1", "file": str(sink), "topics": topic("m")},
    )
    server.wait_for_state("metrics-src", tasks=1)
    server.wait_for_state("metrics-sink", tasks=1)
    src = {"connector": "metrics-src", "task": "0"}
    snk = {"connector": "metrics-sink", "task": "0"}

    before = scrape(server)
    assert sample(before, "kafka_connect_connector_task_status", **src, status="running") == 1
    assert sample(before, "kafka_connect_connector_status", connector="metrics-sink", status="running") == 1
    assert sample(before, "kafka_connect_connect_worker_metrics_connector_count") == 2
    assert sample(before, "kafka_connect_connect_worker_metrics_task_count") == 2
    rebalances = sample(before, "kafka_connect_connect_worker_rebalance_metrics_completed_rebalances_total")
    assert (rebalances or 0) >= (1 if backend == "kafka" else 0)

    source.write_text("".join(f"line {i}\n" for i in range(300)))
    sent = "kafka_connect_sink_task_metrics_sink_record_send_total"
    during = wait_until(
        lambda: (s := scrape(server)) and (sample(s, sent, **snk) or 0) >= 300 and s, timeout=20
    )
    assert sample(during, "kafka_connect_source_task_metrics_source_record_poll_total", **src) == 300
    assert sample(during, "kafka_connect_source_task_metrics_source_record_write_total", **src) == 300
    assert sample(during, "kafka_connect_sink_task_metrics_sink_record_read_total", **snk) == 300
    assert (sample(during, "kafka_connect_connector_task_metrics_batch_size_sum", **snk) or 0) >= 300
    assert (
        sample(during, "kafka_connect_source_task_metrics_poll_batch_time_seconds_count", **src) or 0
    ) >= 1
    assert (sample(during, "kafka_connect_sink_task_metrics_put_batch_time_seconds_count", **snk) or 0) >= 1
    committed = "kafka_connect_connector_task_metrics_offset_commit_success_total"
    after_commit = wait_until(lambda: (s := scrape(server)) and (sample(s, committed, **snk) or 0) >= 1 and s)
    assert sample(after_commit, "kafka_connect_sink_task_metrics_consumer_lag", **snk) == 0

    assert server.client.put("/connectors/metrics-sink/pause").status_code == 202
    paused = wait_until(
        lambda: (
            (s := scrape(server))
            and sample(s, "kafka_connect_connector_task_status", **snk, status="paused") == 1
            and s
        )
    )
    assert sample(paused, "kafka_connect_connector_task_status", **snk, status="running") is None

    for name in ("metrics-src", "metrics-sink"):
        assert server.client.delete(f"/connectors/{name}").status_code == 204

    def leftovers() -> list[str]:
        text = server.client.get("/metrics").text
        return [line for line in text.splitlines() if "metrics-src" in line or "metrics-sink" in line]

    # On Kafka a DELETE returns once the config topic has it; the tasks stop at the next rebalance.
    wait_until(lambda: leftovers() == [], message="series of deleted connectors are still served")
    assert leftovers() == []
    after = scrape(server)
    assert sample(after, "kafka_connect_connect_worker_metrics_connector_count") == 0
    assert sample(after, "kafka_connect_connect_worker_metrics_task_count") == 0
