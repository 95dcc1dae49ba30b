"""pgoutput decoding of hand-built messages: layout edge cases, errors, and the per-message cost.

Real server bytes for every message kind are covered by
tests/integration/postgres/test_pg_pgoutput_live.py; these build messages byte by byte from the
format in PostgreSQL's "Logical Replication Message Formats".
"""

from __future__ import annotations

import pickle
import struct
import time

import pytest

from connectors.postgres.pgoutput import (
    PG_EPOCH_OFFSET_US,
    UNCHANGED,
    Begin,
    Commit,
    Delete,
    Insert,
    PgOutputDecoder,
    PgOutputError,
    Relation,
    ReplicaIdentity,
    StreamAbort,
    StreamCommit,
    StreamStart,
    StreamStop,
    Truncate,
    Update,
    format_lsn,
    parse_lsn,
)


def cstr(text: str) -> bytes:
    return text.encode() + b"\0"


def relation_msg(oid: int, columns: list[tuple[str, int, int, bool]], *, xid: int | None = None) -> bytes:
    out = b"R" + (struct.pack(">I", xid) if xid is not None else b"")
    out += struct.pack(">I", oid) + cstr("public") + cstr("t") + b"d" + struct.pack(">h", len(columns))
    for name, type_oid, typmod, key in columns:
        out += bytes([1 if key else 0]) + cstr(name) + struct.pack(">Ii", type_oid, typmod)
    return out


def tuple_data(values: list[str | object | None]) -> bytes:
    out = struct.pack(">H", len(values))
    for value in values:
        if value is None:
            out += b"n"
        elif value is UNCHANGED:
            out += b"u"
        elif isinstance(value, bytes):
            out += b"b" + struct.pack(">I", len(value)) + value
        else:
            raw = str(value).encode()
            out += b"t" + struct.pack(">I", len(raw)) + raw
    return out


COLUMNS = [("id", 23, -1, True), ("name", 25, -1, False), ("price", 1700, (10 << 16 | 2) + 4, False)]


def decoder_with_relation() -> PgOutputDecoder:
    decoder = PgOutputDecoder()
    decoder.decode(relation_msg(16384, COLUMNS))
    return decoder


def test_begin_commit_times_are_unix_microseconds() -> None:
    decoder = PgOutputDecoder()
    begin = decoder.decode(b"B" + struct.pack(">QqI", 0x1_0000_0010, 1_000_000, 42))
    assert begin == Begin(final_lsn=0x1_0000_0010, commit_ts_us=PG_EPOCH_OFFSET_US + 1_000_000, xid=42)
    assert decoder.current_xid == 42
    commit = decoder.decode(b"C" + struct.pack(">BQQq", 0, 0x1_0000_0010, 0x1_0000_0040, 1_000_000))
    assert commit == Commit(0, 0x1_0000_0010, 0x1_0000_0040, PG_EPOCH_OFFSET_US + 1_000_000, 42)
    assert decoder.current_xid is None


def test_relation_and_all_tuple_kinds() -> None:
    decoder = PgOutputDecoder()
    relation = decoder.decode(relation_msg(16384, COLUMNS))
    assert isinstance(relation, Relation)
    assert relation.replica_identity is ReplicaIdentity.DEFAULT
    assert relation.key_columns == ("id",)
    assert relation.columns[2].type_modifier == (10 << 16 | 2) + 4
    insert = decoder.decode(b"I" + struct.pack(">I", 16384) + b"N" + tuple_data(["1", None, "9.99"]))
    assert insert == Insert(relation, ("1", None, "9.99"), None)
    update = decoder.decode(
        b"U" + struct.pack(">I", 16384) + b"O" + tuple_data(["1", "x", "1.00"]) + b"N"
        + tuple_data(["1", UNCHANGED, b"\x01"])
    )  # fmt: skip
    assert update == Update(relation, ("1", UNCHANGED, b"\x01"), ("1", "x", "1.00"), "O", None)
    delete = decoder.decode(b"D" + struct.pack(">I", 16384) + b"K" + tuple_data(["1", None, None]))
    assert delete == Delete(relation, ("1", None, None), "K", None)
    assert delete.old_values() == {"id": "1", "name": None, "price": None}


def test_non_ascii_text_and_names() -> None:
    decoder = PgOutputDecoder()
    decoder.decode(relation_msg(1, [("prénom", 25, -1, True)]))
    insert = decoder.decode(b"I" + struct.pack(">I", 1) + b"N" + tuple_data(["Zoë 🐘"]))
    assert isinstance(insert, Insert)
    assert insert.new_values() == {"prénom": "Zoë 🐘"}


