"""The JDBC source task: reads its tables (or the query) in turn, a batch per ``poll()``.

As Confluent's ``JdbcSourceTask``: the querier due first runs its query; its rows are handed out
at most ``batch.max.rows`` per poll, straight from a server-side cursor (PostgreSQL: a cursor in
a read-only transaction; MySQL: an unbuffered cursor), so memory stays bounded whatever the table
size; once the result is exhausted the querier waits ``poll.interval.ms`` before its next run.

Progress beyond Confluent: in bulk and incrementing modes each run first counts the rows it will
read (``count(*)``, with the incrementing criterion), and the task reports the rows remaining per
table in its status details and as the ``jdbc_source_rows_remaining`` gauge.

A lost connection mid-poll (server restart, network) raises ``RetriableError``: the runtime polls
again later, the task reconnects and re-runs the query from the last offset handed out.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import time
from collections.abc import Sequence
from typing import Any

from connectors.jdbc.columns import TableColumn, column_problem, result_columns, table_columns
from connectors.jdbc.dialect import ConnectFailure, Database, RowStream, connect
from connectors.jdbc.querier import QUERY_PARTITION, Offset, Querier
from connectors.jdbc.source_config import JdbcSourceConfig, Mode
from connectors.jdbc.source_queries import QueryShape, build_query, from_clause, identifier
from connectors.jdbc.source_schema import row_schema
from connectors.jdbc.tables import TableId, decode_tables
from connectors.sdk import ConfigError, ConnectError, RetriableError, SourceRecord, SourceTask, setting

log = logging.getLogger(__name__)


class JdbcSourceTaskConfig(JdbcSourceConfig):
    """The connector's settings plus the tables this task reads (set by the connector)."""

    tables: str = setting("", doc="JSON list of [schema, table] pairs this task reads (internal).")


async def open_database(config: JdbcSourceConfig) -> Database:
    """Connect, trying ``connection.attempts`` times ``connection.backoff.ms`` apart."""
    attempts = max(config.connection_attempts, 1)
    for attempt in range(1, attempts + 1):
        try:
            db = await connect(config.url)
            await _set_session_zone(db, config.db_timezone)
            return db
        except ConnectFailure as error:
            if attempt == attempts:
                raise
            log.warning("JDBC connection attempt %d/%d failed: %s", attempt, attempts, error)
            await asyncio.sleep(config.connection_backoff_ms / 1000)
    raise AssertionError("unreachable")


async def _set_session_zone(db: Database, zone: str) -> None:
    """The session reads and compares zoned values in ``db.timezone`` (MySQL TIMESTAMP columns too)."""
    if db.dialect.name == "postgresql":
        await db.execute(f"SET TIME ZONE '{zone}'")  # checked by ZoneInfo: no quote can occur
        return
    if zone == "UTC":
        await db.execute("SET time_zone = '+00:00'")
        return
    try:
        await db.execute("SET time_zone = %s", zone)
    except Exception as error:  # the server's time zone tables are not loaded
        log.warning(
            "MySQL cannot use time zone %s (%s); TIMESTAMP columns are read in its default zone", zone, error
        )


def is_connection_error(error: BaseException) -> bool:
    """Errors after which the connection is gone (server restart, network), as opposed to SQL errors."""
    import asyncpg

    lost = (
        OSError,
        ConnectionError,
        asyncpg.InterfaceError,
        asyncpg.PostgresConnectionError,
        asyncpg.exceptions.InternalClientError,  # a protocol state broken by an unsolicited error
    )
    if isinstance(error, lost):
        return True
    if isinstance(error, asyncpg.PostgresError):
        return str(getattr(error, "sqlstate", "")).startswith(("08", "57P"))
    if type(error).__module__.startswith("asyncmy"):
        code = error.args[0] if error.args else 0
        return isinstance(code, int) and 2000 <= code < 2100  # client errors: lost connection
    return False


