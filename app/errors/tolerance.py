"""``errors.tolerance`` for the per-record stages (conversion, transformation).

With ``none`` (the default) the first failing record fails the task, as in Kafka Connect. With
``all`` the record is skipped, logged when ``errors.log.enable=true``, and — for sinks with
``errors.deadletterqueue.topic.name`` — its original bytes are written to the dead-letter
topic with ``__connect.errors.*`` context headers when ``errors.deadletterqueue.context.headers.enable``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import structlog

from app.metrics import TaskMetrics
from app.storage.base import ConsumerRecord, ProducerRecord
from connectors.sdk.errors import ConnectError

T = TypeVar("T")
log = structlog.get_logger(__name__)


class Stage(StrEnum):
    KEY_CONVERTER = "KEY_CONVERTER"
    VALUE_CONVERTER = "VALUE_CONVERTER"
    HEADER_CONVERTER = "HEADER_CONVERTER"
    TRANSFORMATION = "TRANSFORMATION"


class ToleranceExceeded(ConnectError):
    pass


class Skip:
    """Returned instead of a value when a failure was tolerated (None is a valid value)."""


SKIP = Skip()


@dataclass(slots=True)
class ErrorHandler:
    connector: str
    task: int
    tolerate_all: bool = False
    log_errors: bool = False
    log_messages: bool = False
    dlq_topic: str | None = None
    dlq_headers: bool = False
    dead_letters: list[ProducerRecord] = field(default_factory=list)
    errors_total: int = 0
    metrics: TaskMetrics | None = None

    @classmethod
    def from_config(
        cls, connector: str, task: int, config: Mapping[str, str], metrics: TaskMetrics | None = None
    ) -> ErrorHandler:
        def flag(key: str) -> bool:
            return config.get(key, "false").strip().lower() == "true"

        return cls(
            connector,
            task,
            tolerate_all=config.get("errors.tolerance", "none").strip().lower() == "all",
            log_errors=flag("errors.log.enable"),
            log_messages=flag("errors.log.include.messages"),
            dlq_topic=(config.get("errors.deadletterqueue.topic.name") or "").strip() or None,
            dlq_headers=flag("errors.deadletterqueue.context.headers.enable"),
            metrics=metrics,
        )

    def run(
        self,
        stage: Stage,
        fn: Callable[..., T],
        *args: Any,
        original: ConsumerRecord | None = None,
        shown: Any = None,
    ) -> T | Skip:
        """``fn(*args)``, or ``SKIP`` when it failed and the failure is tolerated."""
        try:
            return fn(*args)
        except Exception as exc:
            self.errors_total += 1
            if self.metrics is not None:
                self.metrics.error(stage)
            if not self.tolerate_all:
                raise ToleranceExceeded(
                    f"Tolerance exceeded in error handler at stage {stage}: {exc}"
                ) from exc
            self._report(stage, exc, original, shown, _executing_name(fn))
            return SKIP

    def _report(
        self, stage: Stage, exc: Exception, original: ConsumerRecord | None, shown: Any, executing: str
    ) -> None:
        if self.log_errors:
            log.error(
                "record failed and was skipped (errors.tolerance=all)",
                stage=str(stage),
                error=repr(exc),
                record=repr(shown) if self.log_messages else None,
            )
        if self.dlq_topic and original is not None:
            headers = list(original.headers)
            if self.dlq_headers:
                headers += [
                    (f"__connect.errors.{k}", str(v).encode())
                    for k, v in {
                        "topic": original.topic,
                        "partition": original.partition,
                        "offset": original.offset,
                        "connector.name": self.connector,
                        "task.id": self.task,
                        "stage": stage,
                        "class.name": executing,
                        "exception.class.name": _qualified(type(exc)),
                        "exception.message": str(exc),
                        "exception.stacktrace": "".join(traceback.format_exception(exc)),
                    }.items()
                ]
            self.dead_letters.append(
                ProducerRecord(
                    self.dlq_topic, original.value, original.key, None, original.timestamp, headers
                )
            )

    def take_dead_letters(self) -> list[ProducerRecord]:
        letters, self.dead_letters = self.dead_letters, []
        return letters


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _executing_name(fn: Callable[..., Any]) -> str:
    """The converter or transformation class that ran (Kafka's ``class.name`` header)."""
    owner = getattr(fn, "__self__", None)
    if owner is not None:
        return _qualified(type(owner))
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"
