"""Exceptions shared by plugins and the runtime.

The runtime reads the class of an exception to decide what happens next: a ``RetriableError``
is a backpressure signal (the same batch is offered again later), a ``ConfigError`` is fatal and
never retried, anything else fails the task and goes through the restart policy.

That policy retries network and OS errors, except OS errors about a path
(``FileNotFoundError``, ``PermissionError``, ``IsADirectoryError``, ``NotADirectoryError``, a
read-only file system): those fail for good like a ``ConfigError``. A plugin that expects a
path to appear later raises ``RetriableError(...) from`` the error to have it retried.
"""

from __future__ import annotations


class ConnectError(Exception):
    """Root of every error the SDK and the runtime raise on purpose."""


class RetriableError(ConnectError):
    """A temporary problem: the runtime retries the same operation after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DataError(ConnectError):
    """A record cannot be converted or transformed (Kafka Connect's ``DataException``)."""


class ConfigError(ConnectError):
    """A configuration cannot work; restarting will not help, the user must change it."""


class NotFoundError(ConnectError):
    """A named connector, task, plugin or logger does not exist."""


class AlreadyExistsError(ConnectError):
    """A connector with that name already exists."""
