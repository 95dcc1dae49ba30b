"""Connect-time checks: can this config capture changes from this server, and if not, what to fix.

``check_connection(config)`` logs in the way the connector will and asks the server, in two
round trips, everything the connector needs; ``evaluate`` (pure, unit-tested) turns the answers
into errors per config key (what ``PUT /connector-plugins/{p}/config/validate`` shows, and a 400
on create) and warnings (logged; a table named in ``table.include.list`` that does not exist yet
is a warning: it is captured once it appears). Checked:

* the server answers and the login works: an unknown host, a refused port, a wrong password,
  an unknown role or database each get their own message on their own key
  (``database.hostname`` / ``database.port`` / ``database.password`` / ``database.user`` /
  ``database.dbname``); the password never appears in a message;
* PostgreSQL 10 or later with ``wal_level=logical``;
* the user has ``REPLICATION`` (or is superuser, or, on Amazon RDS, has ``rds_replication``) and
  ``SELECT`` on the captured tables (a warning only with ``snapshot.mode=no_data``);
* the replication slot: a free slot exists (``max_replication_slots``) when it must be created;
  an existing one is logical, of this database, made for ``pgoutput``, not invalidated, and not
  held by another client (a Penstock connector holding it, i.e. this one being reconfigured, is fine);
* the publication: what ``publication.autocreate.mode`` needs when it is missing (superuser for
  ``all_tables``; ``CREATE`` on the database for ``filtered``/``no_tables``, plus ownership of the
  tables for ``filtered``), and an existing one that does not publish a captured table (warning).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from connectors.postgres.config import AutoCreateMode, PostgresConfig

APPLICATION_NAME = "penstock"
"""``application_name`` of Penstock's connections; with ``:<connector>`` for one connector's."""
MIN_SERVER_VERSION = 100000
"""pgoutput and publications arrived in PostgreSQL 10."""
LISTED_TABLES = 10
"""Messages name at most this many tables, then say how many more."""


def application_name(connector_name: str | None) -> str:
    """The ``application_name`` a connector's connections use, so a slot's holder can be told
    apart (PostgreSQL keeps the first 63 bytes, and replaces non-ASCII characters with ``?``)."""
    name = APPLICATION_NAME if not connector_name else f"{APPLICATION_NAME}:{connector_name}"
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in name).encode()[:63].decode()


@dataclass(slots=True)
class CheckReport:
    """Errors per config key (they make the config invalid) and warnings (worth a log line)."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    server_version: int | None = None

    def error(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True, slots=True)
class SlotInfo:
    plugin: str | None
    slot_type: str
    database: str | None
    active: bool
    active_pid: int | None
    holder: str | None
    """``application_name`` of the session holding the slot (None if unknown or not held)."""
    wal_status: str | None
    """``reserved``/``extended``/``unreserved``/``lost`` (PostgreSQL 13+), else None."""


@dataclass(frozen=True, slots=True)
class PublicationInfo:
    all_tables: bool
    owned: bool
    tables: frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class TableInfo:
    schema: str
    table: str
    can_select: bool
    owned: bool


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """What the server said about itself, the user, the slot, the publication and the tables."""

    version: int
    wal_level: str
    max_replication_slots: int
    slots_in_use: int
    user: str
    superuser: bool
    replication: bool
    can_create: bool
    slot: SlotInfo | None
    publication: PublicationInfo | None
    tables: tuple[TableInfo, ...]
    schemas: tuple[str, ...] = ()


_FACTS_SQL = """
SELECT current_setting('server_version_num')::int AS version,
       current_setting('wal_level') AS wal_level,
       current_setting('max_replication_slots')::int AS max_slots,
       (SELECT count(*) FROM pg_catalog.pg_replication_slots)::int AS slots_used,
       current_user::text AS username,
       r.rolsuper AS superuser,
       r.rolreplication OR EXISTS (
           SELECT 1 FROM pg_catalog.pg_roles b
           WHERE b.rolname IN ('rds_superuser', 'rdsadmin', 'rdsrepladmin', 'rds_replication')
             AND pg_catalog.pg_has_role(r.oid, b.oid, 'MEMBER')) AS replication,
       has_database_privilege(current_database(), 'CREATE') AS can_create,
       (SELECT to_jsonb(x) FROM (
           SELECT s.plugin, s.slot_type, d.datname AS database, s.active, s.active_pid,
                  a.application_name AS holder, to_jsonb(s) ->> 'wal_status' AS wal_status
           FROM pg_catalog.pg_replication_slots s
           LEFT JOIN pg_catalog.pg_database d ON d.oid = s.datoid
           LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = s.active_pid
           WHERE s.slot_name = $1) x)::text AS slot,
       (SELECT to_jsonb(x) FROM (
           SELECT p.puballtables AS all_tables, pg_catalog.pg_has_role(p.pubowner, 'USAGE') AS owned,
                  COALESCE((SELECT jsonb_agg(jsonb_build_array(t.schemaname, t.tablename))
                            FROM pg_catalog.pg_publication_tables t WHERE t.pubname = p.pubname),
                           '[]'::jsonb) AS tables
           FROM pg_catalog.pg_publication p WHERE p.pubname = $2) x)::text AS publication
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
"""

