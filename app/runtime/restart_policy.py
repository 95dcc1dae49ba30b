"""Automatic restarts of failed connectors and tasks: Penstock's answer to Kafka Connect's
"a FAILED task stays failed until someone restarts it".

A failure with a retriable cause (``RetriableError``, network and OS errors, timeouts) is
restarted after an exponential backoff, at most ``auto.restart.max.attempts`` times; a
configuration error, a data error or a bug is not. The policy is per connector.

An OS error about a path (missing, a directory where a file was expected or the reverse,
permission denied, a read-only file system, a name too long or a symlink loop) is fatal: it
does not go away by waiting, only when someone changes the filesystem or the config, and ten
restarts over ten minutes would only bury the first trace. A connection refused or reset, a
host unreachable, a full disk (the ``OSError`` family at large) stay retriable. A plugin that
knows a path error is transient (a file that appears later) raises ``RetriableError`` from it.
"""

from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass

from app.config.connector_config import CommonConnectorConfig
from connectors.sdk.errors import ConfigError, DataError, RetriableError

RETRIABLE = (RetriableError, OSError, TimeoutError, asyncio.TimeoutError)
FATAL = (ConfigError, DataError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
FATAL_ERRNOS = frozenset({errno.EROFS, errno.ENAMETOOLONG, errno.ELOOP})
"""Path errors without an ``OSError`` subclass of their own."""


def is_fatal(error: BaseException) -> bool:
    return isinstance(error, FATAL) or (isinstance(error, OSError) and error.errno in FATAL_ERRNOS)


def is_retriable(error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:  # look through "raise X from Y" chains
        seen.add(id(current))
        if is_fatal(current):
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
