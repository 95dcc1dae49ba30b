"""Request bodies: a large JSON body is parsed on a worker thread, a small one inline."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from starlette.requests import Request
from starlette.types import Message

from app.api import body as body_module
from app.api.body import PARSE_IN_THREAD_BYTES, json_body


def request_with(raw: bytes) -> Request:
    async def receive() -> Message:
        return {"type": "http.request", "body": raw, "more_body": False}

    return Request({"type": "http", "method": "POST", "path": "/connectors", "headers": []}, receive)


@pytest.mark.parametrize(("size", "threaded"), [(PARSE_IN_THREAD_BYTES + 10, True), (1000, False)])
async def test_large_bodies_are_parsed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch, size: int, threaded: bool
) -> None:
    calls: list[Callable[..., Any]] = []
    real = asyncio.to_thread

    async def spy(fn: Callable[..., Any], *args: Any) -> Any:
        calls.append(fn)
        return await real(fn, *args)

    monkeypatch.setattr(body_module.asyncio, "to_thread", spy)
    value = {"config": {"pad": "x" * size}}
    raw = orjson.dumps(value)
    assert await json_body(request_with(raw)) == value
    assert calls == ([orjson.loads] if threaded else [])
