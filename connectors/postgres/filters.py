"""Which tables and columns a connector captures, with Debezium's filter semantics.

Every list is comma-separated regular expressions (a comma inside a pattern is escaped as
``\\,``), each matched against the **whole** identifier (Java ``matches()``: anchored) and
**case-insensitively**:

* ``schema.include.list`` / ``schema.exclude.list`` against ``<schema>``;
* ``table.include.list`` / ``table.exclude.list`` against ``<schema>.<table>``;
* ``column.include.list`` / ``column.exclude.list`` against ``<schema>.<table>.<column>``.

A table is captured when it passes the schema filter **and** the table filter, and, while
``table.ignore.builtin`` is true (the default), is not a system table: schemas ``pg_catalog``
and ``information_schema``, temporary and TOAST schemas (``pg_temp*``, ``pg_toast*``) and
PostGIS's ``spatial_ref_sys``. An include list keeps only what matches; an exclude list drops
what matches; giving neither keeps everything. Include and exclude of one kind together are a
configuration error (checked in ``config.py``); here include wins, as in Debezium.

Patterns use Python's ``re`` syntax, which agrees with Java's for the patterns people write in
these lists (literals, ``.``, ``.*``, classes, alternation, quantifiers).

The answers are cached per identifier: the streaming path asks for the same few tables on
every change, so after the first event a lookup is one dict access.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema"})
"""Schemas never captured while ``table.ignore.builtin`` is true."""
SYSTEM_SCHEMA_PREFIXES = ("pg_temp", "pg_toast")
"""Per-session temporary schemas (``pg_temp_3``) and TOAST storage (``pg_toast``, ``pg_toast_temp_3``)."""
SYSTEM_TABLES = frozenset({"spatial_ref_sys"})
"""Tables extensions install in user schemas (PostGIS) that Debezium treats as system tables."""

_UNESCAPED_COMMA = re.compile(r"(?<!\\),")
_CACHE_LIMIT = 100_000
"""Cached answers per filter; past this the cache starts over (a database with that many tables)."""


def split_patterns(text: str | Sequence[str] | None) -> list[str]:
    """The regular expressions of a filter list: split on commas not escaped with ``\\``,
    whitespace around each trimmed, empty entries dropped (``a,,b`` is ``a`` and ``b``)."""
    if text is None:
        return []
    parts: Iterable[str] = _UNESCAPED_COMMA.split(text) if isinstance(text, str) else text
    result = []
    for part in parts:
        pattern = part.strip().replace("\\,", ",")
        if pattern:
            result.append(pattern)
    return result


def regex_problem(patterns: Sequence[str]) -> str | None:
    """Why a list of patterns cannot be used (the first bad one), or None when all compile."""
    for pattern in patterns:
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            return f"A comma-separated list of valid regular expressions is expected, but '{pattern}' is not: {exc}"
    return None


@dataclass(frozen=True, slots=True)
class _Matcher:
    """Include/exclude patterns compiled once: ``allows(s)`` is the include-or-exclude verdict."""

    include: tuple[re.Pattern[str], ...]
    exclude: tuple[re.Pattern[str], ...]

    @classmethod
    def build(cls, include: Sequence[str] | None, exclude: Sequence[str] | None) -> _Matcher:
        def compile_all(patterns: Sequence[str] | None) -> tuple[re.Pattern[str], ...]:
            return tuple(re.compile(p, re.IGNORECASE) for p in split_patterns(patterns))

        inc = compile_all(include)
        return cls(inc, () if inc else compile_all(exclude))

    def allows(self, text: str) -> bool:
        if self.include:
            return any(p.fullmatch(text) for p in self.include)
        return not any(p.fullmatch(text) for p in self.exclude)

    def matches_include(self, pattern_index: int, text: str) -> bool:
        return self.include[pattern_index].fullmatch(text) is not None


def is_system_table(schema: str, table: str) -> bool:
    """A catalog, temporary or TOAST table, or an extension's bookkeeping table."""
    lowered = schema.lower()
    return (
        lowered in SYSTEM_SCHEMAS
        or lowered.startswith(SYSTEM_SCHEMA_PREFIXES)
        or table.lower() in SYSTEM_TABLES
    )


@dataclass(slots=True)
class TableFilter:
    """Decides whether ``schema.table`` is captured. Build it with :meth:`from_config` or directly
    from the lists (strings as configured, or already split)."""

    schema_include: Sequence[str] | None = None
    schema_exclude: Sequence[str] | None = None
    table_include: Sequence[str] | None = None
    table_exclude: Sequence[str] | None = None
    ignore_builtin: bool = True
    _schemas: _Matcher = field(init=False, repr=False)
    _tables: _Matcher = field(init=False, repr=False)
    _cache: dict[tuple[str, str], bool] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._schemas = _Matcher.build(self.schema_include, self.schema_exclude)
        self._tables = _Matcher.build(self.table_include, self.table_exclude)

    def is_included(self, schema: str, table: str) -> bool:
        """True when changes of ``schema.table`` are captured."""
        key = (schema, table)
        verdict = self._cache.get(key)
        if verdict is None:
            verdict = (
                not (self.ignore_builtin and is_system_table(schema, table))
                and self._schemas.allows(schema)
                and self._tables.allows(f"{schema}.{table}")
            )
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = verdict
        return verdict

    def select(self, tables: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """The captured ones among ``(schema, table)`` pairs, in the order given."""
        return [t for t in tables if self.is_included(*t)]

    def unmatched_includes(self, tables: Iterable[tuple[str, str]]) -> list[str]:
        """``table.include.list`` patterns that match none of ``tables`` (which exist): the tables a
        user named that are not there (yet). Empty when there is no include list."""
        patterns = split_patterns(self.table_include)
        if not patterns:
            return []
        names = [f"{s}.{t}" for s, t in tables]
        return [
            p for i, p in enumerate(patterns) if not any(self._tables.matches_include(i, n) for n in names)
        ]

    def unmatched_schema_includes(self, schemas: Iterable[str]) -> list[str]:
        """``schema.include.list`` patterns that match no existing schema."""
        patterns = split_patterns(self.schema_include)
        names = list(schemas)
        return [
            p for i, p in enumerate(patterns) if not any(self._schemas.matches_include(i, n) for n in names)
        ]


@dataclass(slots=True)
class ColumnFilter:
    """Decides whether ``schema.table.column`` appears in ``before``/``after`` (key columns are
    always in the key, whatever this says)."""

    include: Sequence[str] | None = None
    exclude: Sequence[str] | None = None
    _matcher: _Matcher = field(init=False, repr=False)
    _cache: dict[tuple[str, str, str], bool] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._matcher = _Matcher.build(self.include, self.exclude)

    @property
    def keeps_everything(self) -> bool:
        """No column list: callers can skip per-column checks entirely."""
        return not self._matcher.include and not self._matcher.exclude

    def is_included(self, schema: str, table: str, column: str) -> bool:
        if self.keeps_everything:
            return True
        key = (schema, table, column)
        verdict = self._cache.get(key)
        if verdict is None:
            verdict = self._matcher.allows(f"{schema}.{table}.{column}")
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = verdict
        return verdict

    def columns(self, schema: str, table: str, columns: Iterable[str]) -> list[str]:
        """The kept columns of one table, in the order given."""
        return [c for c in columns if self.is_included(schema, table, c)]
