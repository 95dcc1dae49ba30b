"""Which test runs use a service, and whether a test run started it.

A pytest session that finds no exported address runs `up --lease <its pid>`: the services it
uses get a lease file, and those `up` had to start are marked as started by a test run. At the
end the session runs `release <its pid>`, which stops a marked service once no other live test
run holds a lease on it. A service started with a plain `up` (or adopted by one) is the user's:
tests never stop it. Everything happens under the state folder's lock.

    <state>/leases/<name>/started-by-tests   a test run started it
    <state>/leases/<name>/<pid>              a test run (pid, start time) uses it
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .common import Context
from .process import proc_start_ticks

MARK = "started-by-tests"


def _folder(ctx: Context, name: str) -> Path:
    return ctx.state_dir / "leases" / name


def take(ctx: Context, name: str, pid: int, started: bool) -> None:
    """Record that test run `pid` uses `name`, and whether its `up` started it."""
    folder = _folder(ctx, name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(pid)).write_text(f"{proc_start_ticks(pid) or 0}\n")
    if started:
        (folder / MARK).touch()


def adopt(ctx: Context, name: str) -> bool:
    """A plain `up`: the user keeps the service, whoever started it. True if a test run had."""
    mark = _folder(ctx, name) / MARK
    if not mark.exists():
        return False
    mark.unlink()
    return True


def release(ctx: Context, name: str, pid: int) -> bool:
    """Drop test run `pid`'s lease; True when the service should now be stopped."""
    folder = _folder(ctx, name)
    (folder / str(pid)).unlink(missing_ok=True)
    return should_stop((folder / MARK).exists(), live_holders(folder))


def should_stop(started_by_tests: bool, holders: list[int]) -> bool:
    """Stop only what a test run started, and only once no test run uses it any more."""
    return started_by_tests and not holders


def live_holders(folder: Path) -> list[int]:
    """Pids of test runs still holding a lease; leases of runs that died are removed."""
    holders = []
    for lease in folder.glob("[0-9]*") if folder.is_dir() else []:
        pid = int(lease.name)
        try:
            ticks = int(lease.read_text().strip() or 0)
        except (OSError, ValueError):
            ticks = 0
        if proc_start_ticks(pid) == ticks and ticks:
            holders.append(pid)
        else:
            lease.unlink(missing_ok=True)
    return sorted(holders)


def forget(ctx: Context, name: str) -> None:
    """`down`: the service is gone, and so are its leases and mark."""
    shutil.rmtree(_folder(ctx, name), ignore_errors=True)
