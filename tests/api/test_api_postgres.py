"""``/connector-plugins/PostgresConnector/config/validate`` and create, on a real worker against the
real PostgreSQL: Debezium's tutorial config is valid; a wrong password, a wrong host, a role
without REPLICATION and ``decoderbufs`` each get an error on the key to fix.

The shared server trusts 127.0.0.1, so the wrong password is answered by a protocol stub that
fails authentication the way PostgreSQL does (SQLSTATE 28P01).
"""

from __future__ import annotations

import asyncio
import socketserver
import struct
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import asyncpg
import pytest

from tests.api.api_helpers import path, uid
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

DEBEZIUM = "io.debezium.connector.postgresql.PostgresConnector"
PASSWORD = "dbz-Secret-1"


def _run(dsn: str, sql: str) -> None:
    async def go() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(go())


@pytest.fixture(scope="module")
def db(postgres_dsn: str) -> Iterator[dict[str, Any]]:
    """A schema with a table, and a LOGIN role without REPLICATION, unique to this module."""
    tag = f"pgapi_{uuid.uuid4().hex[:8]}"
    url = urlparse(postgres_dsn)
    _run(
        postgres_dsn,
        f"""
        CREATE SCHEMA {tag};
        CREATE TABLE {tag}.customers (id int PRIMARY KEY, first_name text, email text);
        CREATE ROLE {tag}_plain LOGIN;
        GRANT USAGE ON SCHEMA {tag} TO {tag}_plain;
        GRANT SELECT ON ALL TABLES IN SCHEMA {tag} TO {tag}_plain;
        """,
    )
    try:
        yield {
            "tag": tag,
            "host": url.hostname or "127.0.0.1",
            "port": str(url.port or 5432),
            "dbname": url.path.lstrip("/"),
            "plain": f"{tag}_plain",
        }
    finally:
        _run(
            postgres_dsn,
            f"""
            DROP SCHEMA {tag} CASCADE;
            DROP OWNED BY {tag}_plain;
            DROP ROLE {tag}_plain;
            """,
        )


def tutorial(db: dict[str, Any], **overrides: str) -> dict[str, str]:
    """Debezium's tutorial registration (debezium-examples ``register-postgres.json``), pointed at
    this server, with a slot name of its own (the server is shared)."""
    config = {
        "name": "inventory-connector",
        "connector.class": DEBEZIUM,
        "tasks.max": "1",
        "database.hostname": db["host"],
        "database.port": db["port"],
        "database.user": "postgres",
        "database.password": PASSWORD,
        "database.dbname": db["dbname"],
        "topic.prefix": "dbserver1",
        "schema.include.list": db["tag"],
        "plugin.name": "pgoutput",
        "slot.name": f"{db['tag']}_slot",
    }
    config.update(overrides)
    return config


def validate(api: ServerProcess, config: dict[str, str], plugin: str = "PostgresConnector") -> dict[str, Any]:
    response = api.client.put(f"/connector-plugins/{plugin}/config/validate", json=config, timeout=90)
    assert response.status_code == 200, response.text
    assert PASSWORD not in response.text
    return dict(response.json())


def errors_of(body: dict[str, Any]) -> dict[str, list[str]]:
    return {c["value"]["name"]: c["value"]["errors"] for c in body["configs"] if c["value"]["errors"]}


class _PasswordRejecting(socketserver.BaseRequestHandler):
    """Speaks just enough of the protocol to fail a password as PostgreSQL does."""

    def handle(self) -> None:
        sock = self.request
        try:
            while True:
                size = struct.unpack("!i", _read(sock, 4))[0]
                body = _read(sock, size - 4)
                if body[:4] != struct.pack("!i", 80877103):  # not an SSLRequest: the startup message
                    break
                sock.sendall(b"N")
            sock.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
            _read(sock, 5)
            fields = b'SFATAL\x00C28P01\x00Mpassword authentication failed for user "postgres"\x00\x00'
            sock.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
        except (ConnectionError, OSError):
            pass


