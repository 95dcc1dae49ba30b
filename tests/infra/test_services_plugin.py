"""The services plugin in a real pytest run, with a stand-in for ``scripts/services`` that records
how it is called: a run stops what it started (through ``release``), and never touches servers
given by an exported address; ``PENSTOCK_KEEP_SERVICES=1`` keeps what it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.services import REPO_ROOT, SPECS, lease_holder

FAKE_SERVICES = """\
import sys
with open({log!r}, "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if sys.argv[1] == "up":
    print("export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:19092")
"""
A_TEST = """\
def test_uses_kafka(kafka_bootstrap):
    assert kafka_bootstrap == "127.0.0.1:19092"
"""


def run_session(tmp_path: Path, **env: str) -> list[str]:
    """A pytest session of one Kafka test; returns the services commands it ran."""
    log = tmp_path / "calls.log"
    script = tmp_path / "services"
    script.write_text(FAKE_SERVICES.format(log=str(log)))
    (tmp_path / "test_one.py").write_text(A_TEST)
    clean = {k: v for k, v in os.environ.items() if k not in {s.env_var for s in SPECS}}
    clean.pop("PENSTOCK_KEEP_SERVICES", None)
    plugins = ["-p", "tests.infra.services", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            *plugins,
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_one.py"),
        ],
        env={**clean, "PYTHONPATH": str(REPO_ROOT), "PENSTOCK_SERVICES_SCRIPT": str(script), **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return log.read_text().splitlines() if log.exists() else []


def test_a_session_releases_what_it_leased_when_it_ends(tmp_path: Path) -> None:
    calls = run_session(tmp_path)
    assert len(calls) == 2
    up, release = calls
    assert up.startswith("up kafka --lease ")
    pid = up.split()[-1]
    assert release == f"release --lease {pid} kafka"


def test_an_exported_address_is_used_and_never_started_or_stopped(tmp_path: Path) -> None:
    assert run_session(tmp_path, KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:19092") == []


def test_keep_services_starts_without_a_lease_and_never_releases(tmp_path: Path) -> None:
    assert run_session(tmp_path, PENSTOCK_KEEP_SERVICES="1") == ["up kafka"]


@pytest.mark.parametrize(("value", "leases"), [("", True), ("0", True), ("1", False), ("yes", False)])
def test_keep_services_variable(value: str, leases: bool) -> None:
    assert (lease_holder({"PENSTOCK_KEEP_SERVICES": value}) is not None) is leases
