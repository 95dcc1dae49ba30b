"""REST authentication and roles, on when ``rest.auth.users.file`` names a users file.

Every request needs credentials except :data:`~app.api.auth.roles.OPEN_PATHS`: HTTP Basic
(``Authorization: Basic``) with a user's password, or ``Authorization: Bearer`` with one of its
tokens. Without them, or with wrong ones, the answer is 401 with ``WWW-Authenticate`` and Kafka
Connect's error body; a user whose role may not make the call gets 403.

* Passwords are argon2 hashes: checking one costs tens of milliseconds of CPU, so it runs in a
  thread, at most :data:`CHECKS_AT_ONCE` at a time, with at most :data:`CHECKS_WAITING` waiting
  (more get 429 at once). A right password is remembered for :data:`REMEMBER_S` seconds (keyed
  by an HMAC with a per-process key, in memory only) so that a client sending Basic on every
  request does not pay argon2 each time.
* A client address with :data:`MAX_FAILURES` failed attempts within :data:`FAILURE_WINDOW_S`
  seconds gets 429 (with ``Retry-After``) without its credentials being looked at, until the
  oldest failure leaves the window. Each failure is logged with the user name and the client
  address, never the password or token.
* The users file is read again when it changes (``penstock users add`` takes effect without a
  restart); a file that became unreadable keeps the last good one and logs an error.
* A request a follower forwards to its leader carries the caller's name and role signed with the
  file's cluster secret (:mod:`app.api.auth.forward`), not the caller's credentials.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path

import structlog
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.auth import forward
from app.api.auth.roles import OPEN_PATHS, required_role
from app.api.auth.users import Role, User, UsersFile, UsersFileError
from app.api.errors import error_response

log = structlog.get_logger(__name__)

PRINCIPAL = "penstock.principal"
"""The scope key holding the caller's :class:`Principal` (absent when auth is off)."""
CHALLENGES = ('Basic realm="penstock"', 'Bearer realm="penstock"')
"""One ``WWW-Authenticate`` header each: browsers then offer their login dialog for Basic."""
MAX_FAILURES = 10
FAILURE_WINDOW_S = 60.0
CHECKS_AT_ONCE = 2
CHECKS_WAITING = 32
REMEMBER_S = 300.0
_REMEMBERED_MAX = 1024
_CLIENTS_MAX = 10_000


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role


class Authenticator:
    """The users file as the worker knows it, and the checks made against it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.users = UsersFile.load(path)  # refuses to start on a missing, open or broken file
        self._seen = self._signature()
        self._key = secrets.token_bytes(32)
        self._remembered: OrderedDict[bytes, tuple[float, str]] = OrderedDict()
        self._slots = asyncio.Semaphore(CHECKS_AT_ONCE)
        self._waiting = 0

    def _signature(self) -> tuple[float, int, int] | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return info.st_mtime, info.st_size, info.st_ino

    def current(self) -> UsersFile:
        seen = self._signature()
        if seen != self._seen:
            self._seen = seen
            try:
                self.users = UsersFile.load(self.path)
                self._remembered.clear()
                log.info("users file read again", path=str(self.path), users=len(self.users.users))
            except UsersFileError as exc:
                log.error("users file changed but cannot be used; keeping the last good one", reason=str(exc))
        return self.users

    async def check_basic(self, name: str, password: str) -> User | None:
        users = self.current()
        key = hmac.digest(self._key, f"{name}\0{password}".encode(), hashlib.sha256)
        remembered = self._remembered.get(key)
        if remembered is not None and remembered[0] > time.monotonic() and remembered[1] in users.users:
            return users.users[remembered[1]]
        if self._waiting >= CHECKS_WAITING:
            raise _BusyError
        self._waiting += 1
        try:
            async with self._slots:
                user = await asyncio.to_thread(users.check_password, name, password)
        finally:
            self._waiting -= 1
        if user is not None:
            self._remembered[key] = (time.monotonic() + REMEMBER_S, user.name)
            while len(self._remembered) > _REMEMBERED_MAX:
                self._remembered.popitem(last=False)
        return user

    def check_bearer(self, token: str) -> User | None:
        return self.current().check_token(token)


class _BusyError(Exception):
    pass


class FailureLimiter:
    """Failed attempts per client address within a sliding window."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = FAILURE_WINDOW_S) -> None:
        self.limit, self.window = limit, window
        self.failures: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str, now: float | None = None) -> float:
        """Seconds until this client may try again; 0 when it may now."""
        now = time.monotonic() if now is None else now
        times = self.failures.get(client)
        if times is None:
            return 0.0
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.failures[client]
            return 0.0
        return times[0] + self.window - now if len(times) >= self.limit else 0.0

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        times = self.failures.pop(client, None) or deque(maxlen=self.limit)
        times.append(now)
        self.failures[client] = times  # most recent last
        while len(self.failures) > _CLIENTS_MAX:
            self.failures.popitem(last=False)


