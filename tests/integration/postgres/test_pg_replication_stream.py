"""The logical replication connection against the real (shared) PostgreSQL 15.

Every test uses its own slot, publication and table names and drops them afterwards: a leftover
slot would retain WAL on the shared server.
"""

from __future__ import annotations

import asyncio
import struct
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest

from connectors.postgres.lsn import format_lsn
from connectors.postgres.pgwire import (
    ConnectParams,
    DuplicateObjectError,
    InsufficientPrivilegeError,
    ObjectInUseError,
    PostgresConnectionError,
    PostgresServerError,
    UndefinedObjectError,
)
from connectors.postgres.replication import ReplicationConnection, ReplicationStream, XLogData

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@dataclass
class Env:
    dsn: str
    params: ConnectParams
    pg: asyncpg.Connection
    slot: str
    publication: str
    table: str

    async def repl(self, **changes: object) -> ReplicationConnection:
        return await ReplicationConnection.connect(self.params.with_(**changes))

    async def slot_row(self) -> asyncpg.Record | None:
        return await self.pg.fetchrow(
            "SELECT active, active_pid, confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots "
            "WHERE slot_name = $1",
            self.slot,
        )


@pytest.fixture
async def env(postgres_dsn: str) -> AsyncIterator[Env]:
    suffix = uuid.uuid4().hex[:10]
    pg = await asyncpg.connect(postgres_dsn)
    e = Env(
        dsn=postgres_dsn,
        params=ConnectParams.from_dsn(postgres_dsn, sslmode="disable", application_name="pg-repl-test"),
        pg=pg,
        slot=f"t_repl_{suffix}",
        publication=f"t_pub_{suffix}",
        table=f"t_repl_{suffix}",
    )
    await pg.execute(f"CREATE TABLE {e.table} (id bigint PRIMARY KEY, name text)")
    await pg.execute(f"CREATE PUBLICATION {e.publication} FOR TABLE {e.table}")
    try:
        yield e
    finally:
        await pg.execute(
            "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
            "WHERE slot_name = $1 AND active_pid IS NOT NULL",
            e.slot,
        )
        for _ in range(50):
            row = await pg.fetchrow("SELECT active FROM pg_replication_slots WHERE slot_name = $1", e.slot)
            if row is None:
                break
            if not row["active"]:
                await pg.execute("SELECT pg_drop_replication_slot($1)", e.slot)
                break
            await asyncio.sleep(0.1)
        await pg.execute(f"DROP PUBLICATION IF EXISTS {e.publication}")
        await pg.execute(f"DROP TABLE IF EXISTS {e.table}")
        await pg.close()


async def read_until(
    stream: ReplicationStream, done: Callable[[list[XLogData]], bool], timeout: float = 20.0
) -> list[XLogData]:
    got: list[XLogData] = []
    deadline = time.monotonic() + timeout
    while not done(got):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; got {[m.payload[:1] for m in got]}"
        got.extend(await stream.read(timeout=remaining))
    return got


def kinds(messages: list[XLogData]) -> str:
    return "".join(chr(m.payload[0]) for m in messages)


def commits(messages: list[XLogData]) -> int:
    return sum(1 for m in messages if m.payload[:1] == b"C")


def commit_end_lsn(message: XLogData) -> int:
    """pgoutput Commit: 'C', Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 timestamp."""
    assert message.payload[:1] == b"C"
    return int(struct.unpack_from("!Q", message.payload, 10)[0])


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_identify_system_and_connection_facts(env: Env) -> None:
    async with await env.repl() as repl:
        ident = await repl.identify_system()
        assert ident.dbname == env.params.dbname
        assert ident.timeline >= 1
        current = await env.pg.fetchval("SELECT pg_current_wal_lsn()::text")
        assert ident.xlogpos <= int(current.split("/")[0], 16) << 32 | int(current.split("/")[1], 16)
        assert repl.server_version >= 150000
        assert repl.backend_pid > 0 and not repl.tls
        backend = await env.pg.fetchrow(
            "SELECT backend_type, application_name FROM pg_stat_activity WHERE pid = $1", repl.backend_pid
        )
        assert backend["backend_type"] == "walsender"
        assert backend["application_name"] == "pg-repl-test"


