"""The PostgreSQL source task: the initial snapshot, then the logical replication stream.

Start
-----
``start`` reads the stored offset of ``{"server": <topic.prefix>}``, ensures the publication
(before any slot is created: pgoutput looks the publication up as of each change's WAL
position), opens the replication connection and decides:

* **No stored offset** and a snapshotting mode (``initial``, ``always``, ``initial_only``,
  ``when_needed``): if the slot is missing it is created with an exported snapshot and every
  captured table is read in that snapshot (no gap, no overlap with the stream, which then starts
  at the slot's consistent point). If the slot already exists (an earlier connector's, or one
  whose offsets were reset) the snapshot runs without an exported snapshot (``snapshot.py``:
  at-least-once) and streaming starts from the slot's own position. ``initial_only`` takes its
  snapshot through a *temporary* slot (exact, and no WAL is kept once the task has its rows) and
  then streams nothing, as Debezium creates no slot for that mode.
* **A stored offset**: no snapshot (except ``always``, or an interrupted snapshot: an offset with
  ``snapshot=true`` and no ``last_snapshot_record``, or ``when_needed`` with the slot gone);
  ``START_REPLICATION`` from the stored ``lsn`` (never ``0/0``: see ``replication.py``).
* ``no_data``: no snapshot; stream from the stored position or the slot's.

Resuming without duplicates
---------------------------
Every change record carries Debezium's offset (``events.StreamPosition``): its own ``lsn``, its
transaction ``txId`` and ``lsn_commit``, the end LSN of the *previous* transaction's commit.
Change LSNs are not monotonic across transactions (an older transaction can commit later), so a
plain "skip every change at or before the stored lsn" would lose the changes of a transaction
interleaved with the stored one. The rule here is per transaction (what Debezium's
``WalPositionLocator`` achieves):

* a transaction whose commit (``Begin.final_lsn``) lies before the stored ``lsn_commit`` was
  completely processed: skipped whole;
* in the stored transaction (same ``txId``) the changes at or before the stored ``lsn`` are
  skipped (a transaction's own changes are in increasing LSN order);
* everything else is emitted.

One change message's records (a delete and its tombstone, the three records of a key change,
the records of a multi-table TRUNCATE) always go out in the same batch, so a stored offset never
falls between them. The same rule resumes after a dropped connection (``RetriableError``: the
runtime polls again and the task reconnects), with the position of the last *emitted* change.

Confirming
----------
The runtime calls :meth:`commit` with the offsets it has stored durably. A transaction is
confirmed to the slot (its commit end LSN) once the records up to its last one are stored; the
stored offset tells how far that is by its ``(lsn_commit, lsn)`` pair, which grows with every
record in emission order (``lsn_commit`` with each transaction, ``lsn`` within one). So
``confirmed_flush_lsn`` never passes what was stored, even when a transaction's records span
several batches. When everything received is stored and confirmed and nothing is in flight (no
half-read transaction), the task confirms the server's end of WAL reported by keepalives, so an
idle or uncaptured-only database does not pile up WAL (what Debezium's heartbeats achieve).
``flush.lsn.source=false`` never confirms anything.

Progress and heartbeats
-----------------------
``progress.TaskReporter`` puts snapshot progress (from ``Snapshot.progress``, at most four times a
second), ``phase`` and the WAL the slot retains (a query on the normal connection every
``status.update.interval.ms``) into ``context.details`` and gauges. ``heartbeat.interval.ms``
emits Debezium's heartbeat record with the offset of the last record emitted (see
:meth:`PostgresSourceTask._heartbeat`) and runs ``heartbeat.action.query``.

Throughput
----------
``poll`` hands out up to ``max.batch.size`` records, reading a whole socket chunk of XLogData
at a time and decoding synchronously; only a Relation message (once per table and session, or
after DDL) awaits the catalog (``events.describe_table`` on a separate asyncpg connection, plus
the types it names). Schemas and converters are built once per relation by
``events.ChangeEventBuilder``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from connectors.postgres import pgwire
from connectors.postgres.added_tables import AddedTables, Verdict
from connectors.postgres.checks import application_name
from connectors.postgres.config import PostgresConfig, SnapshotMode
from connectors.postgres.events import (
    CAPTURED_TABLES,
    ChangeEventBuilder,
    SnapshotPosition,
    StreamPosition,
    TableMetadata,
    decode_captured,
    describe_table,
    encode_captured,
    snapshot_marker,
)
from connectors.postgres.lsn import format_lsn, parse_optional_lsn
from connectors.postgres.pgoutput import (
    Begin,
    Commit,
    Delete,
    Insert,
    PgOutputDecoder,
    Relation,
    Truncate,
    Update,
)
from connectors.postgres.progress import WAL_QUERY, TaskReporter, heartbeat_record
from connectors.postgres.publication import (
    CapturedTable,
    PublicationAction,
    captured_tables,
    ensure_publication,
)
from connectors.postgres.replication import ReplicationConnection, ReplicationStream, XLogData
from connectors.postgres.snapshot import Snapshot
from connectors.postgres.types import ValueConverters, ValueOptions
from connectors.sdk import RetriableError, SourceRecord, SourceTask
from connectors.sdk.errors import ConfigError
from connectors.sdk.source import CommittedOffsets

__all__ = ["PostgresSourceTask", "ResumePoint"]

log = logging.getLogger(__name__)

_SNAPSHOTTING: Final = frozenset(
    {SnapshotMode.INITIAL, SnapshotMode.ALWAYS, SnapshotMode.INITIAL_ONLY, SnapshotMode.WHEN_NEEDED}
)
_STATUS_EVERY_S: Final = 1.0
"""At most one immediate status update per second after a confirm (the stream also sends one
every ``status.update.interval.ms``)."""

_WAL_QUERY_TIMEOUT_S: Final = 5.0
_CATALOG_ERRORS: Final = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a protocol state broken by a server that went away mid-query
    OSError,
    TimeoutError,
)
"""What a query on the task's catalog connection may raise without being the task's fault."""
_STREAM_TURN_S: Final = 0.002
"""How long the stream's turn waits for data while a snapshot of added tables has work."""

