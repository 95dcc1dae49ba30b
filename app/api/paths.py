"""Path parameters that may hold any character, a ``/`` included, when the client percent-encodes it.

ASGI servers decode the path before routing, so ``/connectors/a%2Fb`` arrives as
``/connectors/a/b`` and no route matches: a connector named ``a/b`` (Kafka Connect allows the
name; older Penstock versions did too) could never be read or deleted. Routing therefore uses
the raw path: :func:`route_path` decodes every segment but keeps ``/`` and ``%`` encoded
inside it, and the convertor of plain ``{param}`` path parameters (Starlette's ``str``,
replaced here) decodes those two in the parameter. Paths without ``%2F`` or ``%25`` route
exactly as before. Importing this module (``app.api.routes`` does, before any route is
declared) installs the convertor.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote, unquote, unquote_to_bytes

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The request path, decoded segment by segment, with ``/`` and ``%`` inside a segment left
    percent-encoded (``/connectors/a%2Fb`` stays so; ``/connectors/my%20source`` becomes
    ``/connectors/my source``)."""
    raw = scope.get("raw_path")
    if not raw or b"%" not in raw:
        return str(scope["path"])
    return "/".join(_segment(part) for part in raw.split(b"/"))


def _segment(raw: bytes) -> str:
    text = unquote_to_bytes(raw).decode("utf-8", errors="replace")
    return text.replace("%", "%25").replace("/", "%2F")


class SegmentConvertor(Convertor[str]):
    """One path segment of any text: ``%2F`` and ``%25`` (kept by :func:`route_path`) decoded.
    Replaces Starlette's ``str`` convertor, the one ``{name}`` uses."""

    regex: ClassVar[str] = "[^/]+"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor("str", SegmentConvertor())
