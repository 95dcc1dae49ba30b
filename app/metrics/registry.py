"""The worker's metric registry, the per-task handles the runners report to, and plugin metrics.

Names follow what the Prometheus JMX exporter makes of Kafka Connect's MBeans by default
(``kafka_connect_<group>_<attribute>``, e.g. ``kafka_connect_source_task_metrics_source_record_poll_total``)
and, for the enum-valued ``status`` attributes, the rule Strimzi publishes
(``kafka_connect_connector_task_status{connector,task,status="running"} 1``), so dashboards built
for Kafka Connect keep working. Kafka's ``-rate`` / ``-avg`` / ``-max`` attributes are left to
PromQL: totals are counters, times and batch sizes are histograms.

Hot path: a runner reports once per batch through its :class:`TaskMetrics`, whose label
children are resolved once, when the task first reports; nothing here runs per record.
"""

from __future__ import annotations

import re
import time
from collections import Counter as Tally
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics import MetricWrapperBase

from connectors.sdk import metrics as sdk

CONTENT_TYPE = CONTENT_TYPE_LATEST
TASK_LABELS = ("connector", "task")
PLUGIN_PREFIX = "connector_"
BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, float("inf"))
TIME_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, float("inf"))
NOT_RUNNING_HERE = frozenset({"UNASSIGNED", "STOPPED", "DESTROYED"})
"""States of a status that does not count as a connector or task *run* by this worker."""
TASK_COUNT_STATES = ("running", "paused", "failed", "unassigned", "restarting")

Series = tuple[MetricWrapperBase, tuple[str, ...]]


