"""Metrics a plugin reports about itself (snapshot progress, rows scanned, lag behind the source).

The runtime hands every connector and task a :class:`PluginMetrics` as ``context.metrics``. Each
metric it creates is exported by the worker's ``/metrics`` endpoint with the name prefixed by
``connector_`` (so a plugin cannot clash with the worker's own metrics) and labelled with the
``connector`` and ``task`` that reported it; the series disappear when the connector is deleted.

Example::

    rows = self.context.metrics.counter("snapshot_rows_scanned", "Rows read by the snapshot", ["table"])
    running = self.context.metrics.gauge("snapshot_running", "1 while the initial snapshot runs")
    running.set(1)
    rows.inc(len(batch), table="public.orders")

Update metrics once per batch, not once per record: every call takes a little time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class Counter(Protocol):
    """A total that only goes up (records seen, rows scanned)."""

    def inc(self, amount: float = 1, **labels: str) -> None:
        """Add ``amount`` (>= 0); ``labels`` give a value to each extra label the metric declared."""


class Gauge(Protocol):
    """A value that goes up and down (tables remaining, milliseconds behind the source)."""

    def set(self, value: float, **labels: str) -> None:
        """Replace the current value."""

    def inc(self, amount: float = 1, **labels: str) -> None:
        """Add ``amount`` (may be negative)."""


class PluginMetrics(Protocol):
    """Creates the plugin's own metrics; asking twice for one name returns the same metric."""

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        """A counter exported as ``connector_<name>_total``.

        Args:
            name: Prometheus-style name: letters, digits and underscores.
            documentation: The help text shown next to the metric.
            labels: Extra label names besides ``connector`` and ``task``.

        Returns:
            The counter.
        """
        ...

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        """A gauge exported as ``connector_<name>``.

        Args:
            name: Prometheus-style name: letters, digits and underscores.
            documentation: The help text shown next to the metric.
            labels: Extra label names besides ``connector`` and ``task``.

        Returns:
            The gauge.
        """
        ...


class _Discard:
    def set(self, value: float, **labels: str) -> None:
        pass

    def inc(self, amount: float = 1, **labels: str) -> None:
        pass


class NoMetrics:
    """Accepts every update and reports nothing: the default outside a worker (unit tests, test kits)."""

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return _Discard()

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return _Discard()


NO_METRICS: PluginMetrics = NoMetrics()