_TABLES_SQL = r"""
SELECT n.nspname AS schema, c.relname AS table,
       has_table_privilege(c.oid, 'SELECT') AS can_select,
       pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owned
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND (NOT $1 OR (n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'))
ORDER BY 1, 2
"""


async def fetch_facts(conn: asyncpg.Connection, config: PostgresConfig) -> ServerFacts:
    """Everything ``evaluate`` needs, in two round trips (three with ``schema.include.list``)."""
    row = await conn.fetchrow(_FACTS_SQL, config.slot_name, config.publication_name)
    tables = await conn.fetch(_TABLES_SQL, config.table_ignore_builtin)
    schemas: tuple[str, ...] = ()
    if config.schema_include_list:
        schemas = tuple(r[0] for r in await conn.fetch("SELECT nspname FROM pg_catalog.pg_namespace"))
    slot = json.loads(row["slot"]) if row["slot"] else None
    pub = json.loads(row["publication"]) if row["publication"] else None
    return ServerFacts(
        version=row["version"],
        wal_level=row["wal_level"],
        max_replication_slots=row["max_slots"],
        slots_in_use=row["slots_used"],
        user=row["username"],
        superuser=row["superuser"],
        replication=row["replication"],
        can_create=row["can_create"],
        slot=SlotInfo(**slot) if slot else None,
        publication=(
            PublicationInfo(pub["all_tables"], pub["owned"], frozenset((s, t) for s, t in pub["tables"]))
            if pub
            else None
        ),
        tables=tuple(TableInfo(r["schema"], r["table"], r["can_select"], r["owned"]) for r in tables),
        schemas=schemas,
    )


def quote_ident(name: str) -> str:
    """An SQL identifier as the user would type it: bare when it can be, else double-quoted."""
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'


def _qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:LISTED_TABLES])
    more = len(names) - LISTED_TABLES
    return f"{shown} and {more} more" if more > 0 else shown


def evaluate(config: PostgresConfig, facts: ServerFacts, connector_name: str | None = None) -> CheckReport:
    """What the facts mean for this config: errors per key and warnings (pure; no I/O)."""
    report = CheckReport(server_version=facts.version)
    where = f"PostgreSQL at {config.database_hostname}:{config.database_port}"
    user = quote_ident(facts.user)
    if facts.version < MIN_SERVER_VERSION:
        report.error(
            "database.hostname",
            f"{where} is version {facts.version // 10000}; logical replication with pgoutput needs PostgreSQL 10 or later",
        )
    if facts.wal_level != "logical":
        report.error(
            "database.hostname",
            f"{where} has wal_level={facts.wal_level}, but logical decoding needs wal_level=logical: run "
            "ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL (on Amazon RDS/Aurora set "
            "rds.logical_replication=1 in the parameter group; on Cloud SQL the flag cloudsql.logical_decoding=on)",
        )
    if not (facts.superuser or facts.replication):
        report.error(
            "database.user",
            f"User {facts.user} lacks the REPLICATION attribute, which logical replication needs: run "
            f"ALTER ROLE {user} WITH REPLICATION; as a superuser (on Amazon RDS: GRANT rds_replication TO {user};)",
        )

    captured = [t for t in facts.tables if config.table_filter.is_included(t.schema, t.table)]
    _check_tables(config, facts, captured, report)
    _check_slot(config, facts, connector_name, report)
    _check_publication(config, facts, captured, report)
    return report


def _check_tables(
    config: PostgresConfig, facts: ServerFacts, captured: list[TableInfo], report: CheckReport
) -> None:
    existing = [(t.schema, t.table) for t in facts.tables]
    for pattern in config.table_filter.unmatched_includes(existing):
        report.warnings.append(
            f"table.include.list entry '{pattern}' matches no table in database {config.database_dbname} "
            "(yet); the table is captured once it exists"
        )
    if config.schema_include_list:
        for pattern in config.table_filter.unmatched_schema_includes(facts.schemas):
            report.warnings.append(
                f"schema.include.list entry '{pattern}' matches no schema in database {config.database_dbname} (yet)"
            )
    if not captured:
        report.warnings.append(
            f"No table of database {config.database_dbname} matches the filters yet: nothing is captured until one exists"
        )
    unreadable = [_qualified(t.schema, t.table) for t in captured if not t.can_select and not facts.superuser]
    if unreadable:
        message = (
            f"User {facts.user} cannot read the captured tables {_listing(unreadable)}: the snapshot needs "
            f"SELECT on them; run GRANT SELECT ON {', '.join(unreadable[:LISTED_TABLES])} TO {quote_ident(facts.user)};"
        )
        if config.snapshot_mode.snapshots_data:
            report.error("database.user", message)
        else:
            report.warnings.append(message)


