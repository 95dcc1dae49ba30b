"""One timed run: start a worker process, watch it move a case's records, stop it.

Both systems are measured by this one loop, from outside, every 50 ms: psutil on the worker
process (RSS, CPU time) and the job's progress (a topic's end offset or the sink file's size).
Nothing is read from either worker's own metrics, so neither can be flattered by what it chooses
to count.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import psutil

POLL_S = 0.05


@dataclass
class Job:
    """What a worker is given: its worker properties and connector properties, identical for both."""

    workdir: Path
    worker: dict[str, str]
    connectors: list[dict[str, str]]
    embedded: bool = False  # Penstock runs it with ``penstock run`` (no broker); Kafka Connect cannot
    java_plugins: bool = False  # Kafka Connect needs its plugin.path (Debezium); Penstock's are installed
    files: list[Path] = field(default_factory=list)

    def write(self) -> tuple[Path, list[Path]]:
        """``worker.properties`` and one ``<name>.properties`` per connector, in ``workdir``."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        worker = self.workdir / "worker.properties"
        worker.write_text(_properties(self.worker))
        self.files = []
        for config in self.connectors:
            path = self.workdir / f"{config['name']}.properties"
            path.write_text(_properties(config))
            self.files.append(path)
        return worker, self.files


def _properties(values: Mapping[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items())


class System(Protocol):
    """How one system starts a job; ``submit`` runs concurrently with the measurement loop."""

    name: str

    def launch(self, job: Job, log: Path) -> subprocess.Popen[bytes]: ...

    async def submit(self, job: Job) -> None: ...


@dataclass
class RunResult:
    system: str
    case: str
    pair: int
    records: int
    payload_bytes: int
    start_to_first_record_s: float
    transfer_s: float
    records_per_s: float
    mb_per_s: float
    peak_rss_mib: float
    cpu_us_per_record: float  # all the worker's CPU, start-up included, over the records
    transfer_cpu_us_per_record: float  # only the CPU spent between the first and the last record
    # the latency case only (pg-es): COMMIT returned -> searchable, per transaction; and for both CDC
    # cases the rate the suite's inserts reached (the load's own bound)
    latency_p50_ms: float | None = None
    latency_p99_ms: float | None = None
    achieved_rows_per_s: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def measure(
    system: System,
    job: Job,
    *,
    case: str,
    pair: int,
    records: int,
    payload_bytes: int,
    progress: Callable[[], Awaitable[int]],
    timeout: float,
) -> RunResult:
    """Run ``job`` on ``system`` until ``progress()`` reaches ``records``; the worker is stopped after.

    Records/s and MB/s are over the transfer (first record seen to last record seen), so start-up
    is reported once, as its own metric, instead of being smeared over the throughput; CPU per
    record is given both ways.
    """
    log = job.workdir / f"{system.name}.log"
    started = time.monotonic()
    process = system.launch(job, log)
    submit = asyncio.create_task(system.submit(job))
    try:
        worker = psutil.Process(process.pid)
        peak_rss = 0
        first_at: float | None = None
        first_cpu = 0.0
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{system.name} exited with {process.returncode}: {_tail(log)}")
            if submit.done() and submit.exception() is not None:
                raise RuntimeError(f"{system.name}: {submit.exception()}: {_tail(log)}")
            cpu = _cpu(worker)
            peak_rss = max(peak_rss, worker.memory_info().rss)
            done = await progress()
            now = time.monotonic()
            if first_at is None and done > 0:
                first_at, first_cpu = now, cpu
            if done >= records:
                break
            if now - started > timeout:
                raise TimeoutError(f"{system.name}: {done:,} of {records:,} records after {timeout:.0f} s")
            await asyncio.sleep(POLL_S)
        cpu = _cpu(worker)
        peak_rss = max(peak_rss, worker.memory_info().rss)
    finally:
        submit.cancel()
        with contextlib.suppress(BaseException):
            await submit
        _stop(process)
    assert first_at is not None
    transfer = max(now - first_at, POLL_S)
    return RunResult(
        system=system.name,
        case=case,
        pair=pair,
        records=records,
        payload_bytes=payload_bytes,
        start_to_first_record_s=round(first_at - started, 3),
        transfer_s=round(transfer, 3),
        records_per_s=round(records / transfer),
        mb_per_s=round(payload_bytes / transfer / 1e6, 2),
        peak_rss_mib=round(peak_rss / 2**20, 1),
        cpu_us_per_record=round(cpu / records * 1e6, 2),
        transfer_cpu_us_per_record=round((cpu - first_cpu) / records * 1e6, 2),
    )


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _stop(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM, as an orchestrator would; kill what is still there after ``grace`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _tail(log: Path, lines: int = 30) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def file_progress(path: Path, line_bytes: int) -> Callable[[], Awaitable[int]]:
    """Lines in a sink file so far, by its size (both sinks write exactly one line per record)."""

    async def count() -> int:
        try:
            return path.stat().st_size // line_bytes
        except FileNotFoundError:
            return 0

    return count