async def test_exported_snapshot_is_consistent_with_the_stream(env: Env) -> None:
    await env.pg.execute(f"INSERT INTO {env.table} SELECT g, 'before' FROM generate_series(1, 10) g")
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot)
        assert slot.snapshot_name and slot.output_plugin == "pgoutput"
        assert repl.exported_snapshot == slot.snapshot_name
        # Changes committed after the slot's consistent point belong to the stream, not the snapshot.
        await env.pg.execute(f"INSERT INTO {env.table} SELECT g, 'after' FROM generate_series(11, 15) g")
        await env.pg.execute(f"UPDATE {env.table} SET name = 'changed' WHERE id = 1")

        reader = await asyncpg.connect(env.dsn)
        try:
            async with reader.transaction(isolation="repeatable_read", readonly=True):
                await reader.execute(f"SET TRANSACTION SNAPSHOT '{slot.snapshot_name}'")
                rows = await reader.fetch(f"SELECT id, name FROM {env.table} ORDER BY id")
            assert [(r["id"], r["name"]) for r in rows] == [(i, "before") for i in range(1, 11)]
        finally:
            await reader.close()

        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication]
        )
        assert repl.exported_snapshot is None
        got = await read_until(stream, lambda got: commits(got) == 2)
        assert kinds(got) == "BRIIIIICBUC"  # 5 inserts, then the update: nothing before the snapshot
        await stream.stop()


async def test_exported_snapshot_dies_with_the_next_command(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot)
        await repl.identify_system()
        assert repl.exported_snapshot is None
        reader = await asyncpg.connect(env.dsn)
        try:
            with pytest.raises(asyncpg.PostgresError, match="invalid snapshot identifier"):
                async with reader.transaction(isolation="repeatable_read", readonly=True):
                    await reader.execute(f"SET TRANSACTION SNAPSHOT '{slot.snapshot_name}'")
        finally:
            await reader.close()


async def test_streams_raw_pgoutput_payloads_and_logical_messages(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        assert slot.snapshot_name is None
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication], proto_version=2
        )
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'one'), (2, 'two')")
        await env.pg.execute("SELECT pg_logical_emit_message(false, 'penstock', 'hello')")
        await env.pg.execute(f"DELETE FROM {env.table} WHERE id = 2")
        got = await read_until(stream, lambda got: commits(got) == 2 and b"M" in kinds(got).encode())
        assert kinds(got) == "BRIICMBDC"
        relation = got[1].payload
        assert env.table.encode() in relation and b"public" in relation
        assert got[2].payload.endswith(b"one") and got[3].payload.endswith(b"two")
        assert b"penstock\x00" in got[5].payload and got[5].payload.endswith(b"hello")
        # Positions: data messages carry their WAL position, the commit its end.
        assert got[2].data_start > 0 and got[4].data_start >= got[2].data_start
        assert stream.received_lsn == got[-1].data_start
        assert stream.stats.messages == len(got)
        assert stream.stats.payload_bytes == sum(len(m.payload) for m in got)
        assert stream.server_time > time.time() - 60
        await stream.stop()
        # The connection is usable again after a clean stop.
        info = await repl.slot_info(env.slot)
        assert info is not None and info.plugin == "pgoutput" and info.slot_type == "logical"
        assert not info.active and info.active_pid is None  # released by the stop
        assert info.confirmed_flush_lsn == slot.consistent_point  # nothing was confirmed
        await repl.drop_replication_slot(env.slot)
        assert await repl.slot_info(env.slot) is None


