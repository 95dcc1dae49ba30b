"""What the suite measures: named cases, their fixed sizes and seeds, and the data they read.

A *scenario* is a group of *cases* (``file-kafka`` holds four: two line sizes times two
converters). Every case is one job both systems run from the same properties files; the sizes are
fixed so that runs on different days compare, and ``--quick`` divides them by ten. Scenario 4
(the connectors on real databases) is four groups of one case each; ``ceilings`` is not a case
but the tools that bound them (``bench/ceilings.py``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SEED = 14  # the issue number: any fixed value works, what matters is that every run reads the same bytes

STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
PG_SOURCE = "io.debezium.connector.postgresql.PostgresConnector"
JDBC_SINK = "io.debezium.connector.jdbc.JdbcSinkConnector"  # the class both systems know
ES_SINK = "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"
CEILINGS = "ceilings"


class Flow(StrEnum):
    """Where the records go; the scenario group names on the command line."""

    FILE_TO_KAFKA = "file-kafka"
    KAFKA_TO_FILE = "kafka-file"
    FILE_TO_FILE = "file-file"
    PG_TO_KAFKA = "pg-kafka"  # Debezium's PostgreSQL connector, streaming
    KAFKA_TO_PG = "kafka-pg"  # JDBC sink upserts
    KAFKA_TO_ES = "kafka-es"  # Elasticsearch sink
    PG_TO_ES = "pg-es"  # embedded CDC -> Elasticsearch, end-to-end latency at a fixed rate


SCENARIO_4 = (Flow.PG_TO_KAFKA, Flow.KAFKA_TO_PG, Flow.KAFKA_TO_ES, Flow.PG_TO_ES)
GROUP_NUMBERS: dict[str, tuple[Flow, ...]] = {
    "1": (Flow.FILE_TO_KAFKA,),
    "2": (Flow.KAFKA_TO_FILE,),
    "3": (Flow.FILE_TO_FILE,),
    "4": SCENARIO_4,
}
BASELINE_FLOWS = frozenset(
    {Flow.FILE_TO_KAFKA, Flow.KAFKA_TO_FILE, Flow.FILE_TO_FILE, Flow.PG_TO_KAFKA, Flow.KAFKA_TO_PG}
)
"""Flows with a Kafka Connect baseline. No Elasticsearch sink for Kafka Connect could be fetched
(Apache Camel's Kafka connectors are not served by the registry this project reaches:
docs/benchmarks.md), so the two Elasticsearch flows run Penstock alone, next to the ceiling."""
LATENCY_RATE = 5_000  # rows/s of pg-es
LATENCY_SECONDS = 20  # of load, inside the 30 s


@dataclass(frozen=True)
class Case:
    """One job: ``lines`` lines of ``line_bytes`` bytes (newline included) through ``converter``."""

    flow: Flow
    lines: int
    line_bytes: int
    converter: str  # "string", "json" (JsonConverter, schemas off) or "json-schemas"

    @property
    def name(self) -> str:
        if self.flow == Flow.PG_TO_ES:
            return f"{self.flow}/latency-{LATENCY_RATE}rps"
        size = "1KB" if self.line_bytes == 1024 else f"{self.line_bytes}B"
        return f"{self.flow}/{size}-{self.converter}"

    @property
    def converter_class(self) -> str:
        return STRING_CONVERTER if self.converter == "string" else JSON_CONVERTER

    @property
    def has_baseline(self) -> bool:
        return self.flow in BASELINE_FLOWS

    @property
    def payload_bytes(self) -> int:
        """What the job moves: the lines as the file holds them (newlines included)."""
        return self.lines * self.line_bytes

    def describe(self) -> str:
        converter = {
            "json": "JsonConverter (schemas off)",
            "json-schemas": "JsonConverter (schemas on)",
            "string": "StringConverter",
        }[self.converter]
        what = {
            Flow.PG_TO_KAFKA: f"{self.lines:,} rows inserted while streaming (pgoutput), ~{self.line_bytes} B each",
            Flow.KAFKA_TO_PG: f"{self.lines:,} upserts of ~{self.line_bytes} B rows (Struct key)",
            Flow.KAFKA_TO_ES: f"{self.lines:,} JSON documents of ~{self.line_bytes} B",
            Flow.PG_TO_ES: f"{LATENCY_RATE:,} rows/s for {self.lines // LATENCY_RATE} s, commit -> searchable",
        }.get(self.flow, f"{self.lines:,} lines of {self.line_bytes} B")
        return f"{what}, {converter}"


def all_cases(quick: bool = False, lines: int | None = None) -> list[Case]:
    """Every case in suite order. ``lines`` overrides every size (the smoke test uses a few thousand)."""
    scale = 10 if quick else 1
    sizes = [(1_000_000 // scale, 100), (200_000 // scale, 1024)]
    cases: list[Case] = []
    for flow in (Flow.FILE_TO_KAFKA, Flow.KAFKA_TO_FILE):
        for converter in ("string", "json"):
            cases += [Case(flow, lines or n, size, converter) for n, size in sizes]
    # file -> file is "the whole job a user runs": the default-free StringConverter on both sides.
    cases += [Case(Flow.FILE_TO_FILE, lines or n, size, "string") for n, size in sizes]
    # Scenario 4: the connectors on the real databases, Kafka Connect's default JsonConverter with
    # schemas where a schema is needed (CDC, upserts), without where the documents are plain JSON.
    rows = lines or 200_000 // scale
    cases += [
        Case(Flow.PG_TO_KAFKA, rows, 100, "json-schemas"),
        Case(Flow.KAFKA_TO_PG, rows, 100, "json-schemas"),
        Case(Flow.KAFKA_TO_ES, rows, 1024, "json"),
        Case(Flow.PG_TO_ES, lines or LATENCY_RATE * LATENCY_SECONDS // scale, 100, "json"),
    ]
    return cases


def select(names: list[str], cases: list[Case]) -> list[Case]:
    """Cases named on the command line: ``all``, a group (``file-kafka`` or ``1``), or one case name.

    ``ceilings`` selects no case (see ``wants_ceilings``); alone it runs only the ceilings.
    """
    if not names or "all" in names:
        return cases
    wanted: list[Case] = []
    for name in names:
        if name == CEILINGS:
            continue
        groups = GROUP_NUMBERS.get(name, (name,))
        matched = [c for c in cases if c.flow in groups or c.name == name]
        if not matched:
            known = ", ".join(["all", CEILINGS, *GROUP_NUMBERS, *Flow, *(c.name for c in cases)])
            raise SystemExit(f"unknown scenario {name!r}; known: {known}")
        wanted += [c for c in matched if c not in wanted]
    return wanted


def needs_debezium(cases: list[Case]) -> bool:
    """Whether Kafka Connect needs Debezium's plugins for ``cases`` (only then are they fetched)."""
    return any(c.flow in (Flow.PG_TO_KAFKA, Flow.KAFKA_TO_PG) for c in cases)


