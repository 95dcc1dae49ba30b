"""The task's pure rules: where a record offset stands in emission order, and what a restart skips."""

from __future__ import annotations

from connectors.postgres.pgoutput import Begin
from connectors.postgres.task import ResumePoint, breaks_connection, offset_key


def test_offset_key_orders_snapshot_before_stream_and_transactions_by_commit() -> None:
    snapshot = offset_key({"lsn": 900, "snapshot": True, "last_snapshot_record": True})
    first_tx = offset_key({"lsn": 800, "txId": 5})  # no previous commit yet; lower LSN than the snapshot
    second_tx_low = offset_key({"lsn": 700, "lsn_commit": 1000, "txId": 6})  # interleaved: lower LSN
    second_tx_high = offset_key({"lsn": 1100, "lsn_commit": 1000, "txId": 6})
    third_tx = offset_key({"lsn": 1050, "lsn_commit": 1200, "txId": 7})
    assert snapshot < first_tx < second_tx_low < second_tx_high < third_tx


def test_resume_skips_completed_transactions_and_the_stored_part_of_the_current_one() -> None:
    resume = ResumePoint.from_offset({"lsn": 700, "lsn_commit": 1000, "txId": 6})
    # committed before the stored lsn_commit: done
    assert resume.skips_transaction(Begin(final_lsn=990, commit_ts_us=0, xid=5))
    # the stored transaction commits later: replayed, its changes up to 700 skipped
    assert not resume.skips_transaction(Begin(final_lsn=1300, commit_ts_us=0, xid=6))
    assert resume.skips_change(6, 700) and resume.skips_change(6, 650)
    assert not resume.skips_change(6, 701)
    # another transaction interleaved with lower LSNs is not skipped
    assert not resume.skips_change(7, 600)


def test_snapshot_offsets_skip_nothing() -> None:
    resume = ResumePoint.from_offset({"lsn": 700, "txId": 3, "snapshot": True, "last_snapshot_record": True})
    assert not resume.skips_transaction(Begin(final_lsn=10, commit_ts_us=0, xid=3))
    assert not resume.skips_change(3, 10)


def test_a_statement_error_keeps_the_catalog_connection_and_a_broken_exchange_drops_it() -> None:
    """The CI failure this guards: after a server restart asyncpg raised InternalClientError
    ("another operation is in progress") on a connection that still looked open; the task failed
    instead of reconnecting."""
    import asyncpg

    assert not breaks_connection(asyncpg.exceptions.InsufficientPrivilegeError("permission denied"))
    assert not breaks_connection(asyncpg.exceptions.UndefinedTableError("no such table"))
    assert not breaks_connection(ValueError("not a database error"))
    assert breaks_connection(asyncpg.InternalClientError("cannot switch to state 12"))
    assert breaks_connection(asyncpg.exceptions.AdminShutdownError("terminating connection"))
    assert breaks_connection(asyncpg.exceptions.CannotConnectNowError("the database system is starting up"))
    assert breaks_connection(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed"))
    assert breaks_connection(asyncpg.InterfaceError("connection is closed"))
    assert breaks_connection(TimeoutError())
    assert breaks_connection(ConnectionResetError())
