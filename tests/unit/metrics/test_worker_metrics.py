"""WorkerMetrics: task handles, state series, plugin metrics and series removal (pure logic)."""

from __future__ import annotations

import pytest

from app.config.connector_config import SinkConnectorConfig
from app.errors.tolerance import ErrorHandler, Stage, ToleranceExceeded
from app.kafka.stores import KafkaStatusStore
from app.metrics import WorkerMetrics
from app.storage.base import State, Status, TaskId
from app.storage.memory import MemoryStatusStore
from connectors.sdk.connector import ConnectorContext
from connectors.sdk.errors import DataError
from connectors.sdk.metrics import NO_METRICS
from connectors.sdk.sink import SinkTaskContext

SRC = "kafka_connect_source_task_metrics_"
SINK = "kafka_connect_sink_task_metrics_"
TASK = "kafka_connect_connector_task_metrics_"
ERR = "kafka_connect_task_error_metrics_"
WORKER = "kafka_connect_connect_worker_metrics_"


def value(m: WorkerMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def series_of(m: WorkerMetrics, connector: str) -> list[str]:
    return [line for line in m.render().decode().splitlines() if f'connector="{connector}"' in line]


def test_source_task_reports_per_batch() -> None:
    m = WorkerMetrics("w1")
    t = m.task("src", 0)
    t.polled(100, 0.02)
    t.polled(50, 0.5)
    t.written(150)
    labels = {"connector": "src", "task": "0"}
    assert value(m, SRC + "source_record_poll_total", **labels) == 150
    assert value(m, SRC + "source_record_write_total", **labels) == 150
    assert value(m, SRC + "poll_batch_time_seconds_count", **labels) == 2
    assert value(m, SRC + "poll_batch_time_seconds_sum", **labels) == pytest.approx(0.52)
    assert value(m, TASK + "batch_size_sum", **labels) == 150
    assert value(m, TASK + "batch_size_bucket", le="50.0", **labels) == 1
    # a source task has no sink series
    assert value(m, SINK + "sink_record_read_total", **labels) is None


def test_sink_task_reports_reads_sends_commits_errors_and_lag() -> None:
    m = WorkerMetrics("w1")
    t = m.task("snk", 2)
    t.read(10)
    t.sent(8, 0.25)
    t.commit(True, 12)
    t.commit(True, 30)
    t.commit(False, 5)
    t.commit_skipped()
    t.error("VALUE_CONVERTER")
    t.error("VALUE_CONVERTER")
    t.error("TRANSFORMATION")
    t.dead_lettered(2)
    t.lag(7)
    t.lag(None)  # unknown: the last known value stays
    labels = {"connector": "snk", "task": "2"}
    assert value(m, SINK + "sink_record_read_total", **labels) == 10
    assert value(m, SINK + "sink_record_send_total", **labels) == 8
    assert value(m, SINK + "put_batch_time_seconds_sum", **labels) == 0.25
    assert value(m, TASK + "offset_commit_success_total", **labels) == 2
    assert value(m, TASK + "offset_commit_failure_total", **labels) == 1
    assert value(m, TASK + "offset_commit_max_time_ms", **labels) == 30
    assert value(m, TASK + "offset_commit_time_seconds_count", **labels) == 3
    assert value(m, SINK + "offset_commit_skip_total", **labels) == 1
    assert value(m, ERR + "record_errors_total", stage="VALUE_CONVERTER", **labels) == 2
    assert value(m, ERR + "record_errors_total", stage="TRANSFORMATION", **labels) == 1
    assert value(m, ERR + "deadletterqueue_produce_requests_total", **labels) == 2
    assert value(m, SINK + "consumer_lag", **labels) == 7


def test_timed_commit_counts_success_and_failure() -> None:
    m = WorkerMetrics("w1")
    t = m.task("c", 0)
    with t.timed_commit():
        pass
    with pytest.raises(OSError), t.timed_commit():
        raise OSError("disk full")
    assert value(m, TASK + "offset_commit_success_total", connector="c", task="0") == 1
    assert value(m, TASK + "offset_commit_failure_total", connector="c", task="0") == 1


def test_label_children_are_resolved_once_per_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot path never looks labels up again after a task's first report."""
    m = WorkerMetrics("w1")
    t = m.task("c", 0)
    t.polled(1, 0.01)
    t.written(1)

    def no_lookup(*_: object) -> None:
        raise AssertionError("labels() on the hot path")

    for metric in (m.source_record_poll, m.source_record_write, m.poll_batch_time, m.batch_size):
        monkeypatch.setattr(metric, "labels", no_lookup)
    t.polled(5, 0.01)
    t.written(5)
    assert value(m, SRC + "source_record_poll_total", connector="c", task="0") == 6


def test_closing_a_task_removes_its_series_but_not_a_newer_handles() -> None:
    m = WorkerMetrics("w1")
    old = m.task("c", 0)
    old.polled(3, 0.01)
    old.close()
    assert series_of(m, "c") == []
    new = m.task("c", 0)
    new.polled(4, 0.01)
    stale = m.task("c", 1)
    replacement = m.task("c", 1)  # the task restarted before the old handle was closed
    replacement.read(2)
    m.close_task(stale)
    assert value(m, SRC + "source_record_poll_total", connector="c", task="0") == 4
    assert value(m, SINK + "sink_record_read_total", connector="c", task="1") == 2


def test_states_are_info_style_and_only_for_this_worker() -> None:
    m = WorkerMetrics("w1")
    m.connector_status("c", "RUNNING", "w1")
    m.task_status("c", 0, "RUNNING", "w1")
    m.task_status("c", 1, "FAILED", "w1")
    m.task_status("c", 2, "RUNNING", "w2")  # another worker's task
    assert value(m, "kafka_connect_connector_status", connector="c", status="running") == 1
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="0", status="running") == 1
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="1", status="failed") == 1
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="1", status="running") is None
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="2", status="running") is None
    assert value(m, WORKER + "connector_count") == 1
    assert value(m, WORKER + "task_count") == 2
    assert value(m, WORKER + "connector_running_task_count", connector="c") == 1
    assert value(m, WORKER + "connector_failed_task_count", connector="c") == 1
    assert value(m, WORKER + "connector_total_task_count", connector="c") == 2
    m.task_status("c", 0, "RUNNING", "w2")  # moved to another worker
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="0", status="running") is None
    m.task_status("c", 1, "UNASSIGNED", "w1")
    assert value(m, WORKER + "task_count") == 0


