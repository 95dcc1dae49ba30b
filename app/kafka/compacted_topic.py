"""A compacted topic every worker reads from the beginning and keeps following.

This is Kafka Connect's ``KafkaBasedLog``, the engine of distributed mode: configs, source
offsets and statuses are records in three such topics, and each worker's view of them is
what it has read. ``read_to_end`` waits until everything written before the call is applied,
which is how a write is known to be visible before a REST call answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition as KafkaTopicPartition

from app import supervision
from app.kafka.bus import KafkaBus, kafka_call
from app.kafka.client_config import client_kwargs
from connectors.sdk.errors import ConnectError

log = structlog.get_logger(__name__)

RecordHandler = Callable[[bytes | None, bytes | None], None]


class CompactedTopic:
    def __init__(
        self,
        bus: KafkaBus,
        topic: str,
        partitions: int,
        replication_factor: int,
        on_record: RecordHandler,
        replication_setting: str | None = None,
    ) -> None:
        self._bus = bus
        self.topic = topic
        self._partitions = partitions
        self._replication = replication_factor
        self._replication_setting = replication_setting
        """The worker setting that gave ``replication_factor``, named if the cluster cannot meet it."""
        self._on_record = on_record
        settings = bus.settings
        self._consumer = AIOKafkaConsumer(
            **{**client_kwargs(settings, "consumer"), "group_id": None, "enable_auto_commit": False},
            isolation_level="read_committed",
        )
        self._producer = AIOKafkaProducer(
            **{**client_kwargs(settings, "producer"), "acks": "all", "enable_idempotence": True}
        )
        self._assigned: list[KafkaTopicPartition] = []
        self._positions: dict[KafkaTopicPartition, int] = {}
        self._progress = asyncio.Condition()
        self._follower: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self._clients_started = False

    @property
    def started(self) -> bool:
        return self._follower is not None

    async def start(self) -> None:
        """Create the topic if missing, read it to the end, keep following; safe to call again."""
        if self._follower is not None:
            return
        await self._bus.create_topic(
            self.topic,
            self._partitions,
            self._replication,
            {"cleanup.policy": "compact"},
            replication_setting=self._replication_setting,
        )
        if not self._clients_started:
            await kafka_call(f"Reading {self.topic}", self._consumer.start())
            await kafka_call(f"Writing {self.topic}", self._producer.start())
            self._clients_started = True
        partitions = self._consumer.partitions_for_topic(self.topic)
        if not partitions:
            partitions = set(range(self._partitions))
        self._assigned = [KafkaTopicPartition(self.topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._assigned)
        await self._consumer.seek_to_beginning(*self._assigned)
        self._follower = supervision.spawn(self._follow(), f"follow-{self.topic}", on_failure=self._failed)
        await self.read_to_end()

    async def _follow(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=500)
            except Exception as exc:  # a broker restart: the client reconnects by itself
                log.warning("reading an internal topic failed; retrying", topic=self.topic, error=str(exc))
                await asyncio.sleep(1)
                continue
            for tp, records in batches.items():
                for record in records:
                    try:
                        self._on_record(record.key, record.value)
                    except Exception:
                        log.exception(
                            "bad record in an internal topic skipped", topic=self.topic, offset=record.offset
                        )
                if records:
                    self._positions[tp] = records[-1].offset + 1
            async with self._progress:
                for tp in self._assigned:
                    self._positions[tp] = max(self._positions.get(tp, 0), await self._consumer.position(tp))
                self._progress.notify_all()

    def _failed(self, error: BaseException) -> None:
        """The follower stopped for good: wake readers so they raise instead of waiting forever."""
        self._error = error

        async def wake() -> None:
            async with self._progress:
                self._progress.notify_all()

        supervision.spawn(wake(), f"wake-{self.topic}")

    async def read_to_end(self, timeout: float = 60) -> None:
        ends = await kafka_call(f"Reading {self.topic}", self._consumer.end_offsets(self._assigned))
        async with asyncio.timeout(timeout), self._progress:
            await self._progress.wait_for(
                lambda: (
                    self._error is not None
                    or all(self._positions.get(tp, 0) >= end for tp, end in ends.items())
                )
            )
        if self._error is not None:
            raise ConnectError(f"Reading {self.topic} stopped: {self._error!r}") from self._error

    async def send(self, key: bytes, value: bytes | None) -> None:
        """Write one record and wait until the broker has it (not until it has been read back)."""
        await self.send_all([(key, value)])

    async def send_all(self, records: Sequence[tuple[bytes, bytes | None]]) -> None:
        """Write records in order, in as few requests as the producer batches them into."""
        futures = [
            await kafka_call(f"Writing {self.topic}", self._producer.send(self.topic, value, key=key))
            for key, value in records
        ]
        await kafka_call(f"Writing {self.topic}", asyncio.gather(*futures))

    async def close(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await self._producer.stop()
        await self._consumer.stop()
