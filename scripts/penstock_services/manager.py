"""up / down / status across services, serialised by a lock file in the state folder."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import leases
from .base import Service
from .common import Context, ServiceError, log, pick_port, tail
from .process import Record, memory_kib, proc_start_ticks, spawn, stop

POLL_INTERVAL_S = 0.5


@contextmanager
def locked(ctx: Context) -> Iterator[None]:
    """One `up`/`down` at a time per state folder (pytest-xdist workers may race)."""
    with (ctx.state_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class Pending:
    service: Service
    record: Record
    proc: subprocess.Popen[bytes] | None  # None: it was already running before this `up`
    started: float


def up(ctx: Context, services: list[Service], lease: int | None = None) -> tuple[list[Record], list[str]]:
    """Start what is not running, wait until everything answers. Returns (ready, failed names).

    `lease`: the pid of the test run asking (see leases.py); without it the user keeps what runs.
    """
    with locked(ctx):
        pending: list[Pending] = []
        failed: list[str] = []
        taken: set[int] = set()
        to_start = []
        for service in services:
            record = _running_record(ctx, service)
            if record is None:
                to_start.append(service)
            else:
                taken.update(record.ports.values())
                pending.append(Pending(service, record, proc=None, started=time.monotonic()))
        # All downloads first, then all launches, so that the servers start side by side.
        to_start = _attempt(to_start, lambda service: service.install(), failed)
        _attempt(to_start, lambda service: pending.append(_start(ctx, service, taken)), failed)
        started = {item.service.name for item in pending if item.proc is not None}
        ready, not_ready = _wait_ready(ctx, pending)
        order = [service.name for service in services]
        ready.sort(key=lambda record: order.index(record.name))
        for record in ready:
            if lease is not None:
                leases.take(ctx, record.name, lease, started=record.name in started)
            elif leases.adopt(ctx, record.name):
                log(f"{record.name}: a test run started it; it now stays up until `down`")
        return ready, failed + not_ready


def release(ctx: Context, services: list[Service], lease: int) -> list[str]:
    """Test run `lease` is done: stop what a test run started and no test run uses any more."""
    stopped = []
    with locked(ctx):
        for service in services:
            if leases.release(ctx, service.name, lease):
                _down_one(ctx, service)
                log(f"{service.name}: stopped (a test run started it; none uses it any more)")
                stopped.append(service.name)
    return stopped


def _running_record(ctx: Context, service: Service) -> Record | None:
    """The record of a live instance; a dead one is cleaned up (data included)."""
    record = Record.load(ctx.record_file(service.name))
    if record is not None and record.alive():
        _warn_on_version_change(service, record)
        log(f"{service.name}: already running (pid {record.pid})")
        return record
    if record is not None:
        log(f"{service.name}: pid {record.pid} from an earlier run is gone; starting afresh")
        _remove(ctx, service, record)
    return None


def _attempt(
    services: list[Service], action: Callable[[Service], object], failed: list[str]
) -> list[Service]:
    """Run `action` on each service; report and drop those that fail. Returns the rest."""
    survivors = []
    for service in services:
        try:
            action(service)
        except ServiceError as exc:
            log(f"{service.name}: {exc}")
            failed.append(service.name)
        else:
            survivors.append(service)
    return survivors


def _warn_on_version_change(service: Service, record: Record) -> None:
    wanted = service.version()
    if wanted != record.version:
        log(
            f"{service.name}: {record.version} is running, not {wanted}; "
            f"run `scripts/services down {service.name}` first to switch"
        )


def _start(ctx: Context, service: Service, taken: set[int]) -> Pending:
    started = time.monotonic()
    version = service.version()
    data_dir = ctx.data_dir(service.name)
    shutil.rmtree(data_dir, ignore_errors=True)
    ctx.make_owned_dir(data_dir)
    log_path = ctx.log_file(service.name)
    log_path.write_text("")
    ports = {}
    for role, default in service.default_ports.items():
        ports[role] = pick_port(default, taken)
        taken.add(ports[role])
    launch = service.configure(data_dir, ports)
    log(f"{service.name}: starting {version} on {_describe_ports(ports)} (log: {log_path})")
    proc = spawn(
        launch.argv, log_path=log_path, env=launch.env, cwd=launch.cwd, proc_kwargs=ctx.proc_kwargs()
    )
    record = Record(
        name=service.name,
        version=version,
        pid=proc.pid,
        start_ticks=proc_start_ticks(proc.pid) or 0,
        ports=ports,
        data_dir=str(data_dir),
        exports=service.exports(ports),
    )
    record.save(ctx.record_file(service.name))
    return Pending(service, record, proc, started)


def _describe_ports(ports: dict[str, int]) -> str:
    return ", ".join(f"{role} 127.0.0.1:{port}" for role, port in ports.items())


def _wait_ready(ctx: Context, pending: list[Pending]) -> tuple[list[Record], list[str]]:
    deadline = time.monotonic() + ctx.timeout
    ready: list[Record] = []
    failed: list[str] = []
    while pending:
        for item in list(pending):
            problem = _check(item)
            if problem is None:
                continue
            pending.remove(item)
            if problem == "":
                ready.append(item.record)
            else:
                _fail(ctx, item, problem)
                failed.append(item.service.name)
        if pending and time.monotonic() > deadline:
            for item in pending:
                _fail(ctx, item, f"did not answer within {ctx.timeout:.0f}s (PENSTOCK_SERVICES_TIMEOUT)")
                failed.append(item.service.name)
            break
        if pending:
            time.sleep(POLL_INTERVAL_S)
    return ready, failed


def _check(item: Pending) -> str | None:
    """None: still starting; "": ready; otherwise what went wrong."""
    if item.proc is not None and item.proc.poll() is not None:
        return f"exited with code {item.proc.returncode} during startup"
    if item.proc is None and not item.record.alive():
        return "process died"
    if not item.service.is_ready(item.record.ports):
        return None
    if item.proc is not None:
        try:
            item.service.after_ready(item.record.ports)
        except ServiceError as exc:
            return str(exc)
        log(f"{item.service.name}: ready after {time.monotonic() - item.started:.1f}s")
    return ""


def _fail(ctx: Context, item: Pending, problem: str) -> None:
    name = item.service.name
    log_path = ctx.log_file(name)
    log(f"{name}: {problem}; last lines of {log_path}:\n{tail(log_path)}")
    if item.proc is not None:
        stop(item.record, item.service.graceful_signal, timeout=10.0)
        ctx.record_file(name).unlink(missing_ok=True)
    log(f"{name}: logs are in {ctx.logs_dir}")


def down(ctx: Context, services: list[Service]) -> None:
    with locked(ctx):
        for service in services:
            if _down_one(ctx, service):
                log(f"{service.name}: stopped")
        if ctx.data_root != ctx.state_dir and not any(ctx.data_root.iterdir()):
            ctx.data_root.rmdir()
            (ctx.state_dir / "data-root").unlink(missing_ok=True)


def _down_one(ctx: Context, service: Service) -> bool:
    """Stop one service (the lock is held) and delete its data; True if it had a record."""
    record = Record.load(ctx.record_file(service.name))
    if record is not None:
        _remove(ctx, service, record)
    shutil.rmtree(ctx.data_dir(service.name), ignore_errors=True)
    leases.forget(ctx, service.name)
    return record is not None


def _remove(ctx: Context, service: Service, record: Record) -> None:
    """Stop the processes (graceful first), then delete data and record."""
    if record.members() and not stop(record, service.graceful_signal, service.stop_timeout):
        log(f"{service.name}: did not stop within {service.stop_timeout:.0f}s; killed")
    shutil.rmtree(Path(record.data_dir), ignore_errors=True)
    ctx.record_file(service.name).unlink(missing_ok=True)


def running(ctx: Context, services: list[Service]) -> list[Record]:
    records = [Record.load(ctx.record_file(s.name)) for s in services]
    return [r for r in records if r is not None and r.alive()]


def status_lines(ctx: Context, services: list[Service]) -> list[str]:
    lines = [f"state folder: {ctx.state_dir}  (logs: {ctx.logs_dir}, cache: {ctx.cache_dir})"]
    for service in services:
        record = Record.load(ctx.record_file(service.name))
        if record is None:
            lines.append(f"{service.name:<14} stopped")
            continue
        if not record.alive():
            lines.append(f"{service.name:<14} dead (pid {record.pid} gone; `down` cleans up)")
            continue
        members = record.members()
        rss, pss = memory_kib(members)
        uptime = time.time() - record.started_at
        exports = " ".join(f"{k}={v}" for k, v in record.exports.items())
        lines.append(
            f"{service.name:<14} running  {record.version:<9} pid {record.pid:<7} "
            f"{_describe_ports(record.ports)}  procs {len(members)}  rss {rss // 1024} MiB  "
            f"pss {pss // 1024} MiB  up {uptime:.0f}s  {exports}"
        )
    return lines
