"""``/metrics``: the worker's metrics in the Prometheus text format (names in docs/metrics.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.metrics import CONTENT_TYPE, WorkerMetrics

router = APIRouter(tags=["worker"])


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Kafka Connect's worker, connector and task metrics, in the Prometheus text format."""
    registry: WorkerMetrics | None = getattr(request.app.state, "metrics", None)
    body = registry.render() if registry is not None else b""
    return Response(body, media_type=CONTENT_TYPE)
