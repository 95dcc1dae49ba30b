"""Structured logs (structlog over the standard library) and runtime log-level changes.

Every record carries the connector and task ids bound by the runner (contextvars). Levels use
Kafka Connect's names on ``/admin/loggers`` and map onto Python's levels.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, MutableMapping
from contextvars import ContextVar
from typing import Any

import structlog

from app.config.secrets import HIDDEN, is_secret_key, mask_text

TRACE = 5
OFF = logging.CRITICAL + 10
LEVELS = {
    "OFF": OFF,
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": TRACE,
    "ALL": 1,
}
_NAMES = {v: k for k, v in LEVELS.items()}
_NAMES[logging.CRITICAL] = "FATAL"
_secret_values: ContextVar[frozenset[str]] = ContextVar("penstock_secret_values", default=frozenset())


def hide_in_logs(values: Iterable[str]) -> None:
    """Mask these values in every log line written from the current asyncio task and the tasks it
    starts later: a task runner registers its secret and provider-resolved config values here."""
    _secret_values.set(_secret_values.get() | frozenset(values))


def level_name(level: int) -> str:
    return _NAMES.get(level, logging.getLevelName(level))


def _hide(key: str, value: Any, values: frozenset[str]) -> Any:
    if is_secret_key(key):
        return HIDDEN
    if isinstance(value, str):
        return mask_text(value, values)
    if isinstance(value, dict):
        return {k: _hide(str(k), v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_hide("", v, values) for v in value]
    return value


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never print secrets (the rule is in ``app.config.secrets``): fields and config entries with
    secret names are masked, and the current task's secret values are masked inside any text."""
    values = _secret_values.get()
    for key, value in list(event.items()):
        event[key] = _hide("" if key == "event" else key, value, values)
    return event


class _RedactFilter(logging.Filter):
    """The same masking for plain ``logging`` records (plugins and libraries), including their
    exception text, which structlog never sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        values = _secret_values.get()
        if values:
            record.msg, record.args = mask_text(record.getMessage(), values), ()
            if record.exc_info:
                record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info), values)
                record.exc_info = None
        return True


def configure(level: str = "INFO", fmt: str = "console") -> None:
    logging.addLevelName(TRACE, "TRACE")
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    if not any(getattr(h, "_penstock", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._penstock = True  # type: ignore[attr-defined]
        handler.addFilter(_RedactFilter())
        root.addHandler(handler)
    root.setLevel(LEVELS.get(level.upper(), logging.INFO))


MAX_NEW_LOGGERS = 100
"""How many loggers that do not exist yet ``PUT /admin/loggers/{name}`` may create (Python keeps
every logger for the life of the process, so an unbounded number would grow the worker's memory)."""


class TooManyLoggersError(ValueError):
    """A level for a logger that does not exist, after ``MAX_NEW_LOGGERS`` were created already."""


class LoggerAdmin:
    """Backs ``/admin/loggers``: levels set through the API, with when they were set.

    Any existing logger (or parent of one, ``app``, ``connectors``) can be set; a name no code
    uses yet is created, so a level can be set before a plugin loads, up to ``MAX_NEW_LOGGERS``.
    """

    def __init__(self) -> None:
        self._modified: dict[str, int] = {}
        self._created: set[str] = set()

    def all(self) -> dict[str, dict[str, Any]]:
        manager = logging.root.manager
        named = {
            name: logger.level
            for name, logger in manager.loggerDict.items()
            if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET
        }
        result = {
            n: {"level": level_name(lv), "last_modified": self._modified.get(n)}
            for n, lv in sorted(named.items())
        }
        result["root"] = {
            "level": level_name(logging.root.level),
            "last_modified": self._modified.get("root"),
        }
        return result

    def get(self, name: str) -> dict[str, Any] | None:
        if name.lower() == "root":
            return {"level": level_name(logging.root.level), "last_modified": self._modified.get("root")}
        if name not in logging.root.manager.loggerDict:
            return None
        logger = logging.getLogger(name)
        return {"level": level_name(logger.getEffectiveLevel()), "last_modified": self._modified.get(name)}

    def set(self, name: str, level: str) -> list[str]:
        """Set ``name`` and every existing logger below it; returns the names changed (sorted)."""
        value = LEVELS[level.upper()]
        if name.lower() != "root" and name not in logging.root.manager.loggerDict:
            if len(self._created) >= MAX_NEW_LOGGERS:
                raise TooManyLoggersError(
                    f"Logger {name} does not exist, and {MAX_NEW_LOGGERS} loggers have been created through "
                    "this endpoint already (the limit). Set the level of an existing logger or of a parent "
                    "(for example 'connectors' or 'app'); GET /admin/loggers/{name} tells whether one exists"
                )
            self._created.add(name)
        now = int(time.time() * 1000)
        if name.lower() == "root":
            targets = [
                "root",
                *[n for n, lg in logging.root.manager.loggerDict.items() if isinstance(lg, logging.Logger)],
            ]
        else:
            targets = [name] + [
                n
                for n, lg in logging.root.manager.loggerDict.items()
                if isinstance(lg, logging.Logger) and n.startswith(name + ".")
            ]
        for target in targets:
            logger = logging.root if target == "root" else logging.getLogger(target)
            logger.setLevel(value)
            self._modified[target] = now
        return sorted(set(targets))
