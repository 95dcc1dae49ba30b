"""Snapshot batching, backpressure and progress, and publication SQL helpers, without a server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from connectors.postgres.publication import (
    CapturedTable,
    Column,
    ReplicaIdentity,
    _with_publish,
    qualified_name,
    quote_ident,
)
from connectors.postgres.snapshot import Progress, Snapshot, TableProgress

Sink = Callable[[bytes], Coroutine[Any, Any, None]]


class FakeConn:
    """Replays COPY output in the given chunks; records how far the COPY got."""

    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.sent = 0
        self.finished = False
        self.queries: list[str] = []
        self.terminated = False

    async def copy_from_query(self, query: str, *, output: Sink) -> str:
        self.queries.append(query)
        for chunk in self.chunks:
            await output(chunk)
            self.sent += 1
        if self.fail is not None:
            raise self.fail
        self.finished = True
        return "COPY"

    def terminate(self) -> None:
        self.terminated = True


def table(name: str = "T.x", *, partitioned: bool = False) -> CapturedTable:
    return CapturedTable(
        oid=1,
        schema="Sch",
        name=name,
        columns=(Column("id", 23, -1, False, 1), Column("v", 25, -1, True, 2)),
        primary_key=("id",),
        replica_identity=ReplicaIdentity.DEFAULT,
        partitioned=partitioned,
        partition=False,
        owned=True,
        row_estimate=-1,
        size_bytes=0,
    )


def copy_bytes(rows: int) -> bytes:
    return b"".join(f"{i}\tv\\t{i}\n".encode() for i in range(rows)) + b"9999\t\\N\n"


def test_identifiers_are_always_quoted() -> None:
    assert quote_ident("orders") == '"orders"'
    assert qualified_name("My.Schema", 'a"b') == '"My.Schema"."a""b"'
    assert table().qualified == '"Sch"."T.x"' and table().id == "Sch.T.x"


def test_publish_option_drops_skipped_operations() -> None:
    assert _with_publish(set()) == ""
    assert _with_publish({"t"}) == " WITH (publish = 'insert, update, delete')"
    assert _with_publish({"c", "d"}) == " WITH (publish = 'update, truncate')"


async def test_rows_are_batched_across_chunk_boundaries() -> None:
    data = copy_bytes(25)
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    conn = FakeConn(chunks)
    snap = Snapshot(conn, [table()], start_lsn=None, batch_size=10)  # type: ignore[arg-type]
    batches = [batch async for batch in snap.rows(table())]
    assert [len(b) for b in batches] == [10, 10, 6]
    assert batches[0][1] == ["1", "v\t1"] and batches[-1][-1] == ["9999", None]
    assert conn.queries == ['SELECT "id", "v" FROM ONLY "Sch"."T.x"']
    assert snap.progress.tables["Sch.T.x"].done == 26 and snap.progress.tables_done == 1


async def test_a_slow_consumer_pauses_the_copy() -> None:
    conn = FakeConn([f"{i}\tx\n".encode() for i in range(100)])
    snap = Snapshot(conn, [table()], start_lsn=None, batch_size=1, queue_batches=2)  # type: ignore[arg-type]
    rows = snap.rows(table())
    first = await rows.__anext__()
    await asyncio.sleep(0.01)
    assert first == [["0", "x"]]
    assert conn.sent <= 4 and not conn.finished  # waits for the consumer
    rest = [batch async for batch in rows]
    assert len(rest) == 99 and conn.finished


async def test_copy_errors_reach_the_consumer() -> None:
    conn = FakeConn([b"1\tx\n"], fail=RuntimeError("connection lost"))
    snap = Snapshot(conn, [table()], start_lsn=None, batch_size=10)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="connection lost"):
        async for _ in snap.rows(table()):
            pass
    assert not snap.progress.tables["Sch.T.x"].finished


async def test_partitioned_parents_have_no_rows_of_their_own() -> None:
    conn = FakeConn([b"1\tx\n"])
    snap = Snapshot(conn, [table(partitioned=True)], start_lsn=None, batch_size=10)  # type: ignore[arg-type]
    assert [b async for b in snap.rows(table(partitioned=True))] == []
    assert conn.queries == []


def test_progress_rate_and_eta() -> None:
    progress = Progress(started=100.0)
    progress.tables = {
        "a": TableProgress("a", 1000, done=1000, finished=True),
        "b": TableProgress("b", 3000, 1000),
    }
    assert progress.rows_done == 2000 and progress.rows_total == 4000
    assert progress.rows_per_second(now=110.0) == 200.0
    assert progress.eta_seconds(now=110.0) == 10.0
    progress.tables["c"] = TableProgress("c", None)
    assert progress.rows_total is None and progress.eta_seconds(now=110.0) is None
    assert "1/3 tables, 2000 rows" in progress.describe()
