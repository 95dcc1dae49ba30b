"""A minimal PostgreSQL frontend/backend protocol (v3) client on asyncio streams.

Why this exists: asyncpg cannot open a *replication* connection (``replication=database``) nor
enter CopyBoth mode, and no well-kept Python driver offers logical streaming replication on
asyncio (see ``connectors.postgres.replication`` for the survey). This module does the part every
PostgreSQL client needs — TCP or Unix socket, TLS negotiation per ``sslmode``, the startup
message, authentication (trust, cleartext, MD5, SCRAM-SHA-256 with or without channel binding,
through the ``scramp`` library), server errors as typed exceptions, and the simple-query
protocol — and nothing more. The replication module builds the walsender commands and the
CopyBoth streaming on top of :class:`PgConnection`.

All I/O is non-blocking; the only blocking work (loading certificate files into an SSL context)
runs in a worker thread. Error messages never contain the password.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import socket
import ssl
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal, get_args
from urllib.parse import parse_qsl, unquote, urlsplit

import scramp

from connectors.sdk.errors import ConfigError, ConnectError

log = logging.getLogger(__name__)

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
SSL_MODES: Final[tuple[str, ...]] = get_args(SslMode)

PROTOCOL_VERSION: Final = 196608  # 3.0
SSL_REQUEST_CODE: Final = 80877103
READ_CHUNK: Final = 1 << 20
"""Bytes asked from the socket per read: big reads let one parse pass handle thousands of messages."""
STREAM_LIMIT: Final = 4 << 20
"""asyncio.StreamReader buffer limit; reading pauses (TCP back-pressure) above twice this."""

_PID_IN_MESSAGE = re.compile(r"\bPID (\d+)")


# --------------------------------------------------------------------------------------------
# Errors


class PostgresError(ConnectError):
    """Root of the errors this package raises about a PostgreSQL server or connection."""


class PostgresConfigError(PostgresError, ConfigError):
    """A client-side setting cannot work (unknown sslmode, unreadable certificate, no password)."""


class PostgresConnectionError(PostgresError, ConnectionError):
    """The server could not be reached, or the connection broke (DNS, refused, timeout, TLS, EOF).

    Subclasses ``ConnectionError`` so the runtime's restart policy treats it as a network error.
    """


class PostgresProtocolError(PostgresError):
    """The server sent something this client does not understand (or is not PostgreSQL)."""


class PostgresServerError(PostgresError):
    """An ``ErrorResponse`` from the server: ``sqlstate`` says what went wrong.

    ``str()`` gives the server's message, its SQLSTATE, detail and hint, and for well-known
    problems an ``advice`` sentence that says what to change.
    """

    def __init__(self, fields: Mapping[str, str], *, advice: str | None = None) -> None:
        self.fields: dict[str, str] = dict(fields)
        self.sqlstate: str = fields.get("C", "XX000")
        self.severity: str = fields.get("V", fields.get("S", "ERROR"))
        self.message: str = fields.get("M", "unknown server error")
        self.detail: str | None = fields.get("D")
        self.hint: str | None = fields.get("H")
        self.advice: str | None = advice
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.message} (SQLSTATE {self.sqlstate})"
        if self.detail:
            text += f"; {self.detail}"
        if self.hint:
            text += f" Hint: {self.hint}"
        if self.advice:
            text += f" — {self.advice}"
        return text


class InvalidPasswordError(PostgresServerError):
    """28P01: wrong password (or the user does not exist: the server does not say which)."""


class InvalidAuthorizationError(PostgresServerError):
    """28000: no pg_hba.conf entry, role cannot log in, or authentication method failure."""


class InsufficientPrivilegeError(PostgresServerError):
    """42501: e.g. the role lacks ``REPLICATION`` (walsender refused) or ``SELECT`` on a table."""


class UndefinedObjectError(PostgresServerError):
    """42704: e.g. the replication slot does not exist."""


class DuplicateObjectError(PostgresServerError):
    """42710: e.g. a replication slot with that name already exists."""


class ObjectInUseError(PostgresServerError):
    """55006: e.g. the replication slot is active for another process.

    ``active_pid`` is the holder's backend PID when the server names it (PostgreSQL ≥ 10 does:
    "replication slot "x" is active for PID 1234"); ``pg_replication_slots.active_pid`` has it too.
    """

    @property
    def active_pid(self) -> int | None:
        match = _PID_IN_MESSAGE.search(self.message)
        return int(match.group(1)) if match else None


class ObjectNotInPrerequisiteStateError(PostgresServerError):
    """55000: e.g. ``wal_level`` is not ``logical``, or the slot was invalidated."""


class ConfigurationLimitError(PostgresServerError):
    """53400 / 53300: all replication slots or walsenders are in use."""


class InvalidCatalogNameError(PostgresServerError):
    """3D000: the database does not exist."""


class ServerShutdownError(PostgresServerError):
    """57P01/57P02/57P03: the server is shutting down, crashed or is starting up; retry later."""


_ERROR_CLASSES: Final[dict[str, type[PostgresServerError]]] = {
    "28P01": InvalidPasswordError,
    "28000": InvalidAuthorizationError,
    "42501": InsufficientPrivilegeError,
    "42704": UndefinedObjectError,
    "42710": DuplicateObjectError,
    "55006": ObjectInUseError,
    "55000": ObjectNotInPrerequisiteStateError,
    "53400": ConfigurationLimitError,
    "53300": ConfigurationLimitError,
    "3D000": InvalidCatalogNameError,
    "57P01": ServerShutdownError,
    "57P02": ServerShutdownError,
    "57P03": ServerShutdownError,
}


def _advice(code: str, message: str, detail: str, user: str | None) -> str | None:
    """What the user should change, for the failures people hit when setting up CDC."""
    who = f"role {user!r}" if user else "the role"
    if code == "55000" and "invalidated" in detail:
        return (
            "the server removed WAL this slot still needed (max_slot_wal_keep_size), so changes "
            "were lost: drop the slot and take a new snapshot"
        )
    if code == "28P01":
        return f"check the user name and password configured for {who}"
    if code == "28000" and "pg_hba.conf" in message:
        return (
            "add a pg_hba.conf entry for this host, user and database (logical replication "
            "connections match ordinary database entries), then reload PostgreSQL"
        )
    if code == "42501" and ("replication" in message or "walsender" in message):
        return f"grant it with: ALTER ROLE {user or '<user>'} WITH REPLICATION"
    if code == "55000" and "wal_level" in message:
        return "set wal_level = logical in postgresql.conf and restart PostgreSQL"
    if code == "55006" and "replication slot" in message:
        return (
            "another client is streaming from this slot (see pg_replication_slots.active_pid); "
            "stop it, or give this connector its own slot name"
        )
    if code == "53400" and "replication slot" in message:
        return "raise max_replication_slots or drop unused slots (pg_replication_slots)"
    if code == "53300":
        return "raise max_wal_senders (or max_connections) or stop idle replication clients"
    return None


def server_error(fields: Mapping[str, str], *, user: str | None = None) -> PostgresServerError:
    """The exception for an ``ErrorResponse``: a subclass chosen by SQLSTATE, with advice."""
    code = fields.get("C", "XX000")
    cls = _ERROR_CLASSES.get(code, PostgresServerError)
    return cls(fields, advice=_advice(code, fields.get("M", ""), fields.get("D", ""), user))


def parse_error_fields(body: bytes) -> dict[str, str]:
    """ErrorResponse / NoticeResponse body: (field type byte, NUL-terminated string)* NUL."""
    fields: dict[str, str] = {}
    pos = 0
    while pos < len(body) and body[pos] != 0:
        end = body.index(b"\x00", pos + 1)
        fields[chr(body[pos])] = body[pos + 1 : end].decode("utf-8", "replace")
        pos = end + 1
    return fields


# --------------------------------------------------------------------------------------------
# Connection parameters


@dataclass(frozen=True)
class ConnectParams:
    """Where and how to connect. Mirrors libpq's keywords (and Debezium's ``database.*`` keys).

    ``host`` may be a Unix socket directory (starting with ``/``). ``sslmode`` semantics follow
    libpq: ``prefer`` (the default) tries TLS and falls back to plain text; ``require`` insists on
    TLS without checking the certificate unless ``sslrootcert`` is given (then it acts as
    ``verify-ca``, like libpq); ``verify-ca`` checks the chain; ``verify-full`` also checks that
    the certificate names ``host``. ``sslrootcert='system'`` uses the system's trusted CAs.
    """

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str | None = field(default=None, repr=False)
    dbname: str = "postgres"
    sslmode: SslMode = "prefer"
    sslrootcert: str | None = None
    sslcert: str | None = None
    sslkey: str | None = None
    sslpassword: str | None = field(default=None, repr=False)
    connect_timeout: float = 30.0
    application_name: str = "penstock"
    tcp_keepalive: bool = True
    server_settings: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Run-time parameters sent in the startup packet, e.g. ``{"wal_sender_timeout": "30s"}``."""

    def __post_init__(self) -> None:
        if self.sslmode not in SSL_MODES:
            raise PostgresConfigError(
                f"invalid sslmode {self.sslmode!r}: expected one of {', '.join(SSL_MODES)}"
            )

    @classmethod
    def from_dsn(cls, dsn: str, **overrides: Any) -> ConnectParams:
        """``postgresql://user:pass@host:port/db?sslmode=...`` → params (keywords override)."""
        parts = urlsplit(dsn)
        if parts.scheme not in ("postgres", "postgresql"):
            raise PostgresConfigError(f"not a postgresql:// URL: scheme {parts.scheme!r}")
        values: dict[str, Any] = {}
        if parts.hostname:
            values["host"] = unquote(parts.hostname)
        if parts.port:
            values["port"] = parts.port
        if parts.username:
            values["user"] = unquote(parts.username)
        if parts.password is not None:
            values["password"] = unquote(parts.password)
        if parts.path.strip("/"):
            values["dbname"] = unquote(parts.path.strip("/"))
        known = set(cls.__dataclass_fields__) - {"server_settings"}
        for key, value in parse_qsl(parts.query):
            if key == "connect_timeout":
                values[key] = float(value)
            elif key == "port":
                values[key] = int(value)
            elif key in known:
                values[key] = value
        values.update(overrides)
        return cls(**values)

    def with_(self, **changes: Any) -> ConnectParams:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def address(self) -> str:
        """``host:port`` (or the socket path) for messages."""
        if self.host.startswith("/"):
            return f"{self.host}/.s.PGSQL.{self.port}"
        return f"{self.host}:{self.port}"


