"""Paths, settings, diagnostics and small helpers shared by every service."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY_DIR = REPO_ROOT / "deploy" / "services"
HOST = "127.0.0.1"
DEFAULT_SERVICE_USER = "penstock-svc"
DEFAULT_TIMEOUT_S = 180.0


class ServiceError(Exception):
    """A service could not be installed, configured or started; the message says why."""


def log(message: str) -> None:
    """Progress and diagnostics go to stderr so that stdout stays `eval`-able."""
    print(f"services: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account services run under when this script runs as root."""

    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def chown_tree(self, path: Path) -> None:
        for item in [path, *path.rglob("*")]:
            os.lchown(item, self.uid, self.gid)


@dataclass(frozen=True)
class Context:
    """Where state, data and caches live, and who the service processes run as."""

    state_dir: Path
    data_root: Path
    cache_dir: Path
    run_as: RunAs | None
    timeout: float

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def log_file(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def record_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.json"

    def data_dir(self, name: str) -> Path:
        return self.data_root / name

    def make_owned_dir(self, path: Path) -> Path:
        """Create `path` (and parents) and hand it to the service account."""
        path.mkdir(parents=True, exist_ok=True)
        if self.run_as is not None:
            os.chown(path, self.run_as.uid, self.run_as.gid)
        return path

    def proc_kwargs(self) -> dict[str, Any]:
        """subprocess keyword arguments that drop root privileges when needed."""
        return self.run_as.popen_kwargs() if self.run_as is not None else {}


def build_context() -> Context:
    state_dir = Path(os.environ.get("PENSTOCK_SERVICES_DIR") or REPO_ROOT / ".services").resolve()
    run_as = _service_account() if os.geteuid() == 0 else None
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "logs").mkdir(exist_ok=True)
    data_root = _data_root(state_dir, run_as)
    return Context(
        state_dir=state_dir,
        data_root=data_root,
        cache_dir=_cache_dir(),
        run_as=run_as,
        timeout=float(os.environ.get("PENSTOCK_SERVICES_TIMEOUT") or DEFAULT_TIMEOUT_S),
    )


def _cache_dir() -> Path:
    """Downloads are unpacked here. Root uses /var/cache so the service account can read them."""
    if override := os.environ.get("PENSTOCK_CACHE_DIR"):
        return Path(override).resolve()
    if os.geteuid() == 0:
        return Path("/var/cache/penstock")
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "penstock"


def _service_account() -> RunAs:
    """PostgreSQL, MariaDB and Elasticsearch refuse to run as root: root runs every service as this user."""
    name = os.environ.get("PENSTOCK_SERVICES_USER") or DEFAULT_SERVICE_USER
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        log(f"creating system user {name!r} to run the services (they refuse to run as root)")
        run_checked(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            what=f"useradd {name}",
        )
        entry = pwd.getpwnam(name)
    return RunAs(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def _data_root(state_dir: Path, run_as: RunAs | None) -> Path:
    """Data lives in the state folder unless the service account cannot reach it (e.g. under /root)."""
    if run_as is None or can_traverse(state_dir, run_as):
        return state_dir
    digest = hashlib.sha1(str(state_dir).encode()).hexdigest()[:12]
    fallback = Path("/var/tmp/penstock-services") / digest
    fallback.mkdir(parents=True, exist_ok=True)
    fallback.parent.chmod(0o755)
    fallback.chmod(0o755)
    (state_dir / "data-root").write_text(f"{fallback}\n")
    return fallback


def can_traverse(path: Path, run_as: RunAs) -> bool:
    """True when `run_as` may search every directory from / down to `path`."""
    groups = {run_as.gid} | {g.gr_gid for g in grp.getgrall() if run_as.name in g.gr_mem}
    for directory in [*reversed(path.parents), path]:
        info = directory.stat()
        if info.st_uid == run_as.uid:
            bit = stat.S_IXUSR
        elif info.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not info.st_mode & bit:
            return False
    return True


def render(template: Path, **values: object) -> str:
    """Fill a `${name}` template from deploy/services; a missing value is an error."""
    return Template(template.read_text()).substitute({k: str(v) for k, v in values.items()})


def pom_property(pom: Path, name: str) -> str:
    """Read a <properties> value, so the POMs hold the default versions."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find(f"m:properties/m:{name}", ns)
    if node is None or not node.text:
        raise ServiceError(f"{pom} has no <{name}> property")
    return node.text.strip()


def require_tool(name: str, hint: str = "run .ci/install-system-deps") -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceError(f"`{name}` not found on PATH ({hint})")
    return path


def java_home() -> Path:
    """JAVA_HOME if set, else the JDK the `java` on PATH belongs to."""
    if env := os.environ.get("JAVA_HOME"):
        return Path(env)
    return Path(os.path.realpath(require_tool("java"))).parent.parent


def run_checked(
    argv: list[str],
    *,
    what: str,
    log_path: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    **kwargs: Any,
) -> str:
    """Run a command to completion; on failure raise ServiceError with the output's tail."""
    result = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
        **kwargs,
    )
    output: str = result.stdout
    if log_path is not None:
        with log_path.open("a") as handle:
            handle.write(f"$ {' '.join(argv)}\n{output}\n")
    if result.returncode != 0:
        last_lines = "\n".join(output.splitlines()[-25:])
        where = f" (full output in {log_path})" if log_path else ""
        raise ServiceError(f"{what} failed with exit code {result.returncode}{where}:\n{last_lines}")
    return output


def port_is_free(port: int) -> bool:
    """Bind like a server would (SO_REUSEADDR), so TIME_WAIT leftovers do not count as taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def pick_port(preferred: int, exclude: Iterable[int] = ()) -> int:
    """The preferred port when it is free, otherwise one the kernel hands out."""
    excluded = set(exclude)
    if preferred not in excluded and port_is_free(preferred):
        return preferred
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port = int(sock.getsockname()[1])
        if port not in excluded:
            return port


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
