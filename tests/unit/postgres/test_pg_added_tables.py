"""The stream filter of an added-tables snapshot: which streamed transactions the snapshot holds
(``Visibility``, with 32-bit wraparound) and what the stream does with each change."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.postgres.added_tables import AddedTables, Verdict
from connectors.postgres.pgoutput import Insert, Relation, Truncate
from connectors.postgres.snapshot import Visibility


def test_visibility_of_transactions_around_the_snapshot() -> None:
    seen = Visibility.parse("100:105:101,103", wal_insert_lsn=1_000)
    assert seen.contains(99, 500)  # finished before xmin
    assert seen.contains(102, 999)  # between xmin and xmax, not running
    assert not seen.contains(101, 900)  # running when the snapshot was taken
    assert not seen.contains(105, 900)  # not yet started (>= xmax)
    assert not seen.contains(99, 1_000)  # commits at/after the snapshot's WAL position
    assert not seen.contains(None, 10) and not seen.contains(99, None)


def test_visibility_reduces_64_bit_ids_and_wraps_around() -> None:
    epoch = 1 << 32
    seen = Visibility.parse(f"{epoch + 4294967290}:{2 * epoch + 5}:{2 * epoch + 2}", wal_insert_lsn=10)
    assert seen.contains(4294967295, 5)  # before the wrap, finished
    assert seen.contains(3, 5)  # after the wrap, below xmax, not running
    assert not seen.contains(2, 5)  # running
    assert not seen.contains(6, 5)  # after xmax


class _Snap:
    def __init__(self, visibility: Visibility) -> None:
        self.visibility = visibility


def _relation(oid: int) -> Relation:
    return Relation(oid=oid, namespace="s", name=f"t{oid}", replica_identity="d", columns=())


def _added(*oids: int) -> AddedTables:
    tables: list[Any] = [type("T", (), {"oid": o, "id": f"s.t{o}"})() for o in oids]
    return AddedTables(_Snap(Visibility.parse("100:110:", 1_000)), tables)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("oid", "xid", "read", "expected"),
    [
        (7, 105, False, Verdict.EMIT),  # not an added table
        (1, 105, False, Verdict.DROP),  # the snapshot holds it
        (1, 120, False, Verdict.WAIT),  # newer, and the table's rows are not all out
        (1, 120, True, Verdict.EMIT),  # newer, after the table's rows
    ],
)
def test_verdicts(oid: int, xid: int, read: bool, expected: Verdict) -> None:
    added = _added(1, 2)
    if read:
        added.read.add(1)
    change = Insert(relation=_relation(oid), new=(), xid=None)
    assert added.verdict(change, xid, 900) is expected


def test_a_truncate_waits_for_every_added_table_it_names() -> None:
    added = _added(1, 2)
    truncate = Truncate(
        relations=(_relation(1), _relation(2), _relation(7)), cascade=False, restart_identity=False, xid=None
    )
    added.read.add(1)
    assert added.verdict(truncate, 120, 900) is Verdict.WAIT
    added.read.add(2)
    assert added.verdict(truncate, 120, 900) is Verdict.EMIT
    assert added.verdict(truncate, 105, 900) is Verdict.DROP
    assert [r.oid for r in added.without_added(truncate).relations] == [7]


def test_the_filter_ends_once_everything_is_read_and_the_stream_passed_the_snapshot() -> None:
    added = _added(1)
    assert not added.passed(2_000)
    added.read.add(1)
    assert not added.passed(999) and added.passed(1_000)
