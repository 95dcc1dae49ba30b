"""FileStreamSink: how a record value becomes one line of text, and put/flush into a real file."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from pathlib import Path

import pytest

from connectors.file.sink import FileStreamSinkConfig, FileStreamSinkTask, render_line
from connectors.sdk.data import INT32_SCHEMA, STRING_SCHEMA, Struct, struct_schema
from connectors.sdk.records import SinkRecord, TopicPartition

PERSON = struct_schema([("name", STRING_SCHEMA), ("age", INT32_SCHEMA)], name="Person")


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("plain text", "plain text"),
        ("", ""),
        ("  spaced  ", "  spaced  "),
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-12, "-12"),
        (1.5, "1.5"),
        (b"caf\xc3\xa9", "café"),
        (bytearray(b"raw"), "raw"),
        (b"\xff", "\ufffd"),
        ({"a": 1, "b": [True, None]}, '{"a":1,"b":[true,null]}'),
        ([1, "x", None], '[1,"x",null]'),
        ((1, 2), "[1,2]"),
        ({}, "{}"),
        ({"nested": {"bytes": b"ab"}}, '{"nested":{"bytes":"YWI="}}'),
        ({"d": decimal.Decimal("1.10")}, '{"d":"1.10"}'),
        ({"day": dt.date(2024, 2, 29)}, '{"day":"2024-02-29"}'),
    ],
)
def test_render_line(value: object, line: str) -> None:
    assert render_line(value) == line


def test_str_is_written_as_is_even_if_it_looks_like_json() -> None:
    assert render_line('{"a": 1}') == '{"a": 1}'
    assert render_line("null") == "null"


@pytest.mark.parametrize("wrap", [lambda s: s, lambda s: {"person": s}, lambda s: [s]])
def test_struct_is_written_as_compact_json_of_its_fields(wrap) -> None:  # type: ignore[no-untyped-def]
    person = Struct(PERSON, {"name": "Ada", "age": 36})
    expected = json.dumps(wrap({"name": "Ada", "age": 36}), separators=(",", ":"))
    assert render_line(wrap(person)) == expected


async def test_put_appends_one_line_per_record_and_flush_syncs(tmp_path: Path) -> None:
    from connectors.sdk.sink import SinkTaskContext

    out = tmp_path / "out.txt"
    out.write_text("existing\n", encoding="utf-8")
    task = FileStreamSinkTask()
    task.initialize(SinkTaskContext())
    await task.start(FileStreamSinkConfig.parse({"file": str(out)}))
    try:
        records = [
            SinkRecord(topic="t", value=v, kafka_offset=i) for i, v in enumerate(["a", None, {"k": 1}])
        ]
        await task.put(records)
        await task.put([])
        assert out.read_text(encoding="utf-8") == 'existing\na\nnull\n{"k":1}\n'
        await task.flush({TopicPartition("t", 0): 3})
    finally:
        await task.stop()
    assert task._stream.closed