def wants_ceilings(names: list[str]) -> bool:
    """The ceilings run with ``all`` (or no name) and when ``ceilings`` is named."""
    return not names or "all" in names or CEILINGS in names


def write_lines(path: Path, lines: int, line_bytes: int, seed: int = SEED) -> Path:
    """``lines`` lines of seeded random hex text, ``line_bytes`` each with the newline (cached on disk).

    Hex keeps every line valid inside a JSON string and free of the separators the file source
    splits on, so both systems see exactly ``lines`` records of exactly this size.
    """
    if path.exists() and path.stat().st_size == lines * line_bytes:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    width = line_bytes - 1
    chunk = 10_000
    with path.open("w", encoding="ascii") as f:
        for start in range(0, lines, chunk):
            count = min(chunk, lines - start)
            text = rng.randbytes((count * width + 1) // 2).hex()
            f.write("".join(text[i * width : (i + 1) * width] + "\n" for i in range(count)))
    return path


def topic_values(path: Path, converter: str) -> list[bytes]:
    """The lines of ``path`` as a source connector with ``converter`` would have put them on a topic."""
    with path.open("rb") as f:
        lines = [line.rstrip(b"\n") for line in f]
    if converter == "json":
        return [b'"' + line + b'"' for line in lines]
    return lines
