"""What the suite measures: named cases, their fixed sizes and seeds, and the data they read.

A *scenario* is a group of *cases* (``file-kafka`` holds four: two line sizes times two
converters). Every case is one job both systems run from the same properties files; the sizes are
fixed so that runs on different days compare, and ``--quick`` divides them by ten.
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


class Flow(StrEnum):
    """Where the records go; the scenario group names on the command line."""

    FILE_TO_KAFKA = "file-kafka"
    KAFKA_TO_FILE = "kafka-file"
    FILE_TO_FILE = "file-file"


GROUP_NUMBERS = {"1": Flow.FILE_TO_KAFKA, "2": Flow.KAFKA_TO_FILE, "3": Flow.FILE_TO_FILE}


@dataclass(frozen=True)
class Case:
    """One job: ``lines`` lines of ``line_bytes`` bytes (newline included) through ``converter``."""

    flow: Flow
    lines: int
    line_bytes: int
    converter: str  # "string" or "json" (JsonConverter, schemas off)

    @property
    def name(self) -> str:
        size = "1KB" if self.line_bytes == 1024 else f"{self.line_bytes}B"
        return f"{self.flow}/{size}-{self.converter}"

    @property
    def converter_class(self) -> str:
        return JSON_CONVERTER if self.converter == "json" else STRING_CONVERTER

    @property
    def payload_bytes(self) -> int:
        """What the job moves: the lines as the file holds them (newlines included)."""
        return self.lines * self.line_bytes

    def describe(self) -> str:
        converter = "JsonConverter (schemas off)" if self.converter == "json" else "StringConverter"
        return f"{self.lines:,} lines of {self.line_bytes} B, {converter}"


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
    return cases


def select(names: list[str], cases: list[Case]) -> list[Case]:
    """Cases named on the command line: ``all``, a group (``file-kafka`` or ``1``), or one case name."""
    if not names or "all" in names:
        return cases
    wanted: list[Case] = []
    for name in names:
        group = GROUP_NUMBERS.get(name, name)
        matched = [c for c in cases if c.flow == group or c.name == name]
        if not matched:
            known = ", ".join(["all", *GROUP_NUMBERS, *Flow, *(c.name for c in cases)])
            raise SystemExit(f"unknown scenario {name!r}; known: {known}")
        wanted += [c for c in matched if c not in wanted]
    return wanted


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
