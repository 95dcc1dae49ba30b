"""SQL dialects and connections: what differs between PostgreSQL and MySQL/MariaDB.

The JDBC connectors speak to PostgreSQL through asyncpg and to MySQL/MariaDB through asyncmy
(the maintained asyncio MySQL driver with a compiled protocol core). Each driver has its own
placeholder style (``$1`` / ``%s``), identifier quoting (``"x"`` / ```x```) and transaction API;
:class:`Dialect` and :class:`Database` hide exactly that, so the source and sink write one
statement builder each. Everything else (catalog queries, upsert syntax, type names) is asked of
the dialect by name (``dialect.name``) where it is used.

Errors: :func:`connect` turns driver and socket errors into :class:`ConnectFailure`, whose message
names the server and what to check (never the password).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from connectors.jdbc.url import JdbcUrl

if TYPE_CHECKING:
    import asyncpg

__all__ = [
    "ConnectFailure",
    "Database",
    "Dialect",
    "MySqlDialect",
    "PostgresDialect",
    "QuoteMode",
    "RowStream",
    "connect",
    "dialect_for",
]

Row = Sequence[Any]


_MYSQL_UNREACHABLE = frozenset({2002, 2003, 2005, 2006, 2013})
"""MySQL client error codes for "no server there": socket/TCP failure, unknown host, gone away, lost."""


class QuoteMode(StrEnum):
    """``quote.sql.identifiers`` of both connectors."""

    ALWAYS = "always"
    NEVER = "never"


class ConnectFailure(Exception):
    """The server could not be reached or refused the login; the message says which."""


class Dialect(ABC):
    """Quoting and placeholders of one SQL family."""

    name: ClassVar[str]
    quote_char: ClassVar[str]

    def quote(self, identifier: str) -> str:
        """``identifier`` quoted exactly (quote characters doubled)."""
        q = self.quote_char
        return q + identifier.replace(q, q + q) + q

    def qualified(self, *parts: str | None) -> str:
        """``schema.table`` (parts that are None or empty are left out), each part quoted."""
        return ".".join(self.quote(p) for p in parts if p)

    @abstractmethod
    def placeholder(self, index: int) -> str:
        """The placeholder of the ``index``-th (1-based) parameter."""

    def placeholders(self, count: int, start: int = 1) -> str:
        return ", ".join(self.placeholder(i) for i in range(start, start + count))


class PostgresDialect(Dialect):
    name = "postgresql"
    quote_char = '"'

    def placeholder(self, index: int) -> str:
        return f"${index}"


class MySqlDialect(Dialect):
    name = "mysql"
    quote_char = "`"

    def placeholder(self, index: int) -> str:
        return "%s"


def dialect_for(url: JdbcUrl) -> Dialect:
    return PostgresDialect() if url.dialect == "postgresql" else MySqlDialect()


class RowStream(ABC):
    """An open query whose rows are fetched a batch at a time (bounded memory).

    ``fields`` are the driver's column descriptions: asyncpg ``Attribute`` s for PostgreSQL,
    ``(description, flags, charset)`` triples for MySQL (flags tell UNSIGNED, charset 63 binary).
    """

    fields: list[Any]

    @abstractmethod
    async def fetch(self, size: int) -> list[tuple[Any, ...]]:
        """Up to ``size`` more rows; fewer (or none) once the result is exhausted."""


class Database(ABC):
    """One open connection, in autocommit unless inside :meth:`transaction`."""

    def __init__(self, dialect: Dialect, url: JdbcUrl) -> None:
        self.dialect = dialect
        self.url = url

    @abstractmethod
    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """All rows of a query, as tuples."""

    @abstractmethod
    async def fetch_columns(self, sql: str, *args: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column labels and rows of a query."""

    @abstractmethod
    async def execute(self, sql: str, *args: Any) -> None: ...

    @abstractmethod
    def stream(self, sql: str, *args: Any) -> contextlib.AbstractAsyncContextManager[RowStream]:
        """Run a query and fetch its rows in batches from the server (a server-side cursor)."""

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Row]) -> None: ...

    @abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Everything inside commits together, or rolls back on an exception."""

    @abstractmethod
    async def close(self) -> None: ...

    @property
    @abstractmethod
    def closed(self) -> bool: ...


class _Postgres(Database):
    def __init__(self, conn: asyncpg.Connection, url: JdbcUrl) -> None:
        super().__init__(PostgresDialect(), url)
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self.conn.fetch(sql, *args)]

    async def fetch_columns(self, sql: str, *args: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        statement = await self.conn.prepare(sql)
        columns = [a.name for a in statement.get_attributes()]
        return columns, [tuple(r) for r in await statement.fetch(*args)]

    async def execute(self, sql: str, *args: Any) -> None:
        await self.conn.execute(sql, *args)

    @contextlib.asynccontextmanager
    async def stream(self, sql: str, *args: Any) -> AsyncIterator[RowStream]:
        """A server-side cursor inside a read transaction. An aware ``datetime`` bound to a
        ``timestamp`` (without zone) parameter keeps its wall-clock time, as MySQL binds it."""
        async with self.conn.transaction(readonly=True):
            statement = await self.conn.prepare(sql)
            types = [t.name for t in statement.get_parameters()]
            bound = [
                a.replace(tzinfo=None)
                if i < len(types)
                and types[i] == "timestamp"
                and isinstance(a, datetime.datetime)
                and a.tzinfo is not None
                else a
                for i, a in enumerate(args)
            ]
            cursor = await statement.cursor(*bound)
            yield _PgStream(statement.get_attributes(), cursor)

    async def executemany(self, sql: str, rows: Iterable[Row]) -> None:
        await self.conn.executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        async with self.conn.transaction():
            yield

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.close(), 5)
        if not self.conn.is_closed():
            self.conn.terminate()

    @property
    def closed(self) -> bool:
        return bool(self.conn.is_closed())


class _PgStream(RowStream):
    def __init__(self, fields: Sequence[Any], cursor: Any) -> None:
        self.fields = list(fields)
        self._cursor = cursor

    async def fetch(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._cursor.fetch(size)]


class _MySqlStream(RowStream):
    def __init__(self, cursor: Any) -> None:
        description = list(cursor.description or ())
        # flags (UNSIGNED) and charset (63 = binary) are only on asyncmy's field packets
        packets = list(getattr(getattr(cursor, "_result", None), "fields", None) or [None] * len(description))
        self.fields = [
            (d, getattr(f, "flags", 0), getattr(f, "charsetnr", 0))
            for d, f in zip(description, packets, strict=False)
        ]
        self._cursor = cursor

    async def fetch(self, size: int) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in await self._cursor.fetchmany(size)]


class _MySql(Database):
    def __init__(self, conn: Any, url: JdbcUrl) -> None:
        super().__init__(MySqlDialect(), url)
        self.conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return (await self.fetch_columns(sql, *args))[1]

    async def fetch_columns(self, sql: str, *args: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        async with self.conn.cursor() as cursor:
            await cursor.execute(sql, args or None)
            rows = await cursor.fetchall()
            columns = [d[0] for d in cursor.description or ()]
        return columns, [tuple(r) for r in rows]

    async def execute(self, sql: str, *args: Any) -> None:
        async with self.conn.cursor() as cursor:
            await cursor.execute(sql, args or None)

    @contextlib.asynccontextmanager
    async def stream(self, sql: str, *args: Any) -> AsyncIterator[RowStream]:
        """An unbuffered cursor (rows stay on the server until fetched); ``datetime`` parameters
        are sent as their wall-clock time."""
        from asyncmy.cursors import SSCursor

        cursor = self.conn.cursor(SSCursor)
        try:
            await cursor.execute(sql, args or None)
            yield _MySqlStream(cursor)
        finally:
            with contextlib.suppress(Exception):
                await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Row]) -> None:
        async with self.conn.cursor() as cursor:
            await cursor.executemany(sql, list(rows))

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        await self.conn.begin()
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                await self.conn.rollback()
            raise
        await self.conn.commit()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.conn.ensure_closed(), 5)
        with contextlib.suppress(Exception):
            self.conn.close()

    @property
    def closed(self) -> bool:
        return not getattr(self.conn, "connected", False)


async def connect(url: JdbcUrl, *, timeout: float = 10.0) -> Database:
    """Open a connection (autocommit); :class:`ConnectFailure` says why one cannot be had."""
    # imported here, not at module level: a worker loads the JDBC connectors' modules at start to
    # learn their names, and should not pay for a database driver until a connection is opened
    import asyncpg

    where = f"{url.host}:{url.port}"
    try:
        if url.dialect == "postgresql":
            ssl_mode = url.params.get("sslmode")
            conn = await asyncpg.connect(
                host=url.host,
                port=url.port,
                user=url.user,
                password=url.password,
                database=url.database,
                ssl=ssl_mode
                if ssl_mode in ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
                else None,
                timeout=timeout,
                server_settings={"application_name": "penstock-jdbc"},
            )
            return _Postgres(conn, url)
        import asyncmy  # only when a MySQL URL is used

        use_ssl = url.params.get("useSSL", url.params.get("ssl", "false")).lower() == "true"
        conn = await asyncmy.connect(
            host=url.host,
            port=url.port,
            user=url.user or "",
            password=url.password or "",
            database=url.database,
            autocommit=True,
            connect_timeout=timeout,
            charset="utf8mb4",
            ssl=ssl.create_default_context() if use_ssl else None,
        )
        return _MySql(conn, url)
    except (OSError, TimeoutError) as error:
        raise ConnectFailure(f"cannot reach the database server at {where} ({url}): {error}") from error
    except asyncpg.InvalidPasswordError as error:
        raise ConnectFailure(
            f"the server at {where} refused the login of user {url.user!r}: check connection.user and "
            "connection.password"
        ) from error
    except asyncpg.InvalidCatalogNameError as error:
        raise ConnectFailure(
            f"database {url.database!r} does not exist on {where}: check connection.url"
        ) from error
    except asyncpg.PostgresError as error:
        raise ConnectFailure(f"the server at {where} refused the connection: {error}") from error
    except Exception as error:  # asyncmy raises its own OperationalError family
        if type(error).__module__.startswith("asyncmy"):
            code = error.args[0] if error.args else None
            if code == 1045:
                raise ConnectFailure(
                    f"the server at {where} refused the login of user {url.user!r}: check connection.user "
                    "and connection.password"
                ) from error
            if code == 1049:
                raise ConnectFailure(
                    f"database {url.database!r} does not exist on {where}: check connection.url"
                ) from error
            if code in _MYSQL_UNREACHABLE:
                reason = error.args[1] if len(error.args) > 1 else error
                raise ConnectFailure(
                    f"cannot reach the database server at {where} ({url}): {reason}"
                ) from error
            raise ConnectFailure(f"cannot connect to the database server at {where}: {error}") from error
        raise
