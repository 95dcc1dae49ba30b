"""scripts/services leases: a test run stops only what a test run started, once none uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from penstock_services import leases, manager
from penstock_services.base import Launch, Service
from penstock_services.common import Context


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return Context(tmp_path, tmp_path / "data", tmp_path / "cache", run_as=None, timeout=1.0)


@pytest.fixture
def other_run() -> Iterator[subprocess.Popen[bytes]]:
    """Another live test run (any process: leases name a pid and its start time)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize(
    ("started_by_tests", "holders", "stop"),
    [(True, [], True), (True, [42], False), (False, [], False), (False, [42], False)],
)
def test_only_what_a_test_run_started_and_nobody_uses_is_stopped(
    started_by_tests: bool, holders: list[int], stop: bool
) -> None:
    assert leases.should_stop(started_by_tests, holders) is stop


def test_the_last_test_run_out_stops_what_a_test_run_started(
    ctx: Context, other_run: subprocess.Popen[bytes]
) -> None:
    me = os.getpid()
    leases.take(ctx, "kafka", me, started=True)
    leases.take(ctx, "kafka", other_run.pid, started=False)  # it found kafka running: reused
    assert leases.release(ctx, "kafka", me) is False  # the other run still uses it
    other_run.kill()
    other_run.wait()
    assert leases.release(ctx, "kafka", other_run.pid) is True


def test_a_lease_of_a_run_that_died_does_not_keep_a_service_up(
    ctx: Context, other_run: subprocess.Popen[bytes]
) -> None:
    leases.take(ctx, "postgres", other_run.pid, started=True)
    other_run.kill()
    other_run.wait()
    leases.take(ctx, "postgres", os.getpid(), started=False)
    assert leases.release(ctx, "postgres", os.getpid()) is True


def test_services_already_running_or_adopted_by_a_plain_up_are_never_stopped(ctx: Context) -> None:
    pid = os.getpid()
    leases.take(ctx, "elasticsearch", pid, started=False)  # running before the test run began
    assert leases.release(ctx, "elasticsearch", pid) is False
    leases.take(ctx, "kafka", pid, started=True)
    assert leases.adopt(ctx, "kafka") is True  # the user ran `scripts/services up` meanwhile
    assert leases.release(ctx, "kafka", pid) is False


class Sleeper(Service):
    """A stand-in server: a process that sleeps, ready at once."""

    name = "sleeper"
    env_var = "SLEEPER_ADDRESS"
    default_ports: ClassVar[dict[str, int]] = {"main": 47123}
    stop_timeout = 5.0

    def version(self) -> str:
        return "1"

    def install(self) -> None:
        return None

    def configure(self, data_dir: Path, ports: dict[str, int]) -> Launch:
        return Launch([sys.executable, "-c", "import time; time.sleep(300)"], cwd=data_dir)

    def is_ready(self, ports: dict[str, int]) -> bool:
        return True

    def exports(self, ports: dict[str, int]) -> dict[str, str]:
        return {self.env_var: f"127.0.0.1:{ports['main']}"}


def test_up_with_a_lease_and_release_stop_the_server_once_the_last_run_is_done(
    ctx: Context, other_run: subprocess.Popen[bytes]
) -> None:
    (ctx.state_dir / "logs").mkdir()
    sleeper = Sleeper(ctx)
    try:
        (record,), failed = manager.up(ctx, [sleeper], lease=os.getpid())
        assert failed == [] and record.alive()
        (again,), _ = manager.up(ctx, [sleeper], lease=other_run.pid)
        assert again.pid == record.pid  # reused, not started twice
        assert manager.release(ctx, [sleeper], os.getpid()) == []  # the other run still uses it
        assert record.alive()
        other_run.kill()
        other_run.wait()
        assert manager.release(ctx, [sleeper], other_run.pid) == ["sleeper"]
        assert not record.alive()
        assert not ctx.record_file("sleeper").exists()
    finally:
        manager.down(ctx, [sleeper])


def test_a_server_started_by_a_plain_up_survives_the_test_runs_that_used_it(ctx: Context) -> None:
    (ctx.state_dir / "logs").mkdir()
    sleeper = Sleeper(ctx)
    try:
        (record,), _ = manager.up(ctx, [sleeper])  # the user: eval "$(scripts/services up)"
        manager.up(ctx, [sleeper], lease=os.getpid())  # a test run finds it running
        assert manager.release(ctx, [sleeper], os.getpid()) == []
        assert record.alive()
    finally:
        manager.down(ctx, [sleeper])
    assert not record.alive()
