"""Connect-time checks against the real PostgreSQL: roles, grants, slots and publications.

Every object is unique to the test (schema, roles, slots, publications) and dropped after it. The
shared server trusts 127.0.0.1, so a wrong password cannot be produced here: that case runs
against a protocol stub in tests/unit/postgres/test_pg_checks.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import asyncpg
import pytest

from connectors.postgres.checks import CheckReport, application_name, check_connection
from connectors.postgres.config import PostgresConfig

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@dataclass
class Scratch:
    dsn: str
    admin: asyncpg.Connection
    tag: str
    schema: str
    plain_role: str
    """LOGIN only."""
    cdc_role: str
    """LOGIN REPLICATION, no grants yet."""
    host: str
    port: int
    dbname: str

    def config(self, user: str = "postgres", **overrides: str) -> PostgresConfig:
        props = {
            "database.hostname": self.host,
            "database.port": str(self.port),
            "database.user": user,
            "database.password": "not-checked-under-trust",
            "database.dbname": self.dbname,
            "topic.prefix": "dbserver1",
            "plugin.name": "pgoutput",
            "schema.include.list": self.schema,
            "slot.name": f"{self.tag}_slot",
            "publication.name": f"{self.tag}_pub",
        }
        props.update({k.replace("__", "."): v for k, v in overrides.items()})
        return PostgresConfig.parse(props)


@pytest.fixture
async def scratch(postgres_dsn: str) -> AsyncIterator[Scratch]:
    tag = f"pgcfg_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    admin = await asyncpg.connect(postgres_dsn)
    schema, plain, cdc = f"{tag}_s", f"{tag}_plain", f"{tag}_cdc"
    await admin.execute(
        f"""
        CREATE SCHEMA {schema};
        CREATE TABLE {schema}.customers (id int PRIMARY KEY, name text);
        CREATE TABLE {schema}.orders (id int PRIMARY KEY, customer int);
        CREATE ROLE {plain} LOGIN;
        CREATE ROLE {cdc} LOGIN REPLICATION;
        GRANT USAGE ON SCHEMA {schema} TO {plain}, {cdc};
        """
    )
    try:
        yield Scratch(
            postgres_dsn,
            admin,
            tag,
            schema,
            plain,
            cdc,
            url.hostname or "127.0.0.1",
            url.port or 5432,
            url.path.lstrip("/"),
        )
    finally:
        await admin.execute(
            f"""
            SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
             WHERE slot_name LIKE '{tag}%' AND active;
            """
        )
        for _ in range(50):
            left = await admin.fetch(
                f"SELECT slot_name, active FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'"
            )
            if not any(r["active"] for r in left):
                break
            await asyncio.sleep(0.1)
        await admin.execute(
            f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'"
        )
        for pub in await admin.fetch(f"SELECT pubname FROM pg_publication WHERE pubname LIKE '{tag}%'"):
            await admin.execute(f"DROP PUBLICATION {pub['pubname']}")
        await admin.execute(
            f"""
            DROP SCHEMA {schema} CASCADE;
            DROP OWNED BY {plain}, {cdc};
            DROP ROLE {plain};
            DROP ROLE {cdc};
            """
        )
        await admin.close()


async def test_superuser_with_the_tutorial_shape_is_valid(scratch: Scratch) -> None:
    report = await check_connection(scratch.config())
    assert report.ok, report.errors
    assert report.warnings == []
    assert report.server_version and report.server_version >= 100000


async def test_role_without_replication(scratch: Scratch) -> None:
    await scratch.admin.execute(
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {scratch.schema} TO {scratch.plain_role}"
    )
    report = await check_connection(
        scratch.config(scratch.plain_role, publication__autocreate__mode="filtered")
    )
    (message,) = report.errors["database.user"]
    assert f"User {scratch.plain_role} lacks the REPLICATION attribute" in message
    assert f"ALTER ROLE {scratch.plain_role} WITH REPLICATION" in message


async def test_least_privilege_role_with_a_prepared_publication(scratch: Scratch) -> None:
    cfg = scratch.config(scratch.cdc_role, publication__autocreate__mode="disabled")
    first = await check_connection(cfg)
    assert "database.user" in first.errors  # no SELECT yet
    assert (
        f"GRANT SELECT ON {scratch.schema}.customers, {scratch.schema}.orders"
        in first.errors["database.user"][0]
    )
    assert "publication.name" in first.errors  # disabled and missing
    await scratch.admin.execute(
        f"""
        GRANT SELECT ON ALL TABLES IN SCHEMA {scratch.schema} TO {scratch.cdc_role};
        CREATE PUBLICATION {scratch.tag}_pub FOR TABLE {scratch.schema}.customers, {scratch.schema}.orders;
        """
    )
    second = await check_connection(cfg)
    assert second.ok, second.errors


async def test_publication_modes_for_a_non_superuser(scratch: Scratch) -> None:
    await scratch.admin.execute(
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {scratch.schema} TO {scratch.cdc_role}"
    )
    all_tables = await check_connection(scratch.config(scratch.cdc_role))
    assert "needs a superuser" in all_tables.errors["publication.autocreate.mode"][0]

    filtered_cfg = scratch.config(scratch.cdc_role, publication__autocreate__mode="filtered")
    not_owner = await check_connection(filtered_cfg)
    assert any("ownership" in m for m in not_owner.errors["publication.autocreate.mode"])

    await scratch.admin.execute(
        f"""
        ALTER TABLE {scratch.schema}.customers OWNER TO {scratch.cdc_role};
        ALTER TABLE {scratch.schema}.orders OWNER TO {scratch.cdc_role};
        GRANT CREATE ON DATABASE {scratch.dbname} TO {scratch.cdc_role};
        """
    )
    try:
        owner = await check_connection(filtered_cfg)
        assert owner.ok, owner.errors
    finally:
        await scratch.admin.execute(f"REVOKE CREATE ON DATABASE {scratch.dbname} FROM {scratch.cdc_role}")


async def test_missing_include_table_is_only_a_warning(scratch: Scratch) -> None:
    cfg = scratch.config(table__include__list=f"{scratch.schema}.customers,{scratch.schema}.not_yet")
    report = await check_connection(cfg)
    assert report.ok, report.errors
    assert report.warnings == [
        f"table.include.list entry '{scratch.schema}.not_yet' matches no table in database {scratch.dbname} (yet); "
        "the table is captured once it exists"
    ]


async def test_unknown_database(scratch: Scratch) -> None:
    report = await check_connection(scratch.config(database__dbname=f"{scratch.tag}_nodb"))
    assert list(report.errors) == ["database.dbname"]


async def test_slot_of_another_plugin(scratch: Scratch) -> None:
    await scratch.admin.execute(
        f"SELECT pg_create_logical_replication_slot('{scratch.tag}_slot', 'test_decoding')"
    )
    report = await check_connection(scratch.config())
    (message,) = report.errors["slot.name"]
    assert "created for the test_decoding plugin" in message


def _recvlogical() -> str:
    found = shutil.which("pg_recvlogical")
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_recvlogical"))
    if not candidates:
        pytest.fail("pg_recvlogical is needed to hold a slot active (install the PostgreSQL client binaries)")
    return str(candidates[-1])


async def _hold_slot(scratch: Scratch, app_name: str) -> subprocess.Popen[bytes]:
    """Start a real streaming client on the slot under ``app_name``; return once the slot is active."""
    slot = f"{scratch.tag}_slot"
    process = subprocess.Popen(
        [
            _recvlogical(),
            "-d",
            f"host={scratch.host} port={scratch.port} dbname={scratch.dbname} user=postgres",
            "--slot",
            slot,
            "--start",
            "-o",
            "proto_version=1",
            "-o",
            f"publication_names={scratch.tag}_pub",
            "-f",
            os.devnull,
            "--no-loop",
        ],
        env={**os.environ, "PGAPPNAME": app_name},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        if await scratch.admin.fetchval("SELECT active FROM pg_replication_slots WHERE slot_name = $1", slot):
            return process
        if process.poll() is not None:
            pytest.fail(f"pg_recvlogical exited: {process.stderr.read() if process.stderr else b''!r}")
        await asyncio.sleep(0.05)
    process.kill()
    pytest.fail("the slot never became active")


async def test_slot_held_by_another_client_names_its_pid(scratch: Scratch) -> None:
    await scratch.admin.execute(f"CREATE PUBLICATION {scratch.tag}_pub FOR ALL TABLES")
    await scratch.admin.execute(
        f"SELECT pg_create_logical_replication_slot('{scratch.tag}_slot', 'pgoutput')"
    )
    for holder, expect_error in (("other-tool", True), (application_name("orders-cdc"), False)):
        process = await _hold_slot(scratch, holder)
        try:
            pid = await scratch.admin.fetchval(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1", f"{scratch.tag}_slot"
            )
            report: CheckReport = await check_connection(scratch.config(), "orders-cdc")
        finally:
            process.terminate()
            process.wait(timeout=10)
            if process.stderr:
                process.stderr.close()
        if expect_error:
            (message,) = report.errors["slot.name"]
            assert f"in use by another client, pid {pid} (other-tool)" in message
        else:
            assert report.ok, report.errors  # this connector, being reconfigured while it streams
        for _ in range(100):  # the walsender goes away shortly after the client
            if not await scratch.admin.fetchval(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1", f"{scratch.tag}_slot"
            ):
                break
            await asyncio.sleep(0.05)