def _check_slot(
    config: PostgresConfig, facts: ServerFacts, connector_name: str | None, report: CheckReport
) -> None:
    name = config.slot_name
    slot = facts.slot
    drop = f"SELECT pg_drop_replication_slot('{name}');"
    if slot is None:
        if facts.slots_in_use >= facts.max_replication_slots:
            report.error(
                "slot.name",
                f"Replication slot '{name}' must be created, but all {facts.max_replication_slots} slots of the "
                f"server are in use (max_replication_slots={facts.max_replication_slots}): drop an unused one "
                "(see SELECT slot_name, active FROM pg_replication_slots; then SELECT "
                "pg_drop_replication_slot('<slot>');) or raise max_replication_slots and restart PostgreSQL",
            )
        return
    if slot.slot_type != "logical":
        report.error("slot.name", f"Replication slot '{name}' is a physical slot; choose another slot.name")
        return
    if slot.database != config.database_dbname:
        report.error(
            "slot.name",
            f"Replication slot '{name}' belongs to database {slot.database}, not {config.database_dbname}: "
            f"choose another slot.name (one slot per connector and database) or drop it with {drop}",
        )
    elif slot.plugin != "pgoutput":
        report.error(
            "slot.name",
            f"Replication slot '{name}' was created for the {slot.plugin} plugin, but Penstock reads pgoutput: "
            f"choose another slot.name or drop the slot with {drop} (a new one is created at start)",
        )
    if slot.wal_status == "lost":
        report.error(
            "slot.name",
            f"Replication slot '{name}' was invalidated by PostgreSQL (the WAL it needed was removed, see "
            f"max_slot_wal_keep_size): drop it with {drop} so a new one is created; with snapshot.mode=when_needed "
            "the connector then snapshots again, otherwise changes made meanwhile are lost",
        )
    if slot.active and not _held_by_us(slot.holder, connector_name):
        holder = f" ({slot.holder})" if slot.holder else ""
        report.error(
            "slot.name",
            f"Replication slot '{name}' is in use by another client, pid {slot.active_pid}{holder}: stop that "
            "client, or choose another slot.name (two consumers cannot share a slot)",
        )


def _held_by_us(holder: str | None, connector_name: str | None) -> bool:
    """A Penstock session holding the slot is this connector, reconfigured while running (a
    second connector sharing the slot is caught when its task starts)."""
    if holder is None:
        return False
    return holder in (APPLICATION_NAME, application_name(connector_name)) or (
        connector_name is None and holder.startswith(APPLICATION_NAME + ":")
    )


def _check_publication(
    config: PostgresConfig, facts: ServerFacts, captured: list[TableInfo], report: CheckReport
) -> None:
    name = config.publication_name
    pub = facts.publication
    mode = config.publication_autocreate_mode
    user = quote_ident(facts.user)
    wanted = {(t.schema, t.table) for t in captured}
    if pub is not None:
        if pub.all_tables:
            return
        missing = sorted(wanted - pub.tables)
        can_alter = facts.superuser or pub.owned
        if mode is AutoCreateMode.FILTERED and (missing or pub.tables - wanted):
            if not can_alter:
                report.error(
                    "publication.name",
                    f"Publication {name} does not publish exactly the captured tables, and with "
                    f"publication.autocreate.mode=filtered the connector would change it, but user {facts.user} "
                    f"does not own it: ask its owner to run ALTER PUBLICATION {quote_ident(name)} OWNER TO {user}; "
                    "or use publication.autocreate.mode=disabled and keep the publication up to date yourself",
                )
            return
        if missing:
            names = [_qualified(s, t) for s, t in missing]
            report.warnings.append(
                f"Publication {name} does not publish the captured tables {_listing(names)}: their changes are "
                f"not streamed until you run ALTER PUBLICATION {quote_ident(name)} ADD TABLE {', '.join(names[:LISTED_TABLES])};"
            )
        return
    if mode is AutoCreateMode.DISABLED:
        report.error(
            "publication.name",
            f"Publication {name} does not exist and publication.autocreate.mode=disabled: create it with "
            f"CREATE PUBLICATION {quote_ident(name)} FOR TABLE <the captured tables>; or set "
            "publication.autocreate.mode=filtered to have the connector create it",
        )
    elif mode is AutoCreateMode.ALL_TABLES and not facts.superuser:
        report.error(
            "publication.autocreate.mode",
            f"Publication {name} does not exist, and creating it FOR ALL TABLES (publication.autocreate.mode="
            f"all_tables) needs a superuser, which {facts.user} is not: set publication.autocreate.mode=filtered "
            f"(needs CREATE on the database and ownership of the captured tables), or have a superuser run "
            f"CREATE PUBLICATION {quote_ident(name)} FOR ALL TABLES;",
        )
    elif mode in (AutoCreateMode.FILTERED, AutoCreateMode.NO_TABLES) and not facts.superuser:
        if not facts.can_create:
            report.error(
                "publication.autocreate.mode",
                f"Publication {name} does not exist, and user {facts.user} may not create it "
                f"(publication.autocreate.mode={mode.value} needs CREATE on the database): run "
                f"GRANT CREATE ON DATABASE {quote_ident(config.database_dbname)} TO {user};",
            )
        not_owned = [_qualified(t.schema, t.table) for t in captured if not t.owned]
        if mode is AutoCreateMode.FILTERED and not_owned:
            report.error(
                "publication.autocreate.mode",
                f"Publication {name} does not exist, and adding tables to a publication needs their ownership, "
                f"which {facts.user} lacks for {_listing(not_owned)}: have the owner (or a superuser) create it with "
                f"CREATE PUBLICATION {quote_ident(name)} FOR TABLE {', '.join(not_owned[:LISTED_TABLES])}; and set "
                "publication.autocreate.mode=disabled",
            )


