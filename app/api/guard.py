"""Safe defaults for a REST API without authentication, and limits that protect the worker.

A worker answers anyone who can reach it, including a web page in the user's browser: with
the file connectors, a page that could create a connector could make the worker copy local
files. So, before any route runs:

* **Host** (DNS rebinding): a worker listening on a loopback address only answers requests
  addressed to a loopback name (``localhost``, ``*.localhost``, ``127.x.x.x``, ``[::1]``),
  the listener's host or ``rest.advertised.host.name``; anything else is 403. A worker
  listening on other interfaces is reached under names it cannot know, and accepts any.
* **Origin** (cross-site requests): a request that changes state (POST, PUT, PATCH, DELETE)
  and carries an ``Origin`` header is 403 unless the origin is the worker's own (same host
  and port) or allowed by ``access.control.allow.origin``. Non-browser clients send no
  ``Origin`` and are not affected.
* **Content-Type**: a state-changing request with a body must send it as JSON
  (``application/json`` or ``application/*+json``), else 415 as in Kafka Connect. Browsers
  send ``text/plain`` or form bodies cross-site without asking first; JSON they do not. A
  request without a body, or without a Content-Type header, is accepted (``curl -X POST
  .../restart``).
* **Size**: a body longer than ``rest.request.max.bytes`` is 413, refused from its
  Content-Length before anything is read, or as soon as a streamed body passes the limit.

The guard also routes on the raw path (see :mod:`app.api.paths`) and turns a client that
disconnects halfway through its body into one log line instead of a 500 with a traceback.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any

import structlog
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import HttpError, error_response
from app.api.paths import route_path
from app.settings import WorkerSettings

log = structlog.get_logger(__name__)

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_JSON_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json", re.IGNORECASE)


class BodyTooLargeError(HttpError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"Request body is larger than {limit} bytes (rest.request.max.bytes); connector configs are "
            "usually a few kilobytes. Send a smaller body, or raise rest.request.max.bytes on the worker",
        )


class AllowedOrigins:
    """``access.control.allow.origin``: comma-separated origins, ``*`` for any, and ``*`` inside
    an entry as a wildcard (``https://*.example.com``), as Jetty's CrossOriginFilter reads it."""

    def __init__(self, setting: str) -> None:
        self.entries = [o.strip() for o in setting.split(",") if o.strip()]
        self.any = "*" in self.entries
        patterns = [
            re.escape(o).replace(r"\*", "[A-Za-z0-9.-]*") for o in self.entries if "*" in o and o != "*"
        ]
        self.regex = "|".join(patterns) or None

    def allows(self, origin: str) -> bool:
        if self.any or origin in self.entries:
            return True
        return self.regex is not None and re.fullmatch(self.regex, origin) is not None

    def cors_options(self, methods: str) -> dict[str, Any]:
        """Keyword arguments of Starlette's CORSMiddleware for Kafka Connect's ``access.control.allow.*``."""
        return {
            "allow_origins": ["*"] if self.any else [o for o in self.entries if "*" not in o],
            "allow_origin_regex": self.regex,
            "allow_methods": [m.strip() for m in (methods or "GET,POST,HEAD").split(",") if m.strip()],
        }


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _host_name(header: str) -> str:
    """``Host`` without its port: ``[::1]:8083`` -> ``::1``, ``localhost:8083`` -> ``localhost``."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def loopback_names(settings: WorkerSettings) -> frozenset[str] | None:
    """Extra names a loopback-only worker answers to, or None when it listens elsewhere (any Host)."""
    host, _ = settings.listener
    if not _is_loopback(host):
        return None
    extra: Iterable[str] = (host, settings.rest_advertised_host_name or "")
    return frozenset(n.lower() for n in extra if n)


class RequestGuard:
    """Pure ASGI middleware (it must see the body stream, which ``@app.middleware`` cannot limit)."""

    def __init__(self, app: ASGIApp, settings: WorkerSettings) -> None:
        self.app = app
        self.limit = settings.rest_request_max_bytes
        self.origins = AllowedOrigins(settings.access_control_allow_origin)
        self.hosts = loopback_names(settings)
        listener, _ = settings.listener
        self.own_names = frozenset(
            n.lower() for n in (listener, settings.rest_advertised_host_name or "") if n
        )
        """Names that are surely this worker's own when it listens on every interface."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["path"] = route_path(scope)
        headers = Headers(scope=scope)
        refusal = self.refusal(scope["method"], headers)
        if refusal is not None:
            await error_response(refusal.status, refusal.message)(scope, receive, send)
            return
        has_body = _has_body(headers)
        exchange = _Exchange(scope, receive, send, self.limit, expect_body=has_body)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except Exception as exc:
            if not _is_disconnect(exc):
                raise
            # A disconnect that escaped the routes (a follower reading a body to forward it).

    def refusal(self, method: str, headers: Headers) -> HttpError | None:
        host = headers.get("host")
        if self.hosts is not None and host is not None:
            name = _host_name(host).lower()
            if not (_is_loopback(name) or name in self.hosts):
                return HttpError(
                    403,
                    f"Host '{host}' is not accepted: this worker listens on a loopback address and answers "
                    "only to localhost, loopback addresses and rest.advertised.host.name (a protection "
                    "against DNS rebinding). Use http://localhost:<port>, or set rest.advertised.host.name "
                    "to the name clients use",
                )
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return BodyTooLargeError(self.limit)
        if method not in WRITES:
            return None
        origin = headers.get("origin")
        if origin is not None and not self._same_origin(origin, host) and not self.origins.allows(origin):
            return HttpError(
                403,
                f"Origin '{origin}' may not change this worker: the request came from a web page of "
                "another site. To let a browser application served from that origin use the API, set "
                f"access.control.allow.origin={origin} on the worker",
            )
        content_type = headers.get("content-type")
        if _has_body(headers) and content_type is not None:
            media_type = content_type.split(";", 1)[0].strip()
            if not _JSON_TYPE.fullmatch(media_type):
                return HttpError(
                    415,
                    f"HTTP 415 Unsupported Media Type: the body was sent as '{media_type}'; send JSON with "
                    "'Content-Type: application/json' (curl: -H 'Content-Type: application/json')",
                )
        return None

    def _same_origin(self, origin: str, host: str | None) -> bool:
        """A page served by this worker itself. ``Host`` is the attacker's to choose under DNS
        rebinding, so it only counts when it surely names this worker: checked already (loopback
        listener), an IP address, the listener's host or ``rest.advertised.host.name``."""
        if host is None or "://" not in origin:
            return False
        name = _host_name(host).lower()
        if self.hosts is None and not (_is_ip(name) or name in self.own_names):
            return False
        scheme, rest = origin.split("://", 1)
        return scheme.lower() in ("http", "https") and rest.rstrip("/").lower() == host.lower()


class _Exchange:
    """One request's body stream, counted: past the limit the client gets its 413 at once and the
    app sees a disconnect (an exception raised from ``receive`` would reach the app wrapped in
    task-group errors), and whatever the app answers after that is dropped."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, limit: int, *, expect_body: bool) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.body_done = not expect_body
        self.responded = False
        self.refused = False

    async def receive(self) -> Message:
        if self.refused:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            self.body_done = not message.get("more_body", False)
            if self.received > self.limit:
                self.refused = True
                too_large = BodyTooLargeError(self.limit)
                await error_response(too_large.status, too_large.message)(
                    self.scope, self._receive, self._send
                )
                return {"type": "http.disconnect"}
        elif message["type"] == "http.disconnect" and not self.body_done and not self.responded:
            # One line, not a 500 with a traceback: the client hung up halfway through its body.
            log.info(
                "client disconnected before sending the whole request body",
                method=self.scope["method"],
                path=self.scope["path"],
                received_bytes=self.received,
            )
            self.body_done = True
        return message

    async def send(self, message: Message) -> None:
        if not self.refused:
            self.responded = True
            await self._send(message)


def _has_body(headers: Headers) -> bool:
    length = headers.get("content-length")
    return (length is not None and length != "0") or "transfer-encoding" in headers


def _is_disconnect(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_disconnect(e) for e in exc.exceptions)
    return isinstance(exc, ClientDisconnect)
