"""``/admin/loggers``: read and change log levels at runtime."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request, Response

from app.api import entities as e
from app.api.body import json_body, json_object
from app.api.deps import LoggersDep
from app.api.errors import HttpError
from app.api.json import JsonResponse
from app.logging import LEVELS, TooManyLoggersError

router = APIRouter(prefix="/admin/loggers", tags=["admin"])


@router.get("", summary="Loggers with an explicit level, and root", responses=e.ok(dict[str, e.LoggerLevel]))
async def all_loggers(loggers: LoggersDep) -> Any:
    return JsonResponse(loggers.all())


@router.get(
    "/{logger}", summary="One logger's effective level", responses={**e.ok(e.LoggerLevel), **e.errors(404)}
)
async def get_logger(logger: str, loggers: LoggersDep) -> Any:
    level = loggers.get(logger)
    if level is None:
        raise HttpError(404, f"Logger {logger} not found.")
    return JsonResponse(level)


@router.put(
    "/{logger}",
    summary="Set a logger's level (and its children's)",
    responses={
        **e.ok(list[str], description="The loggers whose level changed"),
        **e.empty(204, "Changed (scope=cluster)"),
        **e.errors(400),
        404: {"model": e.ErrorMessage, "description": "Not a log level (Kafka Connect answers 404)"},
    },
    openapi_extra=e.json_body(e.LoggerLevelRequest, {"level": "DEBUG"}),
)
async def set_logger(
    logger: str, request: Request, loggers: LoggersDep, scope: str | None = Query(None)
) -> Any:
    body = json_object(await json_body(request), "The request body")
    level = body.get("level")
    if level is None:
        raise HttpError(400, "Desired 'level' parameter was not specified in request.")
    if not isinstance(level, str) or level.upper() not in LEVELS:
        raise HttpError(404, f"invalid log level '{level}'.")
    try:
        changed = loggers.set(logger, level)
    except TooManyLoggersError as exc:
        raise HttpError(400, str(exc)) from None
    if scope is not None and scope.strip().lower() == "cluster":
        return Response(status_code=204)
    return JsonResponse(changed)
