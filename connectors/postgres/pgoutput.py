"""A decoder of ``pgoutput`` logical replication messages (protocol versions 1 and 2).

PostgreSQL's built-in output plugin sends one binary message per WAL change; the format is
documented in "Logical Replication Message Formats" of the PostgreSQL manual. The same bytes
arrive whichever way the connector reads the slot: the ``data`` column of
``pg_logical_slot_get_binary_changes(...)`` or the payload of an ``XLogData`` ('w') message on a
replication connection. The LSN of a message is *not* part of it (it is the ``lsn`` column, or
the XLogData ``dataStart``): the caller pairs the two.

Usage::

    decoder = PgOutputDecoder()
    for lsn, data in changes:
        message = decoder.decode(data)
        match message:
            case Insert(relation=rel, new=row): ...

The decoder keeps the state the protocol needs: ``Relation`` messages (sent before the first
change of a table in a session and again after its schema changed) are cached by relation OID
and attached to every change, ``Type`` messages are cached by type OID, and with protocol 2 the
decoder tracks whether it is inside a streamed (large, in-progress) transaction, where each
change carries its own xid. Outside a streamed transaction each change gets the xid of the
enclosing ``Begin``, so every change says which transaction it belongs to.

Row images are tuples aligned with ``relation.columns`` (not dicts): the connector converts a
row with one converter per column position, and a tuple avoids building a dict per row. Each
value is the column's text (``str``, the type's output function, in the database encoding),
``None`` for SQL NULL, :data:`UNCHANGED` for an unchanged TOASTed value the server did not
send, or ``bytes`` when the slot was read with ``binary 'true'`` (the connector does not).
``row_dict`` / ``Insert.new_values()`` give the ``column -> value`` mapping when wanted.

Decoding is a single pass over the message with ``struct.unpack_from`` on the header fields
and one slice + decode per column; see ``tests/unit/postgres/test_pgoutput.py`` for the
per-message cost.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal, TypeAlias

__all__ = [
    "PG_EPOCH_OFFSET_US",
    "UNCHANGED",
    "Begin",
    "ColumnValue",
    "Commit",
    "Delete",
    "Insert",
    "LogicalMessage",
    "Message",
    "Origin",
    "PgOutputDecoder",
    "PgOutputError",
    "Relation",
    "RelationColumn",
    "ReplicaIdentity",
    "Row",
    "StreamAbort",
    "StreamCommit",
    "StreamStart",
    "StreamStop",
    "Truncate",
    "TypeInfo",
    "Update",
    "format_lsn",
    "parse_lsn",
    "row_dict",
]

#: Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01 00:00:00 UTC).
PG_EPOCH_OFFSET_US: Final = 946_684_800_000_000


class PgOutputError(ValueError):
    """A message that is not valid pgoutput, or that refers to state the decoder never saw."""


class _Unchanged:
    """The type of :data:`UNCHANGED` (a singleton, compared with ``is``)."""

    __slots__ = ()
    _instance: _Unchanged | None = None

    def __new__(cls) -> _Unchanged:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED"

    def __reduce__(self) -> str:
        return "UNCHANGED"


#: An unchanged TOASTed value: pgoutput sends 'u' instead of the (large, out-of-line) value when
#: an UPDATE did not touch it and the table's REPLICA IDENTITY is not FULL.
UNCHANGED: Final = _Unchanged()

ColumnValue: TypeAlias = str | bytes | _Unchanged | None
Row: TypeAlias = tuple[ColumnValue, ...]


class ReplicaIdentity(StrEnum):
    """``pg_class.relreplident``: what the old row image of an UPDATE/DELETE holds."""

    DEFAULT = "d"  # primary key columns (nothing if there is no primary key)
    NOTHING = "n"
    FULL = "f"  # every column
    INDEX = "i"  # the columns of the index named by REPLICA IDENTITY USING INDEX


@dataclass(frozen=True, slots=True)
class RelationColumn:
    """One column of a Relation message."""

    name: str
    type_oid: int
    #: ``pg_attribute.atttypmod``: -1 when the type has no modifier (see types.py for decoding).
    type_modifier: int
    #: Part of the replica identity (the primary key under REPLICA IDENTITY DEFAULT).
    is_key: bool


@dataclass(frozen=True, slots=True)
class Relation:
    """A table's shape as the server describes it ('R'); changes refer to it by ``oid``."""

    oid: int
    #: Schema name (``pg_catalog`` is sent as the empty string by the server; kept as sent).
    namespace: str
    name: str
    replica_identity: ReplicaIdentity
    columns: tuple[RelationColumn, ...]
    #: The streamed transaction that sent it (protocol 2, inside Stream Start/Stop), else None.
    xid: int | None = None

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in table order (the order of every row image)."""
        return tuple(column.name for column in self.columns)

    @property
    def key_columns(self) -> tuple[str, ...]:
        """Names of the replica identity columns, in table order."""
        return tuple(column.name for column in self.columns if column.is_key)


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """A non-built-in data type a Relation refers to ('Y'): enum, domain, extension type."""

    oid: int
    namespace: str
    name: str
    xid: int | None = None


@dataclass(frozen=True, slots=True)
class Begin:
    """Start of a (non-streamed) transaction; every change until Commit belongs to it."""

    #: LSN of the transaction's commit record (the same as ``Commit.commit_lsn``).
    final_lsn: int
    #: Commit time, microseconds since the Unix epoch.
    commit_ts_us: int
    xid: int


@dataclass(frozen=True, slots=True)
class Commit:
    """End of a transaction."""

    flags: int
    #: LSN of the commit record.
    commit_lsn: int
    #: LSN just past the commit record: the position to confirm once the transaction is durable.
    end_lsn: int
    #: Commit time, microseconds since the Unix epoch.
    commit_ts_us: int
    #: The xid of the matching Begin (None if the decoder did not see it).
    xid: int | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """The transaction was replicated from another server (sent after Begin)."""

    origin_lsn: int
    name: str


@dataclass(frozen=True, slots=True)
class Insert:
    """INSERT: the new row."""

    relation: Relation
    new: Row
    xid: int | None

    def new_values(self) -> dict[str, ColumnValue]:
        """The new row as ``column -> value``."""
        return row_dict(self.relation, self.new)


@dataclass(frozen=True, slots=True)
class Update:
    """UPDATE: the new row and, when the server sent one, the old row image.

    ``old_kind`` says what ``old`` holds: ``'K'`` only the replica identity (key) columns, the
    others None (sent by REPLICA IDENTITY DEFAULT/INDEX when a key column changed), ``'O'`` the
    whole old row (REPLICA IDENTITY FULL); None when no old image was sent.
    """

    relation: Relation
    new: Row
    old: Row | None
    old_kind: Literal["K", "O"] | None
    xid: int | None

    def new_values(self) -> dict[str, ColumnValue]:
        """The new row as ``column -> value``."""
        return row_dict(self.relation, self.new)

    def old_values(self) -> dict[str, ColumnValue] | None:
        """The old row image as ``column -> value``, or None."""
        return None if self.old is None else row_dict(self.relation, self.old)


@dataclass(frozen=True, slots=True)
class Delete:
    """DELETE: the old row image (``'K'`` key columns only, or ``'O'`` the full row)."""

    relation: Relation
    old: Row
    old_kind: Literal["K", "O"]
    xid: int | None

    def old_values(self) -> dict[str, ColumnValue]:
        """The old row image as ``column -> value``."""
        return row_dict(self.relation, self.old)


@dataclass(frozen=True, slots=True)
class Truncate:
    """TRUNCATE of one or more tables (one message for the whole statement)."""

    relations: tuple[Relation, ...]
    cascade: bool
    restart_identity: bool
    xid: int | None


@dataclass(frozen=True, slots=True)
class LogicalMessage:
    """A message written with ``pg_logical_emit_message`` (needs the ``messages 'true'`` option)."""

    transactional: bool
    lsn: int
    prefix: str
    content: bytes
    xid: int | None


@dataclass(frozen=True, slots=True)
class StreamStart:
    """Protocol 2: a block of changes of the in-progress transaction ``xid`` follows."""

    xid: int
    first_segment: bool


@dataclass(frozen=True, slots=True)
class StreamStop:
    """Protocol 2: end of a block of streamed changes."""


@dataclass(frozen=True, slots=True)
class StreamCommit:
    """Protocol 2: the streamed transaction ``xid`` committed; its buffered changes are final."""

    xid: int
    flags: int
    commit_lsn: int
    end_lsn: int
    commit_ts_us: int


@dataclass(frozen=True, slots=True)
class StreamAbort:
    """Protocol 2: the streamed transaction (``subxid == xid``) or one subtransaction aborted.

    The connector drops the buffered changes of ``subxid`` (all of ``xid`` when equal).
    ``abort_lsn``/``abort_ts_us`` are only sent by protocol 4 with parallel apply.
    """

    xid: int
    subxid: int
    abort_lsn: int | None = None
    abort_ts_us: int | None = None


Message: TypeAlias = (
    Begin
    | Commit
    | Origin
    | Relation
    | TypeInfo
    | Insert
    | Update
    | Delete
    | Truncate
    | LogicalMessage
    | StreamStart
    | StreamStop
    | StreamCommit
    | StreamAbort
)

_INT16: Final = struct.Struct(">h").unpack_from
_UINT16: Final = struct.Struct(">H").unpack_from
_INT32: Final = struct.Struct(">i").unpack_from
_UINT32: Final = struct.Struct(">I").unpack_from
_BEGIN: Final = struct.Struct(">QqI").unpack_from  # final lsn, commit ts, xid
_COMMIT: Final = struct.Struct(">BQQq").unpack_from  # flags, commit lsn, end lsn, commit ts
_STREAM_COMMIT: Final = struct.Struct(">IBQQq").unpack_from
_MESSAGE: Final = struct.Struct(">BQ").unpack_from  # flags, lsn
_RELATION_COLUMN: Final = struct.Struct(">Ii").unpack_from  # type oid, typmod
_TRUNCATE: Final = struct.Struct(">IB").unpack_from  # relation count, options
_QWORD: Final = struct.Struct(">Q").unpack_from
_QQ: Final = struct.Struct(">Qq").unpack_from

_NEW: Final = 0x4E  # 'N'
_KEY: Final = 0x4B  # 'K'
_OLD: Final = 0x4F  # 'O'
_TRUNCATE_CASCADE: Final = 1
_TRUNCATE_RESTART_IDENTITY: Final = 2


def row_dict(relation: Relation, row: Row) -> dict[str, ColumnValue]:
    """``row`` as ``column name -> value`` in table order."""
    return dict(zip(relation.column_names, row, strict=True))


def format_lsn(lsn: int) -> str:
    """An LSN in PostgreSQL's text form, ``'16/B374D848'``."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    """The 64-bit LSN of PostgreSQL's text form ``'16/B374D848'``."""
    high, sep, low = text.partition("/")
    if not sep:
        raise ValueError(f"Not an LSN (expected 'XXX/XXX'): {text!r}")
    return (int(high, 16) << 32) | int(low, 16)


class PgOutputDecoder:
    """Decodes pgoutput messages one at a time, keeping the relation and type caches.

    One decoder per replication stream: the relation cache must have seen the Relation message
    of a table before its first change, which the server guarantees per session (a new session,
    e.g. each ``pg_logical_slot_get_binary_changes`` call, re-sends them). ``relations`` may be
    pre-filled (e.g. by a restarted reader that kept them), but the server's copy always wins.

    ``encoding`` is the database encoding (``SHOW server_encoding``): pgoutput sends text values
    in it, without conversion to the client encoding.
    """

    __slots__ = ("_decode_text", "_in_stream", "_stream_xid", "_xid", "relations", "types")

    def __init__(self, *, encoding: str = "utf-8", relations: dict[int, Relation] | None = None) -> None:
        self.relations: dict[int, Relation] = dict(relations or {})
        self.types: dict[int, TypeInfo] = {}
        self._xid: int | None = None
        self._in_stream = False
        self._stream_xid: int | None = None
        codec = encoding.lower().replace("_", "-")
        self._decode_text: Callable[[bytes], str]
        if codec in ("utf-8", "utf8"):
            self._decode_text = bytes.decode  # UTF-8 by default, without a wrapper call
        else:
            self._decode_text = _decoder_for(encoding)

    @property
    def in_streamed_transaction(self) -> bool:
        """True between Stream Start and Stream Stop (protocol 2)."""
        return self._in_stream

    @property
    def current_xid(self) -> int | None:
        """The xid changes are attributed to: the streamed one, else the open Begin's."""
        return self._stream_xid if self._in_stream else self._xid

    def decode(self, data: bytes | bytearray | memoryview) -> Message:
        """Decode one message; a :class:`PgOutputError` if it is malformed or unknown."""
        buf = data if type(data) is bytes else bytes(data)
        if not buf:
            raise PgOutputError("Empty pgoutput message")
        try:
            return self._dispatch(buf, buf[0])
        except struct.error as exc:
            raise PgOutputError(f"Truncated pgoutput message {chr(buf[0])!r}: {exc}") from None
        except IndexError:
            raise PgOutputError(f"Truncated pgoutput message {chr(buf[0])!r}") from None

    # -- per-message decoders ---------------------------------------------------------------------
    def _dispatch(self, buf: bytes, kind: int) -> Message:
        # Ordered by frequency: row changes first.
        if kind == 0x49:  # 'I'
            xid, pos = self._change_xid(buf, 1)
            relation = self._relation(_UINT32(buf, pos)[0])
            if buf[pos + 4] != _NEW:
                raise PgOutputError(f"Insert: expected 'N' before the new tuple, got {chr(buf[pos + 4])!r}")
            new, _ = self._tuple(buf, pos + 5)
            return Insert(relation, new, xid)
        if kind == 0x55:  # 'U'
            return self._update(buf)
        if kind == 0x44:  # 'D'
            return self._delete(buf)
        if kind == 0x42:  # 'B'
            final_lsn, ts, xid = _BEGIN(buf, 1)
            self._xid = xid
            return Begin(final_lsn, ts + PG_EPOCH_OFFSET_US, xid)
        if kind == 0x43:  # 'C'
            flags, commit_lsn, end_lsn, ts = _COMMIT(buf, 1)
            xid, self._xid = self._xid, None
            return Commit(flags, commit_lsn, end_lsn, ts + PG_EPOCH_OFFSET_US, xid)
        if kind == 0x52:  # 'R'
            return self._relation_message(buf)
        if kind == 0x59:  # 'Y'
            xid, pos = self._stream_xid_field(buf, 1)
            oid = _UINT32(buf, pos)[0]
            namespace, pos = self._cstring(buf, pos + 4)
            name, pos = self._cstring(buf, pos)
            info = TypeInfo(oid, namespace, name, xid)
            self.types[oid] = info
            return info
        if kind == 0x54:  # 'T'
            return self._truncate(buf)
        if kind == 0x4F:  # 'O'
            (origin_lsn,) = _QWORD(buf, 1)
            name, _ = self._cstring(buf, 9)
            return Origin(origin_lsn, name)
        if kind == 0x4D:  # 'M'
            return self._logical_message(buf)
        if kind == 0x53:  # 'S'
            xid = _UINT32(buf, 1)[0]
            self._in_stream = True
            self._stream_xid = xid
            return StreamStart(xid, buf[5] == 1)
        if kind == 0x45:  # 'E'
            self._in_stream = False
            self._stream_xid = None
            return StreamStop()
        if kind == 0x63:  # 'c'
            xid, flags, commit_lsn, end_lsn, ts = _STREAM_COMMIT(buf, 1)
            return StreamCommit(xid, flags, commit_lsn, end_lsn, ts + PG_EPOCH_OFFSET_US)
        if kind == 0x41:  # 'A'
            xid = _UINT32(buf, 1)[0]
            subxid = _UINT32(buf, 5)[0]
            if len(buf) >= 25:  # protocol 4: abort LSN and time follow
                abort_lsn, ts = _QQ(buf, 9)
                return StreamAbort(xid, subxid, abort_lsn, ts + PG_EPOCH_OFFSET_US)
            return StreamAbort(xid, subxid)
        raise PgOutputError(
            f"Unsupported pgoutput message type {chr(kind)!r} (0x{kind:02x}); this decoder handles "
            "protocol versions 1 and 2 (two-phase commit messages need proto_version 3 and "
            "'two_phase': read the slot without them)"
        )

    def _stream_xid_field(self, buf: bytes, pos: int) -> tuple[int | None, int]:
        """Inside a streamed transaction messages start with the xid; elsewhere they do not."""
        if self._in_stream:
            return _UINT32(buf, pos)[0], pos + 4
        return None, pos

    def _change_xid(self, buf: bytes, pos: int) -> tuple[int | None, int]:
        if self._in_stream:
            return _UINT32(buf, pos)[0], pos + 4
        return self._xid, pos

    def _relation(self, oid: int) -> Relation:
        relation = self.relations.get(oid)
        if relation is None:
            raise PgOutputError(
                f"Change for relation OID {oid} before its Relation message; the decoder must see "
                "the stream of a session from its start (use one decoder per replication session)"
            )
        return relation

    def _relation_message(self, buf: bytes) -> Relation:
        xid, pos = self._stream_xid_field(buf, 1)
        oid = _UINT32(buf, pos)[0]
        namespace, pos = self._cstring(buf, pos + 4)
        name, pos = self._cstring(buf, pos)
        identity = ReplicaIdentity(chr(buf[pos]))
        count = _INT16(buf, pos + 1)[0]
        pos += 3
        columns = []
        cstring = self._cstring
        for _ in range(count):
            flags = buf[pos]
            column_name, pos = cstring(buf, pos + 1)
            type_oid, typmod = _RELATION_COLUMN(buf, pos)
            pos += 8
            columns.append(RelationColumn(column_name, type_oid, typmod, bool(flags & 1)))
        relation = Relation(oid, namespace, name, identity, tuple(columns), xid)
        self.relations[oid] = relation
        return relation

    def _update(self, buf: bytes) -> Update:
        xid, pos = self._change_xid(buf, 1)
        relation = self._relation(_UINT32(buf, pos)[0])
        pos += 4
        marker = buf[pos]
        old: Row | None = None
        old_kind: Literal["K", "O"] | None = None
        if marker in (_KEY, _OLD):
            old_kind = "K" if marker == _KEY else "O"
            old, pos = self._tuple(buf, pos + 1)
            marker = buf[pos]
        if marker != _NEW:
            raise PgOutputError(f"Update: expected 'N' before the new tuple, got {chr(marker)!r}")
        new, _ = self._tuple(buf, pos + 1)
        return Update(relation, new, old, old_kind, xid)

    def _delete(self, buf: bytes) -> Delete:
        xid, pos = self._change_xid(buf, 1)
        relation = self._relation(_UINT32(buf, pos)[0])
        marker = buf[pos + 4]
        if marker != _KEY and marker != _OLD:
            raise PgOutputError(f"Delete: expected 'K' or 'O' before the old tuple, got {chr(marker)!r}")
        old, _ = self._tuple(buf, pos + 5)
        return Delete(relation, old, "K" if marker == _KEY else "O", xid)

    def _truncate(self, buf: bytes) -> Truncate:
        xid, pos = self._change_xid(buf, 1)
        count, options = _TRUNCATE(buf, pos)
        pos += 5
        oids = struct.unpack_from(f">{count}I", buf, pos)
        return Truncate(
            tuple(self._relation(oid) for oid in oids),
            bool(options & _TRUNCATE_CASCADE),
            bool(options & _TRUNCATE_RESTART_IDENTITY),
            xid,
        )

    def _logical_message(self, buf: bytes) -> LogicalMessage:
        xid, pos = self._stream_xid_field(buf, 1)
        flags, lsn = _MESSAGE(buf, pos)
        prefix, pos = self._cstring(buf, pos + 9)
        length = _UINT32(buf, pos)[0]
        start = pos + 4
        content = buf[start : start + length]
        if len(content) != length:
            raise PgOutputError("Truncated pgoutput message 'M'")
        transactional = bool(flags & 1)
        if xid is None and transactional:
            xid = self._xid
        return LogicalMessage(transactional, lsn, prefix, content, xid)

    def _tuple(self, buf: bytes, pos: int) -> tuple[Row, int]:
        """TupleData at ``pos``: (values, position after it). The hot path of the decoder."""
        count = _UINT16(buf, pos)[0]
        pos += 2
        values: list[ColumnValue] = []
        append = values.append
        decode = self._decode_text
        length_at = _UINT32
        for _ in range(count):
            kind = buf[pos]
            if kind == 0x74:  # 't' text
                start = pos + 5
                pos = start + length_at(buf, pos + 1)[0]
                append(decode(buf[start:pos]))
            elif kind == 0x6E:  # 'n' null
                append(None)
                pos += 1
            elif kind == 0x75:  # 'u' unchanged TOAST
                append(UNCHANGED)
                pos += 1
            elif kind == 0x62:  # 'b' binary
                start = pos + 5
                pos = start + length_at(buf, pos + 1)[0]
                append(buf[start:pos])
            else:
                raise PgOutputError(f"Unknown TupleData column kind {chr(kind)!r} (0x{kind:02x})")
        if pos > len(buf):
            raise PgOutputError("Truncated TupleData: a column value runs past the end of the message")
        return tuple(values), pos

    def _cstring(self, buf: bytes, pos: int) -> tuple[str, int]:
        end = buf.index(0, pos)
        return self._decode_text(buf[pos:end]), end + 1


def _decoder_for(encoding: str) -> Callable[[bytes], str]:
    # PostgreSQL names some encodings differently from Python (WIN1252 -> cp1252...).
    aliases = {"sql-ascii": "ascii", "sql_ascii": "ascii", "latin1": "latin-1"}
    lowered = encoding.lower()
    python_name = aliases.get(lowered, lowered)
    if python_name.startswith("win"):
        python_name = "cp" + python_name[3:]
    "".encode(python_name)  # LookupError now rather than on the first row

    def decode(raw: bytes) -> str:
        return raw.decode(python_name)

    return decode
