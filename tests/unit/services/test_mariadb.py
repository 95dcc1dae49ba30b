"""scripts/services mariadb: what it exports, and the configuration it would write (no server)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from penstock_services.cli import SERVICES
from penstock_services.common import Context, ServiceError, render
from penstock_services.mariadb import CONF_TEMPLATE, MAX_SOCKET_PATH, MariaDB

from tests.infra.services import SPECS


def context(root: Path) -> Context:
    return Context(root, root / "data", root / "cache", run_as=None, timeout=1.0)


def test_registered_and_exports_a_mysql_dsn(tmp_path: Path) -> None:
    assert SERVICES["mariadb"] is MariaDB
    service = MariaDB(context(tmp_path))
    assert service.exports({"server": 3307}) == {"MYSQL_DSN": "mysql://root@127.0.0.1:3307/penstock"}


def test_the_mysql_marker_and_fixture_start_the_mariadb_service() -> None:
    spec = next(spec for spec in SPECS if spec.marker == "mysql")
    assert (spec.name, spec.env_var, spec.fixture) == ("mariadb", "MYSQL_DSN", "mysql_dsn")


def test_a_socket_path_too_long_for_sun_path_is_refused_before_anything_runs(tmp_path: Path) -> None:
    root = tmp_path / ("x" * MAX_SOCKET_PATH)
    service = MariaDB(context(root))
    with pytest.raises(ServiceError, match="PENSTOCK_SERVICES_DIR"):
        service.configure(root / "data" / "mariadb", {"server": 3306})


def test_the_template_listens_on_loopback_only_without_a_binary_log(tmp_path: Path) -> None:
    conf = render(
        CONF_TEMPLATE, port=3399, socket=tmp_path / "s", pid_file="p", datadir="d", tmpdir="t"
    ).splitlines()
    assert "bind-address = 127.0.0.1" in conf
    assert "port = 3399" in conf
    assert f"socket = {tmp_path / 's'}" in conf
    assert "skip-log-bin" in conf