# --------------------------------------------------------------------------------------------
# Messages


@dataclass(frozen=True)
class QueryResult:
    """One statement's result from the simple-query protocol; values are text (or ``None``)."""

    columns: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    command_tag: str

    def one(self) -> dict[str, str | None] | None:
        """The first row as a column → value dict (``None`` when there is no row)."""
        return dict(zip(self.columns, self.rows[0], strict=True)) if self.rows else None


_I32 = struct.Struct("!i")
_I16 = struct.Struct("!h")


def message(kind: bytes, body: bytes = b"") -> bytes:
    """A frontend message: type byte, Int32 length (self-inclusive), body."""
    return kind + _I32.pack(len(body) + 4) + body


def _cstr(text: str) -> bytes:
    return text.encode() + b"\x00"


def parse_row_description(body: bytes) -> tuple[str, ...]:
    (count,) = _I16.unpack_from(body, 0)
    names = []
    pos = 2
    for _ in range(count):
        end = body.index(b"\x00", pos)
        names.append(body[pos:end].decode())
        pos = end + 1 + 18  # table oid, attnum, type oid, typlen, typmod, format
    return tuple(names)


def parse_data_row(body: bytes) -> tuple[str | None, ...]:
    (count,) = _I16.unpack_from(body, 0)
    values: list[str | None] = []
    pos = 2
    for _ in range(count):
        (length,) = _I32.unpack_from(body, pos)
        pos += 4
        if length < 0:
            values.append(None)
        else:
            values.append(body[pos : pos + length].decode())
            pos += length
    return tuple(values)


