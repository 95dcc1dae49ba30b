"""Start-up before/after: Penstock at a git revision against the working tree, interleaved.

python -m bench.startup_ab main                              # file-file and file-kafka, 100 B, 3 pairs
python -m bench.startup_ab main --pairs 5 file-kafka/100B-string

Each pair runs the revision's code, then the working tree's (A B A B ...), on the quick case
sizes, through the same runs as ``python -m bench`` (so "first record after" means the same).
The revision is exported with ``git archive`` to a temporary folder and put first on
``PYTHONPATH``; both use this environment's packages and entry points, so the revision must
declare the same plugins. Prints each run, and per system the start -> first record times and the
worker's CPU time until the first record (the steadier figure on a busy machine), with medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

from bench.penstock import Penstock
from bench.runner import Job, RunResult
from bench.scenarios import all_cases, select
from bench.suite import run_case

ROOT = Path(__file__).resolve().parent.parent
CASES = ["file-file/100B-string", "file-kafka/100B-string"]


class PenstockAt(Penstock):
    """``penstock`` with the code found first at ``source`` (a ``PYTHONPATH`` entry)."""

    def __init__(self, name: str, source: Path) -> None:
        self.name = name
        self.source = source

    def launch(self, job: Job, log: Path) -> subprocess.Popen[bytes]:
        saved = os.environ.get("PYTHONPATH")
        os.environ["PYTHONPATH"] = str(self.source)  # the child's environment is a copy of ours
        try:
            return super().launch(job, log)
        finally:
            if saved is None:
                del os.environ["PYTHONPATH"]
            else:
                os.environ["PYTHONPATH"] = saved


def startup_cpu_s(run: RunResult) -> float:
    """The worker's CPU time from its start to the first record (less swayed by other load on the
    machine than the wall-clock figure): all its CPU minus the CPU between first and last record."""
    return round((run.cpu_us_per_record - run.transfer_cpu_us_per_record) * run.records / 1e6, 3)


def export(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


async def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_ab", description=__doc__)
    parser.add_argument("revision", help="git revision to compare the working tree with (e.g. main)")
    parser.add_argument("cases", nargs="*", default=CASES)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    args = parser.parse_args(argv)
    medians: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="penstock-startup-") as tmp:
        before = PenstockAt(args.revision, export(args.revision, Path(tmp) / "before"))
        after = PenstockAt("working-tree", ROOT)
        for case in select(args.cases, all_cases(quick=True)):
            results = await run_case(case, [before, after], args.pairs, Path(tmp), args.bootstrap)
            medians[case.name] = {}
            for system in (before, after):
                runs = [r for r in results if r.system == system.name]
                times = [r.start_to_first_record_s for r in runs]
                cpu = [startup_cpu_s(r) for r in runs]
                medians[case.name][system.name] = statistics.median(times)
                print(
                    f"{case.name} {system.name}: start -> first record {times} s, median "
                    f"{statistics.median(times):.3f} s; worker CPU until then {cpu} s, median "
                    f"{statistics.median(cpu):.3f} s"
                )
    return medians


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
