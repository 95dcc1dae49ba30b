"""The suite's pure parts: which cases a name selects, the data files, the summary and its table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import report
from bench.runner import RunResult
from bench.scenarios import Flow, all_cases, select, topic_values, write_lines

FILE_FLOWS = (Flow.FILE_TO_KAFKA, Flow.KAFKA_TO_FILE, Flow.FILE_TO_FILE)


def test_names_select_a_group_by_name_or_number_a_single_case_or_all() -> None:
    cases = all_cases()
    assert len(cases) == 14
    assert [c.name for c in select(["1"], cases)] == [c.name for c in select(["file-kafka"], cases)]
    assert [c.name for c in select(["file-kafka"], cases)] == [
        "file-kafka/100B-string",
        "file-kafka/1KB-string",
        "file-kafka/100B-json",
        "file-kafka/1KB-json",
    ]
    assert [c.name for c in select(["file-file/1KB-string"], cases)] == ["file-file/1KB-string"]
    assert select(["all"], cases) == cases
    with pytest.raises(SystemExit, match="unknown scenario 'nope'"):
        select(["nope"], cases)


def test_quick_is_a_tenth_and_lines_overrides_every_size() -> None:
    assert {(c.lines, c.line_bytes) for c in all_cases(quick=True) if c.flow in FILE_FLOWS} == {
        (100_000, 100),
        (20_000, 1024),
    }
    assert {c.lines for c in all_cases(lines=7)} == {7}


def test_data_files_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    first = write_lines(tmp_path / "a.txt", 25_001, 100).read_bytes()
    second = write_lines(tmp_path / "b.txt", 25_001, 100).read_bytes()
    assert first == second
    lines = first.split(b"\n")[:-1]
    assert len(lines) == 25_001
    assert {len(line) for line in lines} == {99}
    assert topic_values(tmp_path / "a.txt", "json")[0] == b'"' + lines[0] + b'"'
    assert topic_values(tmp_path / "a.txt", "string")[0] == lines[0]


def run(system: str, pair: int, records_per_s: float) -> RunResult:
    return RunResult(
        system, "file-kafka/100B-string", pair, 1000, 100_000, 1.0, 1.0, records_per_s, 0.1, 90, 10, 9
    )


def test_summary_gives_median_range_and_penstock_over_baseline() -> None:
    runs = [
        run("penstock", 1, 100),
        run("kafka-connect", 1, 200),
        run("penstock", 2, 300),
        run("kafka-connect", 2, 200),
        run("penstock", 3, 200),
        run("kafka-connect", 3, 400),
    ]
    summary = report.summarize(runs)
    entry = summary["file-kafka/100B-string"]["records_per_s"]
    assert entry["penstock"] == {"median": 200, "min": 100, "max": 300}
    assert entry["kafka-connect"] == {"median": 200, "min": 200, "max": 400}
    assert entry["ratio"] == 1.0
    assert entry["pair_ratios"] == [0.5, 1.5, 0.5]
    meta = {
        "kafka_connect_version": "4.3.0",
        "started": "now",
        "pairs": 3,
        "quick": False,
        "bootstrap": "b",
        "machine": "m",
    }
    table = report.markdown(meta, summary, {"file-kafka/100B-string": "1,000 lines"})
    assert (
        "| file-kafka/100B-string | 1,000 lines | 200 (100\u2013300) | 200 (200\u2013400) | 1.00\u00d7 |"
        in table
    )


def test_without_a_baseline_there_is_no_ratio() -> None:
    summary = report.summarize([run("penstock", 1, 100)])
    assert "ratio" not in summary["file-kafka/100B-string"]["records_per_s"]
    assert "| 100 | \u2013 | \u2013 |" in report.markdown(
        {
            "kafka_connect_version": "-",
            "started": "",
            "pairs": 1,
            "quick": True,
            "bootstrap": "",
            "machine": "",
        },
        summary,
        {},
    )
