"""This worker's membership of its Connect cluster, over Kafka's consumer group protocol.

Workers sharing ``group.id`` join one group with a custom assignor: each member's metadata
says who it is (``worker_id`` = advertised REST address), which config topic it uses and what
it runs now; the leader turns that into an assignment (app.herder.assignment) carried in the
assignment's user data. No topic partitions are assigned; the group is used only for
membership, leader election and liveness (a member that stops heartbeating for
``session.timeout.ms`` is dropped and its work reassigned).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment, ConsumerProtocolMemberMetadata

from app import supervision
from app.kafka.client_config import client_kwargs
from app.settings import WorkerSettings
from app.storage.base import Load, TaskId

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Member:
    worker_id: str
    url: str
    config_topic: str
    load: Load


@dataclass(slots=True)
class Assignment:
    leader: str
    leader_url: str
    load: Load = field(default_factory=Load)
    error: str | None = None


Planner = Callable[[Mapping[str, Member]], dict[str, Load]]


class _ConnectAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
    """Runs on the leader (``assign``) and on every member (``metadata``, ``on_assignment``)."""

    name = "penstock-connect-v1"

    def __init__(self, membership: GroupMembership) -> None:
        self._m = membership

    def metadata(self, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:  # type: ignore[override]
        load = self._m.current_load()
        data = {
            "worker_id": self._m.worker_id,
            "url": self._m.url,
            "config_topic": self._m.config_topic,
            "connectors": sorted(load.connectors),
            "tasks": sorted([t.connector, t.task] for t in load.tasks),
        }
        return ConsumerProtocolMemberMetadata(0, list(topics), orjson.dumps(data))

    def assign(
        self, cluster: Any, members: Mapping[str, ConsumerProtocolMemberMetadata]
    ) -> dict[str, ConsumerProtocolMemberAssignment]:  # type: ignore[override]
        decoded: dict[str, Member] = {}
        for member_id, meta in members.items():
            data = orjson.loads(meta.user_data)
            load = Load(set(data["connectors"]), {TaskId(c, i) for c, i in data["tasks"]})
            decoded[member_id] = Member(data["worker_id"], data["url"], data["config_topic"], load)
        mine = self._m.config_topic
        good = {m: d for m, d in decoded.items() if d.config_topic == mine}
        plan = self._m.plan({d.worker_id: d for d in good.values()})
        out: dict[str, ConsumerProtocolMemberAssignment] = {}
        for member_id, member in decoded.items():
            reply: dict[str, Any] = {"leader": self._m.worker_id, "leader_url": self._m.url}
            if member.config_topic != mine:
                reply["error"] = (
                    f"This worker uses config.storage.topic '{member.config_topic}' but the leader of group "
                    f"'{self._m.group}' ({self._m.worker_id}) uses '{mine}'. All workers of a group must share "
                    "the same config, offset and status topics; fix config.storage.topic or use another group.id"
                )
            else:
                load = plan.get(member.worker_id, Load())
                reply["connectors"] = sorted(load.connectors)
                reply["tasks"] = sorted([t.connector, t.task] for t in load.tasks)
            out[member_id] = ConsumerProtocolMemberAssignment(0, [], orjson.dumps(reply))
        log.info("assigned work as group leader", workers=len(good), refused=len(decoded) - len(good))
        return out

    def on_assignment(self, assignment: ConsumerProtocolMemberAssignment) -> None:  # type: ignore[override]
        data = orjson.loads(assignment.user_data)
        load = Load(set(data.get("connectors", ())), {TaskId(c, i) for c, i in data.get("tasks", ())})
        self._m.assigned(Assignment(data["leader"], data["leader_url"], load, data.get("error")))


class _RebalanceStarts(ConsumerRebalanceListener):  # type: ignore[misc]
    """No partitions are assigned here: "revoked" is the client saying a rebalance begins."""

    def __init__(self, started: Callable[[], None]) -> None:
        self._started = started

    async def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        self._started()

    async def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        return None


class GroupMembership:
    def __init__(
        self,
        settings: WorkerSettings,
        worker_id: str,
        url: str,
        config_topic: str,
        current_load: Callable[[], Load],
        plan: Planner,
        on_assignment: Callable[[Assignment], None],
        on_rebalance: Callable[[], None] = lambda: None,
        on_failure: supervision.FailureHandler | None = None,
    ) -> None:
        assert settings.group_id is not None
        self.group = settings.group_id
        self.worker_id = worker_id
        self.url = url
        self.config_topic = config_topic
        self.current_load = current_load
        self.plan = plan
        self._on_assignment = on_assignment
        self._on_rebalance = on_rebalance
        self._on_failure = on_failure
        self._consumer = AIOKafkaConsumer(
            **{
                **client_kwargs(settings, "consumer"),
                "group_id": settings.group_id,
                "enable_auto_commit": False,
                "session_timeout_ms": settings.session_timeout_ms,
                "heartbeat_interval_ms": settings.heartbeat_interval_ms,
                "rebalance_timeout_ms": settings.rebalance_timeout_ms,
                "max_poll_interval_ms": settings.rebalance_timeout_ms,
                "partition_assignment_strategy": (_ConnectAssignor(self),),
                "client_id": f"connect-{worker_id}",
            }
        )
        self._loop: asyncio.Task[None] | None = None

    def assigned(self, assignment: Assignment) -> None:
        self._on_assignment(assignment)

    async def start(self) -> None:
        await self._consumer.start()
        self._subscribe()
        self._loop = supervision.spawn(self._keep_alive(), "group-membership", on_failure=self._on_failure)

    def _subscribe(self) -> None:
        self._consumer.subscribe([self.config_topic], listener=_RebalanceStarts(self._on_rebalance))

    async def _keep_alive(self) -> None:
        """Fetching nothing keeps the client's poll clock running; heartbeats go in the background."""
        while True:
            try:
                await self._consumer.getmany(timeout_ms=1000)
            except Exception as exc:
                log.warning("group membership error; retrying", error=str(exc))
                await asyncio.sleep(1)

    def request_rebalance(self) -> None:
        """The leader saw connectors or tasks change: start a new round so they get owners.

        Subscribing again is the client's public way to make it rejoin the group (a new
        subscription has no assignment yet); the topic stays the same.
        """
        self._subscribe()

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
        await self._consumer.stop()  # leaving the group lets the others take over at once
