"""``/``, ``/health`` (Kafka Connect 3.9) and ``/healthz`` / ``/readyz`` for orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app import __version__
from app.api import entities as e
from app.api.deps import HerderDep
from app.api.json import JsonResponse

router = APIRouter(tags=["worker"])
KAFKA_COMPAT_VERSION = "3.9.0"


@router.get("/", summary="Worker version", responses=e.ok(e.ServerInfo))
async def server_info() -> Any:
    """``version`` is the Kafka Connect version whose REST API this worker speaks."""
    return JsonResponse(
        {"version": KAFKA_COMPAT_VERSION, "commit": f"penstock-{__version__}", "kafka_cluster_id": None}
    )


@router.get(
    "/health",
    summary="Worker health (Kafka Connect 3.9)",
    responses={**e.ok(e.WorkerStatus), **e.ok(e.WorkerStatus, 503, "The worker is still starting")},
)
async def health(herder: HerderDep) -> Any:
    if not herder.ready:
        message = herder.not_ready_reason or "Worker is still starting up."
        return JsonResponse({"status": "starting", "message": message}, status_code=503)
    return JsonResponse(
        {"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."}
    )


@router.get("/healthz", summary="Liveness: the process answers", responses=e.ok(e.Liveness))
async def healthz() -> Any:
    return JsonResponse({"status": "ok"})


@router.get(
    "/readyz",
    summary="Readiness: connectors have been started",
    responses={**e.ok(e.Readiness), **e.ok(e.NotReady, 503, "The worker is still starting")},
)
async def readyz(herder: HerderDep) -> Any:
    if not herder.ready:
        return JsonResponse(
            {"status": "starting", "message": herder.not_ready_reason or "Worker is still starting up."},
            status_code=503,
        )
    return JsonResponse({"status": "ready"})
