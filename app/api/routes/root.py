"""``/``, ``/health`` (Kafka Connect 3.9) and ``/healthz`` / ``/readyz`` for orchestrators."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Request

from app import __version__
from app.api import entities as e
from app.api.deps import HerderDep
from app.api.json import JsonResponse

router = APIRouter(tags=["worker"])
KAFKA_COMPAT_VERSION = "3.9.0"


COMMIT = hashlib.sha256(f"penstock {__version__}".encode()).hexdigest()[:16]
"""Kafka Connect reports its 16-hex-digit git commit; Penstock reports 16 hex digits that stand
for its release (the same for every install of one version; docs/compatibility.md)."""


@router.get("/", summary="Worker version", responses=e.ok(e.ServerInfo))
async def server_info(herder: HerderDep) -> Any:
    """``version`` is the Kafka Connect version whose REST API this worker speaks;
    ``kafka_cluster_id`` is the Kafka cluster's id (an embedded worker's own, kept in its data
    directory), null only while a Kafka worker has not reached its brokers yet."""
    return JsonResponse(
        {"version": KAFKA_COMPAT_VERSION, "commit": COMMIT, "kafka_cluster_id": herder.kafka_cluster_id}
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
async def readyz(request: Request, herder: HerderDep) -> Any:
    """Open also when REST auth is on (probes carry no credentials), so the reason is then left out:
    ``/health`` gives it to a signed-in caller."""
    if not herder.ready:
        reason = herder.not_ready_reason or "Worker is still starting up."
        if getattr(request.app.state, "auth", None) is not None:
            reason = "Worker is not ready; GET /health (with credentials) says why."
        return JsonResponse({"status": "starting", "message": reason}, status_code=503)
    return JsonResponse({"status": "ready"})
