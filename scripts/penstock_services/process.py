"""Service processes: spawning, liveness, memory, stopping, and the per-service state record."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Record:
    """What `<state>/<name>.json` holds about a started service."""

    name: str
    version: str
    pid: int
    start_ticks: int
    ports: dict[str, int]
    data_dir: str
    exports: dict[str, str]
    started_at: float = field(default_factory=time.time)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Record | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def members(self) -> list[int]:
        """Live processes of the service: its process group, started no earlier than the leader."""
        return group_members(self.pid, self.start_ticks)

    def alive(self) -> bool:
        return proc_start_ticks(self.pid) == self.start_ticks


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is the state, field 3)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def proc_start_ticks(pid: int) -> int | None:
    """Start time of a live (non-zombie) process; it tells a recycled pid apart."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def group_members(leader: int, min_ticks: int) -> list[int]:
    """Live processes in the leader's process group or below it in the process tree.

    Both are needed: PostgreSQL puts every backend in its own session (setsid), while the
    Elasticsearch server JVM stays in the launcher's group even if the launcher dies first.
    Processes started before the leader cannot belong to it (guards against recycled pids).
    """
    table = _process_table()
    members = []
    for pid, (ppid, pgid, ticks) in table.items():
        if ticks < min_ticks:
            continue
        if pgid == leader or _descends_from(pid, ppid, leader, table):
            members.append(pid)
    return sorted(members)


def _process_table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, pgid, start ticks) for every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None or fields[0] in ("Z", "X"):
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), int(fields[19]))
    return table


def _descends_from(pid: int, ppid: int, ancestor: int, table: dict[int, tuple[int, int, int]]) -> bool:
    seen = set()
    while pid != ancestor:
        if ppid <= 1 or pid in seen or ppid not in table:
            return ppid == ancestor
        seen.add(pid)
        pid, ppid = ppid, table[ppid][0]
    return True


def memory_kib(pids: list[int]) -> tuple[int, int]:
    """Summed RSS and PSS (KiB); PSS splits shared pages, so it does not double-count."""
    rss = pss = 0
    for pid in pids:
        rss += _proc_kib(Path(f"/proc/{pid}/status"), "VmRSS:")
        pss += _proc_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss:")
    return rss, pss


def _proc_kib(path: Path, key: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def spawn(
    argv: list[str], *, log_path: Path, env: dict[str, str], cwd: Path, proc_kwargs: dict[str, Any]
) -> subprocess.Popen[bytes]:
    """Start a service in its own session (so its process group can be stopped as a whole)."""
    with log_path.open("ab") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
            **proc_kwargs,
        )


def stop(record: Record, graceful: signal.Signals, timeout: float) -> bool:
    """Signal the leader, wait, then SIGKILL whatever is left. True if it went down gracefully."""
    if record.alive():
        _signal(record.pid, graceful)
    if _wait_gone(record, timeout):
        return True
    for pid in record.members():
        _signal(pid, signal.SIGKILL)
    _wait_gone(record, 10.0)
    return False


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _wait_gone(record: Record, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while record.members():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
