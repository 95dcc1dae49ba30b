"""Automatic restarts of failed connectors and tasks: Penstock's answer to Kafka Connect's
"a FAILED task stays failed until someone restarts it".

A failure with a retriable cause (``RetriableError``, network and OS errors, timeouts) is
restarted after an exponential backoff, at most ``auto.restart.max.attempts`` times; a
configuration error, a data error or a bug is not. The policy is per connector.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from app.config.connector_config import CommonConnectorConfig
from connectors.sdk.errors import ConfigError, DataError, RetriableError

RETRIABLE = (RetriableError, OSError, TimeoutError, asyncio.TimeoutError)
FATAL = (ConfigError, DataError)


def is_retriable(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:  # look through "raise X from Y" chains
        seen.add(id(current))
        if isinstance(current, FATAL):
            return False
        if isinstance(current, RETRIABLE):
            return True
        current = current.__cause__
    return False


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    enabled: bool = True
    max_attempts: int = 10
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 60.0

    @classmethod
    def from_config(cls, config: CommonConnectorConfig) -> RestartPolicy:
        return cls(
            enabled=config.auto_restart_enable,
            max_attempts=config.auto_restart_max_attempts,
            initial_backoff_s=config.auto_restart_backoff_initial_ms / 1000,
            max_backoff_s=config.auto_restart_backoff_max_ms / 1000,
        )

    def delay(self, attempt: int) -> float:
        """Backoff before restart number ``attempt`` (1-based)."""
        return float(min(self.max_backoff_s, self.initial_backoff_s * (2 ** min(attempt - 1, 62))))

    def allows(self, error: BaseException, attempts_so_far: int) -> bool:
        return self.enabled and attempts_so_far < self.max_attempts and is_retriable(error)