def connection_problem(exc: BaseException, config: PostgresConfig) -> tuple[str, str]:
    """(config key, message) for a failed login, worded so the user knows which setting to fix."""
    where = f"{config.database_hostname}:{config.database_port}"
    detail = _scrub(str(exc), config)
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return (
            "database.password",
            f"Password authentication failed for user {config.database_user} at {where}: check database.password "
            "(and database.user)",
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return (
            "database.dbname",
            f"Database {config.database_dbname} does not exist on the server at {where}: check database.dbname",
        )
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        if "pg_hba.conf" in detail:
            return (
                "database.hostname",
                f"The server at {where} refuses this connection: {detail}. Ask its administrator to allow this "
                "host, user and database in pg_hba.conf (or check database.sslmode)",
            )
        return "database.user", f"The server at {where} refuses user {config.database_user}: {detail}"
    if isinstance(exc, asyncpg.TooManyConnectionsError | asyncpg.CannotConnectNowError):
        return "database.hostname", f"The server at {where} accepts no connection now: {detail}"
    if isinstance(exc, socket.gaierror):
        return (
            "database.hostname",
            f"Unknown host {config.database_hostname}: the name does not resolve ({exc.strerror or detail}); "
            "check database.hostname",
        )
    if (
        isinstance(exc, ConnectionRefusedError)
        or "Connect call failed" in detail
        or "refused" in detail.lower()
    ):
        return (
            "database.port",
            f"Connection refused by {where}: nothing listens on port {config.database_port} there (is PostgreSQL "
            "running, and listening on that address: listen_addresses?); check database.hostname and database.port",
        )
    if isinstance(exc, ssl.SSLError) or "SSL" in detail:
        return "database.sslmode", f"TLS with the server at {where} failed: {detail}"
    if isinstance(exc, TimeoutError):
        return (
            "database.hostname",
            f"Connection validation timed out after {config.connection_validation_timeout_ms} ms "
            f"(no answer from {where}): check database.hostname, database.port and firewalls",
        )
    if isinstance(exc, OSError):
        return "database.hostname", f"Cannot reach {where}: {detail}"
    return "database.hostname", f"Error while validating connector config: {detail}"


def _scrub(text: str, config: PostgresConfig) -> str:
    """``text`` with the configured passwords replaced by ``[hidden]``, whatever quoted them."""
    for secret in (config.database_password, config.database_sslpassword):
        value = secret.get_secret_value() if secret is not None else ""
        if value:
            text = text.replace(value, "[hidden]")
    return text


async def check_connection(config: PostgresConfig, connector_name: str | None = None) -> CheckReport:
    """Log in as the connector would and check everything it needs (see the module docstring),
    within ``connection.validation.timeout.ms``. Never raises for server-side problems."""
    budget = config.connection_validation_timeout_ms / 1000
    report = CheckReport()
    try:
        async with asyncio.timeout(budget):
            conn = await asyncpg.connect(
                **config.connect_kwargs(application_name=application_name(connector_name), timeout=budget)
            )
            try:
                facts = await fetch_facts(conn, config)
            finally:
                await conn.close(timeout=5)
    except Exception as exc:  # TimeoutError included: everything the driver raises becomes a message
        key, message = connection_problem(exc, config)
        report.error(key, message)
        return report
    return evaluate(config, facts, connector_name)
