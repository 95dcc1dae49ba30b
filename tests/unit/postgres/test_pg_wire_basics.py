"""Pure helpers of the PostgreSQL wire client: LSNs, errors, parameters, message parsing."""

from __future__ import annotations

import struct

import pytest

from connectors.postgres.lsn import format_lsn, parse_lsn, parse_optional_lsn
from connectors.postgres.pgwire import (
    ConnectParams,
    InsufficientPrivilegeError,
    InvalidPasswordError,
    ObjectInUseError,
    ObjectNotInPrerequisiteStateError,
    PostgresConfigError,
    PostgresServerError,
    _server_version_num,
    parse_data_row,
    parse_error_fields,
    parse_row_description,
    server_error,
)
from connectors.postgres.replication import pg_time_to_unix, validate_slot_name
from connectors.sdk.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "value"),
    [("0/0", 0), ("16/B374D848", 0x16B374D848), ("0/1BDBD58", 0x1BDBD58), ("FFFFFFFF/FFFFFFFF", 2**64 - 1)],
)
def test_lsn_round_trip(text: str, value: int) -> None:
    assert parse_lsn(text) == value
    assert format_lsn(value) == text


def test_lsn_accepts_lower_case_and_rejects_garbage() -> None:
    assert parse_lsn("16/b374d848") == 0x16B374D848
    assert parse_optional_lsn(None) is None
    for bad in ["", "16", "/1", "1/", "x/1", "123456789/0", "1/2/3"]:
        with pytest.raises(ValueError, match="invalid LSN"):
            parse_lsn(bad)
    with pytest.raises(ValueError):
        format_lsn(-1)


def error_body(**fields: str) -> bytes:
    return b"".join(k.encode() + v.encode() + b"\x00" for k, v in fields.items()) + b"\x00"


def test_error_fields_and_typed_exceptions() -> None:
    body = error_body(S="FATAL", V="FATAL", C="28P01", M='password authentication failed for user "bob"')
    fields = parse_error_fields(body)
    assert fields["C"] == "28P01" and fields["V"] == "FATAL"
    err = server_error(fields, user="bob")
    assert isinstance(err, InvalidPasswordError)
    assert err.sqlstate == "28P01" and err.severity == "FATAL"
    assert str(err).startswith('password authentication failed for user "bob" (SQLSTATE 28P01)')
    assert "check the user name and password" in str(err)


def test_slot_in_use_exposes_the_holder_pid() -> None:
    err = server_error({"C": "55006", "M": 'replication slot "s" is active for PID 4242'})
    assert isinstance(err, ObjectInUseError)
    assert err.active_pid == 4242
    assert server_error({"C": "55006", "M": "something else"}).active_pid is None  # type: ignore[attr-defined]


def test_advice_for_setup_mistakes() -> None:
    err = server_error(
        {"C": "42501", "M": "must be superuser or replication role to start walsender"}, user="cdc"
    )
    assert isinstance(err, InsufficientPrivilegeError)
    assert "ALTER ROLE cdc WITH REPLICATION" in str(err)
    err = server_error({"C": "55000", "M": "logical decoding requires wal_level >= logical"})
    assert isinstance(err, ObjectNotInPrerequisiteStateError)
    assert "wal_level = logical" in str(err)
    err = server_error({"C": "XX000", "M": "odd", "D": "detail here", "H": "a hint"})
    assert type(err) is PostgresServerError
    assert str(err) == "odd (SQLSTATE XX000); detail here Hint: a hint"


def test_connect_params_from_dsn() -> None:
    params = ConnectParams.from_dsn(
        "postgresql://us%40er:p%2Fss@db.example:6543/my%20db?sslmode=verify-full&sslrootcert=/ca.pem"
        "&connect_timeout=3&ignored=1"
    )
    assert (params.host, params.port, params.user, params.password, params.dbname) == (
        "db.example",
        6543,
        "us@er",
        "p/ss",
        "my db",
    )
    assert params.sslmode == "verify-full" and params.sslrootcert == "/ca.pem" and params.connect_timeout == 3
    assert "p/ss" not in repr(params)
    assert ConnectParams.from_dsn("postgres://h/d", user="x").user == "x"
    with pytest.raises(PostgresConfigError, match="invalid sslmode 'sometimes'"):
        ConnectParams(sslmode="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ConnectParams.from_dsn("mysql://h/d")


def test_server_version_num() -> None:
    assert _server_version_num("15.18 (Debian 15.18-0+deb12u1)") == 150018
    assert _server_version_num("16beta1") == 160000
    assert _server_version_num("9.6.24") == 90624


def test_row_parsing() -> None:
    field = b"slot_name\x00" + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    description = struct.pack("!h", 2) + field + field.replace(b"slot_name", b"snapshot_name")
    assert parse_row_description(description) == ("slot_name", "snapshot_name")
    row = struct.pack("!h", 2) + struct.pack("!i", 3) + b"abc" + struct.pack("!i", -1)
    assert parse_data_row(row) == ("abc", None)


def test_slot_names_and_time() -> None:
    assert validate_slot_name("debezium_1") == "debezium_1"
    for bad in ["Debezium", "a-b", "", "x" * 64, "a; DROP"]:
        with pytest.raises(PostgresConfigError, match="invalid replication slot name"):
            validate_slot_name(bad)
    assert pg_time_to_unix(0) == 946_684_800
