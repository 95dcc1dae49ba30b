"""pytest plugin: real Kafka, PostgreSQL, MariaDB and Elasticsearch for integration tests.

Register it with ``pytest_plugins = ["tests.infra.services"]`` (or ``-p tests.infra.services``).

Session fixtures ``kafka_bootstrap``, ``postgres_dsn``, ``mysql_dsn`` and ``elasticsearch_url``
return where a server listens. When ``KAFKA_BOOTSTRAP_SERVERS`` / ``POSTGRES_DSN`` / ``MYSQL_DSN``
/ ``ELASTICSEARCH_URL`` is already exported that server is used as is; otherwise
``scripts/services up <name>`` starts one (reusing it when it already runs) and the value is
exported into ``os.environ`` so that processes the tests spawn find it too. Tests marked
``kafka`` / ``postgres`` / ``mysql`` / ``elasticsearch`` get the service even without asking for
the fixture (``mysql`` starts the ``mariadb`` service: the marker names the protocol, so a MySQL
server given by ``MYSQL_DSN`` fits it too).

A server that cannot start fails the test (never skips) and points at the log folder.

At the end of the session the servers this run had to start are stopped again, unless another
test run still uses them (``scripts/services up --lease <pid>`` / ``release``, see
docs/services.md). Servers that were already running when the run began are left alone. To keep
them up between runs, start them first with ``eval "$(scripts/services up)"``, or set
``PENSTOCK_KEEP_SERVICES=1``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES_SCRIPT = REPO_ROOT / "scripts" / "services"
KEEP_VARIABLE = "PENSTOCK_KEEP_SERVICES"
# Cold starts download Kafka and Elasticsearch; warm starts take seconds.
UP_TIMEOUT_S = 600


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # as scripts/services names it
    env_var: str
    fixture: str
    marker: str


SPECS = (
    ServiceSpec("kafka", "KAFKA_BOOTSTRAP_SERVERS", "kafka_bootstrap", "kafka"),
    ServiceSpec("postgres", "POSTGRES_DSN", "postgres_dsn", "postgres"),
    ServiceSpec("elasticsearch", "ELASTICSEARCH_URL", "elasticsearch_url", "elasticsearch"),
    ServiceSpec("mariadb", "MYSQL_DSN", "mysql_dsn", "mysql"),
)


def logs_dir() -> Path:
    state = os.environ.get("PENSTOCK_SERVICES_DIR") or REPO_ROOT / ".services"
    return Path(state).resolve() / "logs"


def parse_exports(text: str) -> dict[str, str]:
    """Read the ``export NAME=value`` lines that ``scripts/services up`` prints."""
    values = {}
    for line in text.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            values[key] = value
    return values


def services_script() -> Path:
    """``scripts/services``; ``PENSTOCK_SERVICES_SCRIPT`` replaces it (the plugin's own tests)."""
    return Path(os.environ.get("PENSTOCK_SERVICES_SCRIPT") or SERVICES_SCRIPT)


def lease_holder(env: Mapping[str, str]) -> int | None:
    """The pid this test run leases services under, or None when it must keep what it starts."""
    keep = env.get(KEEP_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")
    return None if keep else os.getpid()


LEASED: list[str] = []
"""Services this session got from ``scripts/services up --lease``: released when it finishes."""


def service_address(spec: ServiceSpec) -> str:
    """The exported address, or start the service and export its address."""
    if existing := os.environ.get(spec.env_var):
        return existing
    command = [sys.executable, str(services_script()), "up", spec.name]
    holder = lease_holder(os.environ)
    if holder is not None:
        command += ["--lease", str(holder)]
    try:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=UP_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(
            f"`{shlex.join(command[1:])}` took over {UP_TIMEOUT_S}s; logs in {logs_dir()}", pytrace=False
        )
    exports = parse_exports(result.stdout)
    value = exports.get(spec.env_var)
    if result.returncode != 0 or not value:
        stderr_tail = "\n".join(result.stderr.splitlines()[-40:])
        pytest.fail(
            f"could not start {spec.name}: `scripts/services up {spec.name}` exited with "
            f"{result.returncode}.\n"
            f"Logs are in {logs_dir()}. Its stderr ends with:\n{stderr_tail}",
            pytrace=False,
        )
    for key, exported in exports.items():  # e.g. Kafka's SASL/SSL listeners and test users
        os.environ.setdefault(key, exported)
    os.environ[spec.env_var] = value
    if holder is not None:
        LEASED.append(spec.name)
    return value


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop what this run started, unless another test run still uses it."""
    if not LEASED:
        return
    command = [sys.executable, str(services_script()), "release", "--lease", str(os.getpid()), *LEASED]
    LEASED.clear()
    try:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=UP_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        sys.stderr.write(f"\n`{shlex.join(command[1:])}` took over {UP_TIMEOUT_S}s\n")
        return
    if result.stderr.strip():
        sys.stderr.write("\n" + result.stderr)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    """``host:port`` of a Kafka broker (KRaft, auto topic creation off)."""
    return service_address(SPECS[0])


KAFKA_SECURITY_VARIABLES = (
    "KAFKA_SASL_BOOTSTRAP_SERVERS",
    "KAFKA_SASL_SCRAM_USER",
    "KAFKA_SASL_SCRAM_PASSWORD",
    "KAFKA_SASL_PLAIN_USER",
    "KAFKA_SASL_PLAIN_PASSWORD",
    "KAFKA_SSL_BOOTSTRAP_SERVERS",
    "KAFKA_SSL_CA_LOCATION",
)


@dataclass(frozen=True)
class KafkaSecurity:
    """The secured listeners of the broker ``scripts/services`` starts, and its test users."""

    sasl_bootstrap: str  # SASL_PLAINTEXT with PLAIN and SCRAM-SHA-512
    scram_user: str
    scram_password: str
    plain_user: str
    plain_password: str
    ssl_bootstrap: str  # SSL, server certificate signed by the CA below
    ssl_ca_location: str  # PEM


@pytest.fixture(scope="session")
def kafka_security(kafka_bootstrap: str) -> KafkaSecurity:
    """The broker's SASL_PLAINTEXT and SSL listeners (exported by ``scripts/services up kafka``).

    A broker given by ``KAFKA_BOOTSTRAP_SERVERS`` alone has none: export the variables below for
    it, or let the tests use the broker ``scripts/services`` starts. Missing ones fail the test.
    """
    missing = [name for name in KAFKA_SECURITY_VARIABLES if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"the Kafka broker at {kafka_bootstrap} came without {', '.join(missing)}: it was not "
            "started by this version of scripts/services (restart it with `scripts/services down "
            'kafka && eval "$(scripts/services up kafka)"`) or those variables were not exported',
            pytrace=False,
        )
    return KafkaSecurity(*(os.environ[name] for name in KAFKA_SECURITY_VARIABLES))


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """``postgresql://user@host:port/db`` of a PostgreSQL server with ``wal_level=logical``."""
    return service_address(SPECS[1])


@pytest.fixture(scope="session")
def elasticsearch_url() -> str:
    """``http://host:port`` of a single-node Elasticsearch 8 without security."""
    return service_address(SPECS[2])


@pytest.fixture(scope="session")
def mysql_dsn() -> str:
    """``mysql://user[:password]@host:port/db`` of a MariaDB/MySQL server.

    The one scripts/services starts gives ``mysql://root@127.0.0.1:<port>/penstock``: root without
    a password (all privileges), the ``penstock`` database, no binary log.
    """
    return service_address(SPECS[3])


@pytest.fixture(autouse=True)
def _services_for_markers(request: pytest.FixtureRequest) -> None:
    """A test marked ``kafka``/``postgres``/``mysql``/``elasticsearch`` gets that service started."""
    for spec in SPECS:
        if request.node.get_closest_marker(spec.marker) is not None:
            request.getfixturevalue(spec.fixture)
