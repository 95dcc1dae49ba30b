"""The Penstock side: a real ``penstock`` worker process, as a user starts one.

On Kafka it is ``penstock standalone worker.properties <connector>.properties`` — the very files
Kafka Connect's ``ConnectStandalone`` is given, so both systems run one worker on the same broker
with the same settings. File to file it is the embedded ``penstock run`` (no broker at all), with
the connectors created through the REST API once the worker is ready, as the README's quickstart
does; the clock still starts at process start.
"""

from __future__ import annotations

import asyncio
import compileall
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.runner import Job


def compile_bytecode() -> None:
    """Write the project's bytecode once, before any run, as ``pip install`` does for an installed
    package: a checkout run with ``PYTHONDONTWRITEBYTECODE`` (as on the CI machines) would otherwise
    compile ~160 modules at every start and count it as start-up time (~0.15 s of CPU)."""
    root = Path(__file__).resolve().parents[1]
    for package in ("app", "connectors"):
        compileall.compile_dir(root / package, quiet=1)


class Penstock:
    name = "penstock"

    def launch(self, job: Job, log: Path) -> subprocess.Popen[bytes]:
        worker, connectors = job.write()
        if job.embedded:
            args = ["run", str(worker), "--data-dir", str(job.workdir / "data")]
        else:
            args = ["standalone", str(worker), *map(str, connectors)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
        with log.open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=job.workdir,
            )

    async def submit(self, job: Job) -> None:
        """Embedded mode: POST the connectors as soon as ``/readyz`` answers (standalone: nothing)."""
        if not job.embedded:
            return
        url = job.worker["listeners"]
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError("penstock was not ready after 60 s")
                await asyncio.sleep(0.02)
            for config in job.connectors:
                response = await client.post("/connectors", json={"name": config["name"], "config": config})
                response.raise_for_status()
