"""PostgreSQL from Debian's packages: a throw-away cluster made with initdb."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

from .base import Launch, Service
from .common import DEPLOY_DIR, HOST, ServiceError, render, run_checked

CONF_TEMPLATE = DEPLOY_DIR / "postgres" / "postgresql.conf.in"
SUPERUSER = "postgres"
DATABASE = "penstock"


def find_bin_dir() -> Path:
    """PG_BIN, else the newest /usr/lib/postgresql/<ver>/bin, else wherever initdb is on PATH."""
    if override := os.environ.get("PG_BIN"):
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    if initdb := shutil.which("initdb"):
        return Path(os.path.realpath(initdb)).parent
    raise ServiceError("PostgreSQL is not installed (initdb not found); run .ci/install-system-deps")


class Postgres(Service):
    name = "postgres"
    env_var = "POSTGRES_DSN"
    default_ports = {"server": 5432}
    graceful_signal = signal.SIGINT  # "fast" shutdown: do not wait for clients to disconnect

    def _bin(self, tool: str) -> str:
        return str(find_bin_dir() / tool)

    def version(self) -> str:
        out = run_checked([self._bin("postgres"), "--version"], what="postgres --version")
        match = re.search(r"\(PostgreSQL\) (\S+)", out)
        return match.group(1) if match else out.strip()

    def install(self) -> None:
        find_bin_dir()

    def configure(self, data_dir: Path, ports: dict[str, int]) -> Launch:
        cluster = data_dir / "cluster"
        run_checked(
            [
                self._bin("initdb"),
                "-D",
                str(cluster),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            what="initdb",
            log_path=self.ctx.log_file(self.name),
            cwd=data_dir,
            **self.ctx.proc_kwargs(),
        )
        with (cluster / "postgresql.conf").open("a") as conf:
            conf.write(render(CONF_TEMPLATE, port=ports["server"]))
        return Launch(argv=[self._bin("postgres"), "-D", str(cluster)], cwd=data_dir)

    def is_ready(self, ports: dict[str, int]) -> bool:
        result = subprocess.run(
            [
                self._bin("pg_isready"),
                "-q",
                "-h",
                HOST,
                "-p",
                str(ports["server"]),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-t",
                "2",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def after_ready(self, ports: dict[str, int]) -> None:
        exists = self._psql(ports, f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")
        if exists.strip() != "1":
            self._psql(ports, f'CREATE DATABASE "{DATABASE}"')

    def _psql(self, ports: dict[str, int], sql: str) -> str:
        return run_checked(
            [
                self._bin("psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                HOST,
                "-p",
                str(ports["server"]),
                "-U",
                SUPERUSER,
                "-d",
                "postgres",
                "-c",
                sql,
            ],
            what=f"psql {sql!r}",
        )

    def exports(self, ports: dict[str, int]) -> dict[str, str]:
        return {self.env_var: f"postgresql://{SUPERUSER}@{HOST}:{ports['server']}/{DATABASE}"}
