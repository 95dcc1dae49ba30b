"""``connection.url`` parsing: the JDBC forms users copy from Confluent configs, and clear refusals."""

from __future__ import annotations

import pytest

from connectors.jdbc.dialect import MySqlDialect, PostgresDialect
from connectors.jdbc.url import parse_jdbc_url


def test_postgres_forms() -> None:
    url = parse_jdbc_url("jdbc:postgresql://db.example:5433/shop?user=app&password=s3cret&sslmode=require")
    assert (url.dialect, url.host, url.port, url.database, url.user, url.password) == (
        "postgresql", "db.example", 5433, "shop", "app", "s3cret",
    )  # fmt: skip
    assert url.params == {"sslmode": "require"}
    assert "s3cret" not in str(url) and "s3cret" not in repr(url)
    assert parse_jdbc_url("jdbc:postgresql:shop").host == "localhost"
    assert parse_jdbc_url("jdbc:postgresql://[::1]/shop").host == "::1"


def test_mysql_and_mariadb_are_one_family() -> None:
    for scheme in ("mysql", "mariadb"):
        url = parse_jdbc_url(f"jdbc:{scheme}://127.0.0.1/penstock?user=root")
        assert (url.dialect, url.scheme, url.port, url.user) == ("mysql", scheme, 3306, "root")


def test_connection_user_and_password_win_over_the_url() -> None:
    url = parse_jdbc_url("jdbc:mysql://h/db?user=a&password=b").with_credentials("c", "d")
    assert (url.user, url.password) == ("c", "d")
    assert parse_jdbc_url("jdbc:mysql://h/db?user=a").with_credentials(None, None).user == "a"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("jdbc:oracle:thin:@host:1521:orcl", "jdbc:oracle URLs are not supported"),
        ("postgresql://host/db", "must be a JDBC URL"),
        ("jdbc:mysql://h1,h2/db", "several hosts"),
        ("jdbc:postgresql://h:99999/db?password=zz", "is not a port number"),
        ("jdbc:sqlserver://h;databaseName=x", "not supported"),
    ],
)
def test_unsupported_urls_are_refused_naming_what_works(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as info:
        parse_jdbc_url(url)
    assert "zz" not in str(info.value)


def test_quoting_and_placeholders() -> None:
    pg, my = PostgresDialect(), MySqlDialect()
    assert pg.qualified("public", 'we"ird') == '"public"."we""ird"'
    assert my.qualified(None, "t`x") == "`t``x`"
    assert pg.placeholders(3) == "$1, $2, $3" and my.placeholders(2) == "%s, %s"
