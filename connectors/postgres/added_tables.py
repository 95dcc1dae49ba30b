"""Tables added to a running connector: each snapshotted alone while the stream goes on.

Debezium snapshots a table added to ``table.include.list`` only when someone sends it an
``execute-snapshot`` signal (an incremental snapshot driven through a signalling table the
connector must be able to write). Penstock does it by itself. The source offset carries the
captured tables (``captured_tables``, see ``events.encode_captured``); a task that starts with
captured tables missing from its stored offset (the include list grew, the exclude list shrank)
snapshots just those, and a table that appears while the task runs and is added to a
``filtered`` publication is snapshotted the same way. A table removed from the filters simply
stops producing events (the filters drop its changes).

Consistency
-----------
The added tables are read by COPY in one ``REPEATABLE READ`` transaction (``snapshot.Snapshot``
without an exported snapshot), whose :class:`~connectors.postgres.snapshot.Visibility` tells,
for each streamed transaction, whether the snapshot already holds its changes. The task
alternates snapshot batches with stream batches, and for a streamed change of an added table
:meth:`AddedTables.verdict` decides:

* ``DROP`` when the snapshot holds the change's transaction: the row read is that state or a
  newer one;
* ``EMIT`` when the table's rows have all been read (and emitted): the change is newer than them;
* ``WAIT`` otherwise: the stream stops (for every table) until the table's read completes, so a
  newer change never goes out before an older read of the same row, and nothing is buffered.

So streaming goes on during the snapshot until the first change the snapshot does not hold of
a table still being read. Once every read is done and the stream has passed the snapshot's WAL
insert position, no streamed transaction can be in the snapshot and the filter ends.

Rows go out as ``op=r`` with ``source.snapshot=incremental`` (Debezium's marker for an
incremental snapshot) and carry the stream's offset with the *previous* table list; only the
last row carries the new list. A task stopped in the middle therefore snapshots the added tables
again when it restarts: their rows may arrive twice (as with Debezium's incremental snapshots),
none is lost.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import replace

from connectors.postgres.config import PostgresConfig
from connectors.postgres.pgoutput import Delete, Insert, Truncate, Update
from connectors.postgres.publication import CapturedTable
from connectors.postgres.snapshot import Snapshot, Visibility

__all__ = ["AddedTables", "Verdict"]


class Verdict(enum.Enum):
    """What the stream does with a change while added tables are snapshotted."""

    EMIT = "emit"
    DROP = "drop"
    WAIT = "wait"


_Change = Insert | Update | Delete | Truncate


class AddedTables:
    """The snapshot of tables added to a running task, and the stream filter it needs."""

    def __init__(self, snapshot: Snapshot, tables: Sequence[CapturedTable]) -> None:
        if snapshot.visibility is None:
            raise ValueError("an added-tables snapshot needs its own transaction (no exported snapshot)")
        self.snapshot: Snapshot | None = snapshot
        self.visibility: Visibility = snapshot.visibility
        self.tables = tuple(tables)
        self.oids = frozenset(t.oid for t in tables)
        self.read: set[int] = set()
        """Tables whose rows have all been emitted."""

    @classmethod
    async def open(
        cls, config: PostgresConfig, tables: Sequence[CapturedTable], *, application_name: str
    ) -> AddedTables:
        snapshot = await Snapshot.open(
            config, tables, batch_size=config.max_batch_size, application_name=application_name
        )
        return cls(snapshot, tables)

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.tables]

    @property
    def reading(self) -> bool:
        return len(self.read) < len(self.oids)

    def verdict(self, change: _Change, xid: int | None, commit_lsn: int | None) -> Verdict:
        """What to do with ``change`` of transaction ``xid`` committing at ``commit_lsn``."""
        if change.__class__ is Truncate:
            assert isinstance(change, Truncate)
            oids = [r.oid for r in change.relations if r.oid in self.oids]
            if not oids:
                return Verdict.EMIT
        else:
            oid = change.relation.oid  # type: ignore[union-attr]
            if oid not in self.oids:
                return Verdict.EMIT
            oids = [oid]
        if self.visibility.contains(xid, commit_lsn):
            return Verdict.DROP
        if all(oid in self.read for oid in oids):
            return Verdict.EMIT
        return Verdict.WAIT

    def without_added(self, truncate: Truncate) -> Truncate:
        """A TRUNCATE the snapshot holds: only its other tables' part."""
        return replace(truncate, relations=tuple(r for r in truncate.relations if r.oid not in self.oids))

    def passed(self, commit_lsn: int | None) -> bool:
        """The filter is no longer needed: every table read and the stream past the snapshot."""
        return not self.reading and commit_lsn is not None and commit_lsn >= self.visibility.wal_insert_lsn

    async def close(self) -> None:
        if self.snapshot is not None:
            await self.snapshot.close()
            self.snapshot = None