class WorkerMetrics:
    """Every metric of one worker, exported by ``/metrics``.

    Only the work this worker runs is reported: statuses written by other workers of a
    distributed cluster (read back from the status topic) are ignored, as each Kafka Connect
    worker reports its own connectors and tasks.
    """

    def __init__(self, worker_id: str) -> None:
        # ``*_created`` series would double the output for no use (Prometheus infers resets);
        # the switch is process-wide in prometheus_client, and every worker wants it off.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.worker_id = worker_id
        self.registry = CollectorRegistry()
        r = self.registry
        src, sink, task, err = (
            "kafka_connect_source_task_metrics_",
            "kafka_connect_sink_task_metrics_",
            "kafka_connect_connector_task_metrics_",
            "kafka_connect_task_error_metrics_",
        )
        self.source_record_poll = Counter(
            src + "source_record_poll_total",
            "Records returned by the task's poll, before transformations",
            TASK_LABELS,
            registry=r,
        )
        self.source_record_write = Counter(
            src + "source_record_write_total",
            "Records written to the topic and acknowledged, after transformations",
            TASK_LABELS,
            registry=r,
        )
        self.poll_batch_time = Histogram(
            src + "poll_batch_time_seconds",
            "Time a poll that returned records took",
            TASK_LABELS,
            buckets=TIME_BUCKETS,
            registry=r,
        )
        self.sink_record_read = Counter(
            sink + "sink_record_read_total",
            "Records read from the topics, before transformations",
            TASK_LABELS,
            registry=r,
        )
        self.sink_record_send = Counter(
            sink + "sink_record_send_total",
            "Records handed to the task's put, after transformations",
            TASK_LABELS,
            registry=r,
        )
        self.put_batch_time = Histogram(
            sink + "put_batch_time_seconds",
            "Time the task's put took for one batch",
            TASK_LABELS,
            buckets=TIME_BUCKETS,
            registry=r,
        )
        self.offset_commit_skip = Counter(
            sink + "offset_commit_skip_total",
            "Offset commits with nothing to commit or refused by the task's pre_commit",
            TASK_LABELS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            sink + "consumer_lag",
            "Records on the task's partitions not yet read (end offset minus position), at the last commit",
            TASK_LABELS,
            registry=r,
        )
        self.batch_size = Histogram(
            task + "batch_size",
            "Records per batch: polled by a source task, put to a sink task",
            TASK_LABELS,
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.offset_commit_success = Counter(
            task + "offset_commit_success_total", "Offset commits that succeeded", TASK_LABELS, registry=r
        )
        self.offset_commit_failure = Counter(
            task + "offset_commit_failure_total",
            "Offset commits that failed or timed out",
            TASK_LABELS,
            registry=r,
        )
        self.offset_commit_time = Histogram(
            task + "offset_commit_time_seconds",
            "Time an offset commit took",
            TASK_LABELS,
            buckets=TIME_BUCKETS,
            registry=r,
        )
        self.offset_commit_max_time = Gauge(
            task + "offset_commit_max_time_ms",
            "Longest offset commit of the task so far, in milliseconds",
            TASK_LABELS,
            registry=r,
        )
        self.record_errors = Counter(
            err + "record_errors_total",
            "Record failures in a stage (conversion, transformation), tolerated or not",
            (*TASK_LABELS, "stage"),
            registry=r,
        )
        self.deadletterqueue_produce = Counter(
            err + "deadletterqueue_produce_requests_total",
            "Records written to the dead-letter queue",
            TASK_LABELS,
            registry=r,
        )
        self.completed_rebalances = Counter(
            "kafka_connect_connect_worker_rebalance_metrics_completed_rebalances_total",
            "Assignments this worker received from its group",
            registry=r,
        )
        self._last_rebalance: float | None = None
        Gauge(
            "kafka_connect_connect_worker_rebalance_metrics_time_since_last_rebalance_ms",
            "Milliseconds since this worker received its last assignment (-1 before the first)",
            registry=r,
        ).set_function(self._since_last_rebalance)
        self.states = StateCollector(worker_id)
        r.register(self.states)
        self._tasks: dict[tuple[str, str], TaskMetrics] = {}
        self._plugins = _PluginFamilies(r)

    # -- runners ---------------------------------------------------------------------------------
    def task(self, connector: str, task: int) -> TaskMetrics:
        """The handle a task runner reports to; a new handle replaces the task's previous one."""
        handle = TaskMetrics(self, connector, str(task))
        self._tasks[(connector, str(task))] = handle
        return handle

    def close_task(self, handle: TaskMetrics) -> None:
        """Remove the task's series: called when the task stops running here."""
        key = (handle.connector, handle.task)
        if self._tasks.get(key) is handle:
            del self._tasks[key]
        handle.remove_series()

    # -- plugins ---------------------------------------------------------------------------------
    def plugin_metrics(self, connector: str, task: int | None = None) -> sdk.PluginMetrics:
        """What ``context.metrics`` gives a connector (``task=None``) or one of its tasks."""
        return PluginMetrics(self._plugins, connector, "" if task is None else str(task))

    # -- status store ----------------------------------------------------------------------------
    def connector_status(self, name: str, state: str, worker_id: str) -> None:
        self.states.connector(name, state if worker_id == self.worker_id else None)

    def task_status(self, connector: str, task: int, state: str, worker_id: str) -> None:
        self.states.task(connector, str(task), state if worker_id == self.worker_id else None)

    def task_removed(self, connector: str, task: int) -> None:
        self.states.task(connector, str(task), None)
        handle = self._tasks.get((connector, str(task)))
        if handle is not None:
            self.close_task(handle)

    def connector_removed(self, name: str) -> None:
        """The connector was deleted: every series labelled with it disappears."""
        self.states.remove_connector(name)
        for key, handle in list(self._tasks.items()):
            if key[0] == name:
                self.close_task(handle)
        self._plugins.remove_connector(name)

    # -- herder ----------------------------------------------------------------------------------
    def rebalance_completed(self) -> None:
        self.completed_rebalances.inc()
        self._last_rebalance = time.monotonic()

    def _since_last_rebalance(self) -> float:
        if self._last_rebalance is None:
            return -1.0
        return (time.monotonic() - self._last_rebalance) * 1000

    # -- exposition ------------------------------------------------------------------------------
    def render(self) -> bytes:
        """The Prometheus text exposition format."""
        return generate_latest(self.registry)


class TaskMetrics:
    """One task's metrics. Label children are looked up once, on the first report of each kind,
    and cached here, so a report costs an increment and (for times) a histogram observation."""

    def __init__(self, owner: WorkerMetrics, connector: str, task: str) -> None:
        self._owner = owner
        self.connector = connector
        self.task = task
        self._labels = (connector, task)
        self._series: list[Series] = []
        self._source: tuple[Any, Any, Any] | None = None
        self._sink: tuple[Any, Any, Any] | None = None
        self._batch: Any = None
        self._commit: tuple[Any, Any, Any, Any] | None = None
        self._max_commit_ms = 0.0
        self._skip: Any = None
        self._errors: dict[str, Any] = {}
        self._dlq: Any = None
        self._lag: Any = None

    def _child(self, metric: MetricWrapperBase, *extra: str) -> Any:
        values = (*self._labels, *extra)
        self._series.append((metric, values))
        return metric.labels(*values)

    def _batch_child(self) -> Any:
        if self._batch is None:
            self._batch = self._child(self._owner.batch_size)
        return self._batch

    def _source_children(self) -> tuple[Any, Any, Any]:
        if self._source is None:
            o = self._owner
            self._source = (
                self._child(o.source_record_poll),
                self._child(o.source_record_write),
                self._child(o.poll_batch_time),
            )
        return self._source

    def _sink_children(self) -> tuple[Any, Any, Any]:
        if self._sink is None:
            o = self._owner
            self._sink = (
                self._child(o.sink_record_read),
                self._child(o.sink_record_send),
                self._child(o.put_batch_time),
            )
        return self._sink

    def polled(self, n: int, seconds: float) -> None:
        """A source poll returned ``n`` records after ``seconds``."""
        poll, _, poll_time = self._source_children()
        poll.inc(n)
        poll_time.observe(seconds)
        self._batch_child().observe(n)

    def written(self, n: int) -> None:
        """``n`` source records were acknowledged by the log or broker."""
        self._source_children()[1].inc(n)

    def read(self, n: int) -> None:
        """A sink fetch returned ``n`` records (before conversion and transformations)."""
        self._sink_children()[0].inc(n)

    def sent(self, n: int, seconds: float) -> None:
        """``put`` took ``n`` records and returned after ``seconds``."""
        _, send, put_time = self._sink_children()
        send.inc(n)
        put_time.observe(seconds)
        self._batch_child().observe(n)

    def commit(self, ok: bool, ms: float) -> None:
        """An offset commit finished (``ok``) or failed, after ``ms`` milliseconds."""
        if self._commit is None:
            o = self._owner
            self._commit = (
                self._child(o.offset_commit_success),
                self._child(o.offset_commit_failure),
                self._child(o.offset_commit_time),
                self._child(o.offset_commit_max_time),
            )
        self._commit[0 if ok else 1].inc()
        self._commit[2].observe(ms / 1000)
        if ms > self._max_commit_ms:
            self._max_commit_ms = ms
            self._commit[3].set(ms)

    @contextmanager
    def timed_commit(self, started: float | None = None) -> Iterator[None]:
        """Report the commit in the ``with`` block as a success, or a failure if it raises.

        ``started`` (``time.monotonic()``) lets the measured time include work done before the
        block, such as the task's ``pre_commit``.
        """
        start = time.monotonic() if started is None else started
        try:
            yield
        except Exception:
            self.commit(False, (time.monotonic() - start) * 1000)
            raise
        self.commit(True, (time.monotonic() - start) * 1000)

    def commit_skipped(self) -> None:
        if self._skip is None:
            self._skip = self._child(self._owner.offset_commit_skip)
        self._skip.inc()

    def error(self, stage: str) -> None:
        """A record failed in ``stage`` (whether or not the failure was tolerated)."""
        child = self._errors.get(stage)
        if child is None:
            child = self._errors[stage] = self._child(self._owner.record_errors, stage)
        child.inc()

    def dead_lettered(self, n: int) -> None:
        if self._dlq is None:
            self._dlq = self._child(self._owner.deadletterqueue_produce)
        self._dlq.inc(n)

    def lag(self, n: int | None) -> None:
        """Sink consumer lag in records; None when unknown (not reported)."""
        if n is None:
            return
        if self._lag is None:
            self._lag = self._child(self._owner.consumer_lag)
        self._lag.set(n)

    def close(self) -> None:
        """The task stopped running here: its series go away."""
        self._owner.close_task(self)

    def remove_series(self) -> None:
        for metric, values in self._series:
            _remove(metric, values)
        self._series.clear()
        self._source = self._sink = self._commit = None
        self._batch = self._skip = self._dlq = self._lag = None
        self._errors.clear()
        self._max_commit_ms = 0.0


def _remove(metric: MetricWrapperBase, values: tuple[str, ...]) -> None:
    with suppress(KeyError):  # already removed (a connector deleted after its tasks stopped)
        metric.remove(*values)


class StateCollector:
    """Connector and task states, and the worker's counts derived from them, computed at scrape time.

    Exported info-style as the Strimzi JMX exporter rules do: only the current state has a
    series, with value 1 and the state lower-cased in the ``status`` label.
    """

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self._connectors: dict[str, str] = {}
        self._tasks: dict[tuple[str, str], str] = {}

    def connector(self, name: str, state: str | None) -> None:
        if state is None:
            self._connectors.pop(name, None)
        else:
            self._connectors[name] = state

    def task(self, connector: str, task: str, state: str | None) -> None:
        if state is None:
            self._tasks.pop((connector, task), None)
        else:
            self._tasks[(connector, task)] = state

    def remove_connector(self, name: str) -> None:
        self._connectors.pop(name, None)
        for key in [k for k in self._tasks if k[0] == name]:
            del self._tasks[key]

    def describe(self) -> Iterable[Metric]:
        return []  # series come and go with connectors; nothing to check at registration

    def collect(self) -> Iterable[Metric]:
        connectors = dict(self._connectors)
        tasks = dict(self._tasks)
        status = GaugeMetricFamily(
            "kafka_connect_connector_status",
            "1 for the connector's current state (status label), as Kafka's connector-metrics status",
            labels=["connector", "status"],
        )
        for name, state in sorted(connectors.items()):
            status.add_metric([name, state.lower()], 1)
        yield status
        task_status = GaugeMetricFamily(
            "kafka_connect_connector_task_status",
            "1 for the task's current state (status label), as Kafka's connector-task-metrics status",
            labels=["connector", "task", "status"],
        )
        for (name, task), state in sorted(tasks.items()):
            task_status.add_metric([name, task, state.lower()], 1)
        yield task_status
        worker = "kafka_connect_connect_worker_metrics_"
        yield GaugeMetricFamily(
            worker + "connector_count",
            "Connectors run by this worker",
            value=sum(1 for s in connectors.values() if s not in NOT_RUNNING_HERE),
        )
        yield GaugeMetricFamily(
            worker + "task_count",
            "Tasks run by this worker",
            value=sum(1 for s in tasks.values() if s not in NOT_RUNNING_HERE),
        )
        per_connector: dict[str, Tally[str]] = {name: Tally() for name in connectors}
        for (name, _), state in tasks.items():
            per_connector.setdefault(name, Tally())[state.lower()] += 1
        for which in (*TASK_COUNT_STATES, "total"):
            family = GaugeMetricFamily(
                f"{worker}connector_{which}_task_count",
                f"Tasks of the connector on this worker{'' if which == 'total' else ' in state ' + which}",
                labels=["connector"],
            )
            for name, counts in sorted(per_connector.items()):
                family.add_metric([name], counts.total() if which == "total" else counts[which])
            yield family


_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


class _PluginFamilies:
    """Metric families created by plugins, shared by every connector that uses the same name."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry
        self._families: dict[str, tuple[str, tuple[str, ...], MetricWrapperBase]] = {}
        self._series: dict[str, set[Series]] = {}

    def family(self, kind: str, name: str, documentation: str, labels: Sequence[str]) -> MetricWrapperBase:
        if not _NAME.fullmatch(name):
            raise ValueError(f"Invalid metric name {name!r}: use letters, digits and underscores")
        full = PLUGIN_PREFIX + (name.removesuffix("_total") if kind == "counter" else name)
        names = (*TASK_LABELS, *labels)
        known = self._families.get(full)
        if known is not None:
            if known[0] != kind or known[1] != names:
                raise ValueError(
                    f"Metric {name!r} already exists as a {known[0]} with labels {list(known[1])}"
                )
            return known[2]
        cls = Counter if kind == "counter" else Gauge
        metric = cls(full, documentation, names, registry=self._registry)
        self._families[full] = (kind, names, metric)
        return metric

    def child(self, metric: MetricWrapperBase, values: tuple[str, ...]) -> Any:
        self._series.setdefault(values[0], set()).add((metric, values))
        return metric.labels(*values)

    def remove_connector(self, connector: str) -> None:
        for metric, values in self._series.pop(connector, set()):
            _remove(metric, values)


class _PluginMetric:
    """A plugin's counter or gauge with its connector and task labels bound; children cached."""

    def __init__(
        self,
        families: _PluginFamilies,
        metric: MetricWrapperBase,
        fixed: tuple[str, str],
        extra: Sequence[str],
    ) -> None:
        self._families = families
        self._metric = metric
        self._fixed = fixed
        self._extra = tuple(extra)
        self._children: dict[tuple[str, ...], Any] = {}

    def _get(self, labels: dict[str, str]) -> Any:
        if labels.keys() != set(self._extra):
            raise ValueError(f"Expected labels {list(self._extra)}, got {sorted(labels)}")
        key = tuple(str(labels[n]) for n in self._extra)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = self._families.child(self._metric, (*self._fixed, *key))
        return child

    def inc(self, amount: float = 1, **labels: str) -> None:
        self._get(labels).inc(amount)

    def set(self, value: float, **labels: str) -> None:
        self._get(labels).set(value)


class PluginMetrics:
    """``connectors.sdk.metrics.PluginMetrics`` for one connector or task."""

    def __init__(self, families: _PluginFamilies, connector: str, task: str) -> None:
        self._families = families
        self._fixed = (connector, task)

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> sdk.Counter:
        metric = self._families.family("counter", name, documentation, labels)
        return _PluginMetric(self._families, metric, self._fixed, labels)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> sdk.Gauge:
        metric = self._families.family("gauge", name, documentation, labels)
        return _PluginMetric(self._families, metric, self._fixed, labels)
