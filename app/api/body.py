"""Request bodies, parsed strictly with messages that say what to fix.

Bodies must be JSON: :class:`app.api.guard.RequestGuard` answers 415 to a body sent with another
Content-Type (as Kafka Connect does; curl's ``-d`` without ``-H 'Content-Type: application/json'``
sends ``application/x-www-form-urlencoded``) and 413 to one longer than ``rest.request.max.bytes``.
A body without a Content-Type header is read as JSON. Large bodies are parsed on a worker thread,
so one big upload does not stall every other request.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from fastapi import Request

from app.api.errors import HttpError

PARSE_IN_THREAD_BYTES = 256 * 1024
"""Bodies at least this long are parsed on a worker thread. orjson holds the GIL while it parses
(about 20 ms per MB), so this mostly lets the loop run between parses; ``rest.request.max.bytes``
is what bounds how long one request can hold the worker."""


async def json_body(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise HttpError(400, "Request body is empty; send a JSON object")
        return None
    try:
        if len(raw) >= PARSE_IN_THREAD_BYTES:
            return await asyncio.to_thread(orjson.loads, raw)
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise HttpError(400, f"Malformed JSON in request body: {exc}") from None


def config_map(
    value: Any, what: str = "Connector config", *, allow_null: bool = True
) -> dict[str, str | None]:
    """A Connect config map: string values; numbers and booleans become strings, as in Kafka Connect."""
    if not isinstance(value, dict):
        raise HttpError(
            400, f"{what} must be a JSON object of string keys to string values, not {_kind(value)}"
        )
    result: dict[str, str | None] = {}
    for key, item in value.items():
        if isinstance(item, str):
            result[key] = item
        elif isinstance(item, bool):
            result[key] = "true" if item else "false"
        elif isinstance(item, int | float):
            result[key] = str(item)
        elif item is None and allow_null:
            result[key] = None
        else:
            raise HttpError(
                400, f"{what} value for '{key}' must be a string, number or boolean, not {_kind(item)}"
            )
    return result


def flat_config_map(value: Any, endpoint: str) -> dict[str, str | None]:
    """The body of an endpoint that takes the config map itself. The body of ``POST /connectors``
    (``{"name": ..., "config": {...}}``), a common tutorial mistake, gets a 400 that says so:
    accepting it would make a script work here and fail on Kafka Connect."""
    if isinstance(value, dict) and isinstance(value.get("config"), dict):
        raise HttpError(
            400,
            f"{endpoint} takes the connector config itself, a flat JSON object of string keys to string "
            'values, not {"name": ..., "config": {...}} (that is the body of POST /connectors): send the '
            'object under "config" as the body',
        )
    return config_map(value)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", type(None): "null", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def reject_unknown_fields(body: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        names = ", ".join(f"'{u}'" for u in unknown)
        raise HttpError(
            400, f"Unrecognized field(s) {names} in {what}; allowed: {', '.join(sorted(allowed))}"
        )


def json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HttpError(400, f"{what} must be a JSON object, not {_kind(value)}")
    return value


def query_flag(value: str | None) -> bool:
    """Java ``Boolean.valueOf``: only a case-insensitive "true" is true."""
    return value is not None and value.strip().lower() == "true"
