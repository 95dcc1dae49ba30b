"""Telling a passing database problem from a record the database refuses.

Transient (the batch is offered again after ``retry.backoff.ms``, ``max.retries`` times): the
connection was lost or refused, the server is shutting down or restarting, too many connections,
a deadlock or serialization failure, a lock wait timeout. Everything else the database says about
a statement (type mismatch, constraint violation, value too long, unknown column) is about the
records: the batch is written again record by record and the refused ones go to the errant-record
reporter (``errors.tolerance`` / dead-letter queue).
"""

from __future__ import annotations

from connectors.jdbc.dialect import ConnectFailure

_MYSQL_TRANSIENT_CODES = frozenset({1040, 1053, 1205, 1213, 1927, 2002, 2003, 2006, 2013, 2055})


def is_transient(error: BaseException, connection_closed: bool) -> bool:
    """True when retrying the same batch later may succeed."""
    if connection_closed:
        return True
    import asyncpg  # here, not at module level: loaded once a connection exists (dialect.connect)

    pg_transient = (
        asyncpg.PostgresConnectionError,  # class 08, connection lost
        asyncpg.InternalClientError,  # the connection's protocol state broken by a server gone mid-query
        asyncpg.exceptions.OperatorInterventionError,  # 57: admin shutdown, cannot connect now
        asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
        asyncpg.exceptions.TransactionRollbackError,  # 40: deadlock, serialization failure
    )
    if isinstance(error, (ConnectFailure, OSError, TimeoutError, *pg_transient)):
        return True
    if isinstance(error, asyncpg.InterfaceError) and "closed" in str(error):
        return True
    if type(error).__module__.startswith("asyncmy"):
        code = error.args[0] if error.args else None
        return isinstance(code, int) and code in _MYSQL_TRANSIENT_CODES
    return False