def test_latin1_database_encoding() -> None:
    decoder = PgOutputDecoder(encoding="LATIN1")
    decoder.decode(relation_msg(1, [("c", 25, -1, True)]))
    raw = "é".encode("latin-1")
    insert = decoder.decode(b"I" + struct.pack(">I", 1) + b"N" + b"\0\1t" + struct.pack(">I", 1) + raw)
    assert isinstance(insert, Insert) and insert.new == ("é",)


def test_truncate_flags() -> None:
    decoder = decoder_with_relation()
    decoder.decode(relation_msg(16385, COLUMNS))
    message = decoder.decode(b"T" + struct.pack(">IB", 2, 2) + struct.pack(">II", 16384, 16385))
    assert isinstance(message, Truncate)
    assert [r.oid for r in message.relations] == [16384, 16385]
    assert (message.cascade, message.restart_identity) == (False, True)


def test_streamed_changes_carry_their_xid() -> None:
    decoder = decoder_with_relation()
    assert decoder.decode(b"S" + struct.pack(">IB", 77, 1)) == StreamStart(77, True)
    assert decoder.in_streamed_transaction and decoder.current_xid == 77
    relation = decoder.decode(relation_msg(16384, COLUMNS, xid=78))
    assert isinstance(relation, Relation) and relation.xid == 78
    insert = decoder.decode(b"I" + struct.pack(">II", 78, 16384) + b"N" + tuple_data(["1", "a", "1"]))
    assert isinstance(insert, Insert) and insert.xid == 78
    assert decoder.decode(b"E") == StreamStop()
    assert not decoder.in_streamed_transaction
    assert decoder.decode(b"A" + struct.pack(">II", 77, 78)) == StreamAbort(77, 78)
    v4 = decoder.decode(b"A" + struct.pack(">IIQq", 77, 77, 99, 5))
    assert v4 == StreamAbort(77, 77, 99, PG_EPOCH_OFFSET_US + 5)
    commit = decoder.decode(b"c" + struct.pack(">IBQQq", 77, 0, 10, 20, 0))
    assert commit == StreamCommit(77, 0, 10, 20, PG_EPOCH_OFFSET_US)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "Empty pgoutput message"),
        (b"Z123", "Unsupported pgoutput message type 'Z'"),
        (b"B\0\0", "Truncated pgoutput message 'B'"),
        (b"I" + struct.pack(">I", 999) + b"N" + tuple_data(["1"]), "before its Relation message"),
        (b"I" + struct.pack(">I", 16384) + b"X", "expected 'N'"),
        (b"D" + struct.pack(">I", 16384) + b"N" + tuple_data(["1", "a", "1"]), "expected 'K' or 'O'"),
        (b"I" + struct.pack(">I", 16384) + b"N\0\1x", "Unknown TupleData column kind 'x'"),
        (b"I" + struct.pack(">I", 16384) + b"N\0\1t\0\0\0\x09abc", "Truncated TupleData"),
    ],
)
def test_malformed_messages_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(PgOutputError, match=message):
        decoder_with_relation().decode(data)


def test_lsn_text_form() -> None:
    assert format_lsn(0x16_B374D848) == "16/B374D848"
    assert parse_lsn("16/B374D848") == 0x16_B374D848
    assert parse_lsn(format_lsn(0)) == 0
    with pytest.raises(ValueError, match="Not an LSN"):
        parse_lsn("12345")


def test_unchanged_is_a_picklable_singleton() -> None:
    assert pickle.loads(pickle.dumps(UNCHANGED)) is UNCHANGED
    assert repr(UNCHANGED) == "UNCHANGED"


def test_insert_of_ten_columns_decodes_in_a_few_microseconds() -> None:
    """The cost quoted in the report: one Insert of a typical 10-column row."""
    columns = [(f"col{i}", 25, -1, i == 0) for i in range(10)]
    decoder = PgOutputDecoder()
    decoder.decode(relation_msg(5, columns))
    values: list[str | object | None] = [
        "123456", "Anne Smith", "anne@example.com", "2024-01-02 03:04:05.123456", "42.50",
        None, "t", "some longer free text of a few dozen bytes here", "7", "2024-01-02",
    ]  # fmt: skip
    message = b"I" + struct.pack(">I", 5) + b"N" + tuple_data(values)
    decode = decoder.decode
    n = 20_000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n):
            decode(message)
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    print(f"\npgoutput Insert, 10 columns ({len(message)} bytes): {best:.2f} µs/message")
    assert decode(message).new == tuple(values)  # type: ignore[union-attr]
    assert best < 50  # generous: a shared 2-core machine; typically ~3 µs
