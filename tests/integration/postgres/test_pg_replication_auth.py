"""Authentication methods, TLS modes and ``wal_level`` errors of the replication connection.

The shared server only has trust authentication, no TLS and wal_level=logical, and must not be
reconfigured, so these tests start a private PostgreSQL (tests.support.pg_private) with TLS on,
``wal_level = replica`` and one role per authentication method.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.postgres.pgwire import (
    ConnectParams,
    InvalidAuthorizationError,
    InvalidPasswordError,
    ObjectNotInPrerequisiteStateError,
    PostgresConfigError,
    PostgresConnectionError,
)
from connectors.postgres.replication import ReplicationConnection
from tests.support.pg_private import PrivateServer, private_server

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow]

ROLES_SQL = """
SET password_encryption = 'md5';
CREATE ROLE md5user LOGIN REPLICATION PASSWORD 'md5-secret';
SET password_encryption = 'scram-sha-256';
CREATE ROLE scramuser LOGIN REPLICATION PASSWORD 'scram-secret';
CREATE ROLE pwuser LOGIN REPLICATION PASSWORD 'pw-secret';
CREATE ROLE ssluser LOGIN REPLICATION PASSWORD 'ssl-secret';
CREATE ROLE certuser LOGIN REPLICATION;
"""

HBA = """
host      all postgres  127.0.0.1/32 trust
host      all md5user   127.0.0.1/32 md5
host      all scramuser 127.0.0.1/32 scram-sha-256
host      all pwuser    127.0.0.1/32 password
hostnossl all ssluser   127.0.0.1/32 reject
hostssl   all ssluser   127.0.0.1/32 scram-sha-256
hostssl   all certuser  127.0.0.1/32 cert
"""


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    with private_server(conf="wal_level = replica", hba=HBA, sql=ROLES_SQL) as srv:
        yield srv


def params(server: PrivateServer, **changes: object) -> ConnectParams:
    base = ConnectParams(
        host="127.0.0.1", port=server.port, user="postgres", dbname="postgres", sslmode="disable"
    )
    return base.with_(**changes)


async def connect(server: PrivateServer, **changes: object) -> ReplicationConnection:
    return await ReplicationConnection.connect(params(server, **changes))


async def assert_works(repl: ReplicationConnection) -> None:
    async with repl:
        assert (await repl.identify_system()).dbname == "postgres"


@pytest.mark.parametrize(
    ("user", "password", "method"),
    [
        ("postgres", None, "trust"),
        ("pwuser", "pw-secret", "password"),
        ("md5user", "md5-secret", "md5"),
        ("scramuser", "scram-secret", "SCRAM-SHA-256"),
    ],
)
async def test_password_methods(server: PrivateServer, user: str, password: str | None, method: str) -> None:
    repl = await connect(server, user=user, password=password)
    assert repl._conn.auth_method == method
    await assert_works(repl)


@pytest.mark.parametrize("user", ["pwuser", "md5user", "scramuser"])
async def test_wrong_password(server: PrivateServer, user: str) -> None:
    with pytest.raises(InvalidPasswordError) as caught:
        await connect(server, user=user, password="not-the-password")
    assert caught.value.sqlstate == "28P01"
    text = str(caught.value)
    assert f'password authentication failed for user "{user}"' in text
    assert "check the user name and password" in text
    assert "not-the-password" not in text


async def test_missing_password_is_a_config_error(server: PrivateServer) -> None:
    with pytest.raises(PostgresConfigError, match="no password is configured"):
        await connect(server, user="scramuser")


async def test_scram_over_tls_uses_channel_binding(server: PrivateServer) -> None:
    repl = await connect(server, user="ssluser", password="ssl-secret", sslmode="require")
    assert repl.tls
    assert repl._conn.auth_method == "SCRAM-SHA-256-PLUS"
    await assert_works(repl)


async def test_sslmodes_against_a_tls_server(server: PrivateServer) -> None:
    # hostnossl ... reject: plain text is refused with a pg_hba message.
    with pytest.raises(InvalidAuthorizationError, match=r"pg_hba.conf") as caught:
        await connect(server, user="ssluser", password="ssl-secret", sslmode="disable")
    assert caught.value.sqlstate == "28000"
    # allow: plain text first, then TLS when plain text is refused.
    repl = await connect(server, user="ssluser", password="ssl-secret", sslmode="allow")
    assert repl.tls
    await assert_works(repl)
    # prefer: TLS when the server offers it.
    repl = await connect(server, user="ssluser", password="ssl-secret", sslmode="prefer")
    assert repl.tls
    await assert_works(repl)
    # trust user over plain text with allow stays plain.
    repl = await connect(server, sslmode="allow")
    assert not repl.tls
    await assert_works(repl)


async def test_certificate_verification(server: PrivateServer) -> None:
    # verify-ca checks the chain only: the IP address need not be in the certificate.
    repl = await connect(server, sslmode="verify-ca", sslrootcert=server.ca_cert)
    assert repl.tls
    await assert_works(repl)
    # verify-full also checks the name: the certificate names localhost, not 127.0.0.1.
    repl = await connect(server, host="localhost", sslmode="verify-full", sslrootcert=server.ca_cert)
    assert repl.tls
    await assert_works(repl)
    with pytest.raises(PostgresConnectionError, match=r"failed verification .*names this host"):
        await connect(server, sslmode="verify-full", sslrootcert=server.ca_cert)
    # A CA that did not sign the server's certificate.
    with pytest.raises(PostgresConnectionError, match="failed verification"):
        await connect(server, sslmode="verify-ca", sslrootcert=server.other_ca_cert)
    # require + sslrootcert verifies the chain, like libpq.
    with pytest.raises(PostgresConnectionError, match="failed verification"):
        await connect(server, sslmode="require", sslrootcert=server.other_ca_cert)
    with pytest.raises(PostgresConfigError, match="sslrootcert"):
        await connect(server, sslmode="verify-full", sslrootcert="/nonexistent/ca.crt")


async def test_client_certificate_authentication(server: PrivateServer) -> None:
    repl = await connect(
        server,
        user="certuser",
        sslmode="verify-ca",
        sslrootcert=server.ca_cert,
        sslcert=server.client_cert,
        sslkey=server.client_key,
    )
    assert repl.tls
    await assert_works(repl)
    with pytest.raises(PostgresConfigError, match="client certificate"):
        await connect(server, user="certuser", sslmode="require", sslcert="/nonexistent.crt")


async def test_wal_level_not_logical(server: PrivateServer) -> None:
    async with await connect(server) as repl:
        with pytest.raises(ObjectNotInPrerequisiteStateError) as caught:
            await repl.create_replication_slot("wal_level_check")
        assert caught.value.sqlstate == "55000"
        assert "wal_level" in caught.value.message
        assert "set wal_level = logical in postgresql.conf and restart PostgreSQL" in str(caught.value)