def _read(sock: Any, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


@pytest.fixture(scope="module")
def password_rejecting_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _PasswordRejecting)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_listed_under_debeziums_class(api: ServerProcess) -> None:
    plugins = api.client.get("/connector-plugins").json()
    assert {"class": DEBEZIUM, "type": "source"}.items() <= next(
        p for p in plugins if p["class"] == DEBEZIUM
    ).items()
    keys = [k["name"] for k in api.client.get("/connector-plugins/PostgresConnector/config").json()]
    assert {"topic.prefix", "database.hostname", "slot.name", "publication.autocreate.mode"} <= set(keys)


@pytest.mark.parametrize("plugin", [DEBEZIUM, "PostgresConnector", "Postgres"])
def test_tutorial_config_is_valid(api: ServerProcess, db: dict[str, Any], plugin: str) -> None:
    body = validate(api, tutorial(db), plugin)
    assert body["error_count"] == 0, errors_of(body)
    assert body["name"] == DEBEZIUM
    values = {c["value"]["name"]: c["value"]["value"] for c in body["configs"]}
    assert values["database.password"] == "[hidden]"
    assert values["snapshot.mode"] == "initial" and values["plugin.name"] == "pgoutput"


def test_seed_style_1x_config_is_valid(api: ServerProcess, db: dict[str, Any]) -> None:
    config = tutorial(db, **{"database.server.name": "legacy1", "table.whitelist": f"{db['tag']}.customers"})
    del config["topic.prefix"], config["schema.include.list"], config["plugin.name"]
    body = validate(api, config)
    assert body["error_count"] == 0, errors_of(body)
    values = {c["value"]["name"]: c["value"]["value"] for c in body["configs"]}
    assert values["topic.prefix"] == "legacy1"
    assert values["table.include.list"] == f"{db['tag']}.customers"


def test_wrong_password(api: ServerProcess, db: dict[str, Any], password_rejecting_port: int) -> None:
    body = validate(api, tutorial(db, **{"database.port": str(password_rejecting_port)}))
    found = errors_of(body)
    assert list(found) == ["database.password"], found
    assert found["database.password"][0].startswith("Password authentication failed for user postgres")


def test_wrong_host(api: ServerProcess, db: dict[str, Any]) -> None:
    found = errors_of(validate(api, tutorial(db, **{"database.hostname": "no-such-host.invalid"})))
    assert list(found) == ["database.hostname"], found
    assert found["database.hostname"][0].startswith("Unknown host no-such-host.invalid")


def test_nothing_listening(api: ServerProcess, db: dict[str, Any]) -> None:
    found = errors_of(validate(api, tutorial(db, **{"database.port": "1"})))
    assert list(found) == ["database.port"], found


def test_role_without_replication_and_create_refused(api: ServerProcess, db: dict[str, Any]) -> None:
    config = tutorial(db, **{"database.user": db["plain"], "publication.autocreate.mode": "disabled"})
    found = errors_of(validate(api, config))
    assert "database.user" in found, found
    assert any("lacks the REPLICATION attribute" in m for m in found["database.user"])
    name = uid("pg-norepl")
    config["name"] = name
    response = api.client.post("/connectors", json={"name": name, "config": config}, timeout=90)
    assert response.status_code == 400, response.text
    assert "REPLICATION" in response.json()["message"]
    assert PASSWORD not in response.text
    assert api.client.get(path(name)).status_code == 404


def test_decoderbufs_is_refused_before_connecting(api: ServerProcess, db: dict[str, Any]) -> None:
    found = errors_of(validate(api, tutorial(db, **{"plugin.name": "decoderbufs"})))
    assert list(found) == ["plugin.name"], found
    (message,) = found["plugin.name"]
    assert "Penstock streams with pgoutput" in message and "plugin.name=pgoutput" in message


def test_tasks_max_is_accepted(api: ServerProcess, db: dict[str, Any]) -> None:
    assert validate(api, tutorial(db, **{"tasks.max": "4"}))["error_count"] == 0
