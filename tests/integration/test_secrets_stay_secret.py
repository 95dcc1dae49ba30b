"""A secret-bearing pipeline, end to end: the database password reaches the database and nothing
else. A JDBC source reads MariaDB as a user with a real password (given through a config
provider, the recommended setup), a second connector is given a wrong password and fails; then
every REST answer and every line the worker logged is searched for both passwords."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import asyncmy
import pytest

from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.mysql]
Factory = Callable[..., ServerProcess]
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
JDBC_SOURCE = "io.confluent.connect.jdbc.JdbcSourceConnector"


async def _sql(dsn: str, *statements: str) -> None:
    where = urlparse(dsn)
    conn = await asyncmy.connect(
        host=where.hostname, port=where.port or 3306, user=where.username or "root", autocommit=True
    )
    try:
        async with conn.cursor() as cursor:
            for statement in statements:
                await cursor.execute(statement)
    finally:
        conn.close()


@pytest.fixture
def database_user(mysql_dsn: str) -> Iterator[tuple[str, str, str]]:
    """(user, password, database): a user that can only log in with its password."""
    tag = uuid.uuid4().hex[:8]
    user, password, database = f"secret_{tag}", f"Pw-{uuid.uuid4().hex}", f"secret_{tag}"
    asyncio.run(
        _sql(
            mysql_dsn,
            f"CREATE DATABASE {database}",
            f"CREATE TABLE {database}.orders (id INT PRIMARY KEY, item VARCHAR(40))",
            f"INSERT INTO {database}.orders VALUES (1, 'first'), (2, 'second'), (3, 'third')",
            f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'",
            f"GRANT ALL ON {database}.* TO '{user}'@'%'",
        )
    )
    yield user, password, database
    asyncio.run(_sql(mysql_dsn, f"DROP USER IF EXISTS '{user}'@'%'", f"DROP DATABASE IF EXISTS {database}"))


@pytest.mark.parametrize("backend", ["embedded", "kafka"], indirect=True)
def test_no_password_in_any_answer_or_log_line(
    server_factory: Factory,
    mysql_dsn: str,
    database_user: tuple[str, str, str],
    topic: Callable[[str], str],
    tmp_path: Path,
) -> None:
    user, password, database = database_user
    wrong = f"Wrong-{uuid.uuid4().hex}"
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "db.properties").write_text(f"password={password}\nwrong={wrong}\n")
    server = server_factory(
        {
            "config.providers": "file",
            "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.file.param.allowed.paths": str(secrets),
            "offset.flush.interval.ms": "500",
        }
    )
    where = urlparse(mysql_dsn)
    url = f"jdbc:mariadb://{where.hostname}:{where.port}/{database}"
    prefix, out = topic("secret-"), tmp_path / "rows.txt"
    source = {
        "connector.class": JDBC_SOURCE,
        "connection.url": url,
        "connection.user": user,
        "connection.password": f"${{file:{secrets}/db.properties:password}}",
        "mode": "incrementing",
        "incrementing.column.name": "id",
        "table.whitelist": "orders",
        "topic.prefix": prefix,
        "poll.interval.ms": "200",
    }
    server.create("reader", source)
    server.create(
        "writer",
        {
            "connector.class": FILE_SINK,
            "file": str(out),
            "topics": f"{prefix}orders",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
        },
    )
    wait_until(
        lambda: out.exists() and len(out.read_text().splitlines()) == 3,
        timeout=60,
        message="the three rows, read with the real password, in the sink file",
    )
    assert '"item":"second"' in out.read_text()

    # The wrong password, given the same way, is refused at creation (the login is checked)...
    bad = dict(source, **{"connection.password": f"${{file:{secrets}/db.properties:wrong}}"})
    refused = server.client.post("/connectors", json={"name": "refused", "config": bad})
    assert refused.status_code == 400 and "refused the login" in refused.text, refused.text
    # ...and the password itself in a validation request comes back hidden.
    validated = server.client.put(
        f"/connector-plugins/{JDBC_SOURCE}/config/validate",
        json=dict(source, **{"connection.password": wrong}),
    )
    assert validated.status_code == 200, validated.text

    # The password rotated to a wrong one under a running connector: its restarted task fails,
    # with a trace that says why and shows no password.
    (secrets / "db.properties").write_text(f"password={wrong}\nwrong={wrong}\n")
    restarted = server.client.post("/connectors/reader/restart?includeTasks=true&onlyFailed=false")
    assert restarted.status_code in (200, 202, 204), restarted.text
    failed = wait_until(
        lambda: next(
            (
                t
                for t in server.client.get("/connectors/reader/status").json()["tasks"]
                if t["state"] == "FAILED"
            ),
            None,
        ),
        timeout=60,
        message="the task FAILED with the rotated password",
    )
    assert "refused the login" in failed["trace"], failed["trace"]

    urls = [
        "/connectors?expand=info&expand=status",
        "/connectors/reader",
        "/connectors/reader/config",
        "/connectors/reader/tasks",
        "/connectors/reader/status",
        "/connectors/reader/tasks/0/status",
        "/connectors/reader/offsets",
        "/connectors/reader/topics",
        "/connector-plugins?connectorsOnly=false",
        "/metrics",
        "/admin/loggers",
        "/",
    ]
    answers = [validated.text, refused.text] + [server.client.get(u).text for u in urls]
    server.stop()
    for secret in (password, wrong):
        for url, text in zip(["validate", "refused", *urls], answers, strict=True):
            assert secret not in text, f"{url} shows a password"
        assert secret not in server.log(), "the worker logged a password"
        for path in server.data_dir.rglob("*.log"):
            assert secret not in path.read_text(errors="replace")
