"""The MariaDB server scripts/services starts answers asyncmy, the driver a JDBC-style connector
would use, through the address ``MYSQL_DSN`` gives (one round trip, like test_services_smoke)."""

from __future__ import annotations

import uuid
from urllib.parse import unquote, urlparse

import asyncmy
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.mysql]


async def connect(dsn: str) -> asyncmy.Connection:
    """asyncmy takes keyword arguments, not a URL: split ``mysql://user[:pw]@host:port/db``."""
    url = urlparse(dsn)
    assert url.scheme == "mysql", dsn
    return await asyncmy.connect(
        host=url.hostname or "127.0.0.1",
        port=url.port or 3306,
        user=unquote(url.username or "root"),
        password=unquote(url.password or ""),
        database=url.path.lstrip("/"),
        autocommit=True,
    )


async def test_mariadb_round_trip(mysql_dsn: str) -> None:
    table = f"smoke_{uuid.uuid4().hex[:10]}"
    conn = await connect(mysql_dsn)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT VERSION(), DATABASE()")
            version, database = await cur.fetchone()
            await cur.execute(
                f"CREATE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL) ENGINE=InnoDB"
            )
            try:
                await cur.execute(f"INSERT INTO {table} VALUES (%s, %s), (%s, %s)", (1, "one", 2, "twö"))
                await cur.execute(f"SELECT id, name FROM {table} ORDER BY id")
                rows = await cur.fetchall()
            finally:
                await cur.execute(f"DROP TABLE {table}")
            await cur.execute("SHOW TABLES LIKE %s", (table,))
            left = await cur.fetchall()
    finally:
        await conn.ensure_closed()

    assert "MariaDB" in version
    assert database == urlparse(mysql_dsn).path.lstrip("/")
    assert [tuple(row) for row in rows] == [(1, "one"), (2, "twö")]
    assert list(left) == []
