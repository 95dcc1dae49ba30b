"""``/connectors`` requests on a distributed worker while its group forms or rebalances.

Kafka Connect holds such a request until its herder can serve it instead of refusing it; the
most common complaint about Connect clusters is a 409 during a rebalance. Here a request that
arrives while the worker joins its group, or while a rebalance runs, waits (at most
``REQUEST_TIMEOUT_S``, Kafka Connect's REST request timeout) and is then served, or forwarded
to the leader when it is a write. A leader that cannot be reached or is no longer the leader
makes the request wait for the next assignment and try again, within the same deadline.

Reads wait only while the worker has not joined yet, so they reflect the config topic; a
worker that cannot start (Kafka unreachable, refused by the leader) answers at once with why.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog
from fastapi import Request, Response

from app.api import errors
from app.api.auth import forward
from app.api.auth.middleware import principal_of
from app.herder.distributed import DistributedHerder

if TYPE_CHECKING:
    import httpx  # imported where a request is forwarded: only distributed workers forward

log = structlog.get_logger(__name__)

REQUEST_TIMEOUT_S = 90.0
RETRY_S = 0.5
FORWARDED_HEADER = "x-penstock-forwarded"
NOT_LEADER = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"


async def route(
    request: Request,
    call_next: Callable[[Request], Awaitable[Response]],
    herder: DistributedHerder,
    forwarder: httpx.AsyncClient,
    write: bool,
) -> Response:
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    while True:
        left = deadline - time.monotonic()
        if herder.joining and (write or herder.not_ready_reason is not None):
            if left <= 0:
                return errors.error_response(
                    503, f"Request timed out: {herder.not_ready_reason or 'rebalance'}"
                )
            await herder.wait_for_change(min(left, RETRY_S))
            continue
        if not write:
            return await call_next(request)
        if herder.not_ready_reason is not None:
            return errors.error_response(503, herder.not_ready_reason)
        target = herder.forward_url()
        if target is None:
            return await call_next(request)
        if request.headers.get(FORWARDED_HEADER):
            # The sender thinks this worker leads; it will wait for its next assignment.
            return errors.error_response(409, NOT_LEADER)
        answer, retry = await _forward(request, forwarder, target, await request.body())
        left = deadline - time.monotonic()  # the forward itself may have taken most of it
        if not retry or left <= 0:
            if answer.status_code < 300:
                try:  # read-your-writes on this worker too
                    await herder.sync_configs()
                except Exception as exc:
                    log.warning("config topic not read to its end after a forwarded write", error=str(exc))
            return answer
        log.info("the leader cannot take the request yet; retrying", leader=target, status=answer.status_code)
        await herder.wait_for_change(min(left, RETRY_S))


async def _forward(
    request: Request, forwarder: httpx.AsyncClient, target: str, body: bytes
) -> tuple[Response, bool]:
    """The leader's answer, and whether to try again after the group settles."""
    import httpx

    raw_path = request.scope.get("raw_path")
    path = raw_path.decode("ascii", "replace") if raw_path else request.scope["path"]  # names stay encoded
    url = target + path + (f"?{request.url.query}" if request.url.query else "")
    # This worker checked Origin and Host already; the leader sees a request from a peer.
    # The caller's credentials stay here: the leader gets the caller's name and role, signed.
    dropped = ("host", "content-length", "origin", "authorization", forward.HEADER)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in dropped}
    headers[FORWARDED_HEADER] = "1"
    principal = principal_of(request.scope)
    authenticator = getattr(request.app.state, "auth", None)
    if principal is not None and authenticator is not None:
        secret = authenticator.current().cluster_secret
        target_path = path + (f"?{request.url.query}" if request.url.query else "")
        headers[forward.HEADER] = forward.sign(
            secret, principal.name, principal.role, request.method, target_path, body
        )
    try:
        answer = await forwarder.request(request.method, url, content=body, headers=headers)
    except httpx.ConnectError as exc:  # nothing reached the leader: safe to send again
        message = f"Cannot complete request: the leader {target} is not reachable ({exc}); retry after the rebalance"
        return errors.error_response(409, message), True
    except httpx.HTTPError as exc:
        # The leader may be acting on it (a timeout, a dropped connection): sending it again could
        # do it twice, so the client decides.
        message = f"Cannot complete request: no answer from the leader {target} ({exc!r}); check the result before retrying"
        return errors.error_response(409, message), False
    passed = {k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "location")}
    retry = answer.status_code == 503 or (answer.status_code == 409 and NOT_LEADER in answer.text)
    return Response(answer.content, status_code=answer.status_code, headers=passed), retry
