"""The JDBC source connector: Confluent's ``JdbcSourceConnector``, for PostgreSQL and MySQL/MariaDB.

The connector lists the tables its filters keep and splits them over ``tasks.max`` tasks in
contiguous chunks (Kafka's ``ConnectorUtils.groupPartitions``); query mode has one task. Every
``table.poll.interval.ms`` it lists them again and asks for new task configs when the set
changed, so tables created or dropped later are picked up without a restart.

Until the first listing succeeds (the database may be down when the connector starts) there is
one placeholder task without tables, as in Confluent's connector; it tries to connect and fails
saying why (unknown host, refused login), which shows in the task's status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from connectors.jdbc.dialect import ConnectFailure, Database
from connectors.jdbc.source_config import CONFLUENT_CLASS, JdbcSourceConfig
from connectors.jdbc.tables import (
    TableId,
    duplicate_names,
    encode_tables,
    group_partitions,
    list_tables,
    select,
)
from connectors.sdk import ConfigError, SourceConnector, lazy_class

log = logging.getLogger(__name__)

_VALIDATE_TIMEOUT = 15.0
_VALIDATE_TABLES = 50  # tables whose columns validation checks (tasks check them all at start)


class JdbcSourceConnector(SourceConnector[JdbcSourceConfig]):
    config_model = JdbcSourceConfig
    task_class = lazy_class("connectors.jdbc.source_task:JdbcSourceTask")
    """Imported on first use, with the queries and column mapping (and, through the dialect, the
    driver), so that discovering this connector at start costs only its config model."""
    aliases = (CONFLUENT_CLASS,)

    async def start(self, config: JdbcSourceConfig) -> None:
        self.config = config
        self.tables: list[TableId] | None = None
        self.monitor: asyncio.Task[None] | None = None
        if config.query:
            return
        try:
            self.tables = await self._list()
        except ConnectFailure as error:
            log.warning("Cannot list the tables yet: %s", error)
        self.monitor = asyncio.create_task(self._watch(), name="jdbc-source-table-monitor")

    async def _list(self) -> list[TableId]:
        from connectors.jdbc.source_task import open_database

        db = await open_database(self.config.model_copy(update={"connection_attempts": 1}))
        try:
            listed = await list_tables(db, self.config)
            tables = select(listed, self.config, db.dialect.quote_char)
        finally:
            await db.close()
        duplicates = duplicate_names(tables)
        if duplicates:
            raise ConfigError(
                "The connector uses the unqualified table name as the topic name and has detected duplicate "
                f"unqualified table names ({', '.join(duplicates)}). This could lead to mixed data types in "
                "the topic and downstream processing errors. To prevent such processing errors, the JDBC "
                "Source connector fails to start when it detects duplicate table name configurations. "
                "Update the connector's 'table.whitelist' config to include exactly one table in each of "
                "the tables listed above."
            )
        return tables

    async def _watch(self) -> None:
        """Re-list the tables every ``table.poll.interval.ms``; a change reconfigures the tasks."""
        while True:
            await asyncio.sleep(max(self.config.table_poll_interval_ms, 100) / 1000)
            try:
                tables = await self._list()
            except ConfigError as error:
                self.context.raise_error(error)
                return
            except Exception as error:
                log.warning("Listing the tables failed (will try again): %s", error)
                continue
            if tables != self.tables:
                log.info(
                    "The tables to copy changed (%d -> %d); reconfiguring the tasks",
                    len(self.tables or ()),
                    len(tables),
                )
                self.tables = tables
                self.context.request_task_reconfiguration()

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        if self.config.query:
            return [{"tables": ""}]
        if self.tables is None:
            return [{"tables": encode_tables([])}]  # placeholder until the first listing
        if not self.tables:
            log.warning("No tables were found to copy, so no tasks will be started")
            return []
        groups = group_partitions(self.tables, min(len(self.tables), max_tasks))
        return [{"tables": encode_tables(group)} for group in groups]

    async def stop(self) -> None:
        if self.monitor is not None:
            self.monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.monitor

    async def validate_connection(self, props: dict[str, str]) -> dict[str, list[str]]:
        """Logs in once; a refused login is reported on ``connection.password``, the rest on the URL."""
        try:
            config = JdbcSourceConfig.parse(props)
        except ConfigError:
            return {}
        from connectors.jdbc.source_task import open_database

        try:
            async with asyncio.timeout(_VALIDATE_TIMEOUT):
                db = await open_database(config.model_copy(update={"connection_attempts": 1}))
                try:
                    return await _column_errors(db, config)
                finally:
                    await db.close()
        except ConnectFailure as error:
            key = "connection.password" if "refused the login" in str(error) else "connection.url"
            return {key: [str(error)]}
        except TimeoutError:
            return {"connection.url": [f"no answer from {config.url} within {_VALIDATE_TIMEOUT:.0f} s"]}


async def _column_errors(db: Database, config: JdbcSourceConfig) -> dict[str, list[str]]:
    """Named incrementing/timestamp columns missing (or nullable) in the tables to copy."""
    from connectors.jdbc.columns import column_problem, table_columns

    mode = config.mode_value
    checks = []
    if mode.uses_incrementing and config.incrementing_column_name:
        checks.append(("incrementing", [config.incrementing_column_name]))
    if mode.uses_timestamp:
        checks.append(("timestamp", list(config.timestamp_column_name)))
    if config.query or not checks:
        return {}
    errors: dict[str, list[str]] = {}
    tables = select(await list_tables(db, config), config, db.dialect.quote_char)
    for table in tables[:_VALIDATE_TABLES]:
        columns = await table_columns(db, table)
        for what, names in checks:
            problem = column_problem(table, columns, names, what, config.validate_non_null)
            if problem:
                errors.setdefault(f"{what}.column.name", []).append(problem)
    return errors
