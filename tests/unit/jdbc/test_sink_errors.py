"""Which database errors make the JDBC sink offer a batch again (transient) and which are about
the records (written one by one, the refused ones to the errant-record reporter)."""

from __future__ import annotations

import asyncpg

from connectors.jdbc.sink_errors import is_transient


def test_lost_or_broken_connections_and_busy_servers_are_transient() -> None:
    for error in (
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.DeadlockDetectedError("deadlock detected"),
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is in progress"),
        asyncpg.InterfaceError("connection is closed"),
        ConnectionRefusedError(),
        TimeoutError(),
    ):
        assert is_transient(error, connection_closed=False), error


def test_errors_about_the_records_are_not_transient() -> None:
    for error in (
        asyncpg.exceptions.NotNullViolationError('null value in column "v"'),
        asyncpg.exceptions.StringDataRightTruncationError("value too long for type character varying(3)"),
        asyncpg.exceptions.UndefinedColumnError('column "nope" does not exist'),
        asyncpg.InterfaceError("the number of query arguments cannot exceed 32767"),
    ):
        assert not is_transient(error, connection_closed=False), error
    assert is_transient(asyncpg.exceptions.NotNullViolationError("x"), connection_closed=True)
