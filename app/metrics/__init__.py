"""Worker metrics in Prometheus form, named after Kafka Connect's JMX metrics (docs/metrics.md).

One :class:`WorkerMetrics` per service holds its own ``CollectorRegistry`` (never the global
one, so several workers can live in one test process). Runners report through a per-task
:class:`TaskMetrics` handle, once per batch; the status store reports states; plugins report
through ``connectors.sdk.metrics``. Imports nothing from ``app`` above it.
"""

from app.metrics.registry import CONTENT_TYPE, TaskMetrics, WorkerMetrics

__all__ = ["CONTENT_TYPE", "TaskMetrics", "WorkerMetrics"]
