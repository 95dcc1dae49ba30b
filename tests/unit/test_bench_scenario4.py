"""Scenario 4 and the ceilings, their pure parts: case selection, the data, latencies, parsing, tables."""

from __future__ import annotations

import json

import pytest

from bench import es_io, report
from bench.ceilings import Ceiling, parse_consumer, parse_producer
from bench.runner import RunResult
from bench.scenario4 import latencies_ms, percentile, upsert_records
from bench.scenarios import (
    JSON_CONVERTER,
    Flow,
    all_cases,
    needs_debezium,
    select,
    wants_ceilings,
)
from bench.suite import systems_for, worker_properties


def test_scenario_4_is_one_group_by_number_with_a_case_per_flow() -> None:
    cases = all_cases()
    four = select(["4"], cases)
    assert [c.name for c in four] == [
        "pg-kafka/100B-json-schemas",
        "kafka-pg/100B-json-schemas",
        "kafka-es/1KB-json",
        "pg-es/latency-5000rps",
    ]
    assert [c.lines for c in four] == [200_000, 200_000, 200_000, 100_000]  # 5,000 rows/s for 20 s
    assert select(["kafka-pg"], cases) == [four[1]]
    assert select(["pg-kafka", "4"], cases) == four  # no case twice
    assert [c.lines for c in select(["4"], all_cases(quick=True))] == [20_000, 20_000, 20_000, 10_000]


def test_ceilings_is_a_name_that_selects_no_case() -> None:
    cases = all_cases()
    assert select(["ceilings"], cases) == []
    assert select(["ceilings", "kafka-es"], cases) == select(["kafka-es"], cases)
    assert wants_ceilings([]) and wants_ceilings(["all"]) and wants_ceilings(["4", "ceilings"])
    assert not wants_ceilings(["4"])
    with pytest.raises(SystemExit, match="ceilings"):
        select(["ceiling"], cases)


class _System:
    def __init__(self, name: str) -> None:
        self.name = name


def test_the_elasticsearch_flows_run_penstock_alone_and_only_debezium_flows_fetch_plugins() -> None:
    cases = {c.flow: c for c in all_cases()}
    systems = [_System("penstock"), _System("kafka-connect")]
    for flow in (Flow.PG_TO_KAFKA, Flow.KAFKA_TO_PG, Flow.FILE_TO_KAFKA):
        assert [s.name for s in systems_for(cases[flow], systems)] == ["penstock", "kafka-connect"]  # type: ignore[arg-type]
    for flow in (Flow.KAFKA_TO_ES, Flow.PG_TO_ES):
        assert [s.name for s in systems_for(cases[flow], systems)] == ["penstock"]  # type: ignore[arg-type]
    assert needs_debezium(select(["4"], all_cases()))
    assert not needs_debezium(select(["1", "2", "3", "kafka-es", "pg-es"], all_cases()))


def test_upsert_cases_use_json_with_schemas_on_both_sides(tmp_path: object) -> None:
    [case] = select(["kafka-pg"], all_cases())
    props = worker_properties(case, "b:9092", tmp_path)  # type: ignore[arg-type]
    assert props["value.converter"] == props["key.converter"] == JSON_CONVERTER
    assert props["key.converter.schemas.enable"] == props["value.converter.schemas.enable"] == "true"


def test_upsert_records_are_jsonconverter_envelopes_with_a_struct_key() -> None:
    keys, values = upsert_records(3)
    key, value = json.loads(keys[2]), json.loads(values[2])
    assert key["schema"]["type"] == "struct" and key["payload"] == {"id": 3}
    assert [f["field"] for f in value["schema"]["fields"]] == ["name", "qty", "score", "note"]
    assert value["payload"]["name"] == "customer-3" and len(value["payload"]["note"]) == 64


def test_documents_are_exactly_one_kilobyte_of_json() -> None:
    for i in (0, 7, 199_999):
        doc = es_io.document(i)
        assert len(doc) == es_io.DOC_BYTES
        assert json.loads(doc)["id"] == i


def test_latency_is_from_commit_to_the_first_sighting_covering_the_transaction() -> None:
    commits = [(0.0, 50), (0.01, 100), (3.0, 150), (3.01, 200)]
    seen = [(0.5, 100), (3.2, 150), (3.5, 200)]
    assert latencies_ms(commits, seen) == pytest.approx([500, 490, 200, 490])
    assert latencies_ms(commits, seen, warmup_s=2.0) == pytest.approx([200, 490])
    assert latencies_ms(commits, seen[:2]) == pytest.approx([500, 490, 200])  # never seen: left out
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.5) == 3.0
    assert percentile([float(i) for i in range(100)], 0.99) == 99.0


def test_the_kafka_tools_outputs_parse() -> None:
    producer = (
        "5 records sent, 1.0 records/sec\n"
        "1000000 records sent, 229357.798165 records/sec (21.87 MB/sec), 81.07 ms avg latency, "
        "272.00 ms max latency, 76 ms 50th, 167 ms 95th, 203 ms 99th, 257 ms 99.9th.\n"
    )
    assert parse_producer(producer) == (229357.798165, 21.87)
    consumer = (
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
        "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n"
        "2026-11-30 21:54:40:658, 2026-11-30 21:54:41:518, 0.0954, 0.1109, 1000, 1162.7907, 760, 100, "
        "0.9537, 10000.0000\n"
    )
    stats = parse_consumer(consumer)
    assert stats["fetch.nMsg.sec"] == 10_000 and stats["rebalance.time.ms"] == 760
    with pytest.raises(RuntimeError, match="no summary"):
        parse_producer("Exception in thread main")


def _run(system: str, case: str, rate: float, p99: float | None = None) -> RunResult:
    return RunResult(system, case, 1, 1000, 100_000, 1.0, 1.0, rate, 0.1, 90, 10, 9, latency_p99_ms=p99)


def test_latency_rows_only_where_measured_and_ceilings_show_penstocks_share() -> None:
    runs = [
        _run("penstock", "kafka-es/1KB-json", 10_000),
        _run("penstock", "pg-es/latency-5000rps", 5_000, p99=800),
        _run("penstock", "file-kafka/100B-string", 50_000),
        _run("penstock", "file-kafka/100B-json", 40_000),
    ]
    summary = report.summarize(runs)
    assert summary["kafka-es/1KB-json"]["latency_p99_ms"] == {}
    assert summary["pg-es/latency-5000rps"]["latency_p99_ms"]["penstock"]["median"] == 800
    meta = {
        "kafka_connect_version": "-",
        "started": "now",
        "pairs": 1,
        "quick": False,
        "bootstrap": "b",
        "machine": "m",
    }
    table = report.markdown(meta, summary, {})
    assert "| pg-es/latency-5000rps | commit → searchable p99 (ms) | 800 |" in table
    assert "| kafka-es/1KB-json | commit → searchable" not in table
    ceilings = [
        Ceiling("elasticsearch-bulk/1KB", "bulk", 1000, 1024, 0.05, 20_000, 20.5, "kafka-es/1KB-json"),
        Ceiling("kafka-producer/100B", "perf", 1000, 100, 0.01, 100_000, 10.0, "file-kafka/100B-*"),
    ]
    text = report.ceilings_markdown(ceilings, summary)
    assert "| kafka-es/1KB-json: 10,000 (50%) |" in text
    assert "file-kafka/100B-string: 50,000 (50%); file-kafka/100B-json: 40,000 (40%)" in text
