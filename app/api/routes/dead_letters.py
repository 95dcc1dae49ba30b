"""``POST /connectors/{name}/dead-letters/replay`` (Penstock's own endpoint; see
:mod:`app.runtime.replay`): run a connector's dead letters through it again once the cause of
their failure is fixed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api import entities as e
from app.api.deps import HerderDep
from app.api.json import JsonResponse
from app.api.routes.connectors import FORWARD

router = APIRouter(prefix="/connectors", tags=["connectors"], responses=e.errors(503))


@router.post(
    "/{name}/dead-letters/replay",
    summary="Replay a connector's dead-letter queue",
    responses={**e.ok(e.DeadLetterReplay), **e.errors(400, 404, 409)},
)
async def replay(name: str, herder: HerderDep, forward: str | None = FORWARD) -> Any:
    """Reads the DLQ (``errors.deadletterqueue.topic.name``) from where the last replay stopped to
    its end, through a fresh instance of the connector's task: a sink's records go to ``put`` with
    their original topic, partition and offset (from the context headers), a source's through its
    transforms and converters to their topics. Records that fail again go back to the DLQ. Answers
    when done; the group ``connect-<name>-dlq-replay`` keeps the position, so nothing is replayed
    twice."""
    return JsonResponse(await herder.replay_dead_letters(name))