class AuthMiddleware:
    """Pure ASGI middleware, inside :class:`~app.api.guard.RequestGuard` (which routes on the raw
    path and limits body sizes) and outside every route and the forwarding to the leader."""

    def __init__(self, app: ASGIApp, auth: Authenticator) -> None:
        self.app = app
        self.auth = auth
        self.limiter = FailureLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.limiter.retry_after(client)
        if wait > 0:
            seconds = str(max(1, round(wait)))
            message = f"Too many failed authentication attempts from {client}; try again in {seconds} s"
            await error_response(429, message, {"Retry-After": seconds})(scope, receive, send)
            return
        headers = Headers(scope=scope)
        signed = headers.get(forward.HEADER)
        name = "?"
        principal: Principal | None = None
        reason = "no credentials"
        if signed is not None:
            body, receive = await _read_body(receive)
            checked = forward.verify(self.auth.current().cluster_secret, signed, method, _target(scope), body)
            if checked is not None:
                principal = Principal(checked[0], checked[1])
            name, reason = (checked[0] if checked else "?"), "bad worker-to-worker signature"
        else:
            try:
                principal, name, reason = await self._credentials(headers.get("authorization"))
            except _BusyError:
                await error_response(
                    429, "Too many password checks at once; try again shortly", {"Retry-After": "1"}
                )(scope, receive, send)
                return
        if principal is None:
            if reason == "no credentials":
                # Not an attempt: many clients ask without credentials first, then answer the challenge.
                log.debug("REST call without credentials", client=client, method=method, path=path)
                message = (
                    "Authentication required: send HTTP Basic credentials or 'Authorization: Bearer <token>'"
                )
            else:
                self.limiter.failed(client)
                log.warning(
                    "REST authentication failed",
                    user=name,
                    client=client,
                    method=method,
                    path=path,
                    reason=reason,
                )
                message = "Authentication failed: unknown user, wrong password or unknown token"
            refusal = error_response(401, message)
            refusal.raw_headers.extend((b"www-authenticate", c.encode()) for c in CHALLENGES)
            await refusal(scope, receive, send)
            return
        needed = required_role(method, path)
        if not principal.role.may(needed):
            log.info(
                "REST call refused to role",
                user=principal.name,
                role=principal.role.value,
                method=method,
                path=path,
            )
            message = (
                f"User {principal.name} with role {principal.role.value} may not call {method} {path}; "
                f"it needs role {needed.value}"
            )
            await error_response(403, message)(scope, receive, send)
            return
        scope[PRINCIPAL] = principal
        await self.app(scope, receive, send)

    async def _credentials(self, header: str | None) -> tuple[Principal | None, str, str]:
        """(principal or None, the user name to log, why it failed)."""
        if not header:
            return None, "?", "no credentials"
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and value:
            user = self.auth.check_bearer(value)
            if user is None:
                return None, "?", "unknown bearer token"
            return Principal(user.name, user.role), user.name, ""
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, "?", "malformed Basic credentials"
            name, sep, password = decoded.partition(":")
            shown = name[:64]
            if not sep:
                return None, shown, "malformed Basic credentials"
            user = await self.auth.check_basic(name, password)
            if user is None:
                return None, shown, "unknown user or wrong password"
            return Principal(user.name, user.role), user.name, ""
        return None, "?", f"unsupported authorization scheme {scheme[:20]!r}"


def _target(scope: Scope) -> str:
    raw: bytes = scope.get("raw_path") or str(scope["path"]).encode()
    query: bytes = scope.get("query_string") or b""
    return (raw + (b"?" + query if query else b"")).decode("latin-1")


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body (the guard outside has limited its size), and a ``receive`` that hands it
    to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def principal_of(scope: Scope) -> Principal | None:
    found = scope.get(PRINCIPAL)
    return found if isinstance(found, Principal) else None
