"""Kafka's murmur2 and default key partitioning."""

from __future__ import annotations

import pytest

from app.storage.partitioner import murmur2, partition_for_key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The vectors of Kafka's UtilsTest.testMurmur2
        ("21", -973932308),
        ("foobar", -790332482),
        ("a-little-bit-long-string", -985981536),
        ("a-little-bit-longer-string", -1486304829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        ("abc", 479470107),
    ],
)
def test_murmur2_matches_kafka(text: str, expected: int) -> None:
    assert murmur2(text.encode()) == expected


@pytest.mark.parametrize("length", range(0, 9))
def test_murmur2_is_a_signed_32_bit_int_for_every_tail_length(length: int) -> None:
    h = murmur2(bytes(range(length)))
    assert -(2**31) <= h < 2**31


def test_partition_for_key_is_toPositive_mod_n() -> None:
    # "foobar" hashes negative: toPositive masks the sign bit instead of abs()
    assert partition_for_key(b"foobar", 1000) == (-790332482 & 0x7FFFFFFF) % 1000
    assert partition_for_key(b"abc", 7) == 479470107 % 7


@pytest.mark.parametrize("partitions", [1, 2, 3, 7, 12, 100])
def test_partition_for_key_is_in_range_and_stable(partitions: int) -> None:
    keys = [f"k{i}".encode() for i in range(200)] + [b"", b"\xff" * 5]
    result = [partition_for_key(k, partitions) for k in keys]
    assert all(0 <= p < partitions for p in result)
    assert result == [partition_for_key(k, partitions) for k in keys]
    if partitions > 1:
        assert len(set(result)) > 1
