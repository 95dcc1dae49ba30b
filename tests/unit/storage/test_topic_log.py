"""TopicLog: Kafka's topic/partition/offset model, on SQLite (a real database file on tmp_path) and in
memory. Every test of the model runs on both backends; persistence tests run on SQLite."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.base import ProducerRecord, SourceOffsetWrite
from app.storage.memory import MemoryLog
from app.storage.partitioner import partition_for_key
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import EmbeddedLog
from app.storage.sqlite.stores import SqliteOffsetStore as OffsetStore
from app.storage.topic_log import TopicLog
from connectors.sdk.errors import ConfigError
from connectors.sdk.records import TopicPartition


async def open_log(path: Path, **kwargs: object) -> tuple[Database, EmbeddedLog]:
    db = Database(path)
    await db.open()
    log = EmbeddedLog(db, **kwargs)  # type: ignore[arg-type]
    await log.open()
    return db, log


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "penstock.db"


@pytest.fixture
async def opened(db_path: Path) -> AsyncIterator[tuple[Database, EmbeddedLog]]:
    db, log = await open_log(db_path)
    yield db, log
    await db.close()


@pytest.fixture(params=["sqlite", "memory"])
def log(request: pytest.FixtureRequest, opened: tuple[Database, EmbeddedLog]) -> TopicLog:
    return opened[1] if request.param == "sqlite" else MemoryLog()


@pytest.fixture
def sqlite_log(opened: tuple[Database, EmbeddedLog]) -> EmbeddedLog:
    return opened[1]


@pytest.fixture
def db(opened: tuple[Database, EmbeddedLog]) -> Database:
    return opened[0]


def rec(topic: str, value: bytes | None = b"v", **kwargs: object) -> ProducerRecord:
    return ProducerRecord(topic, value, **kwargs)  # type: ignore[arg-type]


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# -- topics -----------------------------------------------------------------------------------


async def test_create_topic_then_duplicate_returns_false_and_keeps_partition_count(log: TopicLog) -> None:
    assert await log.create_topic("orders", 3, {"retention.ms": "1000"}) is True
    assert await log.create_topic("orders", 5) is False
    topics = await log.describe_topics()
    assert topics["orders"].partitions == 3
    assert topics["orders"].config == {"retention.ms": "1000"}
    assert log.partitions("orders") == [TopicPartition("orders", p) for p in range(3)]


async def test_create_topic_bumps_topics_version(log: TopicLog) -> None:
    before = log.topics_version
    await log.create_topic("a", 1)
    await log.create_topic("a", 1)  # duplicate: no bump
    await log.create_topic("b", 1)
    assert log.topics_version == before + 2


@pytest.mark.parametrize("name", ["", "has space", "slash/topic", "x" * 250, "semi;colon", "star*"])
async def test_invalid_topic_names_are_rejected_with_a_helpful_message(log: TopicLog, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        await log.create_topic(name, 1)
    message = str(info.value)
    assert f"Invalid topic name '{name}'" in message
    assert "1-249 characters" in message
    assert "'.', '_', '-'" in message
    assert log.topics_names() == []
    assert await log.describe_topics() == {}


@pytest.mark.parametrize("name", ["a", "A.b_c-9", "x" * 249])
async def test_valid_topic_names_are_accepted(log: TopicLog, name: str) -> None:
    assert await log.create_topic(name, 1) is True
    assert name in log.topics_names()


@pytest.mark.parametrize("name", ["café", "topic٣", "ñandú"])
async def test_non_ascii_topic_names_are_rejected(log: TopicLog, name: str) -> None:
    with pytest.raises(ConfigError):
        await log.create_topic(name, 1)


@pytest.mark.parametrize("name", [".", ".."])
async def test_dot_and_dotdot_topic_names_are_rejected(log: TopicLog, name: str) -> None:
    with pytest.raises(ConfigError):
        await log.create_topic(name, 1)


@pytest.mark.parametrize("partitions", [0, -1])
async def test_create_topic_needs_at_least_one_partition(log: TopicLog, partitions: int) -> None:
    with pytest.raises(ConfigError, match=f"Topic t needs at least one partition, not {partitions}"):
        await log.create_topic("t", partitions)
    assert "t" not in log.topics_names()
    # nothing was half-created: the same name works afterwards
    assert await log.create_topic("t", 2) is True
    assert len(log.partitions("t")) == 2


# -- produce ----------------------------------------------------------------------------------


async def test_send_batch_assigns_consecutive_offsets_per_partition(log: TopicLog) -> None:
    await log.create_topic("t", 2)
    first = await log.send_batch(
        [rec("t", b"a", partition=0), rec("t", b"b", partition=1), rec("t", b"c", partition=0)]
    )
    assert [(d.partition, d.offset) for d in first] == [(0, 0), (1, 0), (0, 1)]
    second = await log.send_batch([rec("t", b"d", partition=0), rec("t", b"e", partition=1)])
    assert [(d.partition, d.offset) for d in second] == [(0, 2), (1, 1)]
    assert log.end_offset(TopicPartition("t", 0)) == 3
    assert log.end_offset(TopicPartition("t", 1)) == 2
    got = await log.read(TopicPartition("t", 0), 0, 10)
    assert [(r.offset, r.value) for r in got] == [(0, b"a"), (1, b"c"), (2, b"d")]


async def test_keyed_records_go_to_the_kafka_partition_of_their_key(log: TopicLog) -> None:
    await log.create_topic("k", 7)
    keys = [f"key-{i}".encode() for i in range(30)]
    delivered = await log.send_batch([rec("k", b"x", key=k) for k in keys])
    assert [d.partition for d in delivered] == [partition_for_key(k, 7) for k in keys]
    assert len({d.partition for d in delivered}) > 1  # keys really spread out
    again = await log.send_batch([rec("k", b"y", key=k) for k in keys])
    assert [d.partition for d in again] == [d.partition for d in delivered]


async def test_explicit_partition_wins_over_key(log: TopicLog) -> None:
    await log.create_topic("t", 4)
    key = b"some-key"
    other = (partition_for_key(key, 4) + 1) % 4
    [d] = await log.send_batch([rec("t", key=key, partition=other)])
    assert d.partition == other


@pytest.mark.parametrize("partition", [2, -1, 99])
async def test_out_of_range_partition_is_a_config_error(log: TopicLog, partition: int) -> None:
    await log.create_topic("t", 2)
    with pytest.raises(ConfigError, match=f"Partition {partition} of topic t does not exist"):
        await log.send_batch([rec("t", partition=partition)])


async def test_unkeyed_batch_sticks_to_one_partition_and_the_next_batch_moves_on(log: TopicLog) -> None:
    await log.create_topic("u", 3)
    seen = []
    for _ in range(4):
        delivered = await log.send_batch([rec("u", str(i).encode()) for i in range(5)])
        partitions = {d.partition for d in delivered}
        assert len(partitions) == 1
        seen.append(partitions.pop())
    assert seen == [0, 1, 2, 0]
    assert [d.offset for d in delivered] == [5, 6, 7, 8, 9]  # partition 0's second batch


async def test_keyed_and_explicit_records_do_not_advance_the_sticky_partition(log: TopicLog) -> None:
    await log.create_topic("u", 3)
    await log.send_batch([rec("u", key=b"k"), rec("u", partition=2)])
    [d] = await log.send_batch([rec("u")])
    assert d.partition == 0


async def test_send_auto_creates_missing_topics_with_default_partitions(db_path: Path) -> None:
    db, log = await open_log(db_path, default_partitions=3)
    try:
        delivered = await log.send_batch([rec("fresh", b"1")])
        assert delivered[0].topic == "fresh"
        assert (await log.describe_topics())["fresh"].partitions == 3
    finally:
        await db.close()


async def test_send_without_auto_create_is_a_config_error(db_path: Path) -> None:
    db, log = await open_log(db_path, auto_create=False)
    try:
        with pytest.raises(
            ConfigError, match="Topic nope does not exist and automatic topic creation is disabled"
        ):
            await log.send_batch([rec("nope")])
        assert log.topics_names() == []
        assert await log.ensure_topic("nope") is None
    finally:
        await db.close()


async def test_headers_round_trip_including_none_values_and_order(log: TopicLog) -> None:
    headers = [("a", b"1"), ("empty", b""), ("null", None), ("a", b"\x00\xff")]
    await log.send_batch([rec("h", b"v", headers=headers), rec("h", b"w")])
    first, second = await log.read(TopicPartition("h", 0), 0, 10)
    assert list(first.headers) == headers
    assert list(second.headers) == []


async def test_null_key_and_value_round_trip(log: TopicLog) -> None:
    await log.send_batch([rec("n", None, key=None, partition=0), rec("n", b"", key=b"", partition=0)])
    a, b = await log.read(TopicPartition("n", 0), 0, 10)
    assert (a.key, a.value) == (None, None)
    assert (b.key, b.value) == (b"", b"")


async def test_timestamp_defaults_to_now_and_explicit_is_kept(log: TopicLog) -> None:
    before = now_ms()
    delivered = await log.send_batch([rec("ts"), rec("ts", timestamp=1234)])
    after = now_ms()
    assert before <= delivered[0].timestamp <= after
    assert delivered[1].timestamp == 1234
    stored = await log.read(TopicPartition("ts", 0), 0, 10)
    assert [r.timestamp for r in stored] == [delivered[0].timestamp, 1234]


# -- read -------------------------------------------------------------------------------------


async def test_read_honours_offset_and_max_records(log: TopicLog) -> None:
    await log.send_batch([rec("r", bytes([i])) for i in range(10)])
    tp = TopicPartition("r", 0)
    got = await log.read(tp, 3, 4)
    assert [r.offset for r in got] == [3, 4, 5, 6]
    assert [r.value for r in got] == [bytes([i]) for i in range(3, 7)]
    assert all((r.topic, r.partition) == ("r", 0) for r in got)
    assert await log.read(tp, 10, 5) == []  # at the end
    assert await log.read(tp, 50, 5) == []  # past the end
    assert await log.read(TopicPartition("r", 1), 0, 5) == []  # no such partition
    assert await log.read(TopicPartition("nope", 0), 0, 5) == []


async def test_read_stops_once_max_bytes_is_reached_but_returns_at_least_one(log: TopicLog) -> None:
    await log.send_batch([rec("b", b"0123456789") for _ in range(5)])
    tp = TopicPartition("b", 0)
    assert len(await log.read(tp, 0, 100, max_bytes=20)) == 2
    assert len(await log.read(tp, 0, 100, max_bytes=1)) == 1  # a big first record is still returned
    assert len(await log.read(tp, 0, 100)) == 5
    # keys count towards the byte budget as well
    await log.send_batch([rec("kb", b"01234", key=b"01234") for _ in range(3)])
    assert len(await log.read(TopicPartition("kb", 0), 0, 100, max_bytes=10)) == 1


async def test_start_and_end_offsets(log: TopicLog) -> None:
    tp = TopicPartition("e", 0)
    assert (log.start_offset(tp), log.end_offset(tp)) == (0, 0)  # unknown topic
    await log.create_topic("e", 2)
    await log.send_batch([rec("e", partition=0) for _ in range(3)])
    assert (log.start_offset(tp), log.end_offset(tp)) == (0, 3)
    ends = await log.end_offsets([tp, TopicPartition("e", 1)])
    assert ends == {tp: 3, TopicPartition("e", 1): 0}


# -- durability -------------------------------------------------------------------------------


async def test_reopening_the_same_file_keeps_topics_records_and_offsets(db_path: Path) -> None:
    db, log = await open_log(db_path)
    await log.create_topic("d", 2, {"retention.ms": "-1"})
    await log.send_batch(
        [rec("d", b"a", partition=0), rec("d", b"b", partition=0), rec("d", b"c", partition=1)]
    )
    await db.close()

    db2, log2 = await open_log(db_path)
    try:
        topics = await log2.describe_topics()
        assert topics["d"].partitions == 2
        assert topics["d"].config == {"retention.ms": "-1"}
        assert log2.end_offset(TopicPartition("d", 0)) == 2
        assert log2.end_offset(TopicPartition("d", 1)) == 1
        [d] = await log2.send_batch([rec("d", b"next", partition=0)])
        assert d.offset == 2
        got = await log2.read(TopicPartition("d", 0), 0, 10)
        assert [(r.offset, r.value) for r in got] == [(0, b"a"), (1, b"b"), (2, b"next")]
        assert await log2.create_topic("d", 1) is False
    finally:
        await db2.close()


async def test_empty_partition_resumes_after_committed_group_offset_on_reopen(db_path: Path) -> None:
    db, log = await open_log(db_path)
    await log.create_topic("g", 1)
    await log.commit_group("connect-x", {TopicPartition("g", 0): 7})
    await db.close()
    db2, log2 = await open_log(db_path)
    try:
        tp = TopicPartition("g", 0)
        assert log2.end_offset(tp) == 7
        assert log2.start_offset(tp) == 7
        [d] = await log2.send_batch([rec("g")])
        assert d.offset == 7
    finally:
        await db2.close()


# -- source offsets in the same transaction ---------------------------------------------------


async def test_source_offsets_are_written_with_the_batch(sqlite_log: EmbeddedLog, db: Database) -> None:
    store = OffsetStore(db)
    part = {"filename": "/tmp/in.txt"}
    await sqlite_log.send_batch(
        [rec("s", b"line")],
        [SourceOffsetWrite("conn", part, {"position": 5}), SourceOffsetWrite("conn", part, {"position": 10})],
    )
    assert await store.get("conn", part) == {"position": 10}  # last write per partition wins
    assert await store.get("other", part) is None
    assert await store.get("conn", {"filename": "/tmp/other"}) is None


async def test_source_offset_partition_key_ignores_dict_order(sqlite_log: EmbeddedLog, db: Database) -> None:
    store = OffsetStore(db)
    await sqlite_log.send_batch([rec("s")], [SourceOffsetWrite("c", {"b": 1, "a": 2}, {"pos": 1})])
    assert await store.get("c", {"a": 2, "b": 1}) == {"pos": 1}


async def test_all_lists_every_partition_of_a_connector_and_none_deletes(
    sqlite_log: EmbeddedLog, db: Database
) -> None:
    store = OffsetStore(db)
    await sqlite_log.send_batch(
        [rec("s")],
        [
            SourceOffsetWrite("c", {"f": "b"}, {"p": 2}),
            SourceOffsetWrite("c", {"f": "a"}, {"p": 1}),
            SourceOffsetWrite("d", {"f": "a"}, {"p": 9}),
        ],
    )
    assert await store.all("c") == [({"f": "a"}, {"p": 1}), ({"f": "b"}, {"p": 2})]
    await sqlite_log.send_batch([rec("s")], [SourceOffsetWrite("c", {"f": "a"}, None)])
    assert await store.get("c", {"f": "a"}) is None
    assert await store.all("c") == [({"f": "b"}, {"p": 2})]
    assert await store.all("d") == [({"f": "a"}, {"p": 9})]


async def test_offsets_only_batch_is_stored(sqlite_log: EmbeddedLog, db: Database) -> None:
    await sqlite_log.send_batch([], [SourceOffsetWrite("c", {"f": "x"}, {"p": 3})])
    assert await OffsetStore(db).get("c", {"f": "x"}) == {"p": 3}


async def test_failed_append_leaves_neither_records_nor_offsets(
    sqlite_log: EmbeddedLog, db: Database
) -> None:
    store = OffsetStore(db)
    await sqlite_log.create_topic("t", 2)
    tp0 = TopicPartition("t", 0)
    with pytest.raises(ConfigError):
        await sqlite_log.send_batch(
            [rec("t", b"ok", partition=0), rec("t", b"bad", partition=5), rec("t", b"late", partition=0)],
            [SourceOffsetWrite("c", {"f": "x"}, {"p": 3})],
        )
    assert sqlite_log.end_offset(tp0) == 0
    assert await sqlite_log.read(tp0, 0, 10) == []
    assert await store.get("c", {"f": "x"}) is None
    [d] = await sqlite_log.send_batch([rec("t", b"after", partition=0)])
    assert d.offset == 0  # the failed batch did not consume offsets


async def test_offset_write_failure_rolls_back_the_records(sqlite_log: EmbeddedLog, db: Database) -> None:
    """The failure happens after the INSERTs ran, inside the same transaction."""
    tp = TopicPartition("t", 0)
    await sqlite_log.create_topic("t", 1)
    with pytest.raises(TypeError):
        await sqlite_log.send_batch([rec("t", b"x")], [SourceOffsetWrite("c", {"f": "x"}, {"p": object()})])
    assert sqlite_log.end_offset(tp) == 0
    assert await sqlite_log.read(tp, 0, 10) == []
    [d] = await sqlite_log.send_batch([rec("t", b"y")])
    assert d.offset == 0
    got = await sqlite_log.read(tp, 0, 10)
    assert [r.value for r in got] == [b"y"]


# -- retention --------------------------------------------------------------------------------


async def test_retention_deletes_old_records_and_moves_start_offset(log: TopicLog) -> None:
    await log.create_topic("ret", 1, {"retention.ms": "60000"})
    old = now_ms() - 3_600_000
    await log.send_batch([rec("ret", bytes([i]), timestamp=old) for i in range(3)])
    await log.send_batch([rec("ret", b"new1"), rec("ret", b"new2")])
    tp = TopicPartition("ret", 0)
    assert await log.enforce_retention() == 3
    assert log.start_offset(tp) == 3
    assert log.end_offset(tp) == 5
    got = await log.read(tp, 0, 10)  # reading from before the start returns what is left
    assert [r.value for r in got] == [b"new1", b"new2"]
    assert await log.enforce_retention() == 0


async def test_retention_keeps_the_newest_record_so_offsets_survive_restart(db_path: Path) -> None:
    db, log = await open_log(db_path)
    await log.create_topic("ret", 1, {"retention.ms": "1000"})
    old = now_ms() - 3_600_000
    await log.send_batch([rec("ret", bytes([i]), timestamp=old) for i in range(4)])
    tp = TopicPartition("ret", 0)
    assert await log.enforce_retention() == 3
    assert (log.start_offset(tp), log.end_offset(tp)) == (3, 4)
    assert [r.offset for r in await log.read(tp, 0, 10)] == [3]
    await db.close()
    db2, log2 = await open_log(db_path)
    try:
        assert (log2.start_offset(tp), log2.end_offset(tp)) == (3, 4)
        [d] = await log2.send_batch([rec("ret")])
        assert d.offset == 4
    finally:
        await db2.close()


async def test_retention_uses_the_default_and_minus_one_keeps_forever(log: TopicLog) -> None:
    old = now_ms() - 10_000
    await log.create_topic("default", 1)
    await log.create_topic("forever", 1, {"retention.ms": "-1"})
    for topic in ("default", "forever"):
        await log.send_batch([rec(topic, timestamp=old), rec(topic, timestamp=old), rec(topic)])
    assert await log.enforce_retention(default_retention_ms=5_000) == 2
    assert log.start_offset(TopicPartition("default", 0)) == 2
    assert log.start_offset(TopicPartition("forever", 0)) == 0
    assert await log.enforce_retention() == 0  # 7 days by default: nothing that old


# -- consumer groups --------------------------------------------------------------------------


async def test_group_offsets_commit_read_and_delete(log: TopicLog) -> None:
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    assert await log.group_offsets("g") == {}
    await log.commit_group("g", {a0: 5, a1: 7})
    await log.commit_group("g", {a0: 6, b0: 1})
    await log.commit_group("other", {a0: 100})
    assert await log.group_offsets("g") == {a0: 6, a1: 7, b0: 1}
    await log.delete_group_offsets("g", [a1, TopicPartition("zzz", 0)])
    assert await log.group_offsets("g") == {a0: 6, b0: 1}
    await log.delete_group_offsets("g")
    assert await log.group_offsets("g") == {}
    assert await log.group_offsets("other") == {a0: 100}


# -- waiting ----------------------------------------------------------------------------------


async def test_wait_for_append_wakes_on_append(log: TopicLog) -> None:
    await log.create_topic("w", 1)
    waiter = asyncio.create_task(log.wait_for_append(30))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    started = time.monotonic()
    await log.send_batch([rec("w")])
    await asyncio.wait_for(waiter, 5)
    assert time.monotonic() - started < 5


async def test_wait_for_append_times_out_without_append(log: TopicLog) -> None:
    started = time.monotonic()
    await log.wait_for_append(0.2)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 2


# -- backpressure -----------------------------------------------------------------------------


async def test_send_blocks_while_a_registered_reader_lags_and_resumes_when_it_progresses(
    db_path: Path,
) -> None:
    db, log = await open_log(db_path, max_lag=3)
    try:
        await log.create_topic("bp", 1)
        tp = TopicPartition("bp", 0)
        positions = {tp: 0}
        log.register_reader("member-1", positions)
        await log.send_batch([rec("bp") for _ in range(3)])  # lag was 0 before the append
        blocked = asyncio.create_task(log.send_batch([rec("bp", b"x")]))
        await asyncio.sleep(0.2)
        assert not blocked.done()
        assert log.end_offset(tp) == 3

        positions[tp] = 1  # still 2 behind: less than max_lag, so the writer may go on
        started = time.monotonic()
        await log.reader_progressed()
        [d] = await asyncio.wait_for(blocked, 5)
        assert time.monotonic() - started < 0.6  # woken by the notification, not the 1 s re-check
        assert d.offset == 3
        assert log.end_offset(tp) == 4
    finally:
        await db.close()


async def test_unregistering_the_lagging_reader_releases_the_writer(db_path: Path) -> None:
    db, log = await open_log(db_path, max_lag=1)
    try:
        tp = TopicPartition("bp", 0)
        await log.create_topic("bp", 1)
        log.register_reader("m", {tp: 0})
        await log.send_batch([rec("bp")])
        blocked = asyncio.create_task(log.send_batch([rec("bp")]))
        await asyncio.sleep(0.2)
        assert not blocked.done()
        started = time.monotonic()
        log.unregister_reader("m")
        await asyncio.wait_for(blocked, 5)
        assert time.monotonic() - started < 0.6  # woken by the notification, not the 1 s re-check
        assert log.end_offset(tp) == 2
    finally:
        await db.close()


async def test_no_blocking_without_registered_readers_or_with_limit_disabled(db_path: Path) -> None:
    db, log = await open_log(db_path, max_lag=1)
    try:
        for _ in range(5):
            await asyncio.wait_for(log.send_batch([rec("free")]), 5)
        assert log.end_offset(TopicPartition("free", 0)) == 5
    finally:
        await db.close()
    db, log = await open_log(db_path.with_name("other.db"), max_lag=-1)
    try:
        log.register_reader("m", {TopicPartition("free", 0): 0})
        for _ in range(5):
            await asyncio.wait_for(log.send_batch([rec("free")]), 5)
        assert log.end_offset(TopicPartition("free", 0)) == 5
    finally:
        await db.close()


async def test_a_reader_lagging_on_another_topic_does_not_block(db_path: Path) -> None:
    db, log = await open_log(db_path, max_lag=1)
    try:
        await log.send_batch([rec("slow")])
        log.register_reader("m", {TopicPartition("slow", 0): 0})
        await asyncio.wait_for(log.send_batch([rec("fast"), rec("fast")]), 5)
        await asyncio.wait_for(log.send_batch([rec("fast")]), 5)
        assert log.end_offset(TopicPartition("fast", 0)) == 3
    finally:
        await db.close()