def test_deleting_a_connector_removes_every_series_labelled_with_it() -> None:
    m = WorkerMetrics("w1")
    m.connector_status("gone", "RUNNING", "w1")
    m.connector_status("kept", "RUNNING", "w1")
    for name in ("gone", "kept"):
        m.task_status(name, 0, "RUNNING", "w1")
        handle = m.task(name, 0)
        handle.polled(1, 0.01)
        handle.error("KEY_CONVERTER")
        m.plugin_metrics(name).gauge("snapshot_running", "1 while snapshotting").set(1)
        m.plugin_metrics(name, 0).counter("rows", "rows read", ["table"]).inc(3, table="t")
    assert series_of(m, "gone")
    m.connector_removed("gone")
    assert series_of(m, "gone") == []
    kept = "\n".join(series_of(m, "kept"))
    for name in ("connector_snapshot_running", "connector_rows_total", "record_errors_total", "task_status"):
        assert name in kept


def test_plugin_metrics_are_prefixed_labelled_and_checked() -> None:
    m = WorkerMetrics("w1")
    metrics = m.plugin_metrics("cdc", 1)
    rows = metrics.counter("rows_scanned_total", "Rows read by the snapshot", ["table"])
    rows.inc(10, table="public.a")
    rows.inc(5, table="public.a")
    metrics.gauge("remaining_tables", "Tables left to snapshot").set(4)
    assert value(m, "connector_rows_scanned_total", connector="cdc", task="1", table="public.a") == 15
    assert value(m, "connector_remaining_tables", connector="cdc", task="1") == 4
    # the same name from another task of the connector shares the family
    m.plugin_metrics("cdc", 2).counter("rows_scanned_total", "Rows", ["table"]).inc(1, table="public.b")
    assert value(m, "connector_rows_scanned_total", connector="cdc", task="2", table="public.b") == 1
    # connector-level metrics have an empty task label
    m.plugin_metrics("cdc").gauge("remaining_tables", "Tables").set(9)
    assert value(m, "connector_remaining_tables", connector="cdc", task="") == 9
    with pytest.raises(ValueError, match="already exists"):
        metrics.gauge("rows_scanned", "Rows", ["table"])
    with pytest.raises(ValueError, match="Invalid metric name"):
        metrics.gauge("rows-scanned", "Rows")
    with pytest.raises(ValueError, match="Expected labels"):
        rows.inc(1)


