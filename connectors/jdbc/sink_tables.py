"""Keeping destination tables fit for the records: create, evolve, and prepare the statements.

For each (table, record shape) pair a :class:`TablePlan` is made once: the table is created or
given its missing columns (``auto.create`` / ``auto.evolve``), and the statements, the columns'
type names and the per-column value conversions are fixed. DDL runs outside the data transaction
(MySQL commits DDL implicitly anyway); a table created meanwhile by another task is simply re-read.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from connectors.jdbc.dialect import Database, QuoteMode
from connectors.jdbc.sink_config import InsertMode, JdbcSinkConfig
from connectors.jdbc.sink_fields import Column, RecordShape
from connectors.jdbc.sink_schema import (
    TableId,
    TableInfo,
    alter_table,
    create_table,
    missing_columns,
    read_table,
)
from connectors.jdbc.sink_statements import Statement, delete_statement, unnest_statement, write_statement
from connectors.jdbc.sink_values import Binder, binder
from connectors.sdk import ConfigError

log = logging.getLogger(__name__)

_PG_CASTS = {"json", "jsonb", "uuid"}


@dataclass(frozen=True, slots=True)
class TablePlan:
    """How rows of one shape are written to one table."""

    table: TableId
    shape: RecordShape
    write: Statement | None
    """Row-at-a-time write (insert/upsert/update); None for a key-only (delete) shape."""
    batch_sql: str | None
    """PostgreSQL set-based insert/upsert (``unnest``), when every column type allows it."""
    delete_sql: str | None
    binders: tuple[Binder | None, ...]
    """Per column (key columns first); None where values bind unchanged."""

    def bind(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        binders = self.binders
        return tuple([v if b is None else b(v) for v, b in zip(row, binders, strict=True)])

    @property
    def binds_as_is(self) -> bool:
        return all(b is None for b in self.binders)


class Tables:
    """Per-task cache of table definitions and plans."""

    def __init__(self, config: JdbcSinkConfig) -> None:
        self.config = config
        self.quote = config.quote_sql_identifiers is QuoteMode.ALWAYS
        from zoneinfo import ZoneInfo

        self.zone: dt.tzinfo = ZoneInfo(config.db_timezone)
        self._info: dict[str, TableInfo] = {}
        self._plans: dict[tuple[str, int], tuple[RecordShape, TablePlan]] = {}

    def forget(self) -> None:
        """Drop cached definitions (after a failure: the table may have changed)."""
        self._info.clear()
        self._plans.clear()

    async def plan(
        self, db: Database, table_name: str, shape: RecordShape, *, create: bool = True
    ) -> TablePlan | None:
        """The plan for writing ``shape`` to the table; None when ``create`` is False and the table
        does not exist (deletes only)."""
        cached = self._plans.get((table_name, id(shape)))
        if cached is not None and cached[0] is shape:
            return cached[1]
        table = TableId.parse(table_name)
        if (
            not create
            and table_name not in self._info
            and await read_table(db, table, quote=self.quote) is None
        ):
            return None
        info = await self._fit(db, table, table_name, shape)
        plan = self._make_plan(db, table, info, shape)
        if len(self._plans) > 1000:
            self._plans.clear()
        self._plans[(table_name, id(shape))] = (shape, plan)
        return plan

    async def _fit(self, db: Database, table: TableId, table_name: str, shape: RecordShape) -> TableInfo:
        config = self.config
        info = self._info.get(table_name)
        if info is None or missing_columns(info, shape.columns):
            info = await read_table(db, table, quote=self.quote)
        if info is None:
            if not config.auto_create:
                raise ConfigError(
                    f"Table {table} is missing and auto-creation is disabled: create the table, or set "
                    "auto.create=true (the table name comes from table.name.format)"
                )
            sql = create_table(db.dialect, table, shape.columns, quote=self.quote)
            log.info("Creating table %s with SQL: %s", table, sql)
            try:
                await db.execute(sql)
            except Exception:
                if await read_table(db, table, quote=self.quote) is None:
                    raise
            info = await read_table(db, table, quote=self.quote)
            assert info is not None
        if info.kind not in config.table_types:
            raise ConfigError(
                f"Table {table} is a {info.kind}, which table.types ({', '.join(config.table_types)}) does not "
                f"allow writing to; add {info.kind} to table.types"
            )
        missing = missing_columns(info, shape.columns)
        if missing:
            names = ", ".join(c.name for c in missing)
            if not config.auto_evolve:
                raise ConfigError(
                    f"Table {table} is missing fields ({names}) and auto-evolution is disabled: add the columns, "
                    "or set auto.evolve=true"
                )
            if info.kind == "VIEW":
                raise ConfigError(
                    f"Table {table} is a VIEW and is missing fields ({names}); views are never altered"
                )
            sql = alter_table(db.dialect, table, _nullable(missing), quote=self.quote)
            log.info("Amending table %s to add missing fields with SQL: %s", table, sql)
            try:
                await db.execute(sql)
            except Exception:
                again = await read_table(db, table, quote=self.quote)
                if again is None or missing_columns(again, shape.columns):
                    raise
            info = await read_table(db, table, quote=self.quote)
            assert info is not None
        self._info[table_name] = info
        return info

    def _make_plan(self, db: Database, table: TableId, info: TableInfo, shape: RecordShape) -> TablePlan:
        dialect, mode, quote = db.dialect, self.config.insert_mode, self.quote
        by_name = {c.name: c for c in shape.columns}
        targets = [info.find(n) for n in shape.names]
        assert all(t is not None for t in targets)
        columns = [t for t in targets if t is not None]
        names = [c.name for c in columns]
        keys, values = names[: len(shape.key_names)], names[len(shape.key_names) :]
        binders = tuple(
            binder(dialect.name, c.type_name, by_name[n].schema, self.zone)
            for c, n in zip(columns, shape.names, strict=True)
        )
        table_sql = table.sql(dialect, quote)
        write: Statement | None = None
        batch_sql: str | None = None
        if values or mode is not InsertMode.UPDATE:  # an UPDATE without columns to set does nothing
            casts = [c.type_name if c.type_name in _PG_CASTS else None for c in columns]
            write = write_statement(dialect, mode, table_sql, keys, values, quote=quote, casts=casts)
        if (
            dialect.name == "postgresql"
            and mode is not InsertMode.UPDATE
            and all(not c.type_name.endswith("[]") for c in columns)
        ):
            types = [c.type_name for c in columns]
            batch_sql = unnest_statement(dialect, mode, table_sql, keys, values, types, quote=quote)
        delete_sql = delete_statement(dialect, table_sql, keys, quote=quote) if keys else None
        return TablePlan(table, shape, write, batch_sql, delete_sql, binders)


def _nullable(columns: list[Column]) -> list[Column]:
    """Added columns are nullable unless they carry a default (as Confluent adds them)."""
    out = []
    for c in columns:
        schema = c.schema
        if schema is not None and not schema.optional and schema.default is None:
            out.append(c)  # alter_table refuses it with Confluent's message
        else:
            out.append(
                Column(
                    c.name,
                    schema.as_optional() if schema is not None and schema.default is None else schema,
                    False,
                )
            )
    return out
