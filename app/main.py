"""The FastAPI application: routes, error mapping, and the service's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import errors
from app.api.json import JsonResponse
from app.api.routes import connector_plugins, connectors, loggers, root
from app.logging import LoggerAdmin
from app.plugins.registry import PluginRegistry
from app.service import Service
from app.settings import WorkerSettings

DESCRIPTION = """Kafka Connect's REST API, served by Penstock. Paths, status codes and JSON shapes
match Apache Kafka Connect 3.9; deliberate differences are listed in docs/compatibility.md."""


def create_app(settings: WorkerSettings, registry: PluginRegistry | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await Service.open(settings, registry)
        app.state.service = service
        app.state.herder = service.herder
        await service.start()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="Penstock",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JsonResponse,
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.loggers = LoggerAdmin()
    errors.install(app)

    @app.middleware("http")
    async def strip_trailing_slash(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """``/connectors/`` is ``/connectors``: clients in the wild send both."""
        path = request.scope["path"]
        if len(path) > 1 and path.endswith("/"):
            request.scope["path"] = path.rstrip("/") or "/"
        return await call_next(request)

    if settings.access_control_allow_origin.strip():
        methods = [m.strip() for m in (settings.access_control_allow_methods or "GET,POST,HEAD").split(",")]
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[settings.access_control_allow_origin.strip()],
            allow_methods=methods,
        )

    app.include_router(root.router)
    app.include_router(connectors.router)
    app.include_router(connector_plugins.router)
    if settings.admin_listeners is None:
        app.include_router(loggers.router)
    return app