async def test_confirm_advances_the_slot_exactly_and_never_further(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        initial = (await env.slot_row())["confirmed"]
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication], status_interval=0.2
        )
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'a')")
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (2, 'b')")
        got = await read_until(stream, lambda got: commits(got) == 2)
        first_commit = next(m for m in got if m.payload[:1] == b"C")
        last_commit = got[-1]
        # Received but not confirmed: periodic status updates and keepalive replies go out, and
        # the slot does not move.
        await asyncio.sleep(0.8)
        assert stream.stats.status_updates >= 2
        assert (await env.slot_row())["confirmed"] == initial

        target = commit_end_lsn(first_commit)
        stream.confirm(target)
        assert stream.confirmed_lsn == target
        # No explicit send: the periodic update (every 0.2 s) carries it.
        await wait_for(lambda: _confirmed_is(env, format_lsn(target)))
        stream.confirm(target - 1)  # lower: ignored
        stream.send_status()
        await asyncio.sleep(0.5)
        assert (await env.slot_row())["confirmed"] == format_lsn(target)

        final = commit_end_lsn(last_commit)
        stream.confirm(final)
        stream.send_status()
        await wait_for(lambda: _confirmed_is(env, format_lsn(final)))
        await stream.stop()

    # Restart from the slot: only the unconfirmed-nothing remains, i.e. no replay.
    async with await env.repl() as repl:
        stream = await repl.start_replication(env.slot, publication_names=[env.publication])
        assert await stream.read(timeout=1.0) == []
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (3, 'c')")
        got = await read_until(stream, lambda got: commits(got) == 1)
        assert next(m.payload for m in got if m.payload[:1] == b"I").endswith(b"c")
        await stream.stop()


async def _confirmed_is(env: Env, lsn: str) -> bool:
    row = await env.slot_row()
    return row is not None and row["confirmed"] == lsn


async def test_unconfirmed_changes_are_sent_again_after_a_restart(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication]
        )
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'a')")
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (2, 'b')")
        got = await read_until(stream, lambda got: commits(got) == 2)
        stream.confirm(commit_end_lsn(next(m for m in got if m.payload[:1] == b"C")))
        await stream.stop()
    async with await env.repl() as repl:
        stream = await repl.start_replication(env.slot, publication_names=[env.publication])
        again = await read_until(stream, lambda got: commits(got) == 1)
        inserts = [m.payload for m in again if m.payload[:1] == b"I"]
        assert len(inserts) == 1 and inserts[0].endswith(b"b")
        await stream.stop()


async def test_keepalive_requests_are_answered_while_idle(env: Env) -> None:
    # wal_sender_timeout is settable per connection: 2 s makes the server ask for a reply after
    # 1 s of silence, and drop us after 2 s without one. Periodic updates are off here, so only
    # the keepalive replies keep the connection alive.
    async with await env.repl(server_settings={"wal_sender_timeout": "2s"}) as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication], status_interval=0
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            assert await stream.read(timeout=0.3) == []
        assert stream.stats.keepalives >= 2
        assert stream.stats.status_updates >= 2  # one reply per keepalive that asked for it
        assert stream.server_wal_end >= slot.consistent_point
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'still alive')")
        got = await read_until(stream, lambda got: commits(got) == 1)
        assert got[-2].payload.endswith(b"still alive")
        await stream.stop()


async def test_periodic_status_keeps_a_busy_consumer_connected(env: Env) -> None:
    # The consumer does not read for 5 s (longer than wal_sender_timeout=2s): the background
    # status updates keep the walsender from timing the connection out.
    async with await env.repl(server_settings={"wal_sender_timeout": "2s"}) as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication], status_interval=0.5
        )
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'x')")
        await asyncio.sleep(5)
        assert stream.stats.status_updates >= 8
        got = await read_until(stream, lambda got: commits(got) == 1)
        assert kinds(got) == "BRIC"
        await stream.stop()


async def test_without_replies_the_server_drops_the_connection(env: Env) -> None:
    """Control for the two tests above: nobody reads and nothing is sent → the walsender times out."""
    async with await env.repl(server_settings={"wal_sender_timeout": "1s"}) as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication], status_interval=0
        )
        await asyncio.sleep(3)
        with pytest.raises((PostgresConnectionError, PostgresServerError)):
            await read_until(stream, lambda got: False, timeout=5)
        assert stream.ended


