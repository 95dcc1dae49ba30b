"""ConfigStore, OffsetStore and TopicTracker: written through to SQLite and read back by new instances."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from app.storage.base import SourceOffsetWrite
from app.storage.sqlite.database import Database
from app.storage.sqlite.stores import SqliteConfigStore as ConfigStore
from app.storage.sqlite.stores import SqliteOffsetStore as OffsetStore
from app.storage.sqlite.stores import SqliteTopicTracker as TopicTracker

Reopen = Callable[[], Awaitable[Database]]


@pytest.fixture
async def reopen(tmp_path: Path) -> AsyncIterator[Reopen]:
    """Opens a fresh Database on the same file each call, closing the previous one first."""
    opened: list[Database] = []

    async def make() -> Database:
        if opened:
            await opened[-1].close()
        db = Database(tmp_path / "stores.db")
        await db.open()
        opened.append(db)
        return db

    yield make
    await opened[-1].close()


async def config_store(db: Database) -> ConfigStore:
    store = ConfigStore(db)
    await store.open()
    return store


async def test_put_and_get_config_defaults_to_started(reopen: Reopen) -> None:
    store = await config_store(await reopen())
    assert store.get("a") is None
    await store.put_config("a", {"connector.class": "FileStreamSource", "topic": "t"})
    record = store.get("a")
    assert record is not None
    assert record.config == {"connector.class": "FileStreamSource", "topic": "t"}
    assert record.target_state == "STARTED"
    assert record.task_configs == []


async def test_configs_target_states_and_task_configs_survive_reopen(reopen: Reopen) -> None:
    store = await config_store(await reopen())
    await store.put_config("b-second", {"k": "1"})
    await store.put_config("a-first", {"k": "2"}, target_state="PAUSED")
    await store.put_task_configs("b-second", [{"task": "0"}, {"task": "1"}])
    await store.put_target_state("b-second", "STOPPED")
    await store.put_config("b-second", {"k": "updated"})  # keeps the STOPPED state

    again = await config_store(await reopen())
    assert again.names() == ["b-second", "a-first"]  # creation order, not name order
    b, a = again.get("b-second"), again.get("a-first")
    assert b is not None and a is not None
    assert b.config == {"k": "updated"}
    assert b.target_state == "STOPPED"
    assert b.task_configs == [{"task": "0"}, {"task": "1"}]
    assert a.config == {"k": "2"}
    assert a.target_state == "PAUSED"
    assert a.task_configs == []


async def test_task_configs_are_replaced_not_appended(reopen: Reopen) -> None:
    store = await config_store(await reopen())
    await store.put_config("c", {})
    await store.put_task_configs("c", [{"i": str(i)} for i in range(12)])
    await store.put_task_configs("c", [{"i": "x"}])
    assert store.get("c").task_configs == [{"i": "x"}]  # type: ignore[union-attr]
    again = await config_store(await reopen())
    assert again.get("c").task_configs == [{"i": "x"}]  # type: ignore[union-attr]


async def test_task_configs_keep_numeric_order_past_ten(reopen: Reopen) -> None:
    store = await config_store(await reopen())
    await store.put_config("c", {})
    await store.put_task_configs("c", [{"i": str(i)} for i in range(12)])
    again = await config_store(await reopen())
    assert [t["i"] for t in again.get("c").task_configs] == [str(i) for i in range(12)]  # type: ignore[union-attr]


async def test_remove_is_persisted_and_name_can_be_reused(reopen: Reopen) -> None:
    store = await config_store(await reopen())
    await store.put_config("gone", {"x": "1"})
    await store.put_task_configs("gone", [{"t": "0"}])
    await store.put_config("kept", {"x": "2"})
    await store.remove("gone")
    assert store.get("gone") is None
    assert store.names() == ["kept"]

    again = await config_store(await reopen())
    assert again.names() == ["kept"]
    await again.put_config("gone", {"x": "new"})
    third = await config_store(await reopen())
    assert third.names() == ["kept", "gone"]
    assert third.get("gone").task_configs == []  # type: ignore[union-attr]
    assert third.get("gone").config == {"x": "new"}  # type: ignore[union-attr]


async def test_offset_store_write_get_all_and_delete(reopen: Reopen) -> None:
    store = OffsetStore(await reopen())
    await store.write([SourceOffsetWrite("c", {"file": "a"}, {"position": 3})])
    await store.write([SourceOffsetWrite("c", {"file": "b"}, {"position": 1, "nested": [1, "x"]})])
    again = OffsetStore(await reopen())
    assert await again.get("c", {"file": "a"}) == {"position": 3}
    assert await again.all("c") == [
        ({"file": "a"}, {"position": 3}),
        ({"file": "b"}, {"position": 1, "nested": [1, "x"]}),
    ]
    await again.write([SourceOffsetWrite("c", {"file": "a"}, None)])
    assert await again.all("c") == [({"file": "b"}, {"position": 1, "nested": [1, "x"]})]
    assert await again.all("unknown") == []


async def test_topic_tracker_record_and_reset_survive_reopen(reopen: Reopen) -> None:
    tracker = TopicTracker(await reopen())
    await tracker.open()
    assert tracker.topics("c") == []
    await tracker.record("c", {"zeta", "alpha"})
    await tracker.record("c", {"alpha", "mid"})
    await tracker.record("d", {"other"})
    assert tracker.topics("c") == ["alpha", "mid", "zeta"]

    again = TopicTracker(await reopen())
    await again.open()
    assert again.topics("c") == ["alpha", "mid", "zeta"]
    assert again.topics("d") == ["other"]
    await again.reset("c")
    assert again.topics("c") == []

    third = TopicTracker(await reopen())
    await third.open()
    assert third.topics("c") == []
    assert third.topics("d") == ["other"]
    await third.record("c", {"after-reset"})
    assert third.topics("c") == ["after-reset"]
