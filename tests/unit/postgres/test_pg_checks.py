"""What server facts mean for a config (``evaluate``), and login failures against protocol stubs."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.postgres.checks import (
    PublicationInfo,
    ServerFacts,
    SlotInfo,
    TableInfo,
    application_name,
    check_connection,
    evaluate,
)
from connectors.postgres.config import PostgresConfig

BASE = {
    "database.hostname": "127.0.0.1",
    "database.user": "cdc",
    "database.dbname": "shop",
    "topic.prefix": "dbserver1",
}


def config(**overrides: str) -> PostgresConfig:
    return PostgresConfig.parse({**BASE, **{k.replace("_", "."): v for k, v in overrides.items()}})


GOOD = ServerFacts(
    version=150004,
    wal_level="logical",
    max_replication_slots=10,
    slots_in_use=1,
    user="cdc",
    superuser=False,
    replication=True,
    can_create=True,
    slot=None,
    publication=PublicationInfo(all_tables=True, owned=False, tables=frozenset()),
    tables=(TableInfo("public", "customers", True, True), TableInfo("public", "orders", True, True)),
)


def facts(**changes: Any) -> ServerFacts:
    return dataclasses.replace(GOOD, **changes)


def slot(**changes: Any) -> SlotInfo:
    base = SlotInfo("pgoutput", "logical", "shop", False, None, None, "reserved")
    return dataclasses.replace(base, **changes)


def test_a_ready_server_passes() -> None:
    report = evaluate(config(), GOOD)
    assert report.ok and report.warnings == []


def test_wal_level_must_be_logical_and_says_how() -> None:
    report = evaluate(config(), facts(wal_level="replica"))
    (message,) = report.errors["database.hostname"]
    assert "wal_level=replica" in message and "ALTER SYSTEM SET wal_level = logical" in message


def test_old_servers_are_refused() -> None:
    assert "PostgreSQL 10 or later" in evaluate(config(), facts(version=90624)).errors["database.hostname"][0]


def test_replication_attribute_is_needed_unless_superuser() -> None:
    (message,) = evaluate(config(), facts(replication=False)).errors["database.user"]
    assert "ALTER ROLE cdc WITH REPLICATION" in message
    assert evaluate(config(), facts(replication=False, superuser=True)).ok


def test_select_on_captured_tables() -> None:
    tables = (TableInfo("public", "customers", False, True), TableInfo("public", "orders", False, True))
    (message,) = evaluate(config(table_include_list="public.customers"), facts(tables=tables)).errors[
        "database.user"
    ]
    assert "GRANT SELECT ON public.customers TO cdc" in message and "orders" not in message
    no_data = evaluate(
        config(table_include_list="public.customers", snapshot_mode="no_data"), facts(tables=tables)
    )
    assert no_data.ok and any("SELECT" in w for w in no_data.warnings)


def test_missing_include_table_is_a_warning_only() -> None:
    report = evaluate(config(table_include_list="public.customers,public.later"), GOOD)
    assert report.ok
    assert report.warnings == [
        "table.include.list entry 'public.later' matches no table in database shop (yet); the table is captured once it exists"
    ]


def test_no_free_slot() -> None:
    (message,) = evaluate(config(), facts(slots_in_use=10)).errors["slot.name"]
    assert "max_replication_slots=10" in message
    assert evaluate(config(), facts(slots_in_use=10, slot=slot())).ok  # it exists already


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"database": "other"}, "belongs to database other"),
        ({"plugin": "decoderbufs"}, "created for the decoderbufs plugin"),
        ({"slot_type": "physical"}, "physical slot"),
        ({"wal_status": "lost"}, "invalidated"),
        (
            {"active": True, "active_pid": 4242, "holder": "debezium"},
            "in use by another client, pid 4242 (debezium)",
        ),
        ({"active": True, "active_pid": 4242, "holder": "penstock:other-connector"}, "pid 4242"),
    ],
)
def test_unusable_slot(changes: dict[str, Any], words: str) -> None:
    (message,) = evaluate(config(), facts(slot=slot(**changes)), "mine").errors["slot.name"]
    assert words in message


def test_slot_held_by_this_connector_is_fine() -> None:
    held = facts(slot=slot(active=True, active_pid=7, holder=application_name("mine")))
    assert evaluate(config(), held, "mine").ok
    assert evaluate(config(), facts(slot=slot(active=True, active_pid=7, holder="penstock")), "mine").ok


def test_application_name_fits_postgres_limits() -> None:
    assert application_name(None) == "penstock"
    assert application_name("orders") == "penstock:orders"
    assert len(application_name("x" * 100).encode()) == 63
    assert application_name("café") == "penstock:caf?"


def test_publication_needs_per_mode() -> None:
    missing = facts(publication=None)
    (disabled,) = evaluate(config(publication_autocreate_mode="disabled"), missing).errors["publication.name"]
    assert "CREATE PUBLICATION dbz_publication" in disabled
    (all_tables,) = evaluate(config(), missing).errors["publication.autocreate.mode"]
    assert "needs a superuser" in all_tables and "filtered" in all_tables
    assert evaluate(config(), facts(publication=None, superuser=True)).ok
    assert evaluate(config(publication_autocreate_mode="filtered"), missing).ok
    no_create = facts(publication=None, can_create=False)
    (create,) = evaluate(config(publication_autocreate_mode="no_tables"), no_create).errors[
        "publication.autocreate.mode"
    ]
    assert "GRANT CREATE ON DATABASE shop TO cdc" in create
    not_owner = facts(publication=None, tables=(TableInfo("public", "customers", True, False),))
    (owner,) = evaluate(config(publication_autocreate_mode="filtered"), not_owner).errors[
        "publication.autocreate.mode"
    ]
    assert "ownership" in owner and "public.customers" in owner


def test_existing_publication_missing_a_table_warns() -> None:
    pub = PublicationInfo(all_tables=False, owned=False, tables=frozenset({("public", "customers")}))
    report = evaluate(config(), facts(publication=pub))
    assert report.ok
    assert any("ALTER PUBLICATION dbz_publication ADD TABLE public.orders" in w for w in report.warnings)
    (error,) = evaluate(config(publication_autocreate_mode="filtered"), facts(publication=pub)).errors[
        "publication.name"
    ]
    assert "does not own it" in error
    owned = dataclasses.replace(pub, owned=True)
    assert evaluate(config(publication_autocreate_mode="filtered"), facts(publication=owned)).ok


def test_identifiers_are_quoted_in_suggested_sql() -> None:
    tables = (TableInfo("Sales", "Order Lines", False, True),)
    (message,) = evaluate(config(), facts(tables=tables, user="CDC user")).errors["database.user"]
    assert 'GRANT SELECT ON "Sales"."Order Lines" TO "CDC user"' in message


# -- login failures, against a stub that speaks just enough of the protocol ------------------------
def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _error(code: str, text: str) -> bytes:
    fields = b"SFATAL\x00" + b"C" + code.encode() + b"\x00M" + text.encode() + b"\x00\x00"
    return _message(b"E", fields)


async def _serve(handler: Any) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.close()


@pytest.fixture
async def password_rejecting_server() -> AsyncIterator[int]:
    """Answers SSL with 'N', asks for a cleartext password, then fails it as PostgreSQL does (28P01)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                size = struct.unpack("!i", await reader.readexactly(4))[0]
                body = await reader.readexactly(size - 4)
                if body[:4] == struct.pack("!i", 80877103):  # SSLRequest
                    writer.write(b"N")
                    continue
                break
            writer.write(_message(b"R", struct.pack("!i", 3)))  # AuthenticationCleartextPassword
            await writer.drain()
            await reader.readexactly(5)
            writer.write(_error("28P01", 'password authentication failed for user "cdc"'))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async for port in _serve(handle):
        yield port


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never answers (a firewall that drops, a hung server)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    async for port in _serve(handle):
        yield port


