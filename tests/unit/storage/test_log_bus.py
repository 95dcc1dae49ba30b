"""GroupCoordinator and LogConsumer on both embedded logs: SQLite (on tmp_path) and memory."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.storage.base import ProducerRecord
from app.storage.log_bus import GroupCoordinator, LogConsumer, Subscription
from app.storage.memory import MemoryLog
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import EmbeddedLog
from app.storage.topic_log import TopicLog
from connectors.sdk.records import TopicPartition as TP


async def open_log(backend: str, tmp_path: Path, **kwargs: int) -> tuple[TopicLog, Database | None]:
    if backend == "memory":
        return MemoryLog(**kwargs), None
    db = Database(tmp_path / "c.db")
    await db.open()
    log = EmbeddedLog(db, **kwargs)
    await log.open()
    return log, db


@pytest.fixture(params=["sqlite", "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def log(backend: str, tmp_path: Path) -> AsyncIterator[TopicLog]:
    log, db = await open_log(backend, tmp_path)
    yield log
    if db is not None:
        await db.close()


@pytest.fixture
def coordinator(log: TopicLog) -> GroupCoordinator:
    return GroupCoordinator(log)


def topics(*names: str) -> Subscription:
    return Subscription(topics=names)


async def fill(log: TopicLog, topic: str, partition: int, count: int, prefix: str = "") -> None:
    await log.send_batch(
        [ProducerRecord(topic, f"{prefix}{i}".encode(), partition=partition) for i in range(count)]
    )


def consumer(
    log: TopicLog, coordinator: GroupCoordinator, member: str, sub: Subscription, **kwargs: int
) -> LogConsumer:
    return LogConsumer(log, coordinator, group="connect-s", member=member, subscription=sub, **kwargs)


# -- Subscription -----------------------------------------------------------------------------


def test_subscription_matches_listed_topics_and_full_regex_matches() -> None:
    sub = Subscription(topics=("a",), pattern=re.compile(r"logs-\d+"))
    assert sub.matches("a")
    assert sub.matches("logs-1")
    assert not sub.matches("logs-1x")  # fullmatch, not search
    assert not sub.matches("xlogs-1")
    assert not sub.matches("b")
    assert not Subscription().matches("a")


# -- GroupCoordinator -------------------------------------------------------------------------


async def test_round_robin_assignment_over_sorted_partitions(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 5)
    coordinator.join("g", "m-b", topics("t"))
    coordinator.join("g", "m-a", topics("t"))
    gen_a, a = coordinator.assignment("g", "m-a")
    gen_b, b = coordinator.assignment("g", "m-b")
    assert gen_a == gen_b == 1
    assert a == {TP("t", 0), TP("t", 2), TP("t", 4)}
    assert b == {TP("t", 1), TP("t", 3)}


async def test_round_robin_spans_several_topics(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("x", 2)
    await log.create_topic("y", 2)
    for m in ("m1", "m2", "m3"):
        coordinator.join("g", m, topics("x", "y"))
    got = {m: coordinator.assignment("g", m)[1] for m in ("m1", "m2", "m3")}
    assert got == {
        "m1": {TP("x", 0), TP("y", 1)},
        "m2": {TP("x", 1)},
        "m3": {TP("y", 0)},
    }


async def test_every_partition_is_assigned_exactly_once(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 8)
    members = [f"m{i}" for i in range(3)]
    for m in members:
        coordinator.join("g", m, topics("t"))
    assigned = [tp for m in members for tp in coordinator.assignment("g", m)[1]]
    assert sorted(assigned) == log.partitions("t")
    assert sorted(len(coordinator.assignment("g", m)[1]) for m in members) == [2, 3, 3]


async def test_members_only_get_partitions_they_subscribe_to(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("a", 2)
    await log.create_topic("b", 2)
    coordinator.join("g", "only-a", topics("a"))
    coordinator.join("g", "only-b", topics("b"))
    assert coordinator.assignment("g", "only-a")[1] == {TP("a", 0), TP("a", 1)}
    assert coordinator.assignment("g", "only-b")[1] == {TP("b", 0), TP("b", 1)}


async def test_join_and_leave_rebalance_and_bump_generation(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 2)
    coordinator.join("g", "m1", topics("t"))
    gen1, a1 = coordinator.assignment("g", "m1")
    assert a1 == {TP("t", 0), TP("t", 1)}
    assert coordinator.assignment("g", "m1")[0] == gen1  # stable without changes

    coordinator.join("g", "m2", topics("t"))
    gen2, a1 = coordinator.assignment("g", "m1")
    assert gen2 == gen1 + 1
    assert a1 == {TP("t", 0)}
    assert coordinator.assignment("g", "m2")[1] == {TP("t", 1)}

    coordinator.leave("g", "m2")
    gen3, a1 = coordinator.assignment("g", "m1")
    assert gen3 == gen2 + 1
    assert a1 == {TP("t", 0), TP("t", 1)}


async def test_leaving_last_member_removes_the_group(log: TopicLog, coordinator: GroupCoordinator) -> None:
    coordinator.join("g", "m1", topics("t"))
    assert coordinator.has_members("g")
    coordinator.leave("g", "unknown")  # no error
    assert coordinator.has_members("g")
    coordinator.leave("g", "m1")
    assert not coordinator.has_members("g")
    coordinator.leave("nope", "m1")  # unknown group: no error


async def test_groups_are_independent(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 2)
    coordinator.join("g1", "m", topics("t"))
    coordinator.join("g2", "m", topics("t"))
    coordinator.join("g2", "n", topics("t"))
    assert coordinator.assignment("g1", "m")[1] == {TP("t", 0), TP("t", 1)}
    assert coordinator.assignment("g2", "m")[1] == {TP("t", 0)}


async def test_new_topic_matching_a_regex_subscription_triggers_a_rebalance(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("logs-1", 1)
    await log.create_topic("other", 1)
    coordinator.join("g", "m", Subscription(pattern=re.compile(r"logs-.*")))
    gen1, a = coordinator.assignment("g", "m")
    assert a == {TP("logs-1", 0)}

    await log.create_topic("unrelated", 1)  # topics_version changes, assignment does not
    assert coordinator.assignment("g", "m") == (gen1, {TP("logs-1", 0)})

    await log.create_topic("logs-2", 2)
    gen2, a = coordinator.assignment("g", "m")
    assert gen2 == gen1 + 1
    assert a == {TP("logs-1", 0), TP("logs-2", 0), TP("logs-2", 1)}


# -- LogConsumer -------------------------------------------------------------------------


async def test_start_creates_subscribed_topics_and_registers_as_reader(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    c = consumer(log, coordinator, "m", topics("auto"))
    await c.start()
    assert "auto" in log.topics_names()
    assert coordinator.has_members("connect-s")
    assert await c.poll_rebalance() == (set(), {TP("auto", 0)})
    await c.close()
    assert not coordinator.has_members("connect-s")


async def test_positions_start_at_committed_offsets_else_start_offset(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 2)
    await fill(log, "t", 0, 5)
    await fill(log, "t", 1, 5)
    await log.commit_group("connect-s", {TP("t", 0): 3})
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    revoked, assigned = await c.poll_rebalance()  # type: ignore[misc]
    assert revoked == set()
    assert assigned == {TP("t", 0), TP("t", 1)}
    assert c.positions == {TP("t", 0): 3, TP("t", 1): 0}
    assert await c.poll_rebalance() is None  # nothing changed since
    records = await c.fetch(0)
    by_tp = {(r.partition, r.offset) for r in records}
    assert by_tp == {(0, 3), (0, 4)} | {(1, i) for i in range(5)}
    await c.close()


async def test_committed_offset_before_retained_start_uses_start_offset(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 1, {"retention.ms": "1000"})
    old = time.time_ns() // 1_000_000 - 3_600_000
    await log.send_batch([ProducerRecord("t", b"x", timestamp=old) for _ in range(4)])
    await log.enforce_retention()
    assert log.start_offset(TP("t", 0)) == 3
    await log.commit_group("connect-s", {TP("t", 0): 1})
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    await c.poll_rebalance()
    assert c.positions == {TP("t", 0): 3}
    await c.close()


async def test_poll_rebalance_reports_revoked_and_assigned(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 2)
    c1 = consumer(log, coordinator, "m1", topics("t"))
    await c1.start()
    assert await c1.poll_rebalance() == (set(), {TP("t", 0), TP("t", 1)})
    c1.pause([TP("t", 1)])

    c2 = consumer(log, coordinator, "m2", topics("t"))
    await c2.start()
    assert await c1.poll_rebalance() == ({TP("t", 1)}, set())
    assert c1.assignment == {TP("t", 0)}
    assert set(c1.positions) == {TP("t", 0)}
    # The partition moves only after its old owner committed and released it.
    assert await c2.poll_rebalance() is None
    c1.release({TP("t", 1)})
    assert await c2.poll_rebalance() == (set(), {TP("t", 1)})

    await c2.close()
    assert await c1.poll_rebalance() == (set(), {TP("t", 1)})
    await fill(log, "t", 1, 2)
    records = await c1.fetch(0)  # the pause was dropped with the revocation
    assert [(r.partition, r.offset) for r in records] == [(1, 0), (1, 1)]
    await c1.close()


async def test_fetch_honours_pause_and_resume(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 2)
    await fill(log, "t", 0, 3)
    await fill(log, "t", 1, 3)
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    await c.poll_rebalance()
    c.pause([TP("t", 0)])
    records = await c.fetch(0)
    assert {r.partition for r in records} == {1}
    assert len(records) == 3
    assert await c.fetch(0) == []
    assert c.positions[TP("t", 0)] == 0
    c.resume([TP("t", 0)])
    records = await c.fetch(0)
    assert [(r.partition, r.offset) for r in records] == [(0, 0), (0, 1), (0, 2)]
    await c.close()


async def test_fetch_all_paused_returns_nothing_even_with_data(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 1)
    await fill(log, "t", 0, 3)
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    await c.poll_rebalance()
    c.pause(c.assignment)
    assert await c.fetch(0.05) == []
    await c.close()


async def test_fetch_max_poll_records_and_position_advance(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 1)
    await fill(log, "t", 0, 7)
    c = consumer(log, coordinator, "m", topics("t"), max_poll_records=3)
    await c.start()
    await c.poll_rebalance()
    batches = [[r.offset for r in await c.fetch(0)] for _ in range(4)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6], []]
    assert c.positions[TP("t", 0)] == 7
    await c.close()


async def test_fetch_rotates_the_starting_partition(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 2)
    await fill(log, "t", 0, 6)
    await fill(log, "t", 1, 6)
    c = consumer(log, coordinator, "m", topics("t"), max_poll_records=2)
    await c.start()
    await c.poll_rebalance()
    firsts = []
    for _ in range(4):
        records = await c.fetch(0)
        assert len(records) == 2
        assert len({r.partition for r in records}) == 1  # the budget was used up on one partition
        firsts.append(records[0].partition)
    assert firsts in ([1, 0, 1, 0], [0, 1, 0, 1])
    assert c.positions == {TP("t", 0): 4, TP("t", 1): 4}
    await c.close()


async def test_fetch_respects_fetch_max_bytes(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 1)
    await log.send_batch([ProducerRecord("t", b"0123456789") for _ in range(5)])
    c = consumer(log, coordinator, "m", topics("t"), fetch_max_bytes=30)
    await c.start()
    await c.poll_rebalance()
    assert len(await c.fetch(0)) == 3
    assert len(await c.fetch(0)) == 2
    await c.close()


async def test_fetch_waits_for_an_append(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 1)
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    await c.poll_rebalance()
    waiting = asyncio.create_task(c.fetch(10))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await fill(log, "t", 0, 2)
    records = await asyncio.wait_for(waiting, 5)
    assert [r.value for r in records] == [b"0", b"1"]
    await c.close()


async def test_fetch_times_out_empty(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 1)
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    await c.poll_rebalance()
    started = time.monotonic()
    assert await c.fetch(0.1) == []
    assert time.monotonic() - started >= 0.08
    await c.close()


async def test_lag_sums_over_assigned_partitions(log: TopicLog, coordinator: GroupCoordinator) -> None:
    await log.create_topic("t", 2)
    await fill(log, "t", 0, 4)
    await fill(log, "t", 1, 6)
    c = consumer(log, coordinator, "m", topics("t"), max_poll_records=3)
    await c.start()
    assert c.lag() == 0  # nothing assigned yet
    await c.poll_rebalance()
    assert c.lag() == 10
    await c.fetch(0)
    assert c.lag() == 7
    c.seek(TP("t", 1), 6)
    c.seek(TP("t", 0), 4)
    assert c.lag() == 0
    c.seek(TP("t", 0), 99)  # ahead of the end never counts negative
    assert c.lag() == 0
    await c.close()


async def test_commit_and_committed(log: TopicLog, coordinator: GroupCoordinator) -> None:
    c = consumer(log, coordinator, "m", topics("t"))
    await c.start()
    await c.commit({TP("t", 0): 4})
    assert await c.committed([TP("t", 0), TP("t", 1)]) == {TP("t", 0): 4}
    assert await log.group_offsets("connect-s") == {TP("t", 0): 4}
    await c.close()


async def test_consumer_positions_drive_backpressure(backend: str, tmp_path: Path) -> None:
    """The consumer registers its live positions dict, so fetching releases a blocked writer."""
    log, db = await open_log(backend, tmp_path, max_lag=2)
    try:
        coordinator = GroupCoordinator(log)
        c = consumer(log, coordinator, "m", topics("t"))
        await c.start()
        await c.poll_rebalance()
        await fill(log, "t", 0, 2)
        blocked = asyncio.create_task(log.send_batch([ProducerRecord("t", b"late")]))
        await asyncio.sleep(0.2)
        assert not blocked.done()
        assert len(await c.fetch(0)) == 2  # advances positions and notifies the writer
        [d] = await asyncio.wait_for(blocked, 5)
        assert d.offset == 2
        c.set_active(False)  # a paused consumer still holds writers back (log.max.lag.records)
        await asyncio.wait_for(fill(log, "t", 0, 3), 5)  # lag was 1: this batch goes in, lag 4
        paused_write = asyncio.create_task(fill(log, "t", 0, 3))
        await asyncio.sleep(0.2)
        assert not paused_write.done()
        await c.close()  # a closed one does not
        await asyncio.wait_for(paused_write, 5)
        assert log.end_offset(TP("t", 0)) == 9
    finally:
        if db is not None:
            await db.close()


async def test_a_moving_partition_resumes_from_the_offset_its_old_owner_committed(
    log: TopicLog, coordinator: GroupCoordinator
) -> None:
    await log.create_topic("t", 2)
    await fill(log, "t", 1, 5)
    c1 = consumer(log, coordinator, "m1", topics("t"))
    await c1.start()
    await c1.poll_rebalance()
    assert [r.offset for r in await c1.fetch(0) if r.partition == 1] == [0, 1, 2, 3, 4]

    c2 = consumer(log, coordinator, "m2", topics("t"))
    await c2.start()
    assert await c2.poll_rebalance() is None  # c1 still holds t-1 and has not committed
    revoked, _ = await c1.poll_rebalance() or (set(), set())
    assert revoked == {TP("t", 1)}
    await c1.commit({TP("t", 1): 5})
    c1.release(revoked)
    assert await c2.poll_rebalance() == (set(), {TP("t", 1)})
    assert c2.positions[TP("t", 1)] == 5  # nothing is read twice
    await c1.close()
    await c2.close()


async def test_retention_keeps_what_a_registered_sink_has_not_read(log: TopicLog) -> None:
    if True:
        await log.create_topic("t", 1, {"retention.ms": "1000"})
        old = int(time.time() * 1000) - 3_600_000
        await log.send_batch([ProducerRecord("t", bytes([i]), timestamp=old) for i in range(10)])
        c = consumer(log, GroupCoordinator(log), "m", topics("t"))
        await c.start()
        await c.poll_rebalance()
        c.set_active(False)  # paused: still protected
        assert len(await c.fetch(0)) == 10
        c.seek(TP("t", 0), 4)  # as if only 4 records had been read
        assert await log.enforce_retention() == 4  # records 4..9 are unread: kept
        assert log.start_offset(TP("t", 0)) == 4
        # Beyond the cap (3 unread records per partition) the oldest go, and the sink counts them.
        assert await log.enforce_retention(unread_max_records=3) == 3
        assert [r.offset for r in await c.fetch(0)] == [7, 8, 9]
        assert c.records_lost == 3
        await c.close()
