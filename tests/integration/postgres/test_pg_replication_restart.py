"""PostgreSQL restarted under a running stream (on a private server: the shared one must stay up).

A fast shutdown makes each walsender wait until its client confirms everything it was sent; a
CDC client cannot confirm changes it has not made durable, so without care the server's
shutdown hangs for ``wal_sender_timeout``. The stream detects the shutdown (reply requests in a
tight loop): with nothing in flight it confirms the server's WAL end and ends cleanly, otherwise
it closes the connection and raises a retriable error. Either way the server stops at once, and
after the restart a new connection resumes without losing anything.

PostgreSQL 15 keeps a logical slot's ``confirmed_flush_lsn`` in memory and writes it to disk only
when the slot is saved for another reason (fixed in 17), so after a restart the slot may be
behind what was confirmed and would replay confirmed transactions. Resuming with the caller's
own durable position as ``start_lsn`` skips them: the server starts at the later of the two.
"""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from connectors.postgres.pgwire import ConnectParams, PostgresConnectionError
from connectors.postgres.replication import ReplicationConnection, ReplicationStream, XLogData
from tests.support.pg_private import PrivateServer, private_server

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    with private_server(
        conf="wal_level = logical\nmax_replication_slots = 4",
        hba="host all postgres 127.0.0.1/32 trust",
        sql="CREATE TABLE t (id int PRIMARY KEY, v text); CREATE PUBLICATION p FOR TABLE t",
    ) as srv:
        yield srv


@pytest.fixture
def params(server: PrivateServer) -> ConnectParams:
    return ConnectParams(host="127.0.0.1", port=server.port, dbname="postgres", sslmode="disable")


@pytest.fixture
async def slot(params: ConnectParams) -> AsyncIterator[str]:
    async with await ReplicationConnection.connect(params) as repl:
        await repl.create_replication_slot("restart_slot", snapshot="nothing")
    yield "restart_slot"
    async with await ReplicationConnection.connect(params) as repl:
        await repl.drop_replication_slot("restart_slot", wait=True)


async def insert(server: PrivateServer, *rows: tuple[int, str]) -> None:
    pg = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{server.port}/postgres")
    for row in rows:
        await pg.execute("INSERT INTO t VALUES ($1, $2)", *row)
    await pg.close()


async def commits(stream: ReplicationStream, count: int) -> list[XLogData]:
    got: list[XLogData] = []
    deadline = time.monotonic() + 20
    while sum(1 for m in got if m.payload[:1] == b"C") < count:
        assert time.monotonic() < deadline
        got.extend(await stream.read(timeout=1))
    return got


def commit_end(message: XLogData) -> int:
    return int(struct.unpack_from("!Q", message.payload, 10)[0])


async def restart_while_reading(
    server: PrivateServer, stream: ReplicationStream
) -> tuple[float, BaseException | None]:
    """Restart the server while a task keeps reading; return the restart's duration and what
    the reader ended with."""

    async def keep_reading() -> None:
        while not stream.ended:
            await stream.read(timeout=1)

    reader = asyncio.ensure_future(keep_reading())
    started = time.monotonic()
    await asyncio.to_thread(server.restart)
    took = time.monotonic() - started
    try:
        await asyncio.wait_for(reader, 10)
    except (TimeoutError, PostgresConnectionError) as exc:
        return took, exc
    return took, None


async def test_restart_with_unconfirmed_changes(
    server: PrivateServer, params: ConnectParams, slot: str
) -> None:
    repl = await ReplicationConnection.connect(params)
    stream = await repl.start_replication(slot, publication_names=["p"])
    await insert(server, (1, "confirmed"), (2, "not confirmed"))
    got = await commits(stream, 2)
    stream.confirm(commit_end(next(m for m in got if m.payload[:1] == b"C")))
    stream.send_status()

    took, outcome = await restart_while_reading(server, stream)
    assert took < 15, f"the server's shutdown waited for the client ({took:.1f} s)"
    assert isinstance(outcome, PostgresConnectionError)
    assert "is shutting down and waits for this client" in str(outcome)
    await repl.close()

    async with await ReplicationConnection.connect(params) as again:
        resumed = await again.start_replication(slot, stream.confirmed_lsn, publication_names=["p"])
        replay = await commits(resumed, 1)
        inserts = [m.payload for m in replay if m.payload[:1] == b"I"]
        assert len(inserts) == 1 and inserts[0].endswith(b"not confirmed")
        resumed.confirm(commit_end(replay[-1]))
        await resumed.stop()


async def test_restart_with_everything_confirmed(
    server: PrivateServer, params: ConnectParams, slot: str
) -> None:
    repl = await ReplicationConnection.connect(params)
    stream = await repl.start_replication(slot, publication_names=["p"])
    await insert(server, (10, "a"))
    got = await commits(stream, 1)
    stream.confirm(commit_end(got[-1]))
    stream.send_status()

    took, outcome = await restart_while_reading(server, stream)
    assert took < 15, f"the server's shutdown waited for the client ({took:.1f} s)"
    assert outcome is None  # the walsender finished the COPY cleanly
    assert stream.ended and stream.confirmed_lsn >= commit_end(got[-1])
    await repl.close()

    async with await ReplicationConnection.connect(params) as again:
        resumed = await again.start_replication(slot, stream.confirmed_lsn, publication_names=["p"])
        assert await resumed.read(timeout=1.0) == []  # nothing replayed
        await insert(server, (11, "b"))
        fresh = await commits(resumed, 1)
        assert next(m.payload for m in fresh if m.payload[:1] == b"I").endswith(b"b")
        await resumed.stop()
