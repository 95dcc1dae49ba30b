"""DML text per dialect (reference §5.3): insert, upsert, update, delete, and the set-based upsert.

Statements name columns in the order rows are read (key columns, then non-key columns). The
PostgreSQL batch form binds one array per column and reads them back with ``unnest``, so a whole
batch is one statement and one round trip; the measurement that chose it is in ``docs/jdbc.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.jdbc.dialect import Dialect
from connectors.jdbc.sink_config import InsertMode


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    key_last: bool = False
    """Parameters are the non-key values then the key values (UPDATE ... SET v WHERE k)."""


def _names(dialect: Dialect, names: Sequence[str], quote: bool) -> list[str]:
    return [dialect.quote(n) if quote else n for n in names]


def write_statement(
    dialect: Dialect,
    mode: InsertMode,
    table: str,
    keys: Sequence[str],
    values: Sequence[str],
    *,
    quote: bool,
    casts: Sequence[str | None] = (),
) -> Statement:
    """The one-row statement for ``mode``; ``table`` is already quoted as needed. ``casts`` (key
    columns then values) become ``$n::type`` on PostgreSQL for json/jsonb/uuid columns."""
    k, v = _names(dialect, keys, quote), _names(dialect, values, quote)
    columns = k + v
    marks = [dialect.placeholder(i + 1) for i in range(len(columns))]
    if dialect.name == "postgresql" and casts:
        marks = [f"{m}::{c}" if c else m for m, c in zip(marks, casts, strict=True)]
    if mode is InsertMode.UPDATE:
        if dialect.name == "postgresql":
            value_marks, key_marks = marks[len(k) :], marks[: len(k)]
            # renumber: SET takes $1..$n, WHERE the rest
            renumber = {old: dialect.placeholder(i + 1) for i, old in enumerate(value_marks + key_marks)}
            value_marks = [_renumber(m, renumber) for m in value_marks]
            key_marks = [_renumber(m, renumber) for m in key_marks]
        else:
            value_marks, key_marks = marks[len(k) :], marks[: len(k)]
        sql = f"UPDATE {table} SET " + ", ".join(f"{c} = {m}" for c, m in zip(v, value_marks, strict=True))
        if k:
            sql += " WHERE " + " AND ".join(f"{c} = {m}" for c, m in zip(k, key_marks, strict=True))
        return Statement(sql, key_last=True)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
    if mode is InsertMode.UPSERT:
        sql += upsert_clause(dialect, k, v)
    return Statement(sql)


def _renumber(mark: str, mapping: dict[str, str]) -> str:
    _, sep, cast = mark.partition("::")
    return mapping[mark] if not sep else f"{mapping[mark]}::{cast}"


def upsert_clause(dialect: Dialect, quoted_keys: Sequence[str], quoted_values: Sequence[str]) -> str:
    if dialect.name == "postgresql":
        target = f" ON CONFLICT ({', '.join(quoted_keys)})"
        if not quoted_values:
            return target + " DO NOTHING"
        return target + " DO UPDATE SET " + ", ".join(f"{c}=EXCLUDED.{c}" for c in quoted_values)
    updated = quoted_values or quoted_keys[:1]
    return " ON DUPLICATE KEY UPDATE " + ", ".join(f"{c}=VALUES({c})" for c in updated)


def unnest_statement(
    dialect: Dialect,
    mode: InsertMode,
    table: str,
    keys: Sequence[str],
    values: Sequence[str],
    types: Sequence[str],
    *,
    quote: bool,
) -> str:
    """PostgreSQL: insert or upsert a whole batch bound as one array per column (``types`` are the
    columns' own type names, key columns first). Rows must be unique per key for an upsert."""
    k, v = _names(dialect, keys, quote), _names(dialect, values, quote)
    arrays = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    sql = f"INSERT INTO {table} ({', '.join(k + v)}) SELECT * FROM unnest({arrays})"
    if mode is InsertMode.UPSERT:
        sql += upsert_clause(dialect, k, v)
    return sql


def delete_statement(dialect: Dialect, table: str, keys: Sequence[str], *, quote: bool) -> str:
    k = _names(dialect, keys, quote)
    where = " AND ".join(f"{c} = {dialect.placeholder(i + 1)}" for i, c in enumerate(k))
    return f"DELETE FROM {table} WHERE {where}"
