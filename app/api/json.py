"""JSON responses rendered with orjson (compact, fast, keeps ``null`` fields).

A :class:`~starlette.responses.JSONResponse` subclass, so the OpenAPI document describes the
bodies of routes that answer with it by their models instead of as plain strings.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
