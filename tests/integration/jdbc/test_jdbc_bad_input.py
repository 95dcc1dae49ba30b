"""Bad connection settings for both JDBC connectors, through the herder as REST sees it: a refused
login (MariaDB checks passwords; the test PostgreSQL trusts loopback), an unreachable host and an
unsupported URL are 400s that say what to fix, and nothing is created."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from app.herder.validation import BadRequestError
from app.storage.memory import MemoryLog
from connectors.jdbc.sink import JdbcSinkConnector
from connectors.jdbc.source import JdbcSourceConnector
from tests.unit.runtime.memory_runtime import memory_runtime

pytestmark = [pytest.mark.integration, pytest.mark.mysql]

KINDS = {
    "JdbcSinkConnector": {"topics": "orders"},
    "JdbcSourceConnector": {"mode": "bulk", "topic.prefix": "db-"},
}


@pytest.mark.parametrize("connector", sorted(KINDS))
@pytest.mark.parametrize(
    ("url", "password", "says"),
    [
        ("jdbc:mariadb://{host}:{port}/{db}", "wrong-password", "refused the login of user"),
        ("jdbc:mysql://127.0.0.1:1/{db}", "", "cannot reach the database server at 127.0.0.1:1"),
        ("jdbc:sqlserver://{host}:{port};databaseName={db}", "", "jdbc:sqlserver URLs are not supported"),
    ],
    ids=["wrong-password", "unreachable", "unsupported-url"],
)
async def test_bad_connection_settings_are_refused_with_what_to_fix(
    mysql_dsn: str, connector: str, url: str, password: str, says: str
) -> None:
    where = urlparse(mysql_dsn)
    props = {
        "name": "bad",
        "connector.class": connector,
        "connection.url": url.format(host=where.hostname, port=where.port, db=where.path.lstrip("/")),
        "connection.user": where.username or "root",
        "connection.password": password,
        **KINDS[connector],
    }
    async with memory_runtime(("sink", JdbcSinkConnector), ("source", JdbcSourceConnector), log=MemoryLog()) as rt:
        with pytest.raises(BadRequestError) as refused:
            await rt.herder.create("bad", props, None)
        assert says in str(refused.value)
        assert "wrong-password" not in str(refused.value)
        assert "bad" not in rt.herder.connector_names()