_Key = tuple[int, int, int]
"""Emission order of a record offset: (phase, lsn_commit, lsn); phase 0 = snapshot, 1 = stream."""


def offset_key(offset: dict[str, Any]) -> _Key:
    """Where a record offset stands in emission order (see the module doc)."""
    if offset.get("snapshot"):
        return (0, 0, int(offset.get("lsn") or 0))
    commit = offset.get("lsn_commit")
    return (1, -1 if commit is None else int(commit), int(offset.get("lsn") or 0))


def breaks_connection(error: BaseException) -> bool:
    """Whether an asyncpg connection that raised ``error`` must not be used again.

    A statement's own error (permissions, a missing table) leaves the connection usable. A
    server that goes away mid-query can leave asyncpg's connection looking open in a broken
    protocol state (every later query: "another operation is in progress"), and a query cut short
    by a timeout leaves it mid-exchange.
    """
    if isinstance(error, asyncpg.PostgresError):
        return isinstance(
            error, (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)
        )
    return isinstance(error, _CATALOG_ERRORS)


@dataclass(frozen=True, slots=True)
class ResumePoint:
    """What was already emitted: transactions committed before ``commit_lsn`` entirely, and in
    transaction ``xid`` the changes up to ``lsn``."""

    commit_lsn: int | None
    xid: int | None
    lsn: int | None

    @classmethod
    def from_offset(cls, offset: dict[str, Any]) -> ResumePoint:
        if offset.get("snapshot"):
            return cls(None, None, None)
        commit = offset.get("lsn_commit")
        xid = offset.get("txId")
        lsn = offset.get("lsn")
        return cls(
            int(commit) if commit is not None else None,
            int(xid) if xid is not None else None,
            int(lsn) if lsn is not None else None,
        )

    def skips_transaction(self, begin: Begin) -> bool:
        return self.commit_lsn is not None and begin.final_lsn < self.commit_lsn

    def skips_change(self, xid: int | None, lsn: int) -> bool:
        return xid is not None and xid == self.xid and self.lsn is not None and lsn <= self.lsn


def connect_params(config: PostgresConfig, app_name: str) -> pgwire.ConnectParams:
    """The replication connection's parameters, from the same settings as asyncpg's."""
    return pgwire.ConnectParams(
        host=config.database_hostname,
        port=config.database_port,
        user=config.database_user,
        password=config.database_password.get_secret_value() if config.database_password else None,
        dbname=config.database_dbname,
        sslmode=config.database_sslmode.value,  # type: ignore[arg-type]
        sslrootcert=config.database_sslrootcert,
        sslcert=config.database_sslcert,
        sslkey=config.database_sslkey,
        sslpassword=config.database_sslpassword.get_secret_value() if config.database_sslpassword else None,
        application_name=app_name,
        tcp_keepalive=config.database_tcp_keep_alive,
    )


