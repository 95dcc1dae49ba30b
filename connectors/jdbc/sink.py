"""The JDBC sink connector and task (Confluent's ``JdbcSinkConnector``; Debezium's JDBC sink keys too).

One ``put`` is one transaction. Records are grouped by destination table; within a table they
are cut into runs of one record shape (a schema change starts a new run, as a Confluent buffer
flushes), at most ``batch.size`` rows each. In upsert and update modes a run is collapsed per key
to the last write (a delete followed by a write keeps both, in that order), so replaying a batch
changes nothing and a set-based upsert never touches one row twice; deletes of a run go before its
writes. In insert mode a run's inserts go first and its deletes after, and an insert after a
delete starts a new run (Confluent's order).

Failures: a record that cannot be turned into a row goes to the errant-record reporter at once.
When the database refuses a statement because of the data, the transaction is rolled back and the
batch is written again record by record, each in its own transaction, and the refused records go
to the reporter. A lost connection or a restarting server rolls back too and raises
``RetriableError`` (``max.retries`` times, ``retry.backoff.ms`` apart): the runtime offers the same
batch again, and as writes are idempotent (upserts) nothing is lost or doubled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.jdbc.dialect import ConnectFailure, Database, connect
from connectors.jdbc.sink_config import CONFLUENT_CLASS, DEBEZIUM_CLASS, InsertMode, JdbcSinkConfig, PkMode
from connectors.jdbc.sink_errors import is_transient
from connectors.jdbc.sink_fields import RecordShape, shape_of
from connectors.jdbc.sink_tables import TablePlan, Tables
from connectors.sdk import (
    ConfigError,
    ConfigValueInfo,
    ConnectError,
    RetriableError,
    SinkConnector,
    SinkRecord,
    SinkTask,
    Struct,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Run:
    """Consecutive records of one table and shape (deletes carry the run's key shape)."""

    table: str
    shape: RecordShape | None
    key_names: tuple[str, ...]
    writes: list[SinkRecord] = field(default_factory=list)
    deletes: list[SinkRecord] = field(default_factory=list)
    ops: list[tuple[bool, SinkRecord, RecordShape]] = field(default_factory=list)
    """Every record in arrival order: (is_delete, record, its shape)."""


class JdbcSinkTask(SinkTask[JdbcSinkConfig]):
    config_model = JdbcSinkConfig
    pg_batch: ClassVar[str] = "unnest"
    """PostgreSQL batch write: ``unnest`` (one statement per batch, measured fastest) or
    ``executemany`` (the one-row statement pipelined); the benchmark compares both."""

    db: Database | None = None

    async def start(self, config: JdbcSinkConfig) -> None:
        self.config = config
        self.url = config.url()
        self.db = None
        self.tables = Tables(config)
        self.retries_left = config.max_retries
        self._shapes: dict[tuple[Any, ...], tuple[RecordShape, tuple[Any, ...]]] = {}
        self.batch_size = config.batch_size or 1 << 62
        self.dedupe = config.insert_mode is not InsertMode.INSERT and config.pk_mode is not PkMode.NONE
        self.context.details.set(database=str(self.url), records_written=0)
        self.written = 0

    async def stop(self) -> None:
        await self._drop_connection()

    # -- connection ---------------------------------------------------------------------------
    async def _connection(self) -> Database:
        if self.db is not None and not self.db.closed:
            return self.db
        await self._drop_connection()
        attempts = self.config.connection_attempts
        for attempt in range(1, attempts + 1):
            try:
                self.db = await connect(self.url)
                return self.db
            except ConnectFailure as error:
                if attempt == attempts:
                    raise
                log.info("Unable to connect to the database (attempt %d of %d): %s", attempt, attempts, error)
                await asyncio.sleep(self.config.connection_backoff_ms / 1000)
        raise AssertionError("unreachable")

    async def _drop_connection(self) -> None:
        db, self.db = self.db, None
        if db is not None:
            await db.close()

    # -- put ----------------------------------------------------------------------------------
    async def put(self, records: Sequence[SinkRecord]) -> None:
        if not records:
            return
        runs: list[_Run] = []
        try:
            db = await self._connection()
            runs = await self._runs(records)
            plans = [await self._plan(db, run) for run in runs]
            prepared = [await self._prepare(run, plan) for run, plan in zip(runs, plans, strict=True)]
            async with db.transaction():
                for plan, (writes, deletes) in zip(plans, prepared, strict=True):
                    if plan is not None:
                        await self._execute(db, plan, writes, deletes)
        except (ConfigError, RetriableError):
            raise
        except Exception as error:
            closed = self.db is None or self.db.closed
            if is_transient(error, closed):
                await self._retry_later(error)
            if not _from_database(error):
                raise
            log.warning("Batch write failed (%s); writing its %d records one by one", error, len(records))
            await self._one_by_one(runs)
        self.retries_left = self.config.max_retries
        self.written += len(records)
        self.context.details.set(records_written=self.written)

    async def _retry_later(self, error: BaseException) -> None:
        await self._drop_connection()
        self.tables.forget()
        if self.retries_left <= 0:
            raise ConnectError(
                f"Writing to {self.url} failed and max.retries ({self.config.max_retries}) is exhausted: {error}"
            ) from error
        self.retries_left -= 1
        backoff = self.config.retry_backoff_ms
        self.context.timeout(backoff)
        log.warning(
            "Write to %s failed (%s); %d retries left, retrying in %d ms",
            self.url,
            error,
            self.retries_left,
            backoff,
        )
        raise RetriableError(f"Write to {self.url} failed: {error}", retry_after=backoff / 1000) from error

    async def _report(self, record: SinkRecord, error: BaseException) -> None:
        reporter = self.context.errant_record_reporter
        if reporter is None:
            raise error
        await reporter.report(record, error)

    # -- planning -----------------------------------------------------------------------------
    def _table_name(self, record: SinkRecord) -> str:
        return self.config.table_name_format.replace("${topic}", record.topic)

    def _shape(self, record: SinkRecord, table: str) -> RecordShape:
        """The record's shape, cached per (table, value schema, key schema) or, schemaless, per the
        map's keys; schemas are compared by identity (converters cache them), kept alive here."""
        value, key = record.value, record.key
        value_schema = value.schema if isinstance(value, Struct) else record.value_schema
        key_schema = key.schema if isinstance(key, Struct) else record.key_schema
        value_part: Any = (
            id(value_schema)
            if value_schema is not None
            else (tuple(value) if isinstance(value, dict) else None)
        )
        key_part: Any = None
        if self.config.pk_mode is PkMode.RECORD_KEY:
            key_part = (
                id(key_schema)
                if key_schema is not None
                else (tuple(key) if isinstance(key, dict) else type(key))
            )
        cache_key = (table, value_part, key_part, value is None)
        cached = self._shapes.get(cache_key)
        if cached is not None and cached[1][0] is value_schema and cached[1][1] is key_schema:
            return cached[0]
        shape = shape_of(record, self.config, table)
        if len(self._shapes) > 1000:
            self._shapes.clear()
        self._shapes[cache_key] = (shape, (value_schema, key_schema))
        return shape

    async def _runs(self, records: Sequence[SinkRecord]) -> list[_Run]:
        """Records cut into runs per table; records that cannot be shaped are reported."""
        open_runs: dict[str, _Run] = {}
        runs: list[_Run] = []
        delete_enabled = self.config.delete_enabled
        for record in records:
            table = self._table_name(record)
            is_delete = record.value is None
            if is_delete and not delete_enabled:
                log.debug(
                    "Ignoring the tombstone at %s-%d@%d (delete.enabled=false)",
                    record.topic,
                    record.partition or 0,
                    record.kafka_offset,
                )
                continue
            try:
                shape = self._shape(record, table)
            except ConfigError:
                raise
            except Exception as error:
                await self._report(record, error)
                continue
            run = open_runs.get(table)
            if (
                run is None
                or len(run.ops) >= self.batch_size
                or run.key_names != shape.key_names
                or (not is_delete and run.shape is not None and run.shape is not shape)
                or (not is_delete and run.deletes and not self.dedupe)
            ):
                run = _Run(table, None, shape.key_names)
                open_runs[table] = run
                runs.append(run)
            if is_delete:
                run.deletes.append(record)
            else:
                run.shape = shape
                run.writes.append(record)
            run.ops.append((is_delete, record, shape))
        return runs

    async def _plan(self, db: Database, run: _Run) -> TablePlan | None:
        """The run's plan; None for deletes on a table that does not exist (nothing to delete, and
        a table is never created from a key alone)."""
        if run.shape is not None:
            return await self.tables.plan(db, run.table, run.shape)
        return await self.tables.plan(db, run.table, run.ops[0][2], create=False)

    async def _prepare(
        self, run: _Run, plan: TablePlan | None
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Rows to write and keys to delete, bound for the driver, deduplicated per key."""
        if plan is None:
            return [], []
        key_count = len(run.key_names)
        key_binders = plan.binders[:key_count]
        as_is = plan.binds_as_is
        if self.dedupe:
            final: dict[Any, tuple[bool, SinkRecord | None]] = {}
            for is_delete, record, shape in run.ops:
                key = shape.key_row(record)
                if is_delete:
                    final[key] = (True, None)
                else:
                    previous = final.get(key)
                    final[key] = (previous[0] if previous else False, record)
            delete_keys = [k for k, (deleted, _) in final.items() if deleted]
            write_records = [r for _, r in final.values() if r is not None]
        else:
            delete_keys = [s.key_row(r) for is_delete, r, s in run.ops if is_delete]
            write_records = run.writes
        writes: list[tuple[Any, ...]] = []
        if write_records:
            assert run.shape is not None
            read = run.shape.row
            if as_is:
                writes = [read(r) for r in write_records]
            else:
                bind = plan.bind
                for record in write_records:
                    try:
                        writes.append(bind(read(record)))
                    except Exception as error:
                        await self._report(record, error)
        deletes = [
            tuple(v if b is None else b(v) for v, b in zip(k, key_binders, strict=True)) for k in delete_keys
        ]
        return writes, deletes

    # -- execution ----------------------------------------------------------------------------
    async def _execute(
        self, db: Database, plan: TablePlan, writes: list[tuple[Any, ...]], deletes: list[tuple[Any, ...]]
    ) -> None:
        if self.dedupe and deletes and plan.delete_sql:
            await db.executemany(plan.delete_sql, deletes)
        if writes:
            await self._write_rows(db, plan, writes)
        if not self.dedupe and deletes and plan.delete_sql:
            await db.executemany(plan.delete_sql, deletes)

    async def _write_rows(self, db: Database, plan: TablePlan, rows: list[tuple[Any, ...]]) -> None:
        if plan.batch_sql is not None and self.pg_batch == "unnest" and len(rows) > 1:
            columns = [list(c) for c in zip(*rows, strict=True)]
            await db.execute(plan.batch_sql, *columns)
            return
        write = plan.write
        if write is None:
            return
        if write.key_last:
            k = len(plan.shape.key_names)
            rows = [r[k:] + r[:k] for r in rows]
        await db.executemany(write.sql, rows)

    async def _one_by_one(self, runs: list[_Run]) -> None:
        """Every record in its own transaction, in order; the refused ones go to the reporter."""
        db = await self._connection()
        for run in runs:
            for is_delete, record, shape in run.ops:
                try:
                    plan = await self.tables.plan(db, run.table, shape, create=not is_delete)
                    if plan is None:
                        continue
                    if is_delete:
                        key = shape.key_row(record)
                        bound = tuple(
                            v if b is None else b(v)
                            for v, b in zip(key, plan.binders[: len(key)], strict=True)
                        )
                        if plan.delete_sql:
                            async with db.transaction():
                                await db.execute(plan.delete_sql, *bound)
                        continue
                    row = plan.bind(shape.row(record))
                    write = plan.write
                    if write is None:
                        continue
                    if write.key_last:
                        k = len(shape.key_names)
                        row = row[k:] + row[:k]
                    async with db.transaction():
                        await db.execute(write.sql, *row)
                except (ConfigError, RetriableError):
                    raise
                except Exception as error:
                    if is_transient(error, self.db is None or self.db.closed):
                        await self._retry_later(error)
                    await self._report(record, error)


def _from_database(error: BaseException) -> bool:
    """Whether the driver raised it about a statement (so writing record by record can isolate it)."""
    module = type(error).__module__
    return module.startswith(("asyncpg", "asyncmy"))


class JdbcSinkConnector(SinkConnector[JdbcSinkConfig]):
    """Writes records from topics into PostgreSQL or MySQL/MariaDB tables (Confluent's JDBC sink)."""

    config_model = JdbcSinkConfig
    task_class = JdbcSinkTask
    aliases = (CONFLUENT_CLASS, DEBEZIUM_CLASS)

    db: Database | None = None

    async def start(self, config: JdbcSinkConfig) -> None:
        self.config = config

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """``tasks.max`` identical tasks: the consumer group shares the partitions among them."""
        return [{} for _ in range(max(1, max_tasks))]

    def validate(self, props: dict[str, str]) -> list[ConfigValueInfo]:
        return self.config_model.validate_props(props)

    async def validate_connection(self, props: dict[str, str]) -> dict[str, list[str]]:
        """Logs in with the configured URL and credentials; a failure is reported on the key to fix."""
        try:
            config = JdbcSinkConfig.parse(props)
        except ConfigError:
            return {}
        url = config.url()
        try:
            db = await connect(url, timeout=10)
        except ConnectFailure as error:
            message = str(error)
            if "refused the login" in message:
                return {"connection.user": [message], "connection.password": [message]}
            return {"connection.url": [message]}
        await db.close()
        return {}
