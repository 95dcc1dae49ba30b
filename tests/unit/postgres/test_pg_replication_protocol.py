"""The replication client against a scripted in-process walsender.

The real server never splits messages at awkward places on purpose, rarely sends multi-megabyte
messages, and cannot be told when to end the stream or to fail; a fake one can. Integration tests
(tests/integration/postgres) cover the real PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from connectors.postgres.pgwire import (
    ConnectParams,
    PostgresConnectionError,
    PostgresProtocolError,
    UndefinedObjectError,
)
from connectors.postgres.replication import PG_EPOCH_UNIX, ReplicationConnection, ReplicationStream


def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def xlog(start: int, end: int, payload: bytes, sent: int = 0) -> bytes:
    return msg(b"d", b"w" + struct.pack("!QQq", start, end, sent) + payload)


def keepalive(wal_end: int, reply: bool) -> bytes:
    return msg(b"d", b"k" + struct.pack("!QqB", wal_end, 0, reply))


def error(code: str, text: str) -> bytes:
    return msg(b"E", b"SERROR\x00VERROR\x00C" + code.encode() + b"\x00M" + text.encode() + b"\x00\x00")


READY = msg(b"Z", b"I")


def row_result(columns: list[str], values: list[str]) -> bytes:
    desc = struct.pack("!h", len(columns)) + b"".join(
        c.encode() + b"\x00" + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0) for c in columns
    )
    row = struct.pack("!h", len(values)) + b"".join(struct.pack("!i", len(v)) + v.encode() for v in values)
    return msg(b"T", desc) + msg(b"D", row) + msg(b"C", b"SELECT 1\x00") + READY


Streamer = Callable[["FakeWalSender", asyncio.StreamWriter], Awaitable[None]]


@dataclass
class FakeWalSender:
    """Speaks just enough of the backend protocol: startup, auth, simple queries, CopyBoth."""

    auth: str = "trust"
    password: str = "secret"
    streamer: Streamer | None = None
    startup: dict[str, str] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    client: asyncio.Queue[tuple[bytes, bytes]] = field(default_factory=asyncio.Queue)
    port: int = 0
    eof: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.finished.clear()
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self.finished.set()

    async def _read(self, reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
        kind = await reader.readexactly(1)
        (length,) = struct.unpack("!i", await reader.readexactly(4))
        return kind, await reader.readexactly(length - 4)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        (length,) = struct.unpack("!i", await reader.readexactly(4))
        body = await reader.readexactly(length - 4)
        parts = body[4:].split(b"\x00")
        self.startup = {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 2, 2)}
        user = self.startup["user"]
        if self.auth == "cleartext":
            writer.write(msg(b"R", struct.pack("!i", 3)))
            _, got = await self._read(reader)
            assert got == self.password.encode() + b"\x00"
        elif self.auth == "md5":
            salt = b"\x01\x02\x03\x04"
            writer.write(msg(b"R", struct.pack("!i", 5) + salt))
            _, got = await self._read(reader)
            inner = hashlib.md5(self.password.encode() + user.encode()).hexdigest().encode()
            expected = b"md5" + hashlib.md5(inner + salt).hexdigest().encode() + b"\x00"
            if got != expected:
                writer.write(
                    msg(b"E", b'SFATAL\x00C28P01\x00Mpassword authentication failed for user "x"\x00\x00')
                )
                return
        writer.write(
            msg(b"R", struct.pack("!i", 0))
            + msg(b"S", b"server_version\x0015.4\x00")
            + msg(b"K", struct.pack("!ii", 777, 1))
            + READY
        )
        pump = asyncio.ensure_future(self._pump(reader))
        try:
            await self._commands(writer)
        finally:
            pump.cancel()

    async def _commands(self, writer: asyncio.StreamWriter) -> None:
        while True:
            if self.eof and self.client.empty():
                return  # a streamer consumed the end-of-connection marker
            kind, body = await self.client.get()
            if kind == b"X":
                return
            if kind in (b"d", b"c"):  # stray copy messages outside COPY are ignored, like PostgreSQL
                continue
            assert kind == b"Q"
            sql = body.rstrip(b"\x00").decode()
            self.queries.append(sql)
            if sql.startswith("START_REPLICATION"):
                writer.write(msg(b"W", struct.pack("!bh", 0, 0)))
                assert self.streamer is not None
                await self.streamer(self, writer)
            elif sql == "SLOW":
                continue  # never answers
            elif sql == "IDENTIFY_SYSTEM":
                writer.write(
                    row_result(["systemid", "timeline", "xlogpos", "dbname"], ["1", "1", "0/10", "db"])
                )
            else:
                writer.write(error("42601", f"syntax error in {sql!r}") + READY)

    async def _pump(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                self.client.put_nowait(await self._read(reader))
        self.eof = True
        self.client.put_nowait((b"X", b""))

    async def next_client(self, timeout: float = 5.0) -> tuple[bytes, bytes]:
        return await asyncio.wait_for(self.client.get(), timeout)


@pytest.fixture
async def fake() -> AsyncIterator[FakeWalSender]:
    server_state = FakeWalSender()
    server_state.finished.set()  # no connection yet
    server = await asyncio.start_server(server_state.handle, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state
        # Let the handler see the client's close before the loop goes away.
        await asyncio.wait_for(server_state.finished.wait(), 5)
        server.close()


def params(fake: FakeWalSender, **changes: object) -> ConnectParams:
    return ConnectParams(host="127.0.0.1", port=fake.port, user="cdc", dbname="db", sslmode="disable").with_(
        **changes
    )


async def start(
    fake: FakeWalSender, streamer: Streamer, **kwargs: object
) -> tuple[ReplicationConnection, ReplicationStream]:
    fake.streamer = streamer
    repl = await ReplicationConnection.connect(params(fake))
    stream = await repl.start_replication("slot", 0x10, publication_names=["pub's", 'a"b'], **kwargs)  # type: ignore[arg-type]
    return repl, stream


def status_fields(body: bytes) -> tuple[int, int, int, int, int]:
    assert body[:1] == b"r"
    return struct.unpack("!QQQqB", body[1:])  # type: ignore[return-value]


async def test_startup_packet_and_command_text(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        await f.next_client()  # wait for the client's CopyDone or status

    repl, _stream = await start(fake, streamer, proto_version=2, streaming=True)
    assert fake.startup["replication"] == "database"
    assert fake.startup["user"] == "cdc" and fake.startup["database"] == "db"
    assert fake.startup["client_encoding"] == "UTF8"
    assert repl.server_version == 150004 and repl.backend_pid == 777
    assert fake.queries[-1] == (
        "START_REPLICATION SLOT slot LOGICAL 0/10 (proto_version '2', "
        "publication_names '\"pub''s\",\"a\"\"b\"', messages 'true', streaming 'true')"
    )
    await repl.close()


async def test_messages_split_at_every_boundary_and_huge_payloads(fake: FakeWalSender) -> None:
    rng = random.Random(7)
    payloads = [bytes([65 + i % 26]) * rng.randint(0, 300) for i in range(2000)]
    payloads[1000] = b"H" * (3 << 20)  # bigger than one socket read
    frames = [xlog(i + 1, i + 2, p, sent=i) for i, p in enumerate(payloads)]
    # Asynchronous messages may arrive in the middle of the stream.
    frames.insert(500, msg(b"N", b"SWARNING\x00VWARNING\x00C01000\x00Mslow disk\x00\x00"))
    frames.insert(700, msg(b"S", b"application_name\x00renamed\x00"))
    wire = b"".join(frames) + keepalive(99_999, reply=False)

    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        pos = 0
        while pos < len(wire):
            size = rng.choice([1, 2, 5, 29, 31, 4096, 70_000])
            writer.write(wire[pos : pos + size])
            pos += size
            await writer.drain()
            if rng.random() < 0.05:
                await asyncio.sleep(0)
        await f.next_client(timeout=30)

    repl, stream = await start(fake, streamer)
    got = []
    while len(got) < len(payloads):
        got.extend(await stream.read(timeout=10))
    assert [m.payload for m in got] == payloads
    assert [m.data_start for m in got] == list(range(1, len(payloads) + 1))
    assert got[5].wal_end == 7 and got[5].send_time == 5
    assert stream.received_lsn == len(payloads)
    assert await stream.read(timeout=0.2) == []  # the trailing keepalive: no data
    assert stream.server_wal_end == 99_999
    assert stream.stats.messages == len(payloads) and stream.stats.keepalives == 1
    assert stream.stats.payload_bytes == sum(map(len, payloads))
    assert repl.server_parameters["application_name"] == "renamed"
    await repl.close()


async def test_keepalive_reply_carries_the_confirmed_position(fake: FakeWalSender) -> None:
    replies: list[tuple[int, int, int, int, int]] = []

    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(0x100, 0x200, b"I-data") + keepalive(0x300, reply=True))
        kind, body = await f.next_client()
        assert kind == b"d"
        replies.append(status_fields(body))
        await f.next_client()

    repl, stream = await start(fake, streamer, status_interval=0)
    stream.confirm(0x50)
    batch = await stream.read(timeout=5)
    assert [m.payload for m in batch] == [b"I-data"]
    for _ in range(50):
        if replies:
            break
        await asyncio.sleep(0.02)
    write, flush, apply, clock, reply = replies[0]
    assert (write, flush, apply, reply) == (0x300, 0x50, 0x50, 0)  # write: the keepalive end
    assert abs(clock / 1e6 + PG_EPOCH_UNIX - time.time()) < 5
    await repl.close()


async def test_periodic_status_updates_without_reading(fake: FakeWalSender) -> None:
    seen: list[tuple[int, int, int, int, int]] = []

    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        while len(seen) < 3:
            _kind, body = await f.next_client()
            seen.append(status_fields(body))

    repl, stream = await start(fake, streamer, status_interval=0.1)
    stream.confirm(0x20)
    stream.confirm(0x18)  # lower: ignored
    await asyncio.sleep(0.6)
    assert len(seen) == 3
    assert all(flush == 0x20 for _, flush, _, _, _ in seen)
    await repl.close()


async def test_nothing_confirmed_sends_an_invalid_flush_position(fake: FakeWalSender) -> None:
    seen: list[tuple[int, int, int, int, int]] = []

    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(0x100, 0x100, b"x"))
        _kind, body = await f.next_client()
        seen.append(status_fields(body))

    repl, stream = await start(fake, streamer, status_interval=0)
    await stream.read(timeout=5)
    stream.send_status(reply_requested=True)
    for _ in range(50):
        if seen:
            break
        await asyncio.sleep(0.02)
    assert seen[0][:3] == (0x100, 0, 0) and seen[0][4] == 1
    await repl.close()


async def test_server_copy_done_ends_the_stream_and_frees_the_connection(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(1, 1, b"last") + msg(b"c"))
        while (await f.next_client())[0] != b"c":
            pass
        writer.write(msg(b"C", b"COPY 0\x00") + READY)

    repl, stream = await start(fake, streamer)
    batches = [batch async for batch in stream]
    assert [m.payload for batch in batches for m in batch] == [b"last"]
    assert stream.ended
    assert (await repl.identify_system()).dbname == "db"
    await repl.close()


async def test_error_while_streaming_is_typed_and_the_connection_recovers(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(1, 1, b"ok") + error("42704", 'publication "p" does not exist') + READY)

    repl, stream = await start(fake, streamer)
    seen = []
    with pytest.raises(UndefinedObjectError, match='publication "p" does not exist'):
        async for batch in stream:  # the data before the error first, then the error
            seen.extend(m.payload for m in batch)
    assert seen == [b"ok"]
    assert stream.ended
    assert await stream.read() == []
    assert (await repl.identify_system()).timeline == 1
    await repl.close()


async def test_clean_stop_discards_in_flight_data(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        while True:
            kind, _body = await f.next_client()
            if kind == b"c":
                break
        writer.write(xlog(9, 9, b"in flight") + msg(b"c") + msg(b"C", b"COPY 0\x00") + READY)

    repl, stream = await start(fake, streamer)
    with pytest.raises(PostgresProtocolError, match="streaming"):
        await repl.identify_system()
    await stream.stop()
    await stream.stop()  # idempotent
    assert (await repl.identify_system()).xlogpos == 0x10
    await repl.close()


async def test_broken_connection_while_streaming(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(1, 1, b"partial")[:10])
        await writer.drain()
        writer.close()

    repl, stream = await start(fake, streamer)
    with pytest.raises(PostgresConnectionError, match="closed the connection unexpectedly"):
        await stream.read(timeout=5)
    assert stream.ended
    await repl.close()


@pytest.mark.parametrize("auth", ["cleartext", "md5"])
async def test_password_auth(fake: FakeWalSender, auth: str) -> None:
    fake.auth = auth
    repl = await ReplicationConnection.connect(params(fake, password="secret"))
    assert repl._conn.auth_method == {"cleartext": "password", "md5": "md5"}[auth]
    await repl.close()


async def test_wrong_md5_password(fake: FakeWalSender) -> None:
    fake.auth = "md5"
    with pytest.raises(Exception, match="password authentication failed") as caught:
        await ReplicationConnection.connect(params(fake, password="wrong"))
    assert "wrong" not in str(caught.value)


async def test_not_postgres_answering_the_tls_request() -> None:
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(8)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(PostgresProtocolError, match="is this PostgreSQL"):
            await ReplicationConnection.connect(ConnectParams(port=port, sslmode="require"))


async def test_connect_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # say nothing until the client gives up and closes
        writer.close()
        handler_done.set()

    handler_done = asyncio.Event()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(PostgresConnectionError, match=r"timed out after 0.3 s"):
            await ReplicationConnection.connect(
                ConnectParams(port=port, sslmode="disable", connect_timeout=0.3)
            )
        await asyncio.wait_for(handler_done.wait(), 5)  # the client closed its socket


async def test_an_interrupted_command_aborts_the_connection(fake: FakeWalSender) -> None:
    repl = await ReplicationConnection.connect(params(fake))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(repl.execute("SLOW"), 0.2)
    assert repl.closed  # a late answer must not be read as the next command's
    with pytest.raises(PostgresConnectionError, match="closed"):
        await repl.identify_system()
    await repl.close()


async def test_shutdown_drain_with_nothing_in_flight_confirms_the_wal_end(fake: FakeWalSender) -> None:
    flushes: list[int] = []

    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(0x100, 0x100, b"C-commit"))
        # A draining walsender: a reply request right after every reply, same WAL end.
        while True:
            writer.write(keepalive(0x500, reply=True))
            kind, body = await f.next_client()
            if kind != b"d":
                return
            flushes.append(status_fields(body)[1])
            if flushes[-1] == 0x500:
                writer.write(msg(b"C", b"COPY 0\x00"))
                return

    repl, stream = await start(fake, streamer, status_interval=0)
    batch = await stream.read(timeout=5)
    stream.confirm(batch[-1].data_start)  # everything received is durable
    while not stream.ended:
        assert await stream.read(timeout=5) == []
    assert flushes[-1] == 0x500 and stream.confirmed_lsn == 0x500
    assert 15 <= len(flushes) <= 25  # not on the first few requests
    await repl.close()


async def test_shutdown_drain_with_unconfirmed_changes_closes_the_connection(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        writer.write(xlog(0x100, 0x100, b"I-unconfirmed"))
        while True:
            writer.write(keepalive(0x500, reply=True))
            if (await f.next_client())[0] != b"d":
                return

    repl, stream = await start(fake, streamer, status_interval=0)
    await stream.read(timeout=5)
    stream.confirm(0x80)
    with pytest.raises(PostgresConnectionError, match="is shutting down and waits for this client"):
        while True:
            await stream.read(timeout=5)
    assert stream.ended and repl.closed and stream.confirmed_lsn == 0x80
    await repl.close()


async def test_ordinary_keepalive_requests_are_not_a_drain(fake: FakeWalSender) -> None:
    async def streamer(f: FakeWalSender, writer: asyncio.StreamWriter) -> None:
        for _ in range(5):
            writer.write(keepalive(0x500, reply=True))
            await f.next_client()
        await f.next_client()

    repl, stream = await start(fake, streamer, status_interval=0)
    for _ in range(5):
        await stream.read(timeout=0.2)
    assert not stream.ended and stream.confirmed_lsn == 0
    await repl.close()
