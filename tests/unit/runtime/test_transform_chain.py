"""TransformChain (built from _Step objects directly, no registry) and the config helpers."""

from __future__ import annotations

from typing import Any

import pytest

from app.config.parsing import split_list, with_prefix
from app.runtime.pipeline import TransformChain, _Step
from connectors.sdk.records import ConnectRecord
from connectors.sdk.transform import Predicate, Transformation


class Append(Transformation[Any]):
    """Appends a marker to the (string) value and remembers what it saw."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.seen: list[Any] = []
        self.closed = False

    def apply(self, record: Any) -> Any:
        self.seen.append(record.value)
        return record.new_record(value=f"{record.value}{self.marker}")

    def close(self) -> None:
        self.closed = True


class Prefix(Transformation[Any]):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def apply(self, record: Any) -> Any:
        return record.new_record(value=f"{self.prefix}{record.value}")


class Drop(Transformation[Any]):
    def __init__(self) -> None:
        self.calls = 0

    def apply(self, record: Any) -> Any:
        self.calls += 1
        return None


class ValueStartsWith(Predicate[Any]):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def test(self, record: Any) -> bool:
        return str(record.value).startswith(self.prefix)


def step(
    alias: str, transform: Transformation[Any], predicate: Predicate[Any] | None = None, negate: bool = False
) -> _Step:
    return _Step(alias, transform, predicate, negate)


def record(value: Any = "v") -> ConnectRecord:
    return ConnectRecord(topic="t", value=value)


def test_empty_chain_is_falsy_and_returns_the_record() -> None:
    chain = TransformChain([])
    assert not chain
    r = record()
    assert chain.apply(r) is r


def test_transforms_run_in_order() -> None:
    a, b, c = Append("-a"), Append("-b"), Append("-c")
    chain = TransformChain([step("a", a), step("b", b), step("c", c)])
    assert chain
    out = chain.apply(record("x"))
    assert out is not None
    assert out.value == "x-a-b-c"
    assert (a.seen, b.seen, c.seen) == (["x"], ["x-a"], ["x-a-b"])


def test_none_drops_the_record_and_stops_the_chain() -> None:
    before, drop, after = Append("-1"), Drop(), Append("-2")
    chain = TransformChain([step("before", before), step("drop", drop), step("after", after)])
    assert chain.apply(record("x")) is None
    assert before.seen == ["x"]
    assert drop.calls == 1
    assert after.seen == []


def test_drop_as_last_step_returns_none() -> None:
    assert TransformChain([step("a", Append("!")), step("d", Drop())]).apply(record()) is None


def test_predicate_gates_the_transform() -> None:
    gated = Append("-gated")
    chain = TransformChain([step("g", gated, ValueStartsWith("yes"))])
    assert chain.apply(record("yes please")).value == "yes please-gated"  # type: ignore[union-attr]
    skipped = record("no thanks")
    assert chain.apply(skipped) is skipped
    assert gated.seen == ["yes please"]


def test_negate_inverts_the_predicate() -> None:
    gated = Append("-gated")
    chain = TransformChain([step("g", gated, ValueStartsWith("yes"), negate=True)])
    assert chain.apply(record("no thanks")).value == "no thanks-gated"  # type: ignore[union-attr]
    assert chain.apply(record("yes please")).value == "yes please"  # type: ignore[union-attr]


def test_predicate_sees_the_output_of_previous_steps() -> None:
    chain = TransformChain(
        [step("prefix", Prefix("a")), step("tag", Append("-tagged"), ValueStartsWith("a"))]
    )
    assert chain.apply(record("b")).value == "ab-tagged"  # type: ignore[union-attr]


def test_predicated_drop_only_drops_matching_records() -> None:
    chain = TransformChain([step("d", Drop(), ValueStartsWith("tmp")), step("a", Append("!"))])
    assert chain.apply(record("tmp-1")) is None
    assert chain.apply(record("keep")).value == "keep!"  # type: ignore[union-attr]


def test_close_closes_every_transform() -> None:
    a, b = Append("a"), Append("b")
    TransformChain([step("a", a), step("b", b)]).close()
    assert a.closed and b.closed


def test_with_prefix() -> None:
    config = {"transforms.a.type": "X", "transforms.a.field": "f", "transforms.ab.type": "Y", "other": "z"}
    assert with_prefix(config, "transforms.a.") == {"type": "X", "field": "f"}
    assert with_prefix(config, "nothing.") == {}
    assert with_prefix(config, "") == config


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("", []),
        ("   ", []),
        ("a", ["a"]),
        (" a , b,c ", ["a", "b", "c"]),
        ("a,,b", ["a", "", "b"]),
    ],
)
def test_split_list(value: str | None, expected: list[str]) -> None:
    assert split_list(value) == expected
