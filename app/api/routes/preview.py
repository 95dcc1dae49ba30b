"""``POST /transforms/preview``: sample records through a connector config's converters and
transforms (Penstock's own endpoint; see :mod:`app.runtime.preview`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError

from app.api import entities as e
from app.api.body import config_map, json_body
from app.api.deps import HerderDep
from app.api.errors import HttpError
from app.api.json import JsonResponse

router = APIRouter(tags=["transforms"])


@router.post(
    "/transforms/preview",
    summary="Preview records through a connector's converters and transforms",
    responses={**e.ok(e.TransformPreview), **e.errors(400, 404)},
    openapi_extra=e.json_body(e.TransformPreviewRequest),
)
async def preview(request: Request, herder: HerderDep) -> Any:
    """Nothing is created or run: each sample comes back transformed, dropped (a transform or
    predicate filtered it), or with the stage, transform alias and class that failed."""
    try:
        body = e.TransformPreviewRequest.model_validate(await json_body(request))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        raise HttpError(400, f"Invalid preview request: {problems}") from None
    if (body.config is None) == (body.connector is None):
        raise HttpError(
            400, 'Give exactly one of "config" (a connector config) or "connector" (a connector name)'
        )
    samples = [s.model_dump() for s in body.records]
    if body.connector is not None:
        return JsonResponse(await herder.preview_transforms(samples, connector=body.connector))
    config = {"name": "preview"} | {k: v for k, v in config_map(body.config).items() if v is not None}
    return JsonResponse(await herder.preview_transforms(samples, config=config))