async def test_slot_in_use_names_the_holder(env: Env) -> None:
    async with await env.repl() as holder:
        slot = await holder.create_replication_slot(env.slot, snapshot="nothing")
        stream = await holder.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication]
        )
        async with await env.repl() as other:
            with pytest.raises(ObjectInUseError) as caught:
                await other.start_replication(env.slot, publication_names=[env.publication])
            assert caught.value.sqlstate == "55006"
            assert caught.value.active_pid == holder.backend_pid
            assert (await env.slot_row())["active_pid"] == holder.backend_pid
            assert "pg_replication_slots.active_pid" in str(caught.value)
            # The failed command leaves the other connection usable.
            assert (await other.identify_system()).dbname == env.params.dbname
            with pytest.raises(ObjectInUseError):
                await other.drop_replication_slot(env.slot)
        await stream.stop()


async def test_missing_and_duplicate_slots(env: Env) -> None:
    async with await env.repl() as repl:
        with pytest.raises(UndefinedObjectError, match="does not exist") as caught:
            await repl.start_replication(env.slot, publication_names=[env.publication])
        assert caught.value.sqlstate == "42704"
        with pytest.raises(UndefinedObjectError):
            await repl.drop_replication_slot(env.slot)
        await repl.create_replication_slot(env.slot, snapshot="nothing")
        with pytest.raises(DuplicateObjectError) as dup:
            await repl.create_replication_slot(env.slot, snapshot="nothing")
        assert dup.value.sqlstate == "42710"


async def test_missing_publication_surfaces_on_read(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[f"{env.publication}_missing"]
        )
        await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'x')")
        with pytest.raises(UndefinedObjectError, match=r"publication .* does not exist"):
            await read_until(stream, lambda got: False)
        assert stream.ended
        # The walsender returned to idle: the connection still runs commands.
        await repl.drop_replication_slot(env.slot)


async def test_terminated_walsender_raises_a_server_error(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication]
        )
        await env.pg.execute("SELECT pg_terminate_backend($1)", repl.backend_pid)
        with pytest.raises((PostgresServerError, PostgresConnectionError)) as caught:
            await read_until(stream, lambda got: False)
        if isinstance(caught.value, PostgresServerError):
            assert caught.value.sqlstate == "57P01"
        assert stream.ended


async def test_role_without_replication_privilege(env: Env) -> None:
    role = f"norepl_{uuid.uuid4().hex[:8]}"
    await env.pg.execute(f"CREATE ROLE {role} LOGIN NOREPLICATION")
    try:
        with pytest.raises(InsufficientPrivilegeError) as caught:
            await env.repl(user=role)
        assert caught.value.sqlstate == "42501"
        assert f"ALTER ROLE {role} WITH REPLICATION" in str(caught.value)
    finally:
        await env.pg.execute(f"DROP ROLE {role}")


async def test_connection_refused_and_unknown_host(env: Env) -> None:
    with pytest.raises(PostgresConnectionError, match="connection refused"):
        await env.repl(port=1)
    with pytest.raises(PostgresConnectionError, match=r"could not resolve .*no-such-host.invalid"):
        await env.repl(host="no-such-host.invalid")


async def test_tls_modes_against_a_server_without_tls(env: Env) -> None:
    async with await env.repl(sslmode="prefer") as repl:
        assert not repl.tls
    async with await env.repl(sslmode="allow") as repl:
        assert not repl.tls
    with pytest.raises(PostgresConnectionError, match=r"does not accept TLS .* sslmode=require"):
        await env.repl(sslmode="require")