def test_two_workers_in_one_process_do_not_share_series() -> None:
    a, b = WorkerMetrics("a"), WorkerMetrics("b")
    a.task("c", 0).polled(1, 0.01)
    b.task("c", 0).polled(2, 0.01)
    assert value(a, SRC + "source_record_poll_total", connector="c", task="0") == 1
    assert value(b, SRC + "source_record_poll_total", connector="c", task="0") == 2


def test_rebalances_are_counted() -> None:
    m = WorkerMetrics("w1")
    assert value(m, "kafka_connect_connect_worker_rebalance_metrics_time_since_last_rebalance_ms") == -1
    m.rebalance_completed()
    m.rebalance_completed()
    assert value(m, "kafka_connect_connect_worker_rebalance_metrics_completed_rebalances_total") == 2
    since = value(m, "kafka_connect_connect_worker_rebalance_metrics_time_since_last_rebalance_ms")
    assert since is not None and 0 <= since < 5000


def test_status_store_reports_states_and_removals() -> None:
    m = WorkerMetrics("w1")
    store = MemoryStatusStore(m)
    store.put_connector("c", Status(State.RUNNING, "w1"), "source")
    store.put_task(TaskId("c", 0), Status(State.PAUSED, "w1"))
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="0", status="paused") == 1
    store.remove_task(TaskId("c", 0))
    assert value(m, "kafka_connect_connector_task_status", connector="c", task="0", status="paused") is None
    store.remove("c")
    assert series_of(m, "c") == []


def test_statuses_read_back_from_the_status_topic_count_only_when_they_are_ours() -> None:
    m = WorkerMetrics("w1")
    store = KafkaStatusStore(m)
    store.on_record(b"status-task-c-0", b'{"state": "RUNNING", "worker_id": "w2"}')
    store.on_record(b"status-task-c-1", b'{"state": "RUNNING", "worker_id": "w1"}')
    assert value(m, WORKER + "task_count") == 1
    assert value(m, WORKER + "connector_count") == 0  # the placeholder connector status is nobody's


def _sink_config(props: dict[str, str]) -> SinkConnectorConfig:
    return SinkConnectorConfig.from_props({"name": "c", "connector.class": "Any", **props})


def test_error_handler_counts_errors_by_stage_whether_tolerated_or_not() -> None:
    m = WorkerMetrics("w1")

    def fail() -> None:
        raise DataError("bad")

    tolerant = ErrorHandler.from_config("c", 0, _sink_config({"errors.tolerance": "all"}), m.task("c", 0))
    tolerant.run(Stage.VALUE_CONVERTER, fail)
    tolerant.run(Stage.VALUE_CONVERTER, fail)
    strict = ErrorHandler.from_config("d", 0, _sink_config({}), m.task("d", 0))
    with pytest.raises(ToleranceExceeded):
        strict.run(Stage.TRANSFORMATION, fail)
    errors = ERR + "record_errors_total"
    assert value(m, errors, connector="c", task="0", stage="VALUE_CONVERTER") == 2
    assert value(m, errors, connector="d", task="0", stage="TRANSFORMATION") == 1


def test_contexts_outside_a_worker_accept_and_discard_metrics() -> None:
    context = SinkTaskContext()
    assert context.metrics is NO_METRICS and ConnectorContext.metrics is NO_METRICS
    context.metrics.counter("x", "doc").inc(3, any="label")
    context.metrics.gauge("y", "doc").set(1)
