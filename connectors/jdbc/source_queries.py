"""The SQL each mode runs, exactly as Confluent's ``TableQuerier`` subclasses build it.

T is the quoted table (or the user's ``query``, to which the criteria are appended: it must not
have a WHERE of its own), TS the timestamp expression (``COALESCE(c1,c2,...)`` for several
columns), INC the incrementing column; ``query.suffix`` comes last.

========================= ==============================================================
bulk                      ``SELECT * FROM T``
incrementing              ``... WHERE INC > ? ORDER BY INC ASC``
timestamp                 ``... WHERE TS > ? AND TS < ? ORDER BY TS ASC``
timestamp+incrementing    ``... WHERE TS < ? AND ((TS = ? AND INC > ?) OR TS > ?) ORDER BY TS,INC ASC``
========================= ==============================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.jdbc.dialect import Dialect
from connectors.jdbc.source_config import Mode
from connectors.jdbc.tables import TableId


@dataclass(frozen=True)
class QueryShape:
    """What a querier reads: a table or a query, in a mode, with its criteria columns."""

    mode: Mode
    table: TableId | None
    query: str = ""
    incrementing_column: str = ""
    timestamp_columns: tuple[str, ...] = ()
    suffix: str = ""


def identifier(dialect: Dialect, name: str, quote: bool) -> str:
    return dialect.quote(name) if quote else name


def timestamp_expression(dialect: Dialect, columns: Sequence[str], quote: bool) -> str:
    quoted = [identifier(dialect, c, quote) for c in columns]
    return quoted[0] if len(quoted) == 1 else f"COALESCE({','.join(quoted)})"


def from_clause(dialect: Dialect, shape: QueryShape, quote: bool) -> str:
    if shape.table is None:
        return shape.query
    table = shape.table
    name = dialect.qualified(table.schema, table.name) if quote else f"{table.schema}.{table.name}"
    return f"SELECT * FROM {name}"


def build_query(dialect: Dialect, shape: QueryShape, quote: bool) -> str:
    """The statement for ``shape``; parameters in the order :func:`parameter_roles` lists."""
    sql = from_clause(dialect, shape, quote)
    p = dialect.placeholder
    if shape.mode is Mode.INCREMENTING:
        inc = identifier(dialect, shape.incrementing_column, quote)
        sql += f" WHERE {inc} > {p(1)} ORDER BY {inc} ASC"
    elif shape.mode is Mode.TIMESTAMP:
        ts = timestamp_expression(dialect, shape.timestamp_columns, quote)
        sql += f" WHERE {ts} > {p(1)} AND {ts} < {p(2)} ORDER BY {ts} ASC"
    elif shape.mode is Mode.TIMESTAMP_INCREMENTING:
        ts = timestamp_expression(dialect, shape.timestamp_columns, quote)
        inc = identifier(dialect, shape.incrementing_column, quote)
        sql += (
            f" WHERE {ts} < {p(1)} AND (({ts} = {p(2)} AND {inc} > {p(3)}) OR {ts} > {p(4)})"
            f" ORDER BY {ts},{inc} ASC"
        )
    if shape.suffix:
        sql += f" {shape.suffix}"
    return sql


def parameter_roles(mode: Mode) -> tuple[str, ...]:
    """What each parameter of :func:`build_query`'s statement stands for."""
    return {
        Mode.BULK: (),
        Mode.INCREMENTING: ("incrementing",),
        Mode.TIMESTAMP: ("last_ts", "end_ts"),
        Mode.TIMESTAMP_INCREMENTING: ("end_ts", "last_ts", "incrementing", "last_ts"),
    }[mode]
