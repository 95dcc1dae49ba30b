"""A real ``penstock run`` process for end-to-end tests, driven only through HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``mode`` is the CLI command: ``run`` (embedded, settings as CONNECT_* variables) or
    ``standalone``/``distributed`` (settings written to a worker.properties file)."""

    def __init__(
        self,
        data_dir: Path,
        settings: Mapping[str, str] | None = None,
        port: int | None = None,
        mode: str = "run",
        connector_files: tuple[Path, ...] = (),
        host: str | None = "127.0.0.1",
        verify: Any = True,
    ) -> None:
        """``host`` is passed as ``--host``; None leaves the interface to the command's default.
        An ``https://`` ``listeners`` setting makes the client speak HTTPS, checking the server
        with ``verify`` (an ``ssl.SSLContext``, which may also hold a client certificate)."""
        self.mode = mode
        self.host = host
        self.connector_files = connector_files
        self.data_dir = data_dir
        self.settings = dict(settings or {})
        self.port = port or free_port()
        scheme = "https" if self.settings.get("listeners", "").startswith("https://") else "http"
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}-server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.Client(base_url=self.url, timeout=30, verify=verify)

    def start(self, timeout: float = 30, ready: bool = True) -> ServerProcess:
        """Start and wait until ``/readyz`` answers 200 (or only ``/healthz`` with ``ready=False``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
        env["PYTHONUNBUFFERED"] = "1"
        if self.mode == "run":
            env.update({"CONNECT_" + k.upper().replace(".", "_"): v for k, v in self.settings.items()})
            args = ["run", "--data-dir", str(self.data_dir)]
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            properties = self.data_dir / "worker.properties"
            properties.write_text("".join(f"{k}={v}\n" for k, v in self.settings.items()))
            args = [self.mode, str(properties), *map(str, self.connector_files)]
        host_args = ["--host", self.host] if self.host is not None else []
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args, *host_args, "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.data_dir.parent,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"penstock exited with {self.process.returncode}; log:\n{self.log()}")
            try:
                if self.client.get("/readyz" if ready else "/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"penstock did not become ready in {timeout}s; log:\n{self.log()}")

    @property
    def worker_id(self) -> str:
        """``host:port``, as the worker names itself in statuses (Kafka Connect's ``worker_id``)."""
        return self.url.split("://", 1)[1]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 30) -> int:
        """Graceful stop (SIGTERM, as an orchestrator would)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """kill -9: no chance to flush or commit anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def close(self) -> None:
        self.kill()
        self.client.close()

    # -- helpers for tests ---------------------------------------------------------------------
    def create(self, name: str, config: Mapping[str, Any]) -> httpx.Response:
        response = self.client.post("/connectors", json={"name": name, "config": dict(config)})
        assert response.status_code == 201, response.text
        return response

    def wait_for_state(
        self, name: str, state: str = "RUNNING", tasks: int | None = None, timeout: float = 20
    ) -> dict[str, Any]:
        last: Any = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.client.get(f"/connectors/{name}/status")
            if response.status_code == 200:
                last = response.json()
                task_states = [t["state"] for t in last["tasks"]]
                if last["connector"]["state"] == state and (
                    tasks is None or (len(task_states) == tasks and all(s == state for s in task_states))
                ):
                    return dict(last)
            time.sleep(0.05)
        raise AssertionError(f"{name} did not reach {state}; last status: {last}")


def wait_until(
    condition: Callable[[], Any], timeout: float = 20, interval: float = 0.05, message: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(message or "condition not met in time")
