"""The side-by-side benchmark suite still runs: one tiny case, Penstock side only (no JVM, no Maven).

The suite itself (``python -m bench``) is not part of the tests; this checks that its command
drives a real worker to completion and writes results a reader can use.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main

pytestmark = [pytest.mark.integration, pytest.mark.kafka, pytest.mark.timeout(60)]


def test_one_small_case_writes_json_markdown_and_charts(kafka_bootstrap: str, tmp_path: Path) -> None:
    out = main(
        [
            "file-kafka/100B-json",
            "--lines",
            "3000",
            "--runs",
            "1",
            "--systems",
            "penstock",
            "--bootstrap",
            kafka_bootstrap,
            "--out",
            str(tmp_path / "results"),
        ]
    )

    document = json.loads((out / "results.json").read_text())
    [run] = document["runs"]
    assert run["system"] == "penstock"
    assert run["case"] == "file-kafka/100B-json"
    assert run["records"] == 3000
    assert run["payload_bytes"] == 300_000
    assert 0 < run["start_to_first_record_s"] < 30
    assert run["records_per_s"] > 100
    assert 10 < run["peak_rss_mib"] < 2048
    assert run["cpu_us_per_record"] > 0
    stats = document["summary"]["file-kafka/100B-json"]["records_per_s"]["penstock"]
    assert stats["median"] == run["records_per_s"]
    markdown = (out / "results.md").read_text()
    assert "| file-kafka/100B-json | 3,000 lines of 100 B, JsonConverter (schemas off) |" in markdown
    assert f"{run['records_per_s']:,.0f}" in markdown
    for metric in (
        "records_per_s",
        "mb_per_s",
        "peak_rss_mib",
        "cpu_us_per_record",
        "start_to_first_record_s",
    ):
        assert (out / f"{metric}.png").stat().st_size > 1000
