"""Log lines never carry secrets: keyed masking for fields and configs, and masking by value for the
secrets a task registered, in structlog events and plain ``logging`` records alike."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import pytest
import structlog

from app.logging import configure, hide_in_logs


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """What the worker's log handler writes, for one test; the setup is undone afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure("INFO", "json")
    buffer = io.StringIO()
    for handler in root.handlers:
        if getattr(handler, "_penstock", False):
            handler.setStream(buffer)  # type: ignore[attr-defined]
    yield buffer
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


async def test_secrets_are_masked_by_key_and_by_value(output: io.StringIO) -> None:
    log = structlog.get_logger("penstock.test")
    plain = logging.getLogger("some.plugin")

    async def task() -> None:
        hide_in_logs({"vault-value-123"})
        log.info("opened", config={"connection.password": "pw-aaaa", "file": "/x/vault-value-123"})
        log.info("retrying", ssl_keystore_key="pem-bbbb")
        plain.warning("could not log in with %s", "vault-value-123")
        try:
            raise ValueError("bad token vault-value-123")
        except ValueError:
            plain.exception("plugin failed")

    await asyncio.create_task(task())
    log.info("outside the task", note="vault-value-123 is not registered here")
    err = output.getvalue()
    assert "pw-aaaa" not in err
    assert "pem-bbbb" not in err
    lines = err.splitlines()
    task_lines = [line for line in lines if "outside the task" not in line]
    assert all("vault-value-123" not in line for line in task_lines)
    assert "could not log in with [hidden]" in err
    assert "ValueError: bad token [hidden]" in err
    assert '"file": "/x/[hidden]"' in err
    assert any("outside the task" in line and "vault-value-123" in line for line in lines)
