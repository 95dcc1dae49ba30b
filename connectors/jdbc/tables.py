"""Which tables the source copies: listing them, filtering them, and splitting them over tasks.

Filters follow Confluent's two generations of keys. ``table.whitelist`` / ``table.blacklist``
hold exact names: an entry matches a table when it equals the unquoted fully qualified name
(``schema.table``; MySQL ``database.table``), the quoted one (``"schema"."table"``) or the bare
table name. ``table.include.list`` / ``table.exclude.list`` hold regular expressions matched in
full, case-sensitively, against the unquoted fully qualified name; the exclude list applies only
together with an include list.

The split is Kafka's ``ConnectorUtils.groupPartitions``: contiguous chunks whose sizes differ by
at most one, the first ``n mod groups`` chunks one larger.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from connectors.jdbc.dialect import Database
from connectors.jdbc.source_config import JdbcSourceConfig

T = TypeVar("T")

_PG_KINDS = {
    "TABLE": "r",
    "PARTITIONED TABLE": "p",
    "VIEW": "v",
    "MATERIALIZED VIEW": "m",
    "FOREIGN TABLE": "f",
}
_MYSQL_KINDS = {"TABLE": "BASE TABLE", "VIEW": "VIEW", "SYSTEM VIEW": "SYSTEM VIEW"}


@dataclass(frozen=True, order=True)
class TableId:
    """A table: ``schema`` is the PostgreSQL schema or the MySQL database."""

    schema: str
    name: str

    @property
    def fqn(self) -> str:
        """The unquoted fully qualified name, as in the source partition."""
        return f"{self.schema}.{self.name}"

    def quoted(self, quote_char: str) -> str:
        q = quote_char
        return ".".join(q + p.replace(q, q + q) + q for p in (self.schema, self.name))

    def matches(self, entry: str, quote_char: str) -> bool:
        """Confluent's exact-name rule for whitelist/blacklist entries."""
        return entry in (self.fqn, self.quoted(quote_char), self.name)


def encode_tables(tables: Sequence[TableId]) -> str:
    """A task's ``tables`` config: JSON, since names may hold commas."""
    return json.dumps([[t.schema, t.name] for t in tables])


def decode_tables(text: str) -> list[TableId]:
    return [TableId(s, n) for s, n in json.loads(text)] if text else []


def select(tables: Sequence[TableId], config: JdbcSourceConfig, quote_char: str) -> list[TableId]:
    """The tables ``config``'s filters keep, in listing order."""
    if config.table_whitelist:
        return [t for t in tables if any(t.matches(e, quote_char) for e in config.table_whitelist)]
    if config.table_blacklist:
        return [t for t in tables if not any(t.matches(e, quote_char) for e in config.table_blacklist)]
    if config.table_include_list:
        include = [re.compile(p) for p in config.table_include_list]
        exclude = [re.compile(p) for p in config.table_exclude_list]
        return [
            t
            for t in tables
            if any(p.fullmatch(t.fqn) for p in include) and not any(p.fullmatch(t.fqn) for p in exclude)
        ]
    return list(tables)


def duplicate_names(tables: Sequence[TableId]) -> list[str]:
    """Bare names found in more than one schema (their topics would collide)."""
    seen: dict[str, int] = {}
    for table in tables:
        seen[table.name] = seen.get(table.name, 0) + 1
    return sorted(name for name, count in seen.items() if count > 1)


async def list_tables(db: Database, config: JdbcSourceConfig) -> list[TableId]:
    """The tables and views of ``table.types`` (within ``schema.pattern``), as JDBC metadata lists them."""
    if db.dialect.name == "postgresql":
        kinds = [_PG_KINDS[t.upper()] for t in config.table_types if t.upper() in _PG_KINDS]
        sql = (
            "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind::text = ANY($1::text[]) "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
            "AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
        )
        args: list[object] = [kinds]
        if config.schema_pattern is not None:
            sql += " AND n.nspname LIKE $2"
            args.append(config.schema_pattern)
        sql += " ORDER BY n.nspname, c.relname"
        rows = await db.fetch(sql, *args)
    else:
        kinds = [_MYSQL_KINDS[t.upper()] for t in config.table_types if t.upper() in _MYSQL_KINDS]
        if not kinds:
            return []
        sql = (
            "SELECT table_schema, table_name FROM information_schema.tables "
            f"WHERE table_schema = DATABASE() AND table_type IN ({', '.join(['%s'] * len(kinds))}) "
            "ORDER BY table_schema, table_name"
        )
        rows = await db.fetch(sql, *kinds)
    return [TableId(str(s), str(n)) for s, n in rows]


def group_partitions(elements: Sequence[T], num_groups: int) -> list[list[T]]:
    """Kafka's ``ConnectorUtils.groupPartitions``: ``num_groups`` contiguous, near-equal chunks."""
    if num_groups <= 0:
        raise ValueError("Number of groups must be positive.")
    per_group, leftover = divmod(len(elements), num_groups)
    groups: list[list[T]] = []
    start = 0
    for index in range(num_groups):
        size = per_group + (1 if index < leftover else 0)
        groups.append(list(elements[start : start + size]))
        start += size
    return groups