class PostgresSourceTask(SourceTask[PostgresConfig]):
    """Snapshot, then stream, with Debezium's events and offsets (see the module doc)."""

    config_model = PostgresConfig

    # -- start --------------------------------------------------------------------------------------

    async def start(self, config: PostgresConfig) -> None:
        self.config = config
        self.partition = config.source_partition
        self.app_name = application_name(None)
        self.meta: asyncpg.Connection | None = None
        self.repl: ReplicationConnection | None = None
        self.stream: ReplicationStream | None = None
        self.snapshot: Snapshot | None = None
        self._snapshot_batches: AsyncIterator[list[SourceRecord]] | None = None
        self._pending: deque[XLogData] = deque()
        self._decoder = PgOutputDecoder()
        self.pos = StreamPosition()
        self._in_tx = False
        self._skip_tx = False
        self._completed: deque[tuple[_Key | None, int]] = deque()
        self._emitted: _Key | None = None
        self._stored: _Key | None = None
        self._last_status = 0.0
        self._status_lsn = 0
        self._confirmed = 0
        self._streams = True
        self._start_lsn = 0
        self._done = False
        self.report = TaskReporter(self.context)
        self._next_wal_check = 0.0
        self._next_heartbeat = time.monotonic() + config.heartbeat_interval_ms / 1000
        self.added: AddedTables | None = None
        self._added_batches: AsyncIterator[list[SourceRecord]] | None = None
        self._added_turn = False
        self._stream_waits = False
        self._tx_commit_lsn: int | None = None
        self._captured: frozenset[str] = frozenset()
        self._next_discovery = time.monotonic() + config.table_discovery_interval_ms / 1000

        registry_options = ValueOptions.from_config(
            {k.replace("_", "."): v for k, v in config.model_dump(mode="json").items()}
        )
        self.converters = ValueConverters(registry_options)
        self.builder = ChangeEventBuilder(config, self.converters)
        stored = await self.context.offset(self.partition)
        self.resume = ResumePoint.from_offset(stored) if stored else ResumePoint(None, None, None)
        self._last_offset: dict[str, Any] | None = stored
        """The offset of the last record emitted (the stored one before any): what heartbeats carry."""
        try:
            await self._open(config, stored)
        except BaseException:
            await self._close()
            raise

    async def _open(self, config: PostgresConfig, stored: dict[str, Any] | None) -> None:
        mode = config.snapshot_mode
        self.meta = await asyncpg.connect(**config.connect_kwargs(application_name=self.app_name))
        tables = await captured_tables(self.meta, config)
        self.tables = tables
        self._encoding = str(await self.meta.fetchval("SHOW server_encoding"))
        self._decoder = PgOutputDecoder(encoding=self._encoding)
        self._streams = mode.streams
        snapshot_done = bool(stored and (not stored.get("snapshot") or stored.get("last_snapshot_record")))

        if mode is SnapshotMode.INITIAL_ONLY:
            if not snapshot_done:
                await self._initial_only(config, tables)
                self._report_snapshot_start()
            else:
                log.info("snapshot.mode=initial_only: the snapshot is complete; nothing more to do")
                self._done = True
                self.report.phase("done")
            return

        await ensure_publication(self.meta, config, tables)
        self.repl = await ReplicationConnection.connect(connect_params(config, self.app_name))
        slot = await self.repl.slot_info(config.slot_name)
        if slot is not None and slot.plugin not in (None, "pgoutput"):
            raise ConfigError(
                f"Replication slot {config.slot_name} was created for {slot.plugin}, not pgoutput: drop it "
                f"(SELECT pg_drop_replication_slot('{config.slot_name}')) or choose another slot.name"
            )
        if slot is not None and slot.wal_status == "lost":
            if mode is not SnapshotMode.WHEN_NEEDED:
                raise ConfigError(
                    _slot_gone(
                        config.slot_name,
                        "was invalidated by the server (wal_status "
                        "lost: the WAL it needed was removed, e.g. max_slot_wal_keep_size)",
                    )
                )
            log.warning(
                "Replication slot %s was invalidated; dropping it and taking a new snapshot "
                "(snapshot.mode=when_needed)",
                config.slot_name,
            )
            await self.repl.drop_replication_slot(config.slot_name)
            slot = None
        gone_is_fine = (SnapshotMode.WHEN_NEEDED, SnapshotMode.ALWAYS, SnapshotMode.INITIAL_ONLY)
        if slot is None and stored and mode not in gone_is_fine:  # initial_only: a temporary slot
            raise ConfigError(
                _slot_gone(config.slot_name, "no longer exists (it was dropped outside Penstock)")
            )
        wants_snapshot = mode in _SNAPSHOTTING and (
            not snapshot_done
            or mode is SnapshotMode.ALWAYS
            or (mode is SnapshotMode.WHEN_NEEDED and slot is None)
        )
        # The stored position (for an interrupted snapshot: its consistent point), else 0/0: the
        # slot's own confirmed position. Never later than what was stored.
        resume_lsn = int(stored.get("lsn") or 0) if stored else 0

        self._captured = frozenset(t.id for t in tables)
        captured = encode_captured(self._captured)
        self.pos.captured = captured
        added: list[CapturedTable] = []
        if not wants_snapshot and stored is not None:
            known = decode_captured(stored)
            if known is not None:
                self._note_removed(known - self._captured)
                if mode in _SNAPSHOTTING:
                    added = [t for t in tables if t.id not in known]
                    self.pos.captured = encode_captured(self._captured - {t.id for t in added})

        if slot is None:
            created = await self.repl.create_replication_slot(
                config.slot_name, snapshot="export" if wants_snapshot else "nothing"
            )
            log.info(
                "Created replication slot %s at %s", config.slot_name, format_lsn(created.consistent_point)
            )
            if wants_snapshot:
                self.snapshot = await Snapshot.open(
                    config,
                    tables,
                    snapshot_name=created.snapshot_name,
                    batch_size=config.max_batch_size,
                    application_name=self.app_name,
                )
                position = SnapshotPosition(
                    created.consistent_point, await self._snapshot_txid(), captured=captured
                )
                self._snapshot_batches = self._read_snapshot(position)
            self._start_lsn = created.consistent_point
        else:
            if wants_snapshot:
                self.snapshot = await Snapshot.open(
                    config, tables, batch_size=config.max_batch_size, application_name=self.app_name
                )
                assert self.snapshot.start_lsn is not None
                position = SnapshotPosition(
                    self.snapshot.start_lsn, await self._snapshot_txid(), captured=captured
                )
                self._snapshot_batches = self._read_snapshot(position)
            # The stored position, else the slot's own (0/0): never past what was stored.
            self._start_lsn = resume_lsn
        if stored and snapshot_done:
            # Continue Debezium's bookkeeping where the stored offset left it.
            commit = stored.get("lsn_commit")
            self.pos.lsn_commit = int(commit) if commit is not None else None
            proc = stored.get("lsn_proc")
            self.pos.lsn_proc = int(proc) if proc is not None else None
            if not wants_snapshot:
                self._stored = offset_key(stored)  # everything before it is stored already
        if added:
            await self._snapshot_added(added, "added to the connector's filters")
        if self._snapshot_batches is None:
            if self.added is None:
                self.report.phase("streaming")
            await self._start_streaming()
        else:
            self._report_snapshot_start()

    async def _initial_only(self, config: PostgresConfig, tables: list[CapturedTable]) -> None:
        """A temporary slot exports the snapshot and is gone when its connection closes."""
        self.repl = await ReplicationConnection.connect(connect_params(config, self.app_name))
        temp = f"{config.slot_name[:40]}_snap_{int(time.time()) % 100000}"
        created = await self.repl.create_replication_slot(temp, snapshot="export", temporary=True)
        self.snapshot = await Snapshot.open(
            config,
            tables,
            snapshot_name=created.snapshot_name,
            batch_size=config.max_batch_size,
            application_name=self.app_name,
        )
        await self.repl.close()
        self.repl = None
        position = SnapshotPosition(created.consistent_point, await self._snapshot_txid())
        self._snapshot_batches = self._read_snapshot(position)

    async def _snapshot_txid(self) -> int | None:
        """The snapshot transaction's id (``source.txId`` of snapshot rows, as Debezium)."""
        assert self.snapshot is not None
        try:
            return int(await self.snapshot.conn.fetchval("SELECT txid_current()"))
        except asyncpg.PostgresError:  # pragma: no cover - e.g. a hot standby
            return None

    async def _start_streaming(self) -> None:
        """``START_REPLICATION`` from ``_start_lsn``, retrying while another client holds the slot
        (the previous task's walsender may still be exiting): ``slot.max.retries`` times."""
        config = self.config
        if not self._streams:
            self._done = True
            return
        if self.repl is None or self.repl.closed:
            self.repl = await ReplicationConnection.connect(connect_params(config, self.app_name))
        attempts = config.slot_max_retries
        while True:
            try:
                self.stream = await self.repl.start_replication(
                    config.slot_name,
                    self._start_lsn,
                    publication_names=[config.publication_name],
                    status_interval=config.status_update_interval_ms / 1000,
                )
                break
            except pgwire.ObjectInUseError:
                if attempts <= 0 or self.context.stopping.is_set():
                    raise
                attempts -= 1
                log.info(
                    "Replication slot %s is in use; retrying in %d ms (%d attempts left)",
                    config.slot_name,
                    config.slot_retry_delay_ms,
                    attempts,
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(config.slot_retry_delay_ms / 1000):
                        await self.context.stopping.wait()
        if self._confirmed and self.stream is not None:
            self.stream.confirm(self._confirmed)  # a new stream starts with nothing confirmed
        self._status_lsn = 0
        self._decoder = PgOutputDecoder(encoding=self._encoding)
        self._pending.clear()
        self._stream_waits = False
        self._in_tx = False
        self._skip_tx = False
        log.info(
            "Streaming changes from slot %s at %s (publication %s)",
            config.slot_name,
            format_lsn(self._start_lsn),
            config.publication_name,
        )

    # -- snapshot -----------------------------------------------------------------------------------

    def _report_snapshot_start(self) -> None:
        if self.snapshot is not None:
            self.report.snapshot(self.snapshot.progress, force=True)

    async def _describe(
        self, oid: int, relation: Relation | None = None
    ) -> tuple[Relation, TableMetadata | None]:
        """The catalog's view of a table (and the types its columns use, loaded once)."""
        try:
            meta = await self._catalog()
            try:
                described, metadata = await describe_table(meta, oid)
            except LookupError:  # dropped since: the Relation message is all there is
                if relation is None:
                    raise
                described, metadata = relation, None
            await self.converters.registry.load(meta, {c.type_oid for c in (relation or described).columns})
        except _CATALOG_ERRORS as error:
            if not self._catalog_failed(error):
                raise
            # e.g. the server restarted: the stream reconnects and the server describes the table again
            raise pgwire.PostgresConnectionError(f"catalog connection lost: {error}") from error
        return (relation or described), metadata

    async def _catalog(self) -> asyncpg.Connection:
        """The task's normal connection (catalog, WAL figures, heartbeat action), reopened after
        it was lost (a server restart closes it as well as the replication connection)."""
        meta = self.meta
        if meta is None or meta.is_closed():
            if meta is not None:
                meta.terminate()
            self.meta = meta = await asyncpg.connect(
                **self.config.connect_kwargs(application_name=self.app_name)
            )
        return meta

    def _catalog_failed(self, error: BaseException) -> bool:
        """Drop the catalog connection if ``error`` broke it (see :func:`breaks_connection`); the
        next use opens a new one."""
        if not breaks_connection(error):
            return False
        meta, self.meta = self.meta, None
        if meta is not None:
            meta.terminate()
        return True

    async def _read_snapshot(self, position: SnapshotPosition) -> AsyncIterator[list[SourceRecord]]:
        """Batches of ``op=r`` records; the last row is held back until the next one is known,
        so ``source.snapshot`` and ``last_snapshot_record`` mark the real last row."""
        assert self.snapshot is not None
        builder = self.builder
        held: tuple[Relation, list[str | None], bool, bool] | None = (
            None  # relation, row, first_table, first_in
        )
        held_last_in_table = False
        emitted_any = False
        async for table, batches in self.snapshot.tables():
            relation: Relation | None = None
            first_in_table = True
            async for batch in batches:
                if relation is None:
                    relation, metadata = await self._describe(table.oid)
                    builder.relation(relation, metadata)
                out: list[SourceRecord] = []
                for row in batch:
                    if held is not None:
                        rel, hrow, hfirst_table, hfirst_in = held
                        marker = snapshot_marker(hfirst_table, False, hfirst_in, held_last_in_table)
                        record = builder.snapshot_read(rel, hrow, marker, position)
                        if record is not None:
                            out.append(record)
                    held = (relation, row, not emitted_any, first_in_table)
                    held_last_in_table = False
                    emitted_any = True
                    first_in_table = False
                if out:
                    yield out
            if held is not None and not first_in_table:
                held_last_in_table = True  # this table's last row (the next row, if any, is another table's)
        if held is not None:
            rel, hrow, hfirst_table, hfirst_in = held
            record = builder.snapshot_read(
                rel, hrow, snapshot_marker(hfirst_table, True, hfirst_in, True), position
            )
            if record is not None:
                yield [record]
        assert self.snapshot is not None
        log.info("Snapshot complete: %s", self.snapshot.progress.describe())

    # -- tables added while running (added_tables.py) ---------------------------------------------

    def _note_removed(self, removed: frozenset[str]) -> None:
        if removed:
            log.info(
                "No longer capturing %s (no longer selected by the filters, or dropped): their changes "
                "are not streamed any more",
                ", ".join(sorted(removed)),
            )

    async def _snapshot_added(self, tables: list[CapturedTable], why: str) -> None:
        """Snapshot ``tables`` alone, interleaved with the stream (see ``added_tables``)."""
        self.added = await AddedTables.open(self.config, tables, application_name=self.app_name)
        log.info(
            "Snapshotting %s (%s) while streaming goes on",
            ", ".join(t.id for t in tables),
            why,
        )
        self._added_batches = self._read_added(self.added)
        assert self.added.snapshot is not None
        self.report.snapshot(self.added.snapshot.progress, force=True, phase="incremental_snapshot")

    async def _read_added(self, added: AddedTables) -> AsyncIterator[list[SourceRecord]]:
        """Batches of ``op=r`` records (``source.snapshot=incremental``) carrying the stream's
        offset; the last one carries the new table list (the batch is held back until then)."""
        snapshot = added.snapshot
        assert snapshot is not None
        builder = self.builder
        position = SnapshotPosition(snapshot.start_lsn or 0, None)
        held: list[SourceRecord] | None = None
        remaining = len(added.tables)
        complete = encode_captured(self._captured | set(added.ids))
        async for table, batches in snapshot.tables():
            remaining -= 1
            relation: Relation | None = None
            async for batch in batches:
                if relation is None:
                    relation, metadata = await self._describe(table.oid)
                    builder.relation(relation, metadata)
                offset = dict(self._last_offset or self.pos.offset(self._start_lsn))
                offset[CAPTURED_TABLES] = self.pos.captured
                out = [
                    record
                    for row in batch
                    if (record := builder.snapshot_read(relation, row, "incremental", position, offset))
                    is not None
                ]
                if out:
                    if held:
                        yield held
                    held = out
            if held:
                if not remaining:  # the very last row: its offset records the new table list
                    last = held[-1]
                    held[-1] = dataclasses.replace(
                        last, source_offset={**(last.source_offset or {}), CAPTURED_TABLES: complete}
                    )
                yield held  # the table's rows are all out once this batch is polled
                held = None
            added.read.add(table.oid)
            self._stream_waits = False  # the stream retries what it waited on
        self._captured = self._captured | set(added.ids)
        self.pos.captured = complete
        log.info("Snapshot of added tables complete: %s", snapshot.progress.describe())

    async def _poll_added(self) -> list[SourceRecord]:
        """One batch of the added tables' snapshot; ends it when it is complete."""
        assert self._added_batches is not None and self.added is not None
        if self._stream_waits and self.stream is not None:
            self._send_keepalive()
        try:
            records = await anext(self._added_batches)
        except StopAsyncIteration:
            self._added_batches = None
            self._stream_waits = False
            snapshot = self.added.snapshot
            if snapshot is not None:
                self.report.snapshot(snapshot.progress, force=True, phase="incremental_snapshot")
            self.report.snapshot_done("streaming")
            await self.added.close()
            return []
        if self.added.snapshot is not None:
            self.report.snapshot(self.added.snapshot.progress, phase="incremental_snapshot")
        self._note_emitted(records)
        return records

    def _send_keepalive(self) -> None:
        """While the stream waits for the snapshot, tell the server the client is alive (it
        drops a replication connection silent for ``wal_sender_timeout``)."""
        now = time.monotonic()
        if now - self._last_status < self.config.status_update_interval_ms / 1000:
            return
        self._last_status = now
        with contextlib.suppress(pgwire.PostgresConnectionError):
            assert self.stream is not None
            self.stream.send_status()

    async def _discover_tables(self) -> None:
        """Tables that appeared since the start and match the filters (``table.discovery.interval.ms``).

        With a ``filtered`` publication the new table is added to it and snapshotted alone; a
        publication that already covered it (``FOR ALL TABLES``) has streamed its changes since
        its creation, so it is only recorded as captured.
        """
        interval = self.config.table_discovery_interval_ms
        now = time.monotonic()
        if interval <= 0 or now < self._next_discovery or self.added is not None:
            return
        self._next_discovery = now + interval / 1000
        try:
            async with asyncio.timeout(_WAL_QUERY_TIMEOUT_S * 2):
                meta = await self._catalog()
                tables = await captured_tables(meta, self.config, quiet=self._captured)
                ids = frozenset(t.id for t in tables)
                new = [t for t in tables if t.id not in self._captured]
                if not new and ids == self._captured:
                    return
                action = await ensure_publication(meta, self.config, tables) if new else None
        except ConfigError as error:
            log.warning("Cannot capture the new table(s): %s", error)
            return
        except _CATALOG_ERRORS as error:
            self._catalog_failed(error)
            log.debug("Cannot look for new tables: %s", error)
            return
        self._note_removed(self._captured - ids)
        self.tables = tables
        if action is PublicationAction.ALTERED:
            self._captured = ids - {t.id for t in new}
            self.pos.captured = encode_captured(self._captured)
            await self._snapshot_added(new, "created after the connector started, now in the publication")
            return
        if new:
            log.info("Capturing new table(s) %s from their creation", ", ".join(t.id for t in new))
        self._captured = ids
        self.pos.captured = encode_captured(ids)

    # -- poll ---------------------------------------------------------------------------------------

    async def poll(self) -> Sequence[SourceRecord]:
        if self._snapshot_batches is not None:
            try:
                records = await anext(self._snapshot_batches)
            except StopAsyncIteration:
                self._snapshot_batches = None
                if self.snapshot is not None:
                    self.report.snapshot(self.snapshot.progress, force=True)  # the gauges' final values
                self.report.snapshot_done("streaming" if self._streams else "done")
                if self.snapshot is not None:
                    await self.snapshot.close()
                    self.snapshot = None
                if not self._streams:
                    self._done = True
                    if self.repl is not None:
                        await self.repl.close()
                        self.repl = None
                    return []
                await self._reconnect()  # a lost connection here is retried like one mid-stream
                return []
            self._note_emitted(records)
            if self.snapshot is not None:
                self.report.snapshot(self.snapshot.progress)
            if self._streams:
                await self._check_wal()
            return records
        if self._done:
            await self._idle(self.context.poll_timeout)
            return []
        if self._added_batches is not None:
            self._added_turn = not self._added_turn
            if self._added_turn or self._stream_waits:
                return await self._poll_added()
        else:
            await self._discover_tables()
        if self.stream is None:
            await self._reconnect()
        try:
            records = await self._poll_stream()
        except (pgwire.PostgresConnectionError, pgwire.ServerShutdownError) as error:
            await self._lost_connection(error)
            raise RetriableError(f"PostgreSQL replication connection lost: {error}") from error
        await self._check_wal()
        if self.config.heartbeat_interval_ms > 0 and time.monotonic() >= self._next_heartbeat:
            heartbeat = await self._heartbeat()
            if heartbeat is not None:
                records.append(heartbeat)
        return records

    # -- WAL retained, heartbeats -------------------------------------------------------------------

    async def _check_wal(self) -> None:
        """Every ``status.update.interval.ms``: the WAL the slot holds back, in the status."""
        now = time.monotonic()
        if now < self._next_wal_check:
            return
        self._next_wal_check = now + self.config.status_update_interval_ms / 1000
        try:
            async with asyncio.timeout(_WAL_QUERY_TIMEOUT_S):
                meta = await self._catalog()
                row = await meta.fetchrow(WAL_QUERY, self.config.slot_name)
        except _CATALOG_ERRORS as error:
            self._catalog_failed(error)
            log.debug("Cannot read the WAL retained by slot %s: %s", self.config.slot_name, error)
            return
        if row is not None:
            self.report.wal_retained(parse_optional_lsn(row["confirmed"]), row["retained"])

    async def _heartbeat(self) -> SourceRecord | None:
        """Run ``heartbeat.action.query`` (if set) and make Debezium's heartbeat record.

        The record carries the offset of the last record emitted, unchanged: its place in
        emission order (see :func:`offset_key`) is then exactly that record's, so storing it can
        never confirm a transaction whose records are not stored yet. What lets the slot advance
        while the captured tables are idle is :meth:`_confirm_if_idle`; the heartbeat gives the
        runtime something to store and commit, and the action query (writing to a table, ideally
        a published one) makes WAL flow through the slot on servers that send nothing for
        uncaptured transactions.
        """
        config = self.config
        self._next_heartbeat = time.monotonic() + config.heartbeat_interval_ms / 1000
        query = config.heartbeat_action_query
        if query:
            try:
                await (await self._catalog()).execute(query)
            except _CATALOG_ERRORS as error:
                self._catalog_failed(error)
                log.warning("heartbeat.action.query failed: %s", error)
        if self._last_offset is None:
            return None  # Debezium sends heartbeats only once an offset exists
        return heartbeat_record(config, self._last_offset)

    async def _poll_stream(self) -> list[SourceRecord]:
        stream = self.stream
        assert stream is not None
        limit = self.config.max_batch_size
        records: list[SourceRecord] = []
        while len(records) < limit:
            if not self._pending:
                if records:
                    break
                wait = min(self.config.poll_interval_ms / 1000, self.context.poll_timeout)
                if self._added_batches is not None:
                    wait = _STREAM_TURN_S  # the snapshot has work: take what has arrived
                batch = await self._read(stream, wait)
                if not batch:
                    if stream.ended:
                        self.stream = None
                        raise pgwire.PostgresConnectionError("PostgreSQL ended the replication stream")
                    self._confirm_if_idle()
                    if (
                        self.added is not None
                        and not self._in_tx
                        and self.added.passed(stream.server_wal_end)
                    ):
                        self.added = None  # received everything up to past the snapshot
                    return records
                self._pending.extend(batch)
            if await self._process(records, limit):
                break
        self._note_emitted(records)
        return records

    async def _read(self, stream: ReplicationStream, wait: float) -> list[XLogData]:
        """Up to ``wait`` seconds for data, returning early when the task is stopping."""
        stopping = self.context.stopping
        if stopping.is_set():
            return []
        reader = asyncio.ensure_future(stream.read(wait))
        stopper = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
        return reader.result() if not reader.cancelled() else []

    async def _process(self, records: list[SourceRecord], limit: int) -> bool:
        """Decode pending XLogData into ``records`` until the batch is full (a change's records
        are never split); True when the batch must end first (a Relation needs the catalog)."""
        pending = self._pending
        decode = self._decoder.decode
        pos = self.pos
        change = self.builder.change
        resume = self.resume
        while pending and len(records) < limit:
            item = pending.popleft()
            message = decode(item.payload)
            cls = message.__class__
            lsn = item.data_start
            if cls is Insert or cls is Update or cls is Delete or cls is Truncate:
                if self._skip_tx or resume.skips_change(pos.xid, lsn):
                    pos.lsn_proc = lsn
                    continue
                added = self.added
                if added is not None:
                    verdict = added.verdict(message, pos.xid, self._tx_commit_lsn)  # type: ignore[arg-type]
                    if verdict is Verdict.WAIT:
                        pending.appendleft(item)  # decoded again once the table's rows are out
                        self._stream_waits = True
                        return True
                    if verdict is Verdict.DROP:
                        if cls is not Truncate:
                            pos.lsn_proc = lsn
                            continue
                        message = added.without_added(message)  # type: ignore[arg-type]
                records.extend(change(message, lsn, pos))  # type: ignore[arg-type]
            elif cls is Begin:
                assert isinstance(message, Begin)
                pos.begin(message, lsn)
                self._tx_commit_lsn = message.final_lsn
                self._in_tx = True
                self._skip_tx = resume.skips_transaction(message)
            elif cls is Commit:
                assert isinstance(message, Commit)
                pos.commit(message, lsn)
                self._in_tx = False
                self._skip_tx = False
                last = offset_key(records[-1].source_offset or {}) if records else self._emitted
                self._completed.append((last, lsn))
                if self.added is not None and self.added.passed(lsn):
                    self.added = None
            elif cls is Relation:
                assert isinstance(message, Relation)
                metadata = None
                if self.config.table_filter.is_included(message.namespace, message.name):
                    if records:  # hand out the batch first: a lost catalog connection loses nothing
                        pending.appendleft(item)
                        return True
                    _, metadata = await self._describe(message.oid, message)  # not for excluded tables
                self.builder.relation(message, metadata)
            # Type, Origin, logical messages: nothing to emit
        return False

    def _note_emitted(self, records: Sequence[SourceRecord]) -> None:
        if records:
            offset = records[-1].source_offset
            if offset is not None:
                self._emitted = offset_key(offset)
                self._last_offset = offset

    # -- confirming ---------------------------------------------------------------------------------

    async def commit(self, offsets: CommittedOffsets) -> None:
        stored = offsets.get(self.partition)
        if stored is None:
            return
        key = offset_key(stored)
        if self._stored is None or key > self._stored:
            self._stored = key
        self._confirm_if_idle()

    def _confirm_stored(self) -> None:
        """Confirm the commit of every transaction whose records are all stored."""
        completed = self._completed
        stored = self._stored
        lsn = 0
        while completed:
            last, commit_lsn = completed[0]
            if last is not None and (stored is None or last > stored):
                break
            completed.popleft()
            lsn = commit_lsn
        if lsn:
            self._confirm(lsn)

    def _confirm_if_idle(self) -> None:
        """Nothing received is unconfirmed: let the slot release WAL up to the server's end."""
        self._confirm_stored()
        self._send_status()  # one deferred by the once-a-second limit
        stream = self.stream
        if stream is None or self._pending or self._in_tx or self._completed:
            return
        if self._emitted is not None and (self._stored is None or self._emitted > self._stored):
            return
        if stream.server_wal_end > stream.confirmed_lsn:
            self._confirm(stream.server_wal_end)

    def _confirm(self, lsn: int) -> None:
        stream = self.stream
        if stream is None or not self.config.flush_lsn_source:
            return
        stream.confirm(lsn)  # monotonic: a lower LSN is ignored
        self._confirmed = max(self._confirmed, lsn)
        self._send_status()

    def _send_status(self) -> None:
        """Tell the server a newly confirmed position now, at most once a second (otherwise the
        stream's periodic update, every ``status.update.interval.ms``, carries it)."""
        stream = self.stream
        if stream is None or stream.confirmed_lsn <= self._status_lsn:
            return
        now = time.monotonic()
        if now - self._last_status < _STATUS_EVERY_S:
            return
        self._last_status = now
        self._status_lsn = stream.confirmed_lsn
        with contextlib.suppress(pgwire.PostgresConnectionError):
            stream.send_status()

    # -- connection loss ----------------------------------------------------------------------------

    async def _lost_connection(self, error: BaseException) -> None:
        """Forget the stream; the next poll reconnects after what was already emitted."""
        log.warning("Replication stream of slot %s lost: %s; reconnecting", self.config.slot_name, error)
        pos = self.pos
        if self._in_tx:
            self.resume = ResumePoint(pos.lsn_commit, pos.xid, pos.lsn_proc)
        else:
            self.resume = ResumePoint(pos.lsn_commit, None, None)
        if pos.lsn_commit is not None:
            self._start_lsn = max(self._start_lsn, pos.lsn_commit)
        self.stream = None
        self._pending.clear()
        self._stream_waits = False
        self._in_tx = False
        self._skip_tx = False
        if self.repl is not None:
            await self.repl.close()
            self.repl = None

    async def _reconnect(self) -> None:
        try:
            await self._start_streaming()
        except (pgwire.PostgresConnectionError, pgwire.ServerShutdownError, OSError) as error:
            if self.repl is not None:
                await self.repl.close()
                self.repl = None
            raise RetriableError(
                f"cannot reconnect to PostgreSQL: {error}", retry_after=self.config.slot_retry_delay_ms / 1000
            ) from error

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self.context.stopping.wait()

    # -- stop ---------------------------------------------------------------------------------------

    async def stop(self) -> None:
        await self._close(
            drop_slot=getattr(self, "config", None) is not None and self.config.slot_drop_on_stop
        )

    async def _close(self, *, drop_slot: bool = False) -> None:
        if getattr(self, "_snapshot_batches", None) is not None:
            assert self._snapshot_batches is not None
            with contextlib.suppress(Exception):
                await self._snapshot_batches.aclose()  # type: ignore[attr-defined]
            self._snapshot_batches = None
        if getattr(self, "snapshot", None) is not None:
            assert self.snapshot is not None
            await self.snapshot.close()
            self.snapshot = None
        if getattr(self, "_added_batches", None) is not None:
            assert self._added_batches is not None
            with contextlib.suppress(Exception):
                await self._added_batches.aclose()  # type: ignore[attr-defined]
            self._added_batches = None
        if getattr(self, "added", None) is not None:
            assert self.added is not None
            await self.added.close()
            self.added = None
        stream = getattr(self, "stream", None)
        if stream is not None:
            with contextlib.suppress(pgwire.PostgresError, OSError):
                await stream.stop()
            self.stream = None
        repl = getattr(self, "repl", None)
        if drop_slot:
            try:
                if repl is None or repl.closed:
                    repl = await ReplicationConnection.connect(connect_params(self.config, self.app_name))
                await repl.drop_replication_slot(self.config.slot_name, wait=False)
                log.info("Dropped replication slot %s (slot.drop.on.stop)", self.config.slot_name)
            except pgwire.PostgresError as error:
                log.warning("Could not drop replication slot %s: %s", self.config.slot_name, error)
        if repl is not None:
            await repl.close()
        self.repl = None
        meta = getattr(self, "meta", None)
        if meta is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(meta.close(), 5)
            if not meta.is_closed():
                meta.terminate()
            self.meta = None


def _slot_gone(slot: str, what: str) -> str:
    """Why the task cannot go on from its stored position, and the two ways forward."""
    return (
        f"Replication slot {slot} {what}, although this connector stored offsets: the changes made "
        "since then cannot be streamed any more. With snapshot.mode=when_needed the connector takes a "
        "new snapshot of the captured tables and streams from there (rows changed meanwhile arrive "
        "as snapshot reads, deletes made meanwhile are not seen); or stop the connector, reset its "
        "offsets (DELETE /connectors/{name}/offsets) and resume it to start over"
    )
