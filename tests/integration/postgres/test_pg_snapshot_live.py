"""Captured tables, publication auto-creation and the COPY snapshot against the real PostgreSQL 15.

Every test uses its own schema, publications, roles and (temporary) slots, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlparse

import asyncpg
import pytest

from connectors.postgres.config import PostgresConfig
from connectors.postgres.pgwire import ConnectParams
from connectors.postgres.publication import (
    PublicationAction,
    ReplicaIdentity,
    captured_tables,
    ensure_publication,
    quote_ident,
)
from connectors.postgres.replication import ReplicationConnection
from connectors.postgres.snapshot import Snapshot
from connectors.postgres.types import CopyTextParser, copy_select
from connectors.sdk.errors import ConfigError

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@dataclass
class Env:
    dsn: str
    admin: asyncpg.Connection
    tag: str
    schema: str
    host: str
    port: int
    dbname: str

    def config(self, user: str = "postgres", **overrides: str) -> PostgresConfig:
        props = {
            "database.hostname": self.host,
            "database.port": str(self.port),
            "database.user": user,
            "database.password": "unused-under-trust",
            "database.dbname": self.dbname,
            "database.sslmode": "disable",
            "topic.prefix": "dbserver1",
            "plugin.name": "pgoutput",
            "schema.include.list": re.escape(self.schema),
            "slot.name": f"{self.tag}_slot",
            "publication.name": f"{self.tag}_pub",
        }
        props.update({k.replace("__", "."): v for k, v in overrides.items()})
        return PostgresConfig.parse(props)

    @property
    def s(self) -> str:
        return quote_ident(self.schema)

    async def published(self, publication: str) -> set[str]:
        rows = await self.admin.fetch(
            "SELECT n.nspname || '.' || c.relname FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid "
            "JOIN pg_class c ON c.oid = r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE p.pubname = $1",
            publication,
        )
        return {r[0] for r in rows}


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    tag = f"pgsnap_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    admin = await asyncpg.connect(postgres_dsn)
    schema = f"{tag}_Mixed.Case"
    await admin.execute(f"CREATE SCHEMA {quote_ident(schema)}")
    e = Env(
        postgres_dsn, admin, tag, schema, url.hostname or "127.0.0.1", url.port or 5432, url.path.lstrip("/")
    )
    try:
        yield e
    finally:
        await admin.execute(
            f"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name LIKE '{tag}%' AND active"
        )
        for _ in range(50):
            rows = await admin.fetch(f"SELECT active FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'")
            if not any(r["active"] for r in rows):
                break
            await asyncio.sleep(0.1)
        await admin.execute(
            f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE '{tag}%'"
        )
        for pub in await admin.fetch(f"SELECT pubname FROM pg_publication WHERE pubname LIKE '{tag}%'"):
            await admin.execute(f"DROP PUBLICATION {quote_ident(pub[0])}")
        await admin.execute(f"DROP SCHEMA {quote_ident(schema)} CASCADE")
        for role in await admin.fetch(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{tag}%'"):
            await admin.execute(f"DROP OWNED BY {role[0]}; DROP ROLE {role[0]}")
        await admin.close()


# -- captured tables ----------------------------------------------------------------------------


async def test_captured_tables_keys_partitions_and_names(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    s = env.s
    await env.admin.execute(
        f"""
        CREATE TABLE {s}."Orders" (region text, "Order.Id" bigint, note varchar(20) NOT NULL,
                                   dropped int, price numeric(10, 2), doubled bigint GENERATED ALWAYS AS ("Order.Id" * 2) STORED,
                                   PRIMARY KEY ("Order.Id", region));
        ALTER TABLE {s}."Orders" DROP COLUMN dropped;
        CREATE TABLE {s}."we""ird.name" (id int);
        CREATE TABLE {s}.full_identity (id int);
        ALTER TABLE {s}.full_identity REPLICA IDENTITY FULL;
        CREATE TABLE {s}.measures (id int, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
        CREATE TABLE {s}.measures_2026 PARTITION OF {s}.measures FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
        CREATE TABLE public.{env.tag}_outside (id int PRIMARY KEY);
        """
    )
    try:
        with caplog.at_level(logging.WARNING, "connectors.postgres.publication"):
            tables = await captured_tables(env.admin, env.config())
    finally:
        await env.admin.execute(f"DROP TABLE public.{env.tag}_outside")
    by_name = {t.name: t for t in tables}
    assert [t.name for t in tables] == sorted(by_name)  # sorted, only the schema's tables
    assert set(by_name) == {"Orders", 'we"ird.name', "full_identity", "measures", "measures_2026"}

    orders = by_name["Orders"]
    assert orders.id == f"{env.schema}.Orders"
    assert orders.qualified == f'"{env.schema}"."Orders"'
    assert [c.name for c in orders.columns] == ["region", "Order.Id", "note", "price"]  # no dropped/generated
    assert [c.position for c in orders.columns] == [1, 2, 3, 5]
    assert orders.primary_key == ("Order.Id", "region")  # index order, not column order
    note, price = orders.columns[2], orders.columns[3]
    assert (note.type_oid, note.typmod, note.optional) == (1043, 24, False)
    assert (price.type_oid, price.typmod, price.optional) == (1700, (10 << 16 | 2) + 4, True)
    assert orders.columns[1].optional is False  # primary key columns are NOT NULL
    assert orders.replica_identity is ReplicaIdentity.DEFAULT

    assert by_name["measures"].partitioned and by_name["measures"].primary_key == ("id", "at")
    assert by_name["measures_2026"].partition and not by_name["measures_2026"].partitioned
    assert by_name['we"ird.name'].primary_key == ()
    assert by_name["full_identity"].replica_identity is ReplicaIdentity.FULL

    warned = " ".join(r.getMessage() for r in caplog.records)
    assert "weird.name" not in warned and f'{env.schema}.we"ird.name has no primary key' in warned
    assert "REPLICA IDENTITY FULL" in warned
    assert "full_identity" not in warned and "Orders" not in warned and "measures " not in warned

    narrowed = await captured_tables(
        env.admin, env.config(table__include__list=re.escape(env.schema) + r"\.Ord.*")
    )
    assert [t.name for t in narrowed] == ["Orders"]


# -- publication --------------------------------------------------------------------------------


async def test_publication_modes(env: Env) -> None:
    s = env.s
    await env.admin.execute(
        f'CREATE TABLE {s}."Alpha" (id int PRIMARY KEY); CREATE TABLE {s}."be.ta" (id int PRIMARY KEY);'
        f"CREATE TABLE {s}.gamma (id int PRIMARY KEY)"
    )
    pub = f"{env.tag}_Pub.X"  # needs quoting
    config = env.config(publication__name=pub, publication__autocreate__mode="filtered")
    tables = await captured_tables(env.admin, config)
    assert await ensure_publication(env.admin, config, tables) is PublicationAction.CREATED
    ids = {f"{env.schema}.Alpha", f"{env.schema}.be.ta", f"{env.schema}.gamma"}
    assert await env.published(pub) == ids
    # created with publish without the skipped truncates (skipped.operations defaults to t)
    assert await env.admin.fetchval("SELECT pubtruncate FROM pg_publication WHERE pubname = $1", pub) is False
    assert await ensure_publication(env.admin, config, tables) is PublicationAction.EXISTS

    # the filter changes: the publication follows
    narrowed = env.config(
        publication__name=pub,
        publication__autocreate__mode="filtered",
        table__exclude__list=re.escape(env.schema) + r"\.gamma",
    )
    fewer = await captured_tables(env.admin, narrowed)
    assert await ensure_publication(env.admin, narrowed, fewer) is PublicationAction.ALTERED
    assert await env.published(pub) == ids - {f"{env.schema}.gamma"}

    # all_tables / no_tables create; an existing publication is kept as is
    all_pub, empty_pub = f"{env.tag}_all", f"{env.tag}_empty"
    for name, mode in ((all_pub, "all_tables"), (empty_pub, "no_tables")):
        cfg = env.config(
            publication__name=name, publication__autocreate__mode=mode, skipped__operations="none"
        )
        assert await ensure_publication(env.admin, cfg, tables) is PublicationAction.CREATED
        assert await ensure_publication(env.admin, cfg, fewer) is PublicationAction.EXISTS
    row = await env.admin.fetchrow(
        "SELECT puballtables, pubtruncate FROM pg_publication WHERE pubname = $1", all_pub
    )
    assert tuple(row) == (True, True)
    assert await env.published(empty_pub) == set()
    # filtered on an existing FOR ALL TABLES publication: nothing to alter
    cfg = env.config(publication__name=all_pub, publication__autocreate__mode="filtered")
    assert await ensure_publication(env.admin, cfg, fewer) is PublicationAction.EXISTS

    # disabled never creates
    cfg = env.config(publication__name=f"{env.tag}_missing", publication__autocreate__mode="disabled")
    with pytest.raises(ConfigError) as error:
        await ensure_publication(env.admin, cfg, tables)
    message = str(error.value)
    assert "publication.autocreate.mode=disabled" in message
    assert f'CREATE PUBLICATION "{env.tag}_missing" FOR TABLE "{env.schema}"."Alpha"' in message
    assert not await env.admin.fetchval(
        "SELECT count(*) FROM pg_publication WHERE pubname = $1", f"{env.tag}_missing"
    )


async def test_filtered_publication_owned_by_someone_else(env: Env) -> None:
    s = env.s
    role = f"{env.tag}_cdc"
    await env.admin.execute(
        f"CREATE TABLE {s}.a (id int PRIMARY KEY); CREATE TABLE {s}.b (id int PRIMARY KEY);"
        f"CREATE ROLE {role} LOGIN REPLICATION; GRANT USAGE ON SCHEMA {s} TO {role};"
        f"GRANT CREATE ON DATABASE {quote_ident(env.dbname)} TO {role}"
    )
    pub = f"{env.tag}_pub"
    await env.admin.execute(f"CREATE PUBLICATION {pub} FOR TABLE {s}.a")
    config = env.config(user=role, publication__autocreate__mode="filtered")
    conn = await asyncpg.connect(**config.connect_kwargs())
    try:
        tables = await captured_tables(conn, config)
        assert [t.owned for t in tables] == [False, False]
        with pytest.raises(ConfigError) as error:
            await ensure_publication(conn, config, tables)
        message = str(error.value)
        assert f'ALTER PUBLICATION "{pub}" SET TABLE "{env.schema}"."a", "{env.schema}"."b"' in message
        assert "owned by postgres" in message and f'OWNER TO "{role}"' in message
        # missing publication, tables owned by postgres: CREATE ... FOR TABLE needs their ownership
        other = env.config(
            user=role, publication__name=f"{env.tag}_new", publication__autocreate__mode="filtered"
        )
        with pytest.raises(
            ConfigError, match=r"ownership of every captured table.*Have a DBA run CREATE PUBLICATION"
        ):
            await ensure_publication(conn, other, tables)
    finally:
        await conn.close()
    assert await env.published(pub) == {f"{env.schema}.a"}


# -- snapshot -----------------------------------------------------------------------------------


async def test_exported_snapshot_sees_exactly_the_rows_before_the_slot(env: Env) -> None:
    s = env.s
    await env.admin.execute(
        f'CREATE TABLE {s}."Items" (id int PRIMARY KEY, label text, at timestamptz DEFAULT now());'
        f"INSERT INTO {s}.\"Items\" (id, label) SELECT g, 'row ' || g || E'\\t\\\\' FROM generate_series(1, 10000) g"
    )
    config = env.config()
    tables = await captured_tables(env.admin, config)
    params = ConnectParams.from_dsn(env.dsn, sslmode="disable", application_name="pg-snapshot-test")
    async with await ReplicationConnection.connect(params) as repl:
        created = await repl.create_replication_slot(f"{env.tag}_slot", snapshot="export", temporary=True)
        assert created.snapshot_name
        # changes after the slot: not in the snapshot (the stream has them)
        await env.admin.execute(
            f"INSERT INTO {s}.\"Items\" (id, label) SELECT g, 'late' FROM generate_series(10001, 10500) g;"
            f'DELETE FROM {s}."Items" WHERE id <= 100; UPDATE {s}."Items" SET label = \'changed\' WHERE id = 500'
        )
        snap = await Snapshot.open(config, tables, snapshot_name=created.snapshot_name, batch_size=1000)
        async with snap:
            assert snap.start_lsn is None
            assert snap.progress.tables[tables[0].id].total == 10000  # counted inside the snapshot
            await env.admin.execute(f"INSERT INTO {s}.\"Items\" (id, label) VALUES (20000, 'later')")
            ids: list[int] = []
            batches = 0
            async for table, rows in snap.tables():
                assert table.name == "Items"
                async for batch in rows:
                    if batches == 0:  # bounded memory: rows flow before the COPY has finished
                        assert snap._copy is not None and not snap._copy.done()
                    batches += 1
                    assert len(batch) <= 1000
                    ids.extend(int(r[0]) for r in batch)  # type: ignore[arg-type]
                    if int(batch[0][0]) == 1:  # type: ignore[arg-type]
                        assert batch[0][1] == "row 1\t\\"
                    if any(r[0] == "500" for r in batch):
                        assert next(r for r in batch if r[0] == "500")[1] == "row 500\t\\"
                    await asyncio.sleep(0)
            assert sorted(ids) == list(range(1, 10001))
            assert batches == 10
            assert snap.progress.rows_done == 10000 and snap.progress.tables_done == 1
            assert "1/1 tables, 10000/~10000 rows" in snap.progress.describe()


async def test_snapshot_without_export_records_its_start_lsn(env: Env) -> None:
    s = env.s
    await env.admin.execute(
        f"CREATE TABLE {s}.t (id int PRIMARY KEY, v text); INSERT INTO {s}.t SELECT g, 'x' FROM generate_series(1, 50) g;"
        f"CREATE TABLE {s}.parent (id int, k int) PARTITION BY LIST (k);"
        f"CREATE TABLE {s}.child PARTITION OF {s}.parent FOR VALUES IN (1); INSERT INTO {s}.parent VALUES (1, 1), (2, 1)"
    )
    config = env.config()
    tables = await captured_tables(env.admin, config)
    # a filtered publication naming a partitioned table and its partition is stable across starts
    filtered = env.config(publication__autocreate__mode="filtered")
    assert await ensure_publication(env.admin, filtered, tables) is PublicationAction.CREATED
    assert await ensure_publication(env.admin, filtered, tables) is PublicationAction.EXISTS
    before = await env.admin.fetchval("SELECT pg_current_wal_lsn()::text")
    async with await Snapshot.open(config, tables, batch_size=7) as snap:
        assert snap.start_lsn is not None
        from connectors.postgres.lsn import parse_lsn

        assert snap.start_lsn >= parse_lsn(before)
        await env.admin.execute(
            f"INSERT INTO {s}.t VALUES (51, 'late'); INSERT INTO {s}.parent VALUES (3, 1)"
        )
        seen: dict[str, list[list[str | None]]] = {}
        async for table, batches in snap.tables():
            seen[table.name] = [row async for batch in batches for row in batch]
    assert sorted(seen) == ["child", "parent", "t"]
    assert len(seen["t"]) == 50 and seen["parent"] == []  # partition rows come from the partition
    assert sorted(seen["child"]) == [["1", "1"], ["2", "1"]]


async def test_stopping_early_closes_the_connection(env: Env) -> None:
    s = env.s
    await env.admin.execute(
        f"CREATE TABLE {s}.big (id int); INSERT INTO {s}.big SELECT generate_series(1, 50000)"
    )
    config = env.config()
    tables = await captured_tables(env.admin, config)
    snap = await Snapshot.open(config, tables, batch_size=100)
    async for batch in snap.rows(tables[0]):
        assert len(batch) == 100
        break
    await snap.close()
    assert snap.conn.is_closed()


async def test_snapshot_throughput_100k_rows_10_columns(env: Env) -> None:
    """COPY + parse rate (no event building); printed for the report."""
    s = env.s
    await env.admin.execute(
        f"""CREATE TABLE {s}.wide (id bigint PRIMARY KEY, a int, b bigint, c text, d numeric(12, 2),
                                  e timestamptz, f boolean, g double precision, h varchar(40), i date);
            INSERT INTO {s}.wide SELECT g, g % 1000, g * 7, 'text value ' || g, g / 3.0, now(), g % 2 = 0,
                   g * 1.5, md5(g::text), current_date FROM generate_series(1, 100000) g;
            ANALYZE {s}.wide"""
    )
    config = env.config()
    tables = await captured_tables(env.admin, config)
    async with await Snapshot.open(config, tables) as snap:
        started = time.perf_counter()
        count = 0
        async for batch in snap.rows(tables[0]):
            count += len(batch)
            assert len(batch[0]) == 10
        elapsed = time.perf_counter() - started
    assert count == 100000
    rate = count / elapsed
    print(f"\nsnapshot COPY+parse: {count} rows x 10 columns in {elapsed:.3f} s = {rate:,.0f} rows/s")
    # the bare COPY, for comparison
    parser = CopyTextParser()
    parsed = 0

    async def sink(chunk: bytes) -> None:
        nonlocal parsed
        parsed += len(parser.feed(chunk))

    started = time.perf_counter()
    await env.admin.copy_from_query(copy_select(tables[0].qualified, tables[0].column_names), output=sink)
    print(f"direct copy_from_query + parse: {parsed / (time.perf_counter() - started):,.0f} rows/s")
    assert rate > 20000
