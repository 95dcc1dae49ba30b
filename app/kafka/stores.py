"""Configs, source offsets and statuses kept in Kafka Connect's three compacted topics.

Record keys and JSON values follow Kafka Connect's own formats (``connector-<name>``,
``task-<name>-<n>``, ``commit-<name>``, ``target-state-<name>``; offsets keyed by
``["<connector>", {partition}]``; ``status-connector-<name>`` / ``status-task-<name>-<n>``), so
the topics read the same to anyone who knows Kafka Connect's. The config and offset stores
change their memory only when they read a record back, so all workers apply the same changes in
the same order; the status store also applies its own writes at once (see ``KafkaStatusStore``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from app.kafka.compacted_topic import CompactedTopic
from app.storage.base import (
    ConnectorRecord,
    ConnectorStatus,
    SourceOffsetWrite,
    State,
    Status,
    StatusListener,
    TaskId,
)
from app.storage.memory import MemoryStatusStore
from app.storage.offset_map import OffsetMap

ConfigListener = Callable[[str, str, dict[str, Any] | None], None]
"""(kind, connector, value): kind is connector, target-state, tasks or restart."""


# -- source offsets ------------------------------------------------------------------------
def encode_offset(write: SourceOffsetWrite) -> tuple[bytes, bytes | None]:
    key = orjson.dumps([write.connector, write.partition])
    return key, None if write.offset is None else orjson.dumps(write.offset)


class KafkaOffsetStore:
    def __init__(self) -> None:
        self.topic: CompactedTopic | None = None
        self.offsets = OffsetMap()

    def on_record(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        connector, partition = orjson.loads(key)
        self.offsets.apply([SourceOffsetWrite(connector, partition, orjson.loads(value) if value else None)])

    async def get(self, connector: str, partition: dict[str, Any]) -> dict[str, Any] | None:
        assert self.topic is not None
        await self.topic.read_to_end()  # a task moved here must see its last owner's offsets
        return self.offsets.get(connector, partition)

    async def all(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        assert self.topic is not None
        await self.topic.read_to_end()
        return self.offsets.all(connector)

    async def write(self, offsets: list[SourceOffsetWrite]) -> None:
        assert self.topic is not None
        await self.topic.send_all([encode_offset(write) for write in offsets])
        self.offsets.apply(offsets)


# -- connector configs ---------------------------------------------------------------------
class KafkaConfigStore:
    """The same interface as the embedded ConfigStore; writes return once they are read back."""

    def __init__(self) -> None:
        self.topic: CompactedTopic | None = None
        self._connectors: dict[str, ConnectorRecord] = {}
        self._pending_tasks: dict[str, dict[int, dict[str, str]]] = {}
        self.listener: ConfigListener = lambda *_: None

    def on_record(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        text = key.decode()
        data = orjson.loads(value) if value else None
        if text.startswith("connector-"):
            name = text[len("connector-") :]
            if data is None:
                self._connectors.pop(name, None)
                self._pending_tasks.pop(name, None)
            elif name in self._connectors:
                self._connectors[name].config = data["properties"]
            else:
                self._connectors[name] = ConnectorRecord(name, data["properties"], "STARTED")
            self.listener("connector", name, data)
        elif text.startswith("target-state-"):
            name = text[len("target-state-") :]
            if data is not None and name in self._connectors:
                self._connectors[name].target_state = data["state"]
                self.listener("target-state", name, data)
        elif text.startswith("task-"):
            name, _, index = text[len("task-") :].rpartition("-")
            if data is not None:
                self._pending_tasks.setdefault(name, {})[int(index)] = data["properties"]
        elif text.startswith("commit-"):
            name = text[len("commit-") :]
            count = int(data["tasks"]) if data else 0
            pending = self._pending_tasks.pop(name, {})
            record = self._connectors.get(name)
            if record is not None and all(i in pending for i in range(count)):
                record.task_configs = [pending[i] for i in range(count)]
                self.listener("tasks", name, data)
        elif text.startswith("restart-connector-") and data is not None:
            self.listener("restart", text[len("restart-connector-") :], data)

    def names(self) -> list[str]:
        return list(self._connectors)

    def get(self, name: str) -> ConnectorRecord | None:
        return self._connectors.get(name)

    async def _send(self, key: str, value: dict[str, Any] | None) -> None:
        assert self.topic is not None
        await self.topic.send(key.encode(), None if value is None else orjson.dumps(value))

    async def _sync(self) -> None:
        assert self.topic is not None
        await self.topic.read_to_end()

    async def sync(self) -> None:
        """Wait until every config written so far (by any worker) is applied here."""
        await self._sync()

    async def put_config(self, name: str, config: dict[str, str], target_state: str | None = None) -> None:
        await self._send(f"connector-{name}", {"properties": config})
        if target_state is not None:  # after the connector record, so it applies to the new one
            await self._send(f"target-state-{name}", {"state": target_state})
        await self._sync()

    async def put_target_state(self, name: str, state: str) -> None:
        await self._send(f"target-state-{name}", {"state": state})
        await self._sync()

    async def put_task_configs(self, name: str, configs: list[dict[str, str]]) -> None:
        assert self.topic is not None
        records = [
            (f"task-{name}-{i}".encode(), orjson.dumps({"properties": c})) for i, c in enumerate(configs)
        ]
        await self.topic.send_all(
            [*records, (f"commit-{name}".encode(), orjson.dumps({"tasks": len(configs)}))]
        )
        await self._sync()

    async def request_restart(self, name: str, request: dict[str, Any]) -> None:
        await self._send(f"restart-connector-{name}", request)
        await self._sync()

    async def remove(self, name: str) -> None:
        await self._send(f"connector-{name}", None)
        await self._send(f"target-state-{name}", None)
        await self._sync()


# -- statuses ------------------------------------------------------------------------------
class KafkaStatusStore:
    """Local changes are published; everyone's changes are applied as they are read back.

    The statuses themselves are held by an in-memory store (``local``): this class adds the
    publishing, and applies records read from the status topic to ``local`` directly.

    This worker's own changes are applied at once, so a record of ours read back while a newer
    one of ours is still on its way is stale: applying it would bring back, for a moment, a state
    already replaced (a deleted connector's PAUSED reappearing after its tombstone was written,
    because the status topic's partitions are read in no particular order between keys). Such
    records are skipped; a key's last record in the log is always applied, so every worker still
    ends with the same statuses.
    """

    def __init__(self, listener: StatusListener | None = None) -> None:
        self.local = MemoryStatusStore(listener)
        self.topic: CompactedTopic | None = None
        self.publish: Callable[[str, dict[str, Any] | None], None] = lambda *_: None
        self._unread: dict[str, int] = {}  # own writes per key not yet read back

    def _write(self, key: str, value: dict[str, Any] | None) -> None:
        self._unread[key] = self._unread.get(key, 0) + 1
        self.publish(key, value)

    def not_published(self, key: str) -> None:
        """A write that failed will never be read back: stop waiting for it."""
        self._read_back(key)

    def _read_back(self, key: str) -> bool:
        """Count one record of ``key`` read; True when a newer write of ours is still to come."""
        unread = self._unread.get(key, 0) - 1
        if unread > 0:
            self._unread[key] = unread
            return True
        self._unread.pop(key, None)
        return False

    @property
    def listener(self) -> StatusListener | None:
        return self.local.listener

    @listener.setter
    def listener(self, listener: StatusListener | None) -> None:
        self.local.listener = listener

    def get(self, name: str) -> ConnectorStatus | None:
        return self.local.get(name)

    def task(self, task: TaskId) -> Status | None:
        return self.local.task(task)

    def put_connector(self, name: str, status: Status, type_: str | None = None) -> None:
        self.local.put_connector(name, status, type_)
        self._write(f"status-connector-{name}", _status_json(status, type_))

    def put_task(self, task: TaskId, status: Status) -> None:
        self._ensure(task.connector)
        self.local.put_task(task, status)
        self._write(f"status-task-{task}", _status_json(status, None))

    def remove_task(self, task: TaskId) -> None:
        self.local.remove_task(task)
        self._write(f"status-task-{task}", None)

    def remove(self, name: str) -> None:
        entry = self.local.get(name)
        if entry is not None:
            for index in list(entry.tasks):
                self._write(f"status-task-{name}-{index}", None)
        self.local.remove(name)
        self._write(f"status-connector-{name}", None)

    def _ensure(self, name: str) -> None:
        if self.local.get(name) is None:
            self.local.put_connector(name, Status(State.UNASSIGNED, ""))

    def on_record(self, key: bytes | None, value: bytes | None) -> None:
        """Apply a status written by any worker (ours included) without publishing it again."""
        if key is None:
            return
        text = key.decode()
        if self._read_back(text):
            return
        data = orjson.loads(value) if value else None
        if text.startswith("status-connector-"):
            name = text[len("status-connector-") :]
            if data is None:
                self.local.remove(name)
            else:
                self.local.put_connector(name, _status_of(data), data.get("type"))
        elif text.startswith("status-task-"):
            name, _, index = text[len("status-task-") :].rpartition("-")
            task = TaskId(name, int(index))
            if data is None:
                self.local.remove_task(task)
            else:
                self._ensure(name)
                self.local.put_task(task, _status_of(data))


def _status_json(status: Status, type_: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {"state": status.state.value, "trace": status.trace, "worker_id": status.worker_id}
    if status.consumer_lag is not None:
        data["consumer_lag"] = status.consumer_lag
    if status.dead_lettered:
        data["dead_lettered"] = status.dead_lettered
    if status.details:
        data["details"] = dict(status.details)
    if type_:
        data["type"] = type_
    return data


def _status_of(data: dict[str, Any]) -> Status:
    return Status(
        State(data["state"]),
        data.get("worker_id") or "",
        data.get("trace"),
        consumer_lag=data.get("consumer_lag"),
        dead_lettered=data.get("dead_lettered") or 0,
        details=data.get("details") or None,
    )