async def test_cancelled_read_loses_nothing(env: Env) -> None:
    async with await env.repl() as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot, slot.consistent_point, publication_names=[env.publication]
        )
        task = asyncio.ensure_future(stream.read())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await env.pg.execute(f"INSERT INTO {env.table} SELECT g, 'x' FROM generate_series(1, 100) g")
        got = await read_until(stream, lambda got: commits(got) == 1)
        assert kinds(got) == "BR" + "I" * 100 + "C"
        await stream.stop()


async def test_idle_publication_can_confirm_the_server_wal_end(env: Env) -> None:
    """Writes to a table outside the publication: keepalives report the WAL end, and confirming
    it (nothing in flight) releases the WAL — the heartbeat pattern."""
    other = f"{env.table}_other"
    await env.pg.execute(f"CREATE TABLE {other} (id bigint PRIMARY KEY)")
    try:
        async with await env.repl() as repl:
            slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
            stream = await repl.start_replication(
                env.slot, slot.consistent_point, publication_names=[env.publication], status_interval=0
            )
            await env.pg.execute(f"INSERT INTO {other} SELECT g FROM generate_series(1, 1000) g")
            written = await env.pg.fetchval("SELECT pg_current_wal_lsn()::text")
            target = int(written.split("/")[0], 16) << 32 | int(written.split("/")[1], 16)
            deadline = time.monotonic() + 10
            while stream.server_wal_end < target:
                assert time.monotonic() < deadline, "no keepalive reported the new end of WAL"
                assert await stream.read(timeout=0.2) == []
            idle_end = stream.server_wal_end
            stream.confirm(idle_end)
            stream.send_status()
            await wait_for(lambda: _confirmed_is(env, format_lsn(idle_end)))
            # Data written afterwards still arrives.
            await env.pg.execute(f"INSERT INTO {env.table} VALUES (1, 'after idle')")
            got = await read_until(stream, lambda got: commits(got) == 1)
            assert got[-2].payload.endswith(b"after idle")
            await stream.stop()
    finally:
        await env.pg.execute(f"DROP TABLE {other}")


async def test_sql_and_slot_introspection_on_the_replication_connection(env: Env) -> None:
    async with await env.repl() as repl:
        results = await repl.execute("SELECT 1 AS a, NULL AS b; SELECT 'x'")
        assert [r.rows for r in results] == [[("1", None)], [("x",)]]
        assert results[0].one() == {"a": "1", "b": None}
        assert await repl.read_replication_slot(env.slot) is None  # missing slot: NULL row
        await repl.create_replication_slot(env.slot, snapshot="nothing")
        with pytest.raises(PostgresServerError, match="logical replication slot") as caught:
            await repl.read_replication_slot(env.slot)  # physical slots only, per the server
        assert caught.value.sqlstate == "0A000"
        info = await repl.slot_info(env.slot)
        assert info is not None and not info.temporary and info.database == env.params.dbname
        assert info.wal_status == "reserved" and info.retained_wal_bytes is not None
        assert info.retained_wal_bytes >= 0 and info.restart_lsn is not None


async def test_streaming_of_large_in_progress_transactions(env: Env) -> None:
    """proto_version 2 + streaming: a transaction bigger than logical_decoding_work_mem (settable
    per walsender) arrives in Stream Start/Stop blocks before its Stream Commit."""
    async with await env.repl(server_settings={"logical_decoding_work_mem": "64kB"}) as repl:
        slot = await repl.create_replication_slot(env.slot, snapshot="nothing")
        stream = await repl.start_replication(
            env.slot,
            slot.consistent_point,
            publication_names=[env.publication],
            proto_version=2,
            streaming=True,
        )
        await env.pg.execute(
            f"INSERT INTO {env.table} SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g"
        )
        got = await read_until(stream, lambda got: b"c" in kinds(got).encode())
        sequence = kinds(got)
        assert sequence[0] == "S" and sequence[-1] == "c"  # Stream Start ... Stream Commit
        assert sequence.count("I") == 5000 and "E" in sequence  # Stream Stop between blocks
        assert "B" not in sequence  # no ordinary Begin/Commit for a streamed transaction
        await stream.stop()
