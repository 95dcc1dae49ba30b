"""Every error becomes ``{"error_code": N, "message": "..."}``, as Kafka Connect's exception mapper does.

Deliberate difference: malformed bodies, unknown fields and type mismatches are 400 here
(Kafka Connect answers 500), with a message that points at the problem.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from app.api.json import JsonResponse
from app.herder.base import ConflictError
from app.herder.validation import BadRequestError
from connectors.sdk.errors import AlreadyExistsError, ConnectError, NotFoundError

log = structlog.get_logger(__name__)

_HTTP_TEXT = {
    404: "HTTP 404 Not Found",
    405: "HTTP 405 Method Not Allowed",
    415: "HTTP 415 Unsupported Media Type",
}
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class HttpError(Exception):
    """An error with its own status, raised by route code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str | None, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"error_code": status, "message": message}, status_code=status, headers=headers)


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: every method some route serves on this path.

    Starlette lists only the methods of the first route whose path matched, and
    ``/connectors/{name}`` is served by a GET and a DELETE route.
    """
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    @app.exception_handler(HttpError)
    async def _http(_: Request, exc: HttpError) -> JsonResponse:
        return error_response(exc.status, exc.message)

    @app.exception_handler(BadRequestError)
    async def _bad(_: Request, exc: BadRequestError) -> JsonResponse:
        return error_response(400, str(exc))

    @app.exception_handler(NotFoundError)
    async def _missing(_: Request, exc: NotFoundError) -> JsonResponse:
        return error_response(404, str(exc))

    @app.exception_handler(AlreadyExistsError)
    async def _exists(_: Request, exc: AlreadyExistsError) -> JsonResponse:
        return error_response(409, str(exc))

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, exc: ConflictError) -> JsonResponse:
        return error_response(409, str(exc))

    @app.exception_handler(ConnectError)
    async def _connect(_: Request, exc: ConnectError) -> JsonResponse:
        return error_response(500, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _starlette(request: Request, exc: StarletteHTTPException) -> JsonResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return error_response(exc.status_code, _HTTP_TEXT.get(exc.status_code, str(exc.detail)), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JsonResponse:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return error_response(400, f"Invalid request: {problems}")

    @app.exception_handler(ClientDisconnect)
    async def _gone(_: Request, __: ClientDisconnect) -> JsonResponse:
        """Nobody reads this answer: the client hung up (or its body passed the size limit, and it
        has its 413 already). ``app.api.guard`` logs it, in one line."""
        return error_response(400, "The client disconnected before sending the whole request body")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JsonResponse:
        log.exception("unexpected error while handling a request")
        return error_response(500, str(exc) or type(exc).__name__)
