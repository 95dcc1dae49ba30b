"""The pgoutput decoder on real bytes from PostgreSQL's logical decoding (protocol 1 and 2)."""

from __future__ import annotations

import time

import asyncpg
import pytest

from connectors.postgres.pgoutput import (
    UNCHANGED,
    Begin,
    Commit,
    Delete,
    Insert,
    LogicalMessage,
    Message,
    Origin,
    PgOutputDecoder,
    Relation,
    ReplicaIdentity,
    StreamAbort,
    StreamCommit,
    StreamStart,
    Truncate,
    TypeInfo,
    Update,
    parse_lsn,
)
from tests.support.pg_capture import Capture

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def decode_all(rows: list[tuple[str, int, bytes]], decoder: PgOutputDecoder | None = None) -> list[Message]:
    decoder = decoder or PgOutputDecoder()
    return [decoder.decode(data) for _, _, data in rows]


def kinds(messages: list[Message]) -> list[str]:
    return [type(m).__name__ for m in messages]


async def test_insert_update_delete_with_default_identity(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(
            f"CREATE TABLE {s}.items (id int PRIMARY KEY, name text NOT NULL, note varchar(20), qty bigint)"
        )
        await cap.start()
        before_us = int(time.time() * 1e6)
        await cap.execute(f"INSERT INTO {s}.items VALUES (1, 'Anne', NULL, 10)")
        await cap.execute(f"UPDATE {s}.items SET name = 'Anna' WHERE id = 1")
        await cap.execute(f"UPDATE {s}.items SET id = 2 WHERE id = 1")
        await cap.execute(f"DELETE FROM {s}.items WHERE id = 2")
        rows = await cap.changes()

    messages = decode_all(rows)
    assert kinds(messages) == [
        "Begin", "Relation", "Insert", "Commit",
        "Begin", "Update", "Commit",
        "Begin", "Update", "Commit",
        "Begin", "Delete", "Commit",
    ]  # fmt: skip
    begin, relation, insert, commit = messages[:4]
    assert isinstance(begin, Begin) and isinstance(commit, Commit)
    assert begin.xid == rows[0][1] == commit.xid
    assert begin.final_lsn == commit.commit_lsn
    # The lsn column of the Commit row is the end of the commit record (the position to confirm).
    assert commit.end_lsn == parse_lsn(rows[3][0]) > commit.commit_lsn
    assert before_us - 5_000_000 < begin.commit_ts_us == commit.commit_ts_us < before_us + 60_000_000

    assert isinstance(relation, Relation)
    assert (relation.namespace, relation.name) == (s, "items")
    assert relation.replica_identity is ReplicaIdentity.DEFAULT
    assert relation.column_names == ("id", "name", "note", "qty")
    assert relation.key_columns == ("id",)
    assert [(c.type_oid, c.type_modifier) for c in relation.columns] == [
        (23, -1),
        (25, -1),
        (1043, 24),
        (20, -1),
    ]

    assert isinstance(insert, Insert)
    assert insert.relation is relation and insert.xid == begin.xid
    assert insert.new == ("1", "Anne", None, "10")
    assert insert.new_values() == {"id": "1", "name": "Anne", "note": None, "qty": "10"}

    plain_update = messages[5]
    assert isinstance(plain_update, Update)
    assert (plain_update.old, plain_update.old_kind) == (None, None)  # DEFAULT: no old image
    assert plain_update.new == ("1", "Anna", None, "10")

    key_update = messages[8]
    assert isinstance(key_update, Update)
    assert key_update.old_kind == "K"  # the key changed: old key sent, other columns null
    assert key_update.old == ("1", None, None, None)
    assert key_update.new == ("2", "Anna", None, "10")

    delete = messages[11]
    assert isinstance(delete, Delete)
    assert (delete.old_kind, delete.old) == ("K", ("2", None, None, None))
    assert delete.old_values() == {"id": "2", "name": None, "note": None, "qty": None}


async def test_replica_identity_full_sends_whole_old_rows(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.full_t (id int PRIMARY KEY, name text, n int)")
        await cap.execute(f"ALTER TABLE {s}.full_t REPLICA IDENTITY FULL")
        await cap.start()
        await cap.execute(f"INSERT INTO {s}.full_t VALUES (1, 'a', NULL)")
        await cap.execute(f"UPDATE {s}.full_t SET n = 5 WHERE id = 1")
        await cap.execute(f"DELETE FROM {s}.full_t")
        messages = decode_all(await cap.changes())

    relation = next(m for m in messages if isinstance(m, Relation))
    assert relation.replica_identity is ReplicaIdentity.FULL
    assert relation.key_columns == ("id", "name", "n")  # FULL: every column is part of the identity
    update = next(m for m in messages if isinstance(m, Update))
    assert (update.old_kind, update.old, update.new) == ("O", ("1", "a", None), ("1", "a", "5"))
    delete = next(m for m in messages if isinstance(m, Delete))
    assert (delete.old_kind, delete.old) == ("O", ("1", "a", "5"))


async def test_table_without_primary_key(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.nokey (a int, b text)")
        await cap.start()
        await cap.execute(f"INSERT INTO {s}.nokey VALUES (1, 'x'), (NULL, NULL)")
        # PostgreSQL itself refuses UPDATE/DELETE of a published table without replica identity.
        other = await cap.other_connection()
        try:
            with pytest.raises(asyncpg.ObjectNotInPrerequisiteStateError, match="replica identity"):
                await other.execute(f"UPDATE {s}.nokey SET b = 'y'")
        finally:
            await other.close()
        messages = decode_all(await cap.changes())

    assert kinds(messages) == ["Begin", "Relation", "Insert", "Insert", "Commit"]
    relation = messages[1]
    assert isinstance(relation, Relation)
    assert relation.key_columns == ()
    assert [m.new for m in messages if isinstance(m, Insert)] == [("1", "x"), (None, None)]


async def test_unchanged_toast_value(postgres_dsn: str) -> None:
    big = "".join(f"{i:05d}" for i in range(2000))  # 10 kB, stored out of line
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.docs (id int PRIMARY KEY, title text, body text)")
        await cap.execute(f"ALTER TABLE {s}.docs ALTER COLUMN body SET STORAGE EXTERNAL")
        await cap.start()
        await cap.execute(f"INSERT INTO {s}.docs VALUES (1, 't', $1)", big)
        await cap.execute(f"UPDATE {s}.docs SET title = 'u' WHERE id = 1")
        await cap.execute(f"UPDATE {s}.docs SET body = 'short' WHERE id = 1")
        messages = decode_all(await cap.changes())

    insert = next(m for m in messages if isinstance(m, Insert))
    assert insert.new == ("1", "t", big)
    updates = [m for m in messages if isinstance(m, Update)]
    assert updates[0].new == ("1", "u", UNCHANGED)
    assert updates[0].new[2] is UNCHANGED
    assert updates[1].new == ("1", "u", "short")


async def test_truncate_options_and_relations(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.parent (id serial PRIMARY KEY)")
        await cap.execute(f"CREATE TABLE {s}.child (id int PRIMARY KEY, p int REFERENCES {s}.parent)")
        await cap.start()
        await cap.execute(f"INSERT INTO {s}.parent DEFAULT VALUES")
        await cap.execute(f"TRUNCATE {s}.parent RESTART IDENTITY CASCADE")
        await cap.execute(f"TRUNCATE {s}.child")
        messages = decode_all(await cap.changes())

    truncates = [m for m in messages if isinstance(m, Truncate)]
    assert len(truncates) == 2
    first, second = truncates
    assert sorted(r.name for r in first.relations) == ["child", "parent"]
    assert (first.cascade, first.restart_identity) == (True, True)
    assert [r.name for r in second.relations] == ["child"]
    assert (second.cascade, second.restart_identity) == (False, False)
    assert first.xid is not None and first.xid != second.xid


async def test_multi_statement_transaction(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.a (id int PRIMARY KEY, v text)")
        await cap.execute(f"CREATE TABLE {s}.b (id int PRIMARY KEY, v text)")
        await cap.start()
        async with cap.conn.transaction():
            xid = await cap.conn.fetchval("SELECT txid_current()")
            await cap.execute(f"INSERT INTO {s}.a VALUES (1, 'a1'), (2, 'a2')")
            await cap.execute(f"INSERT INTO {s}.b VALUES (1, 'b1')")
            await cap.execute(f"UPDATE {s}.a SET v = 'a1+' WHERE id = 1")
            await cap.execute(f"DELETE FROM {s}.b WHERE id = 1")
        rows = await cap.changes()

    messages = decode_all(rows)
    assert kinds(messages) == [
        "Begin", "Relation", "Insert", "Insert", "Relation", "Insert", "Update", "Delete", "Commit"
    ]  # fmt: skip
    assert {m.xid for m in messages if isinstance(m, Insert | Update | Delete | Begin | Commit)} == {xid}
    assert {row[1] for row in rows} == {xid}
    changed = [
        (m.relation.name, type(m).__name__) for m in messages if isinstance(m, Insert | Update | Delete)
    ]
    assert changed == [("a", "Insert"), ("a", "Insert"), ("b", "Insert"), ("a", "Update"), ("b", "Delete")]


async def test_logical_messages(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        await cap.execute(f"CREATE TABLE {cap.schema}.t (id int PRIMARY KEY)")
        await cap.start()
        async with cap.conn.transaction():
            await cap.execute("SELECT pg_logical_emit_message(true, 'pfx', 'in transaction')")
            await cap.execute(f"INSERT INTO {cap.schema}.t VALUES (1)")
        await cap.execute("SELECT pg_logical_emit_message(false, 'heartbeat', '\\x00ff'::bytea)")
        await cap.execute(f"INSERT INTO {cap.schema}.t VALUES (2)")  # flushes the WAL of the message
        messages = decode_all(await cap.changes("messages", "true"))

    logical = [m for m in messages if isinstance(m, LogicalMessage)]
    assert [(m.transactional, m.prefix, m.content) for m in logical] == [
        (True, "pfx", b"in transaction"),
        (False, "heartbeat", b"\x00\xff"),
    ]
    begin = next(m for m in messages if isinstance(m, Begin))
    assert logical[0].xid == begin.xid
    assert logical[1].xid is None
    assert logical[0].lsn > 0


async def test_enum_column_sends_type_message(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TYPE {s}.mood AS ENUM ('sad', 'ok', 'happy')")
        await cap.execute(f"CREATE TABLE {s}.person (id int PRIMARY KEY, mood {s}.mood)")
        await cap.start()
        await cap.execute(f"INSERT INTO {s}.person VALUES (1, 'happy')")
        messages = decode_all(await cap.changes())
        mood_oid = await cap.conn.fetchval(f"SELECT '{s}.mood'::regtype::oid")

    type_info = next(m for m in messages if isinstance(m, TypeInfo))
    assert (type_info.oid, type_info.namespace, type_info.name) == (mood_oid, s, "mood")
    relation = next(m for m in messages if isinstance(m, Relation))
    assert relation.columns[1].type_oid == mood_oid
    assert next(m for m in messages if isinstance(m, Insert)).new == ("1", "happy")


async def test_origin_message(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        origin = f"{cap.schema}_origin"
        await cap.execute(f"CREATE TABLE {cap.schema}.t (id int PRIMARY KEY)")
        await cap.start()
        await cap.execute("SELECT pg_replication_origin_create($1)", origin)
        try:
            await cap.execute("SELECT pg_replication_origin_session_setup($1)", origin)
            async with cap.conn.transaction():
                await cap.execute("SELECT pg_replication_origin_xact_setup('0/1234ABCD', now())")
                await cap.execute(f"INSERT INTO {cap.schema}.t VALUES (1)")
            await cap.execute("SELECT pg_replication_origin_session_reset()")
            messages = decode_all(await cap.changes())
        finally:
            await cap.execute("SELECT pg_replication_origin_drop($1)", origin)

    assert kinds(messages)[:2] == ["Begin", "Origin"]
    found = messages[1]
    assert isinstance(found, Origin)
    assert (found.name, found.origin_lsn) == (origin, parse_lsn("0/1234ABCD"))


async def test_binary_mode_values_are_bytes(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        await cap.execute(f"CREATE TABLE {cap.schema}.t (id int PRIMARY KEY, name text, n int8)")
        await cap.start()
        await cap.execute(f"INSERT INTO {cap.schema}.t VALUES (258, 'hé', NULL)")
        messages = decode_all(await cap.changes("binary", "true"))

    insert = next(m for m in messages if isinstance(m, Insert))
    assert insert.new == ((258).to_bytes(4, "big"), "hé".encode(), None)


async def test_protocol_2_streamed_transaction_with_subtransaction_abort(postgres_dsn: str) -> None:
    async with Capture(postgres_dsn) as cap:
        s = cap.schema
        await cap.execute(f"CREATE TABLE {s}.bulk (id int PRIMARY KEY, pad text)")
        await cap.start()
        async with cap.conn.transaction():
            xid = await cap.conn.fetchval("SELECT txid_current()")
            await cap.execute(
                f"INSERT INTO {s}.bulk SELECT g, repeat('x', 200) FROM generate_series(1, 1500) g"
            )
            await cap.execute("SAVEPOINT sp")
            await cap.execute(
                f"INSERT INTO {s}.bulk SELECT g, repeat('y', 200) FROM generate_series(1501, 3000) g"
            )
            await cap.execute("ROLLBACK TO SAVEPOINT sp")
            await cap.execute(f"INSERT INTO {s}.bulk VALUES (0, 'last')")
        # Decoding happens in this session: a small work_mem makes the server stream the transaction.
        await cap.execute("SET logical_decoding_work_mem = '64kB'")
        messages = decode_all(await cap.changes("streaming", "on", proto_version="2"))

    names = kinds(messages)
    assert names[0] == "StreamStart"
    assert "Begin" not in names and "Commit" not in names
    starts = [m for m in messages if isinstance(m, StreamStart)]
    assert starts[0].first_segment and not any(m.first_segment for m in starts[1:])
    assert {m.xid for m in starts} == {xid}
    assert names.count("StreamStart") == names.count("StreamStop") >= 2
    assert isinstance(messages[-1], StreamCommit) and messages[-1].xid == xid
    relation = next(m for m in messages if isinstance(m, Relation))
    assert relation.xid == xid
    inserts = [m for m in messages if isinstance(m, Insert)]
    # Changes carry the xid of their (sub)transaction; the StreamStart xid is the top-level one.
    aborted = {a.subxid for a in messages if isinstance(a, StreamAbort)}
    assert all(a.xid == xid and a.subxid != xid for a in messages if isinstance(a, StreamAbort))
    kept = [m.new[0] for m in inserts if m.xid not in aborted]
    assert kept == [str(i) for i in range(1, 1501)] + ["0"]
    assert all(m.new[1] == "y" * 200 for m in inserts if m.xid in aborted)
