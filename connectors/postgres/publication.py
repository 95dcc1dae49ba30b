"""The captured tables and the pgoutput publication that streams them.

:func:`captured_tables` lists every user table (``pg_class.relkind`` ``r`` and ``p``, system
schemas excluded) that ``config.table_filter`` selects, with its columns (in ``attnum`` order,
dropped and generated columns left out, as pgoutput's Relation message does), primary key and
``REPLICA IDENTITY``, in **one** round trip whatever the number of tables: the catalog is read
with one query and the filter is applied in Python (so regexes behave like Java's, as
``filters`` implements them, instead of PostgreSQL's ``~``).

:func:`ensure_publication` applies ``publication.autocreate.mode`` (reference §2.4):

* ``all_tables``: missing -> ``CREATE PUBLICATION p FOR ALL TABLES`` (superuser only).
* ``filtered``: missing -> ``CREATE PUBLICATION p FOR TABLE <captured tables>``; existing with a
  different table set -> ``ALTER PUBLICATION p SET TABLE <captured tables>`` (needs ownership of
  the publication; otherwise a :class:`~connectors.sdk.ConfigError` that names the statement to
  run). An existing ``FOR ALL TABLES`` publication already covers everything and is kept.
* ``no_tables``: missing -> ``CREATE PUBLICATION p`` (no tables; a DBA adds them).
* ``disabled``: never created nor changed; missing -> ``ConfigError`` with the SQL a DBA should run.

Any other existing publication is used as is (Debezium's behaviour). Created publications get
``WITH (publish = '...')`` without the operations ``skipped.operations`` removes, as newer
Debezium versions do, so the server does not even send them.

The table set is compared on ``pg_publication_rel`` (the tables named in the publication), not
``pg_publication_tables``, which expands a partitioned table into its leaf partitions and would
make a publication naming a partitioned table look different on every start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import asyncpg

from connectors.postgres.config import AutoCreateMode, PostgresConfig
from connectors.sdk.errors import ConfigError

__all__ = [
    "CapturedTable",
    "Column",
    "PublicationAction",
    "ReplicaIdentity",
    "captured_tables",
    "ensure_publication",
    "qualified_name",
    "quote_ident",
]

log = logging.getLogger(__name__)

_LISTED: Final = 10


def quote_ident(name: str) -> str:
    """Always double-quoted (``"Orders"``, ``"a.b"``, ``"x""y"``): exact, whatever the case or
    characters; PostgreSQL folds unquoted names to lower case."""
    return '"' + name.replace('"', '""') + '"'


def qualified_name(schema: str, table: str) -> str:
    """``"schema"."table"``, ready for SQL."""
    return f"{quote_ident(schema)}.{quote_ident(table)}"


class ReplicaIdentity(StrEnum):
    """``pg_class.relreplident``: which old values updates and deletes carry in the WAL."""

    DEFAULT = "d"  # the primary key (nothing without one)
    NOTHING = "n"
    FULL = "f"
    INDEX = "i"


@dataclass(frozen=True, slots=True)
class Column:
    """One column as pgoutput describes it: name, type, typmod (``-1`` when none), nullability
    and ``attnum`` (its ordinal position; gaps where columns were dropped)."""

    name: str
    type_oid: int
    typmod: int
    optional: bool
    position: int


@dataclass(frozen=True, slots=True)
class CapturedTable:
    """A captured table: identity, columns in relation order, primary key and replica identity.

    ``row_estimate`` is ``pg_class.reltuples`` (``-1`` = never vacuumed/analysed) and
    ``size_bytes`` the main fork's size, for the snapshot's progress estimates.
    """

    oid: int
    schema: str
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    replica_identity: ReplicaIdentity
    partitioned: bool
    partition: bool
    owned: bool
    row_estimate: float
    size_bytes: int

    @property
    def id(self) -> str:
        """``schema.table`` (unquoted): Debezium's table id, what the filters match."""
        return f"{self.schema}.{self.name}"

    @property
    def qualified(self) -> str:
        """``"schema"."table"`` for SQL."""
        return qualified_name(self.schema, self.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# One round trip for every table: columns and key as parallel arrays per table. relreplident
# and reltuples come from pg_class; the primary key's columns in index order.
_TABLES_SQL: Final = r"""
SELECT c.oid::bigint AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       c.relispartition AS partition, c.relreplident::text AS replident, c.reltuples::float8 AS reltuples,
       pg_catalog.pg_relation_size(c.oid) AS size_bytes,
       pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owned,
       ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
             ORDER BY a.attnum) AS col_names,
       ARRAY(SELECT a.atttypid::bigint FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
             ORDER BY a.attnum) AS col_types,
       ARRAY(SELECT a.atttypmod FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
             ORDER BY a.attnum) AS col_typmods,
       ARRAY(SELECT a.attnotnull FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
             ORDER BY a.attnum) AS col_notnull,
       ARRAY(SELECT a.attnum::int FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
             ORDER BY a.attnum) AS col_nums,
       ARRAY(SELECT a.attname::text
             FROM pg_catalog.pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
             WHERE i.indrelid = c.oid AND i.indisprimary
             ORDER BY k.ord) AS pk
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
ORDER BY n.nspname, c.relname
"""


async def captured_tables(
    conn: asyncpg.Connection, config: PostgresConfig, *, quiet: Iterable[str] = ()
) -> list[CapturedTable]:
    """The tables ``config`` captures, sorted by schema and name (one round trip).

    Logs one line per table whose updates/deletes cannot carry a key or old values: no primary
    key with ``REPLICA IDENTITY DEFAULT``, or ``REPLICA IDENTITY NOTHING`` (not for the table ids
    in ``quiet``: already reported).
    """
    known = frozenset(quiet)
    table_filter = config.table_filter
    tables: list[CapturedTable] = []
    for r in await conn.fetch(_TABLES_SQL):
        if not table_filter.is_included(r["schema"], r["name"]):
            continue
        columns = tuple(
            Column(name, int(oid), typmod, not notnull, num)
            for name, oid, typmod, notnull, num in zip(
                r["col_names"], r["col_types"], r["col_typmods"], r["col_notnull"], r["col_nums"], strict=True
            )
        )
        table = CapturedTable(
            oid=r["oid"],
            schema=r["schema"],
            name=r["name"],
            columns=columns,
            primary_key=tuple(r["pk"]),
            replica_identity=ReplicaIdentity(r["replident"]),
            partitioned=r["kind"] == "p",
            partition=r["partition"],
            owned=r["owned"],
            row_estimate=r["reltuples"],
            size_bytes=r["size_bytes"],
        )
        if table.id not in known:
            _log_identity(table)
        tables.append(table)
    return tables


def _log_identity(table: CapturedTable) -> None:
    fix = f"ALTER TABLE {table.qualified} REPLICA IDENTITY FULL;"
    if table.replica_identity is ReplicaIdentity.NOTHING:
        log.warning(
            "Table %s has REPLICA IDENTITY NOTHING: PostgreSQL refuses its UPDATEs and DELETEs while "
            "it is in a publication. Run %s (or set a primary key and REPLICA IDENTITY DEFAULT)",
            table.id,
            fix,
        )
    elif (
        table.replica_identity is ReplicaIdentity.DEFAULT and not table.primary_key and not table.partitioned
    ):
        log.warning(
            "Table %s has no primary key and REPLICA IDENTITY DEFAULT: its records have no key, and "
            "PostgreSQL refuses its UPDATEs and DELETEs once it is in a publication. Add a primary key, "
            "or run %s (updates and deletes then carry the whole old row)",
            table.id,
            fix,
        )


class PublicationAction(StrEnum):
    """What :func:`ensure_publication` did."""

    EXISTS = "exists"
    CREATED = "created"
    ALTERED = "altered"


_PUBLICATION_SQL: Final = """
SELECT p.puballtables AS all_tables,
       pg_catalog.pg_has_role(p.pubowner, 'USAGE') AS owned,
       pg_catalog.pg_get_userbyid(p.pubowner)::text AS owner,
       ARRAY(SELECT n.nspname::text || '.' || c.relname::text FROM pg_catalog.pg_publication_rel r
             JOIN pg_catalog.pg_class c ON c.oid = r.prrelid
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE r.prpubid = p.oid) AS table_ids,
       ARRAY(SELECT r.prrelid::bigint FROM pg_catalog.pg_publication_rel r
             WHERE r.prpubid = p.oid) AS table_oids
FROM pg_catalog.pg_publication p WHERE p.pubname = $1
"""

_OPERATIONS: Final = (("c", "insert"), ("u", "update"), ("d", "delete"), ("t", "truncate"))


def _with_publish(skipped: Iterable[str]) -> str:
    skip = set(skipped)
    if not skip:
        return ""
    kept = [name for code, name in _OPERATIONS if code not in skip]
    return f" WITH (publish = '{', '.join(kept)}')"


def _table_list(tables: Sequence[CapturedTable]) -> str:
    return ", ".join(t.qualified for t in tables)


def _shown(tables: Sequence[str]) -> str:
    more = len(tables) - _LISTED
    return ", ".join(tables[:_LISTED]) + (f" and {more} more" if more > 0 else "")


async def ensure_publication(
    conn: asyncpg.Connection, config: PostgresConfig, tables: Sequence[CapturedTable]
) -> PublicationAction:
    """Create or adjust ``publication.name`` per ``publication.autocreate.mode`` (see module doc).

    ``tables`` are the captured tables (:func:`captured_tables`). Raises
    :class:`~connectors.sdk.ConfigError` when the publication is missing and may not be created,
    or must change and may not be: the message names the mode and the statement to run.
    """
    name = config.publication_name
    mode = config.publication_autocreate_mode
    pub = quote_ident(name)
    row = await conn.fetchrow(_PUBLICATION_SQL, name)
    if row is None:
        return await _create(conn, config, tables, mode, pub)
    if mode is not AutoCreateMode.FILTERED or row["all_tables"]:
        return PublicationAction.EXISTS
    wanted = {t.oid for t in tables}
    current = set(row["table_oids"])
    if wanted == current:
        return PublicationAction.EXISTS
    statement = f"ALTER PUBLICATION {pub} SET TABLE {_table_list(tables)}"
    if not tables:
        raise ConfigError(
            f"publication.autocreate.mode=filtered and no table matches the include/exclude filters, so "
            f"publication {name} (which publishes {_shown(sorted(row['table_ids']))}) cannot be narrowed "
            "to the captured tables: fix the filters"
        )
    if not row["owned"]:
        raise ConfigError(
            f"Publication {name} does not publish exactly the captured tables, and with "
            f"publication.autocreate.mode=filtered the connector must run {statement}; but it is owned by "
            f"{row['owner']}, and only its owner may alter it: have the owner (or a superuser) run that "
            f"statement, or ALTER PUBLICATION {pub} OWNER TO {quote_ident(config.database_user)}; or use "
            "publication.autocreate.mode=disabled and keep the publication up to date yourself"
        )
    try:
        await conn.execute(statement)
    except asyncpg.InsufficientPrivilegeError as error:
        raise ConfigError(
            f"publication.autocreate.mode=filtered: {statement} failed ({error}); adding a table to a "
            "publication needs the table's ownership: have a superuser run it, or use "
            "publication.autocreate.mode=disabled"
        ) from error
    added = sorted(t.id for t in tables if t.oid not in current)
    removed = sorted(set(row["table_ids"]) - {t.id for t in tables})
    log.info(
        "Publication %s altered to the captured tables (added: %s; removed: %s)",
        name,
        _shown(added) or "none",
        _shown(removed) or "none",
    )
    return PublicationAction.ALTERED


async def _create(
    conn: asyncpg.Connection,
    config: PostgresConfig,
    tables: Sequence[CapturedTable],
    mode: AutoCreateMode,
    pub: str,
) -> PublicationAction:
    name = config.publication_name
    publish = _with_publish(config.skipped_operation_codes)
    if mode is AutoCreateMode.DISABLED:
        listing = _table_list(tables[:_LISTED]) + (", ..." if len(tables) > _LISTED else "")
        raise ConfigError(
            f"Publication {name} does not exist and publication.autocreate.mode=disabled forbids creating "
            f"it: have a DBA run CREATE PUBLICATION {pub} FOR TABLE {listing or '<the captured tables>'}; "
            f"(or FOR ALL TABLES), or set publication.autocreate.mode=filtered"
        )
    if mode is AutoCreateMode.ALL_TABLES:
        statement = f"CREATE PUBLICATION {pub} FOR ALL TABLES{publish}"
        need = "a superuser"
    elif mode is AutoCreateMode.NO_TABLES:
        statement = f"CREATE PUBLICATION {pub}{publish}"
        need = "CREATE on the database"
    else:
        if not tables:
            raise ConfigError(
                f"Publication {name} does not exist and publication.autocreate.mode=filtered creates it for "
                "the captured tables, but no table matches the include/exclude filters: fix the filters"
            )
        statement = f"CREATE PUBLICATION {pub} FOR TABLE {_table_list(tables)}{publish}"
        need = "CREATE on the database and ownership of every captured table"
    try:
        await conn.execute(statement)
    except asyncpg.DuplicateObjectError:
        return PublicationAction.EXISTS  # created concurrently (another task/worker): fine
    except asyncpg.InsufficientPrivilegeError as error:
        raise ConfigError(
            f"Publication {name} does not exist and publication.autocreate.mode={mode.value} creates it, "
            f"which needs {need}: {error}. Have a DBA run {statement}; (then it is used as is)"
        ) from error
    log.info("Created publication %s: %s", name, statement)
    return PublicationAction.CREATED
