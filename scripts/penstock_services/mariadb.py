"""MariaDB from Debian's packages: a throw-away server made with mariadb-install-db."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .base import Launch, Service
from .common import DEPLOY_DIR, HOST, ServiceError, render, run_checked

CONF_TEMPLATE = DEPLOY_DIR / "mariadb" / "my.cnf.in"
SUPERUSER = "root"
DATABASE = "penstock"
SOCKET_NAME = "mariadbd.sock"
# sun_path holds 108 bytes including the terminating NUL; a longer socket path fails at bind().
MAX_SOCKET_PATH = 107
# Debian installs the server in /usr/sbin, which a normal user's PATH often lacks.
SEARCH_DIRS = (Path("/usr/sbin"), Path("/usr/bin"))

# Under skip-name-resolve TCP clients match root@127.0.0.1, never root@localhost; 10.11's
# install-db creates that account, but stating it here keeps the DSN working whatever it did.
SETUP_SQL = f"""
CREATE USER IF NOT EXISTS '{SUPERUSER}'@'{HOST}';
GRANT ALL PRIVILEGES ON *.* TO '{SUPERUSER}'@'{HOST}' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS `{DATABASE}`;
"""


def find_tool(*names: str) -> str:
    """The first of `names` in MARIADB_BIN, on PATH, or in /usr/sbin and /usr/bin.

    Several names because the MySQL-era ones (mysqld, mysql_install_db) are what older or
    non-Debian installations provide.
    """
    override = os.environ.get("MARIADB_BIN")
    for name in names:
        if override:
            candidate = Path(override) / name
            if candidate.exists():
                return str(candidate)
            continue
        if found := shutil.which(name):
            return found
        for directory in SEARCH_DIRS:
            if (directory / name).exists():
                return str(directory / name)
    raise ServiceError(f"MariaDB is not installed ({names[0]} not found); run .ci/install-system-deps")


class MariaDB(Service):
    """One mariadbd per state folder, configured only by its own my.cnf (--defaults-file)."""

    name = "mariadb"
    env_var = "MYSQL_DSN"
    default_ports = {"server": 3306}

    def version(self) -> str:
        out = run_checked([find_tool("mariadbd", "mysqld"), "--version"], what="mariadbd --version")
        match = re.search(r"Ver (\d+(?:\.\d+)+)", out)
        return match.group(1) if match else out.strip()

    def install(self) -> None:
        find_tool("mariadbd", "mysqld")
        find_tool("mariadb-install-db", "mysql_install_db")
        find_tool("mariadb-admin", "mysqladmin")
        find_tool("mariadb", "mysql")

    def _socket(self) -> Path:
        """Inside the service's own folder, so that two state folders never share one."""
        return self.ctx.data_dir(self.name) / SOCKET_NAME

    def configure(self, data_dir: Path, ports: dict[str, int]) -> Launch:
        socket = self._socket()
        if len(str(socket)) > MAX_SOCKET_PATH:
            raise ServiceError(
                f"the socket path {socket} is longer than {MAX_SOCKET_PATH} bytes; "
                "set PENSTOCK_SERVICES_DIR to a shorter folder"
            )
        datadir = data_dir / "data"
        tmpdir = self.ctx.make_owned_dir(data_dir / "tmp")
        conf = data_dir / "my.cnf"
        conf.write_text(
            render(
                CONF_TEMPLATE,
                port=ports["server"],
                socket=socket,
                pid_file=data_dir / "mariadbd.pid",
                datadir=datadir,
                tmpdir=tmpdir,
            )
        )
        run_checked(
            [
                find_tool("mariadb-install-db", "mysql_install_db"),
                f"--defaults-file={conf}",  # must come first
                f"--datadir={datadir}",
                "--auth-root-authentication-method=normal",  # root@localhost without a password
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            what="mariadb-install-db",
            log_path=self.ctx.log_file(self.name),
            cwd=data_dir,
            **self.ctx.proc_kwargs(),
        )
        return Launch(argv=[find_tool("mariadbd", "mysqld"), f"--defaults-file={conf}"], cwd=data_dir)

    def is_ready(self, ports: dict[str, int]) -> bool:
        """mariadbd opens its TCP port only once recovery and startup are done."""
        result = subprocess.run(
            [
                find_tool("mariadb-admin", "mysqladmin"),
                "--no-defaults",
                "--protocol=TCP",
                f"--host={HOST}",
                f"--port={ports['server']}",
                f"--user={SUPERUSER}",
                "--connect-timeout=2",
                "--silent",
                "ping",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def after_ready(self, ports: dict[str, int]) -> None:
        # Over the socket as root@localhost, the one account every install-db creates.
        run_checked(
            [
                find_tool("mariadb", "mysql"),
                "--no-defaults",
                f"--socket={self._socket()}",
                f"--user={SUPERUSER}",
                "--batch",
                f"--execute={SETUP_SQL}",
            ],
            what="mariadb (create root@127.0.0.1 and the penstock database)",
        )

    def exports(self, ports: dict[str, int]) -> dict[str, str]:
        return {self.env_var: f"mysql://{SUPERUSER}@{HOST}:{ports['server']}/{DATABASE}"}
