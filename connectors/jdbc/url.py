"""JDBC connection URLs, as the Confluent JDBC connectors take them, for two drivers.

Accepted (anything else is refused with a message that lists these):

* ``jdbc:postgresql://host[:port]/database[?key=value&...]`` (``jdbc:postgresql:database`` and
  ``jdbc:postgresql://host/`` too: localhost, the user's name as the database, as pgjdbc does);
* ``jdbc:mysql://host[:port]/database[?...]`` and ``jdbc:mariadb://...`` (the same server family:
  both go through the MySQL protocol driver).

``user`` and ``password`` may come in the URL's query (``?user=app&password=secret``) as pgjdbc and
Connector/J allow; ``connection.user`` / ``connection.password`` win when both are given. Other
query parameters are kept (``sslmode``, ``ssl``, ...) for the dialect to apply. Several hosts
(``host1,host2``: failover lists) are refused: Penstock connects to one server. The password is
never part of ``str(url)`` or of an error message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["SUPPORTED_FORMS", "JdbcUrl", "parse_jdbc_url"]

DialectName = Literal["postgresql", "mysql"]

SUPPORTED_FORMS: Final = (
    "jdbc:postgresql://host[:port]/database, jdbc:mysql://host[:port]/database or "
    "jdbc:mariadb://host[:port]/database (optionally with ?user=...&password=...)"
)

_SCHEMES: Final[dict[str, DialectName]] = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql"}
_DEFAULT_PORTS: Final[dict[DialectName, int]] = {"postgresql": 5432, "mysql": 3306}


@dataclass(frozen=True)
class JdbcUrl:
    """A parsed ``connection.url``; ``scheme`` is what the user wrote (``mariadb`` stays ``mariadb``)."""

    dialect: DialectName
    scheme: str
    host: str
    port: int
    database: str | None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        """The URL without credentials, for logs and messages."""
        where = f"{self.host}:{self.port}/{self.database or ''}"
        return f"jdbc:{self.scheme}://{where}"

    def with_credentials(self, user: str | None, password: str | None) -> JdbcUrl:
        """``connection.user`` / ``connection.password`` over the URL's own."""
        return JdbcUrl(
            self.dialect,
            self.scheme,
            self.host,
            self.port,
            self.database,
            user if user else self.user,
            password if password else self.password,
            dict(self.params),
        )


def parse_jdbc_url(url: str) -> JdbcUrl:
    """Parse ``url``; a ``ValueError`` says what is wrong and which forms are supported."""
    text = url.strip()
    if not text.lower().startswith("jdbc:"):
        raise ValueError(f"connection.url must be a JDBC URL: {SUPPORTED_FORMS}")
    rest = text[5:]
    scheme, sep, remainder = rest.partition(":")
    dialect = _SCHEMES.get(scheme.lower())
    if not sep or dialect is None:
        shown = f"jdbc:{scheme}" if sep else text
        raise ValueError(f"{shown} URLs are not supported; use {SUPPORTED_FORMS}")
    if not remainder.startswith("//"):
        if dialect != "postgresql" or not remainder:
            raise ValueError(f"connection.url {_redacted(text)} has no //host part; use {SUPPORTED_FORMS}")
        remainder = f"//localhost/{remainder}"  # jdbc:postgresql:database
    parts = urlsplit(f"x:{remainder}")
    netloc = parts.netloc.rpartition("@")[2]  # user:pass@host is not JDBC; ignore any
    if "," in netloc:
        raise ValueError(
            f"connection.url {_redacted(text)} lists several hosts; Penstock connects to one server: "
            "name a single host"
        )
    host, port = _host_port(netloc, _DEFAULT_PORTS[dialect], text)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if dialect == "mysql" and ";" in parts.path:
        raise ValueError(f"connection.url {_redacted(text)}: use ?key=value parameters, not ;key=value")
    database = unquote(parts.path.lstrip("/")) or None
    user = params.pop("user", None)
    password = params.pop("password", None)
    return JdbcUrl(dialect, scheme.lower(), host, port, database, user or None, password or None, params)


def _host_port(netloc: str, default: int, text: str) -> tuple[str, int]:
    if not netloc:
        return "localhost", default
    if netloc.startswith("["):  # [::1]:5432
        host, _, rest = netloc[1:].partition("]")
        port_text = rest.lstrip(":")
    else:
        host, _, port_text = netloc.partition(":")
    if not port_text:
        return host or "localhost", default
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"connection.url {_redacted(text)}: port {port_text!r} is not a port number")
    return host or "localhost", int(port_text)


def _redacted(text: str) -> str:
    """The URL as typed, without its query (which may hold a password)."""
    return text.partition("?")[0]