def _server_version_num(text: str) -> int:
    """``'15.18 (Debian ...)'`` → 150018; ``'9.6.24'`` → 90624 (as ``server_version_num``)."""
    match = re.match(r"(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not match:
        return 0
    major, minor, patch = (int(g) if g else 0 for g in match.groups())
    if major >= 10:
        return major * 10000 + minor
    return major * 10000 + minor * 100 + patch


# --------------------------------------------------------------------------------------------
# The connection


class PgConnection:
    """An authenticated connection: framing, simple queries, and raw access for CopyBoth.

    Not safe for concurrent use: one command at a time (the replication module enforces it).
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        params: ConnectParams,
        *,
        tls: bool,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.params = params
        self.tls = tls
        self.server_parameters: dict[str, str] = {}
        self.backend_pid: int = 0
        self.auth_method: str = "trust"
        """How the server authenticated us: trust, password, md5, SCRAM-SHA-256(-PLUS)."""
        self.pending: bytes = b""
        """Bytes received but not parsed yet (start of a partial message)."""
        self.closed = False

    # -- introspection

    @property
    def server_version(self) -> int:
        """``server_version_num`` style: 150018 for 15.18."""
        return _server_version_num(self.server_parameters.get("server_version", ""))

    # -- raw I/O

    def send(self, data: bytes) -> None:
        """Queue bytes on the transport (non-blocking; asyncio writes them as the socket allows)."""
        if self.closed or self.writer.is_closing():
            raise PostgresConnectionError(f"connection to {self.params.address} is closed")
        self.writer.write(data)

    async def read_more(self, data: bytes, need: int = 0) -> bytes:
        """``data`` plus the next chunk from the socket (at least ``need`` bytes if ``need`` is big)."""
        try:
            if need > READ_CHUNK:
                chunk = await self.reader.readexactly(need)
            else:
                chunk = await self.reader.read(READ_CHUNK)
        except asyncio.IncompleteReadError:
            chunk = b""
        except (ConnectionError, ssl.SSLError, OSError) as exc:
            self.closed = True
            raise PostgresConnectionError(
                f"lost the connection to PostgreSQL at {self.params.address}: {exc}"
            ) from exc
        if not chunk:
            self.closed = True
            raise PostgresConnectionError(
                f"PostgreSQL at {self.params.address} closed the connection unexpectedly "
                "(server restart, crash, or the backend was terminated)"
            )
        return data + chunk if data else chunk

    async def read_message(self) -> tuple[int, bytes]:
        """The next backend message as (type byte, body)."""
        data = self.pending
        while len(data) < 5:
            data = await self.read_more(data)
        (length,) = _I32.unpack_from(data, 1)
        end = 1 + length
        while len(data) < end:
            data = await self.read_more(data, end - len(data))
        self.pending = data[end:]
        return data[0], data[5:end]

    def raise_error(self, body: bytes) -> None:
        """Raise the typed exception for an ``ErrorResponse`` body."""
        raise server_error(parse_error_fields(body), user=self.params.user)

    def log_notice(self, body: bytes) -> None:
        fields = parse_error_fields(body)
        level = logging.WARNING if fields.get("V", fields.get("S")) == "WARNING" else logging.INFO
        log.log(level, "PostgreSQL %s: %s", fields.get("V", "NOTICE"), fields.get("M", ""))

    # -- simple query

    async def simple_query(self, sql: str) -> list[QueryResult]:
        """Run ``sql`` with the simple-query protocol; return one result per statement.

        An ``ErrorResponse`` is raised as a :class:`PostgresServerError` after the server's
        ``ReadyForQuery``, so the connection stays usable. If the call is cancelled (or anything
        else interrupts it) half-way through the response, the connection is aborted: the next
        command would otherwise read the rest of this one's answer.
        """
        self.send(message(b"Q", _cstr(sql)))
        try:
            return await self._query_results(sql)
        except PostgresServerError:
            raise
        except BaseException:
            self.abort()
            raise

    async def _query_results(self, sql: str) -> list[QueryResult]:
        results: list[QueryResult] = []
        columns: tuple[str, ...] = ()
        rows: list[tuple[str | None, ...]] = []
        error: PostgresServerError | None = None
        while True:
            kind, body = await self.read_message()
            if kind == 0x44:  # D DataRow
                rows.append(parse_data_row(body))
            elif kind == 0x54:  # T RowDescription
                columns, rows = parse_row_description(body), []
            elif kind == 0x43:  # C CommandComplete
                results.append(QueryResult(columns, rows, body.rstrip(b"\x00").decode()))
                columns, rows = (), []
            elif kind == 0x5A:  # Z ReadyForQuery
                if error is not None:
                    raise error
                return results
            elif kind == 0x45:  # E
                error = server_error(parse_error_fields(body), user=self.params.user)
            elif kind == 0x49:  # I EmptyQueryResponse
                results.append(QueryResult((), [], ""))
            elif kind == 0x4E:  # N
                self.log_notice(body)
            elif kind == 0x53:  # S ParameterStatus
                self._parameter_status(body)
            elif kind in (0x57, 0x48, 0x47):  # CopyBoth/CopyOut/CopyIn: not for simple_query
                self.closed = True
                self.writer.close()
                raise PostgresProtocolError(
                    f"{sql.split()[0] if sql.split() else 'query'} started a COPY; "
                    "use the replication stream API for START_REPLICATION"
                )
            else:
                raise PostgresProtocolError(f"unexpected message {chr(kind)!r} during a query")

    def _parameter_status(self, body: bytes) -> None:
        name, value, _ = body.split(b"\x00", 2)
        self.server_parameters[name.decode()] = value.decode()

    # -- shutdown

    async def close(self) -> None:
        """Send Terminate and close the socket (idempotent, never raises)."""
        if self.closed and self.writer.is_closing():
            return
        self.closed = True
        with contextlib.suppress(Exception):
            if not self.writer.is_closing():
                self.writer.write(message(b"X"))
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)

    def abort(self) -> None:
        """Drop the connection at once (after a protocol error, or on cancellation)."""
        self.closed = True
        transport = self.writer.transport
        with contextlib.suppress(Exception):
            transport.abort()


# --------------------------------------------------------------------------------------------
# Connecting


class _TlsUnavailable(Exception):
    """Internal: TLS negotiation failed in a mode where plain text is an acceptable fallback."""


async def connect(params: ConnectParams, startup: Mapping[str, str] | None = None) -> PgConnection:
    """Open, secure (per ``sslmode``) and authenticate a connection.

    ``startup`` adds startup parameters (``{"replication": "database"}`` for a logical
    walsender). The whole thing is bounded by ``params.connect_timeout``.
    """
    extra = dict(startup or {})
    mode = params.sslmode
    try:
        async with asyncio.timeout(params.connect_timeout):
            if mode == "disable":
                return await _attempt(params, extra, tls="off")
            if mode == "allow":
                try:
                    return await _attempt(params, extra, tls="off")
                except (InvalidAuthorizationError, InvalidPasswordError) as plain_error:
                    # libpq's "allow": a server that refuses plain text may accept TLS.
                    log.debug("plain-text connection refused (%s), retrying with TLS", plain_error)
                    try:
                        return await _attempt(params, extra, tls="try")
                    except _TlsUnavailable:
                        raise plain_error from None
            if mode == "prefer":
                try:
                    return await _attempt(params, extra, tls="try")
                except _TlsUnavailable as exc:
                    log.debug("TLS failed (%s), retrying in plain text (sslmode=prefer)", exc)
                    return await _attempt(params, extra, tls="off")
            return await _attempt(params, extra, tls="require")
    except TimeoutError:
        raise PostgresConnectionError(
            f"timed out after {params.connect_timeout:g} s connecting to PostgreSQL at "
            f"{params.address}; check the host, port and any firewall in between"
        ) from None


async def _open_socket(params: ConnectParams) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        if params.host.startswith("/"):
            path = f"{params.host}/.s.PGSQL.{params.port}"
            return await asyncio.open_unix_connection(path, limit=STREAM_LIMIT)
        reader, writer = await asyncio.open_connection(params.host, params.port, limit=STREAM_LIMIT)
    except socket.gaierror as exc:
        raise PostgresConnectionError(
            f"could not resolve PostgreSQL host name {params.host!r}: {exc.strerror or exc}; "
            "check the host name"
        ) from exc
    except ConnectionRefusedError as exc:
        raise PostgresConnectionError(
            f"could not connect to PostgreSQL at {params.address}: connection refused; is the "
            "server running there, and listening on that address (listen_addresses) and port?"
        ) from exc
    except OSError as exc:
        raise PostgresConnectionError(
            f"could not connect to PostgreSQL at {params.address}: {exc.strerror or exc}"
        ) from exc
    sock = writer.get_extra_info("socket")
    if params.tcp_keepalive and sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return reader, writer


async def _attempt(
    params: ConnectParams, startup: dict[str, str], *, tls: Literal["off", "try", "require"]
) -> PgConnection:
    reader, writer = await _open_socket(params)
    conn = PgConnection(reader, writer, params, tls=False)
    try:
        if tls != "off":
            await _negotiate_tls(conn, required=tls == "require")
        await _startup(conn, startup)
    except BaseException:
        conn.abort()
        raise
    return conn


def _ssl_context(params: ConnectParams) -> ssl.SSLContext:
    """Build the client context for ``params.sslmode`` (reads files: run it in a thread)."""
    mode = params.sslmode
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    rootcert = params.sslrootcert
    if mode in ("verify-ca", "verify-full") and not rootcert:
        default = Path.home() / ".postgresql" / "root.crt"
        if not default.exists():
            raise PostgresConfigError(
                f"sslmode={mode} needs the CA certificate that signed the server's certificate: "
                "set sslrootcert to its file (or 'system' for the system's trusted CAs)"
            )
        rootcert = str(default)
    verify = mode in ("verify-ca", "verify-full") or bool(rootcert)
    ctx.check_hostname = mode == "verify-full"
    if verify:
        ctx.verify_mode = ssl.CERT_REQUIRED
        try:
            if rootcert == "system":
                ctx.load_default_certs()
            else:
                ctx.load_verify_locations(cafile=rootcert)
        except (OSError, ssl.SSLError) as exc:
            raise PostgresConfigError(f"cannot load sslrootcert {rootcert!r}: {exc}") from exc
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if params.sslcert:
        try:
            ctx.load_cert_chain(params.sslcert, params.sslkey or None, password=params.sslpassword)
        except (OSError, ssl.SSLError) as exc:
            raise PostgresConfigError(
                f"cannot load the client certificate {params.sslcert!r} / key {params.sslkey!r}: "
                f"{getattr(exc, 'strerror', None) or exc}"
            ) from exc
    return ctx


async def _negotiate_tls(conn: PgConnection, *, required: bool) -> None:
    params = conn.params
    conn.send(_I32.pack(8) + _I32.pack(SSL_REQUEST_CODE))
    try:
        answer = await conn.reader.readexactly(1)
    except (asyncio.IncompleteReadError, OSError) as exc:
        raise PostgresConnectionError(
            f"PostgreSQL at {params.address} closed the connection during TLS negotiation"
        ) from exc
    if answer == b"N":
        if required:
            raise PostgresConnectionError(
                f"PostgreSQL at {params.address} does not accept TLS connections (ssl = off) but "
                f"sslmode={params.sslmode} requires TLS; enable ssl on the server or lower sslmode"
            )
        raise _TlsUnavailable("the server does not support TLS")
    if answer != b"S":
        raise PostgresProtocolError(
            f"unexpected answer {answer!r} to the TLS request from {params.address}: is this PostgreSQL?"
        )
    # Bytes after 'S' but before the handshake would be read as if they came over TLS
    # (CVE-2021-23222): refuse them.
    if getattr(conn.reader, "_buffer", b""):
        raise PostgresProtocolError("the server sent unencrypted data after accepting TLS")
    ctx = await asyncio.to_thread(_ssl_context, params)
    server_hostname = None if params.host.startswith("/") else params.host
    try:
        await conn.writer.start_tls(ctx, server_hostname=server_hostname)
    except ssl.SSLCertVerificationError as exc:
        raise PostgresConnectionError(
            f"the TLS certificate of PostgreSQL at {params.address} failed verification "
            f"(sslmode={params.sslmode}): {exc.verify_message}; check sslrootcert"
            + (" and that the certificate names this host" if params.sslmode == "verify-full" else "")
        ) from exc
    except (ssl.SSLError, OSError) as exc:
        if not required:
            raise _TlsUnavailable(str(exc)) from exc
        raise PostgresConnectionError(
            f"TLS handshake with PostgreSQL at {params.address} failed: {exc}"
        ) from exc
    conn.tls = True


async def _startup(conn: PgConnection, extra: Mapping[str, str]) -> None:
    params = conn.params
    values = {
        "user": params.user,
        "database": params.dbname,
        "application_name": params.application_name,
        "client_encoding": "UTF8",
        **params.server_settings,
        **extra,
    }
    body = _I32.pack(PROTOCOL_VERSION) + b"".join(_cstr(k) + _cstr(v) for k, v in values.items()) + b"\x00"
    conn.send(_I32.pack(len(body) + 4) + body)
    await _authenticate(conn)
    while True:
        kind, body = await conn.read_message()
        if kind == 0x5A:  # Z ReadyForQuery
            return
        if kind == 0x53:
            conn._parameter_status(body)
        elif kind == 0x4B:  # K BackendKeyData
            conn.backend_pid = _I32.unpack_from(body, 0)[0]
        elif kind == 0x45:
            conn.raise_error(body)
        elif kind == 0x4E:
            conn.log_notice(body)
        elif kind == 0x76:  # v NegotiateProtocolVersion: we ask for nothing optional
            continue
        else:
            raise PostgresProtocolError(f"unexpected message {chr(kind)!r} after authentication")


def _need_password(params: ConnectParams, method: str) -> str:
    if params.password is None:
        raise PostgresConfigError(
            f"PostgreSQL at {params.address} asks for {method} password authentication for "
            f"user {params.user!r} but no password is configured"
        )
    return params.password


async def _authenticate(conn: PgConnection) -> None:
    params = conn.params
    scram: Any = None
    while True:
        kind, body = await conn.read_message()
        if kind == 0x45:
            conn.raise_error(body)
        if kind == 0x4E:
            conn.log_notice(body)
            continue
        if kind == 0x76:
            continue
        if kind != 0x52:  # R Authentication*
            raise PostgresProtocolError(
                f"unexpected message {chr(kind)!r} during authentication with {params.address}"
            )
        (code,) = _I32.unpack_from(body, 0)
        if code == 0:  # AuthenticationOk
            return
        if code == 3:  # CleartextPassword
            conn.auth_method = "password"
            conn.send(message(b"p", _cstr(_need_password(params, "cleartext"))))
        elif code == 5:  # MD5Password
            conn.auth_method = "md5"
            password = _need_password(params, "MD5").encode()
            inner = hashlib.md5(password + params.user.encode()).hexdigest().encode()
            digest = b"md5" + hashlib.md5(inner + body[4:8]).hexdigest().encode()
            conn.send(message(b"p", digest + b"\x00"))
        elif code == 10:  # SASL: list of mechanisms
            offered = [m.decode() for m in body[4:].split(b"\x00") if m]
            scram = _scram_client(conn, offered)
            first = scram.get_client_first().encode()
            conn.auth_method = scram.mechanism_name
            mechanism = scram.mechanism_name.encode()
            conn.send(message(b"p", mechanism + b"\x00" + _I32.pack(len(first)) + first))
        elif code == 11 and scram is not None:  # SASLContinue
            try:
                scram.set_server_first(body[4:].decode())
                final = scram.get_client_final()
            except scramp.ScramException as exc:
                raise PostgresProtocolError(f"SCRAM authentication failed: {exc}") from exc
            conn.send(message(b"p", final.encode()))
        elif code == 12 and scram is not None:  # SASLFinal
            try:
                scram.set_server_final(body[4:].decode())
            except scramp.ScramException as exc:
                raise PostgresProtocolError(
                    f"the server's SCRAM signature is wrong ({exc}): it does not know the password; "
                    "refusing to continue"
                ) from exc
        else:
            names = {2: "Kerberos V5", 6: "SCM credentials", 7: "GSSAPI", 9: "SSPI"}
            raise PostgresConfigError(
                f"PostgreSQL at {params.address} asks for {names.get(code, f'type {code}')} "
                "authentication, which this client does not support; use scram-sha-256, md5, "
                "password or trust for this user in pg_hba.conf"
            )


def _scram_client(conn: PgConnection, offered: list[str]) -> Any:
    params = conn.params
    password = _need_password(params, "SCRAM")
    usable = [m for m in offered if m in ("SCRAM-SHA-256", "SCRAM-SHA-256-PLUS")]
    if not usable:
        raise PostgresConfigError(
            f"PostgreSQL at {params.address} offers SASL mechanisms {offered}, none supported "
            "(SCRAM-SHA-256 is)"
        )
    channel_binding = None
    ssl_object = conn.writer.get_extra_info("ssl_object")
    if "SCRAM-SHA-256-PLUS" in usable and ssl_object is not None:
        channel_binding = ("tls-server-end-point", ssl_object)
    else:
        usable = [m for m in usable if m == "SCRAM-SHA-256"]
    try:
        return scramp.ScramClient(usable, params.user or "user", password, channel_binding=channel_binding)
    except scramp.ScramException as exc:
        raise PostgresProtocolError(f"cannot start SCRAM authentication: {exc}") from exc
