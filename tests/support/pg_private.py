"""A private, throw-away PostgreSQL for tests that need server settings the shared one lacks.

The shared server (scripts/services) uses trust authentication, no TLS and wal_level=logical,
and must not be reconfigured. Tests of password methods (cleartext, md5, SCRAM), TLS modes,
client certificates and ``wal_level`` errors start this one instead: initdb in a temporary
directory, a free port on 127.0.0.1, our own pg_hba.conf and certificates (made with openssl).
When run as root, the server runs as the services' unprivileged account (PostgreSQL refuses root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICE_USER = os.environ.get("PENSTOCK_SERVICES_USER") or "penstock-svc"


def pg_bin_dir() -> Path:
    if override := os.environ.get("PG_BIN"):
        return Path(override)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("PostgreSQL binaries not found (initdb)")
    return Path(os.path.realpath(initdb)).parent


@dataclass
class PrivateServer:
    port: int
    data_dir: Path
    certs: Path
    sock_dir: Path
    bindir: Path
    log_path: Path
    run_as: dict[str, Any]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log_file:
            self.proc = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data_dir)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                **self.run_as,
            )
        deadline = time.monotonic() + 60
        while True:
            ready = subprocess.run(
                [str(self.bindir / "pg_isready"), "-q", "-h", str(self.sock_dir), "-p", str(self.port)],
                check=False,
            )
            if ready.returncode == 0:
                return
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private PostgreSQL did not start: {self.log_path.read_text()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Fast shutdown (SIGINT) of the server process this helper started."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGQUIT)  # immediate shutdown: children exit too
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def psql(self, sql: str) -> None:
        subprocess.run(
            [str(self.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.sock_dir),
             "-p", str(self.port), "-U", "postgres", "-d", "postgres", "-c", sql],
            check=True, capture_output=True,
        )  # fmt: skip

    @property
    def ca_cert(self) -> str:
        return str(self.certs / "ca.crt")

    @property
    def other_ca_cert(self) -> str:
        return str(self.certs / "other-ca.crt")

    @property
    def client_cert(self) -> str:
        return str(self.certs / "client.crt")

    @property
    def client_key(self) -> str:
        return str(self.certs / "client.key")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path, *, client_cn: str) -> None:
    """A CA, a server certificate for DNS:localhost (not 127.0.0.1), a client certificate, and
    an unrelated second CA (to test verification failures)."""
    directory.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "other-ca"):
        _openssl(
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN=test {ca}",
            "-keyout", f"{ca}.key", "-out", f"{ca}.crt", cwd=directory,
        )  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost\n")
    for name, cn, ext in (("server", "localhost", ["-extfile", "server.ext"]), ("client", client_cn, [])):
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=directory,
        )  # fmt: skip
        _openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt", *ext, cwd=directory,
        )  # fmt: skip


@contextlib.contextmanager
def private_server(*, conf: str, hba: str, sql: str, client_cn: str = "certuser") -> Iterator[PrivateServer]:
    """Start a server with ``conf`` appended to postgresql.conf and ``hba`` as pg_hba.conf; run
    ``sql`` as the superuser ``postgres`` (trust on the Unix socket), yield, stop and delete it."""
    bindir = pg_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="pg-private-"))
    kwargs: dict[str, Any] = {}
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVICE_USER)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    data, certs, sock_dir = root / "data", root / "certs", root / "sock"
    make_certificates(certs, client_cn=client_cn)
    sock_dir.mkdir()
    if kwargs:
        os.chmod(root, 0o755)
        for path in [root, sock_dir, *certs.rglob("*"), certs]:
            os.chown(path, kwargs["user"], kwargs["group"])
    for key in certs.glob("*.key"):
        key.chmod(0o600)
    port = _free_port()
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--locale=C", "--no-sync"],
        check=True, capture_output=True, cwd=root, **kwargs,
    )  # fmt: skip
    with (data / "postgresql.conf").open("a") as fh:
        fh.write(
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{sock_dir}'\n"
            f"ssl = on\nssl_cert_file = '{certs}/server.crt'\nssl_key_file = '{certs}/server.key'\n"
            f"ssl_ca_file = '{certs}/ca.crt'\nfsync = off\nmax_wal_senders = 5\n"
            f"shared_buffers = 16MB\n{conf}\n"
        )
    (data / "pg_hba.conf").write_text(f"local all postgres trust\n{hba}\n")
    if kwargs:
        for path in [data / "postgresql.conf", data / "pg_hba.conf"]:
            os.chown(path, kwargs["user"], kwargs["group"])
    server = PrivateServer(
        port=port,
        data_dir=data,
        certs=certs,
        sock_dir=sock_dir,
        bindir=bindir,
        log_path=root / "server.log",
        run_as=kwargs,
    )
    try:
        server.start()
        server.psql(sql)
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
