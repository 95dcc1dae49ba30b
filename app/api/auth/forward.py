"""The identity a follower gives a write it forwards to its leader, when REST auth is on.

The follower has authenticated the caller; it does not pass the caller's password or token on.
It sends ``X-Penstock-Forwarded-Auth: v1:<timestamp>:<user>:<role>:<hmac>``, an HMAC-SHA256
with the users file's ``cluster_secret`` over the timestamp, user, role, method, path with query,
and a SHA-256 of the body. The leader (sharing the users file) checks the HMAC and that the
timestamp is within :data:`MAX_AGE_S` of its clock, and then treats the request as the caller's.
A captured header is worth nothing for another request, and for the same one only that long;
use HTTPS between workers on networks you do not trust.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from app.api.auth.users import Role

HEADER = "x-penstock-forwarded-auth"
MAX_AGE_S = 60.0


def _mac(secret: str, timestamp: str, user: str, role: str, method: str, target: str, body: bytes) -> str:
    message = "\n".join((timestamp, user, role, method.upper(), target, hashlib.sha256(body).hexdigest()))
    digest = hmac.digest(secret.encode(), message.encode("utf-8", "surrogateescape"), hashlib.sha256)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(
    secret: str, user: str, role: Role, method: str, target: str, body: bytes, now: float | None = None
) -> str:
    timestamp = str(int(time.time() if now is None else now))
    return f"v1:{timestamp}:{user}:{role.value}:{_mac(secret, timestamp, user, role.value, method, target, body)}"


def verify(
    secret: str, header: str, method: str, target: str, body: bytes, now: float | None = None
) -> tuple[str, Role] | None:
    """(user, role) of a correctly signed, fresh header; None otherwise."""
    parts = header.split(":")
    if len(parts) != 5 or parts[0] != "v1" or not parts[1].isdigit():
        return None
    _, timestamp, user, role, mac = parts
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_S:
        return None
    try:
        checked_role = Role(role)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, timestamp, user, role, method, target, body)):
        return None
    return user, checked_role