async def test_wrong_password_is_reported_on_the_password_key(password_rejecting_server: int) -> None:
    cfg = config(database_port=str(password_rejecting_server), database_password="hunter2-secret")
    report = await check_connection(cfg, "c1")
    assert list(report.errors) == ["database.password"]
    (message,) = report.errors["database.password"]
    assert message.startswith("Password authentication failed for user cdc at 127.0.0.1:")
    assert "hunter2" not in message


async def test_no_answer_times_out_with_debeziums_words(silent_server: int) -> None:
    cfg = config(database_port=str(silent_server), connection_validation_timeout_ms="300")
    started = asyncio.get_running_loop().time()
    report = await check_connection(cfg)
    assert asyncio.get_running_loop().time() - started < 3
    (message,) = report.errors["database.hostname"]
    assert message.startswith("Connection validation timed out after 300 ms")


async def test_refused_port_and_unknown_host() -> None:
    port = 0
    async for free in _serve(lambda r, w: None):
        port = free  # the port is free again once the server closed
    refused = await check_connection(config(database_port=str(port)))
    assert list(refused.errors) == ["database.port"]
    unknown = await check_connection(config(database_hostname="no-such-host.invalid"))
    assert list(unknown.errors) == ["database.hostname"]
    assert unknown.errors["database.hostname"][0].startswith("Unknown host no-such-host.invalid")