class JdbcSourceTask(SourceTask[JdbcSourceTaskConfig]):
    config_model = JdbcSourceTaskConfig

    async def start(self, config: JdbcSourceTaskConfig) -> None:
        self.config = config
        self.zone: datetime.tzinfo = config.zone
        self.schema_zone: datetime.tzinfo | None = None if config.db_timezone == "UTC" else config.zone
        self.db: Database | None = None
        self.stream: RowStream | None = None
        self.stream_exit: contextlib.AsyncExitStack | None = None
        self.current: Querier | None = None
        self.rows_remaining = self.context.metrics.gauge(
            "jdbc_source_rows_remaining", "Rows the current run of a table still has to read", ["table"]
        )
        self.rows_read = self.context.metrics.counter(
            "jdbc_source_rows_read", "Rows read from the database", ["table"]
        )
        try:
            self.db = await open_database(config)
        except ConnectFailure as error:
            raise ConnectError(str(error)) from None
        self.queriers = await self._queriers(self.db)

    async def _queriers(self, db: Database) -> list[Querier]:
        config = self.config
        mode = config.mode_value
        if config.query:
            shape = QueryShape(
                mode,
                None,
                config.query,
                config.incrementing_column_name,
                tuple(config.timestamp_column_name),
                config.query_suffix,
            )
            stored = await self.context.offset(dict(QUERY_PARTITION)) if mode is not Mode.BULK else None
            querier = Querier(
                shape, config.topic_prefix, dict(QUERY_PARTITION), Offset.from_map(stored), None
            )
            querier.label = "the query"
            await self._initial_timestamp(db, querier)
            return [querier]
        result = []
        for table in decode_tables(config.tables):
            columns = await table_columns(db, table)
            if not columns:
                raise ConfigError(
                    f"Table {table.fqn} does not exist (or is not visible to the connection's user)"
                )
            inc = self._incrementing_column(table, columns) if mode.uses_incrementing else ""
            if mode.uses_timestamp:
                self._check_columns(table, columns, config.timestamp_column_name, "timestamp")
            if inc:
                self._check_columns(table, columns, [inc], "incrementing")
            shape = QueryShape(mode, table, "", inc, tuple(config.timestamp_column_name), config.query_suffix)
            if mode is Mode.BULK:
                partition: dict[str, Any] = {"table": table.name}
                offset = Offset()
            else:
                partition = {"protocol": "1", "table": table.fqn}
                stored = await self.context.offset(partition)
                if stored is None:
                    stored = await self.context.offset({"table": table.name})  # protocol 0
                offset = Offset.from_map(stored)
            querier = Querier(shape, config.topic_prefix + table.name, partition, offset, table.name)
            querier.label = table.fqn
            querier.extra["columns"] = columns
            await self._initial_timestamp(db, querier)
            result.append(querier)
        return result

    def _incrementing_column(self, table: TableId, columns: Sequence[TableColumn]) -> str:
        name = self.config.incrementing_column_name
        if name:
            return name
        for column in columns:
            if column.auto_increment:
                return column.column.name
        raise ConfigError(
            f"Cannot find an auto-incrementing column in table {table.fqn}: set incrementing.column.name"
        )

    def _check_columns(
        self, table: TableId, columns: Sequence[TableColumn], names: Sequence[str], what: str
    ) -> None:
        problem = column_problem(table, columns, names, what, self.config.validate_non_null)
        if problem:
            raise ConfigError(problem)

    async def _initial_timestamp(self, db: Database, querier: Querier) -> None:
        if not querier.mode.uses_timestamp or querier.offset.timestamp_ms is not None:
            return
        initial = self.config.timestamp_initial
        if initial == -1:
            now = await self._db_now(db)
            querier.offset.timestamp_ms = int(now.timestamp() * 1000)
            querier.offset.timestamp_nanos = now.microsecond * 1000
        elif initial is not None:
            querier.offset.timestamp_ms = initial
            querier.offset.timestamp_nanos = (initial % 1000) * 10**6

    async def _db_now(self, db: Database) -> datetime.datetime:
        if db.dialect.name == "postgresql":
            value = (await db.fetch("SELECT CURRENT_TIMESTAMP"))[0][0]
        else:
            value = (await db.fetch("SELECT UTC_TIMESTAMP(6)"))[0][0].replace(tzinfo=datetime.UTC)
        assert isinstance(value, datetime.datetime)
        return value

    # -- polling -------------------------------------------------------------------------------
    async def poll(self) -> Sequence[SourceRecord]:
        try:
            return await self._poll()
        except (ConfigError, RetriableError):
            raise
        except Exception as error:
            closed = self.db is not None and self.db.closed
            if not (closed or is_connection_error(error)):
                raise
            await self._drop_connection()
            what = f"{type(error).__name__}: {error}"
            log.warning("Lost the connection to %s (%s); reconnecting", self.config.url, what)
            raise RetriableError(
                f"lost the connection to {self.config.url} ({what}); reconnecting", retry_after=1.0
            ) from error

    async def _poll(self) -> Sequence[SourceRecord]:
        if not self.queriers:
            await asyncio.sleep(self.context.poll_timeout)
            return []
        if self.current is None:
            querier = min(self.queriers, key=lambda q: q.next_run)
            wait = querier.next_run - time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, self.context.poll_timeout))
                return []
            await self._start_query(querier)
        current = self.current
        assert current is not None and self.stream is not None
        querier = current
        rows = await self.stream.fetch(self.config.batch_max_rows)
        records = [querier.record(row, self.zone) for row in rows]
        if rows:
            self.rows_read.inc(len(rows), table=querier.label)
        if querier.rows_remaining is not None:
            querier.rows_remaining = max(querier.rows_remaining - len(rows), 0)
        if len(rows) < self.config.batch_max_rows:
            await self._end_query(querier)
        self._report(querier)
        return records

    async def _connection(self) -> Database:
        if self.db is None or self.db.closed:
            try:
                self.db = await open_database(self.config.model_copy(update={"connection_attempts": 1}))
            except ConnectFailure as error:
                raise RetriableError(
                    f"{error}; retrying", retry_after=self.config.connection_backoff_ms / 1000
                ) from error
        return self.db

    async def _start_query(self, querier: Querier) -> None:
        db = await self._connection()
        sql = build_query(db.dialect, querier.shape, self.config.quote)
        args = await self._arguments(db, querier)
        querier.rows_remaining = await self._count(db, querier)
        exit_stack = contextlib.AsyncExitStack()
        try:
            stream = await exit_stack.enter_async_context(db.stream(sql, *args))
        except BaseException:
            await exit_stack.aclose()
            raise
        names = [c.name for c in result_columns(db.dialect.name, stream.fields)]
        if querier.row_schema is None or names != querier.extra.get("names"):
            if querier.shape.table is not None and querier.row_schema is not None:  # the table changed
                querier.extra["columns"] = await table_columns(db, querier.shape.table)
            self._describe(db, querier, stream)
            querier.extra["names"] = names
        self.stream, self.stream_exit, self.current = stream, exit_stack, querier
        log.debug("JDBC source running %s with %s", sql, args)

    def _describe(self, db: Database, querier: Querier, stream: RowStream) -> None:
        dialect = db.dialect.name
        columns = result_columns(dialect, stream.fields)
        catalog = querier.extra.get("columns")
        if catalog is not None and len(catalog) == len(columns):
            columns = [c.column for c in catalog]  # nullability and precision from the catalog
        querier.row_schema = row_schema(
            columns,
            name=querier.schema_name,
            mapping=self.config.numeric,
            dialect=dialect,
            zone=self.schema_zone,
            where=querier.label,
        )
        names = [c.name for c in columns]
        if querier.shape.incrementing_column:
            if querier.shape.incrementing_column not in names:
                raise ConfigError(
                    f"The incrementing column {querier.shape.incrementing_column!r} is not a column of "
                    f"{querier.label} (columns: {', '.join(names)})"
                )
            querier.inc_index = names.index(querier.shape.incrementing_column)
        missing = [c for c in querier.shape.timestamp_columns if c not in names]
        if missing and querier.mode.uses_timestamp:
            raise ConfigError(
                f"The timestamp column(s) {', '.join(missing)} are not columns of {querier.label}"
            )
        querier.ts_indexes = tuple(names.index(c) for c in querier.shape.timestamp_columns if c in names)

    async def _arguments(self, db: Database, querier: Querier) -> list[Any]:
        mode = querier.mode
        if mode is Mode.BULK:
            return []
        inc = querier.offset.incrementing if querier.offset.incrementing is not None else -1
        if mode is Mode.INCREMENTING:
            return [inc]
        last = querier.offset.timestamp or datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
        end = await self._db_now(db) - datetime.timedelta(
            milliseconds=self.config.timestamp_delay_interval_ms
        )
        last_local, end_local = last.astimezone(self.zone), end.astimezone(self.zone)
        if mode is Mode.TIMESTAMP:
            return [last_local, end_local]
        return [end_local, last_local, inc, last_local]

    async def _count(self, db: Database, querier: Querier) -> int | None:
        """Rows the run will read (bulk and incrementing table modes), for progress."""
        if querier.shape.table is None or querier.mode not in (Mode.BULK, Mode.INCREMENTING):
            return None
        source = from_clause(db.dialect, querier.shape, self.config.quote).replace(
            "SELECT *", "SELECT count(*)", 1
        )
        if querier.mode is Mode.INCREMENTING:
            inc = identifier(db.dialect, querier.shape.incrementing_column, self.config.quote)
            value = querier.offset.incrementing if querier.offset.incrementing is not None else -1
            rows = await db.fetch(f"{source} WHERE {inc} > {db.dialect.placeholder(1)}", value)
        else:
            rows = await db.fetch(source)
        return int(rows[0][0])

    async def _end_query(self, querier: Querier) -> None:
        exit_stack, self.stream, self.stream_exit, self.current = self.stream_exit, None, None, None
        if exit_stack is not None:
            await exit_stack.aclose()
        querier.next_run = time.monotonic() + self.config.poll_interval_ms / 1000

    def _report(self, querier: Querier) -> None:
        if querier.rows_remaining is None:
            return
        self.rows_remaining.set(querier.rows_remaining, table=querier.label)
        self.context.details.set(**{f"{querier.label}.rows_remaining": querier.rows_remaining})

    async def _drop_connection(self) -> None:
        exit_stack, self.stream, self.stream_exit, self.current = self.stream_exit, None, None, None
        if exit_stack is not None:
            with contextlib.suppress(Exception):
                await exit_stack.aclose()
        if self.db is not None:
            with contextlib.suppress(Exception):
                await self.db.close()
        self.db = None

    async def stop(self) -> None:
        await self._drop_connection()
