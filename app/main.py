"""The FastAPI application: routes, error mapping, and the service's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import auth, cluster, docs, errors
from app.api.guard import WRITES, AllowedOrigins, RequestGuard
from app.api.json import JsonResponse
from app.api.routes import connector_plugins, connectors, dead_letters, loggers, metrics, preview, root
from app.config.tls import peer_ssl_context
from app.herder.distributed import DistributedHerder
from app.logging import LoggerAdmin
from app.plugins.registry import PluginRegistry
from app.service import Mode, Service, check_worker_settings, worker_registry
from app.settings import WorkerSettings

if TYPE_CHECKING:
    import httpx

DESCRIPTION = """Kafka Connect's REST API, served by Penstock. Paths, status codes and JSON shapes
match Apache Kafka Connect 3.9; deliberate differences are listed in docs/compatibility.md."""


def _cluster_write(method: str, path: str) -> bool:
    """Requests that change the cluster's desired state: the leader makes them."""
    return method in WRITES and path.startswith("/connectors") and not path.endswith("/topics/reset")


def _forwarder(app: FastAPI) -> httpx.AsyncClient:
    """The client a distributed worker passes writes to its leader with, made on first use: no
    other worker needs one, and importing httpx and making a client (a TLS context) costs every
    start some 50 ms."""
    if app.state.forwarder is None:
        import httpx

        tls = peer_ssl_context(app.state.settings)  # HTTPS peers: the listener's trust and key stores
        app.state.forwarder = httpx.AsyncClient(timeout=90, verify=True if tls is None else tls)
    forwarder: httpx.AsyncClient = app.state.forwarder
    return forwarder


def create_app(
    settings: WorkerSettings,
    registry: PluginRegistry | None = None,
    mode: Mode = Mode.EMBEDDED,
    initial_connectors: list[tuple[str, dict[str, str]]] | None = None,
    on_fatal: Callable[[str], None] | None = None,
) -> FastAPI:
    """``on_fatal(reason)``: the worker cannot go on (see :attr:`Service.on_fatal`)."""
    registry = registry or worker_registry(settings)
    providers = check_worker_settings(settings, mode, registry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = await Service.open(settings, registry, mode, initial_connectors, providers)
        if on_fatal is not None:
            service.on_fatal = on_fatal
        app.state.service = service
        app.state.herder = service.herder
        app.state.metrics = service.metrics
        app.state.forwarder = None  # see _forwarder
        await service.start()
        try:
            yield
        finally:
            await service.close()
            if app.state.forwarder is not None:
                await app.state.forwarder.aclose()

    app = FastAPI(
        title="Penstock",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        default_response_class=JsonResponse,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
    )
    docs.install(app)
    app.state.settings = settings
    app.state.loggers = LoggerAdmin()
    errors.install(app)

    @app.middleware("http")
    async def writes_go_to_the_leader(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Any worker accepts a config write; a follower passes it on to the group leader."""
        herder = getattr(request.app.state, "herder", None)
        path = request.scope["path"]
        write = _cluster_write(request.method, path)
        if isinstance(herder, DistributedHerder) and path.startswith("/connectors"):
            return await cluster.route(request, call_next, herder, _forwarder(request.app), write)
        if herder is not None and write and herder.not_ready_reason is not None:
            return errors.error_response(503, herder.not_ready_reason)
        return await call_next(request)

    @app.middleware("http")
    async def strip_trailing_slash(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """``/connectors/`` is ``/connectors``: clients in the wild send both."""
        path = request.scope["path"]
        if len(path) > 1 and path.endswith("/"):
            request.scope["path"] = path.rstrip("/") or "/"
        return await call_next(request)

    auth.install(app, settings)  # inside the guard: it sees routed paths and limited bodies
    app.add_middleware(RequestGuard, settings=settings)
    origins = AllowedOrigins(settings.access_control_allow_origin)
    if origins.entries:
        app.add_middleware(CORSMiddleware, **origins.cors_options(settings.access_control_allow_methods))

    app.include_router(root.router)
    app.include_router(connectors.router)
    app.include_router(dead_letters.router)
    app.include_router(connector_plugins.router)
    app.include_router(metrics.router)
    app.include_router(preview.router)
    if settings.admin_listeners is None:
        app.include_router(loggers.router)
    return app
