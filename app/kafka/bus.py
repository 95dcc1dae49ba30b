"""The data bus on Kafka: one shared producer, per-task transactional producers, sink consumers.

Kafka errors the client marks retriable (broker restarting, leader moving, timeouts) become
``RetriableError`` so the task fails with a cause the automatic restart policy retries; the
others (authorization, invalid topic) fail the task with Kafka's own message. A replication
factor above the broker count is a ``ConfigError`` that names the brokers and the setting to
change (a connector's ``topic.creation.*`` key, or a worker's ``*.storage.replication.factor``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code
from aiokafka.structs import OffsetAndMetadata
from aiokafka.structs import TopicPartition as KafkaTopicPartition

from app.kafka.client_config import client_kwargs, start_client
from app.kafka.consumer import KafkaSinkConsumer
from app.kafka.produce import send_all
from app.kafka.replication import INVALID_REPLICATION_FACTOR, replication_factor_message
from app.settings import WorkerSettings
from app.storage.base import Delivered, ProducerRecord, SinkConsumer, SourceOffsetWrite, Subscription
from connectors.sdk.errors import ConfigError, ConnectError, RetriableError
from connectors.sdk.records import TopicPartition

log = structlog.get_logger(__name__)
T = TypeVar("T")

OffsetEncoder = Callable[[SourceOffsetWrite], tuple[bytes, bytes | None]]
OffsetsWritten = Callable[[Sequence[SourceOffsetWrite]], None]
TOPIC_ALREADY_EXISTS = 36


async def kafka_call(what: str, call: Awaitable[T]) -> T:
    """Await a client call, turning Kafka's errors into Connect's retriable/fatal split."""
    try:
        return await call
    except KafkaError as exc:
        message = f"{what} failed: {type(exc).__name__}: {exc}"
        if getattr(exc, "retriable", False) or exc.__class__.__name__ in (
            "KafkaConnectionError",
            "KafkaTimeoutError",
        ):
            raise RetriableError(message) from exc
        raise ConnectError(message) from exc


PRODUCER_BATCH_SIZE = 262_144
"""Penstock's default ``batch.size`` (Kafka's: 16,384). aiokafka has one request in flight per
broker and puts one batch per partition in it, where the Java client keeps up to five in flight:
with 16 KB batches a partition moved about 95,000 records/s of 100 B on the benchmark machine,
with 256 KB 180,000 (docs/benchmarks.md). Memory stays bounded by the batches in flight."""


def producer_defaults(settings: WorkerSettings, config: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Kafka Connect's producer defaults (acks=all, idempotent), under the user's own settings."""
    kwargs: dict[str, Any] = {
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "max_batch_size": PRODUCER_BATCH_SIZE,
    }
    kwargs.update(client_kwargs(settings, "producer", config))
    return kwargs


def _new_topic(name: str, partitions: int, replication_factor: int, config: dict[str, str]) -> NewTopic:
    """A NewTopic that may leave partitions/replication to the broker (-1, Kafka 2.4+).

    aiokafka's constructor rejects -1 without an explicit replica assignment, so the values
    are set after construction; the broker accepts them.
    """
    topic = NewTopic(name, 1, 1, topic_configs=config)
    topic.num_partitions, topic.replication_factor = partitions, replication_factor
    return topic


class _SharedWriter:
    """At-least-once: records go through the worker's producer; the runner flushes offsets."""

    atomic_offsets = False

    def __init__(self, producer: AIOKafkaProducer, owned: bool) -> None:
        self._producer = producer
        self._owned = owned

    async def send_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite] = ()
    ) -> Sequence[Delivered]:
        return await kafka_call("Producing records", send_all(self._producer, records))

    async def close(self) -> None:
        if self._owned:
            await self._producer.stop()


class TransactionalWriter:
    """Exactly-once: each batch (or each ``transaction.boundary.interval.ms``) is one transaction
    holding the records and the source offsets written to the offsets topic.

    The transactional id is ``<group.id>-<connector>-<task>`` as in Kafka Connect, so a task
    restarted anywhere in the cluster fences the producer of its previous incarnation.
    """

    atomic_offsets = True

    def __init__(
        self,
        producer: AIOKafkaProducer,
        offsets_topic: str,
        encode: OffsetEncoder,
        written: OffsetsWritten,
        interval_s: float | None,
        client_settings: Mapping[str, Any] | None = None,
    ) -> None:
        self._producer = producer
        self._client_settings = client_settings or {}
        self._offsets_topic = offsets_topic
        self._encode = encode
        self._written = written
        self._interval_s = interval_s
        self._open_since: float | None = None
        self._pending: list[SourceOffsetWrite] = []

    async def start(self) -> None:
        await kafka_call(
            "Starting the transactional producer", start_client(self._producer, self._client_settings)
        )

    async def send_batch(
        self, records: Sequence[ProducerRecord], offsets: Sequence[SourceOffsetWrite] = ()
    ) -> Sequence[Delivered]:
        if self._open_since is None:
            await kafka_call("Beginning a transaction", self._producer.begin_transaction())
            self._open_since = time.monotonic()
        try:
            delivered = await send_all(self._producer, records)
            for offset in offsets:
                key, value = self._encode(offset)
                await self._producer.send(self._offsets_topic, value, key=key)  # acked by the commit
        except BaseException:
            await self._abort()
            raise
        self._pending.extend(offsets)
        if self._interval_s is None or time.monotonic() - self._open_since >= self._interval_s:
            await self._commit()
        return delivered

    async def _commit(self) -> None:
        try:
            await kafka_call("Committing the transaction", self._producer.commit_transaction())
        except BaseException:
            await self._abort()
            raise
        self._open_since = None
        self._written(self._pending)
        self._pending = []

    async def _abort(self) -> None:
        if self._open_since is not None:
            self._open_since, self._pending = None, []
            try:
                await self._producer.abort_transaction()
            except KafkaError as exc:
                log.warning("aborting the transaction failed", error=str(exc))

    async def close(self) -> None:
        try:
            if self._open_since is not None:
                await self._commit()
        finally:
            await self._producer.stop()


class KafkaBus:
    def __init__(self, settings: WorkerSettings) -> None:
        self.settings = settings
        self._admin_kwargs = client_kwargs(settings, "admin")
        self.admin = AIOKafkaAdminClient(**self._admin_kwargs)
        self.producer: AIOKafkaProducer | None = None
        self._admin_started = False
        self._known_topics: set[str] = set()
        self.exactly_once: tuple[str, OffsetEncoder, OffsetsWritten] | None = None
        """(offsets topic, encoder, callback) once distributed mode enables exactly-once sources."""

    async def start(self) -> None:
        """Connect the admin client and the shared producer; safe to call again after a failure."""
        if not self._admin_started:
            await start_client(self.admin, self._admin_kwargs)
            self._admin_started = True
        if self.producer is None:
            kwargs = producer_defaults(self.settings)
            producer = AIOKafkaProducer(**kwargs)
            try:
                await start_client(producer, kwargs)
            except BaseException:
                await producer.stop()
                raise
            self.producer = producer

    async def cluster_id(self) -> str | None:
        """The Kafka cluster's id (``GET /`` reports it, as Kafka Connect does)."""
        metadata = await kafka_call("Describing the Kafka cluster", self.admin.describe_cluster())
        cluster_id = metadata.get("cluster_id")
        return str(cluster_id) if cluster_id else None

    async def close(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
        if self._admin_started:
            await self.admin.close()

    # -- sources ----------------------------------------------------------------------------
    async def source_writer(
        self, task_id: str, config: Mapping[str, str]
    ) -> _SharedWriter | TransactionalWriter:
        overrides = any(k.startswith("producer.override.") for k in config)
        if self.exactly_once is not None:
            topic, encode, written = self.exactly_once
            kwargs = producer_defaults(self.settings, config)
            kwargs["transactional_id"] = f"{self.settings.group_id}-{task_id}"
            interval = None
            if config.get("transaction.boundary", "poll").strip().lower() == "interval":
                interval = (
                    int(
                        config.get("transaction.boundary.interval.ms")
                        or self.settings.offset_flush_interval_ms
                    )
                    / 1000
                )
            writer = TransactionalWriter(
                AIOKafkaProducer(**kwargs),
                config.get("offsets.storage.topic") or topic,
                encode,
                written,
                interval,
                kwargs,
            )
            await writer.start()
            return writer
        if overrides:
            kwargs = producer_defaults(self.settings, config)
            producer = AIOKafkaProducer(**kwargs)
            await kafka_call("Starting the producer", start_client(producer, kwargs))
            return _SharedWriter(producer, owned=True)
        assert self.producer is not None
        return _SharedWriter(self.producer, owned=False)

    async def send_batch(self, records: Sequence[ProducerRecord]) -> Sequence[Delivered]:
        assert self.producer is not None
        return await kafka_call("Producing records", send_all(self.producer, records))

    async def ensure_topic(
        self,
        name: str,
        partitions: int | None = None,
        replication_factor: int | None = None,
        config: Mapping[str, str] | None = None,
        replication_setting: str | None = None,
    ) -> None:
        """Create a missing topic: with KIP-158 settings when given, else with the broker's defaults."""
        if name in self._known_topics:
            return
        existing = await kafka_call("Listing topics", self.admin.list_topics())
        if name not in existing:
            default = (
                self.settings.num_partitions if "num_partitions" in self.settings.model_fields_set else -1
            )
            await self.create_topic(
                name,
                partitions or default,
                replication_factor or -1,
                dict(config or {}),
                replication_setting=replication_setting,
            )
        self._known_topics.add(name)

    async def create_topic(
        self,
        name: str,
        partitions: int,
        replication_factor: int,
        config: dict[str, str],
        *,
        replication_setting: str | None = None,
    ) -> bool:
        """False if the topic existed already; Kafka's reason (authorization, policy) otherwise.

        A replication factor the cluster cannot meet is a ``ConfigError`` naming the broker count
        and ``replication_setting``, the key that asked for it (None: the broker's default)."""
        response = await kafka_call(
            f"Creating topic {name}",
            self.admin.create_topics([_new_topic(name, partitions, replication_factor, config)]),
        )
        for topic_error in response.topic_errors:
            code, message = topic_error[1], topic_error[2] if len(topic_error) > 2 else None
            if code == TOPIC_ALREADY_EXISTS:
                return False
            if code == INVALID_REPLICATION_FACTOR:
                brokers = await self._broker_count()
                raise ConfigError(
                    replication_factor_message(
                        name, replication_factor, brokers, replication_setting, message
                    )
                )
            if code:
                error = for_code(code)
                raise ConnectError(
                    f"Kafka refused to create topic {name}: {error.__name__}: {message or error.description}"
                )
        log.info("created topic", topic=name, partitions=partitions, replication_factor=replication_factor)
        return True

    async def _broker_count(self) -> int | None:
        """The brokers the cluster has registered, for an error message (None if unknown)."""
        try:
            cluster = await self.admin.describe_cluster()
        except Exception as exc:
            log.warning("cannot count the brokers", error=str(exc))
            return None
        return len(cluster.get("brokers") or []) or None

    # -- sinks ------------------------------------------------------------------------------
    def sink_consumer(
        self, group: str, member: str, subscription: Subscription, config: Mapping[str, str]
    ) -> SinkConsumer:
        return KafkaSinkConsumer(self.settings, group, member, subscription, config, self.ensure_topic)

    async def group_offsets(self, group: str) -> dict[TopicPartition, int]:
        stored = await kafka_call(
            f"Reading offsets of group {group}", self.admin.list_consumer_group_offsets(group)
        )
        return {
            TopicPartition(tp.topic, tp.partition): meta.offset
            for tp, meta in stored.items()
            if meta.offset >= 0
        }

    async def commit_group(self, group: str, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit as a group-less member (allowed while the group has no active members)."""
        consumer = AIOKafkaConsumer(
            **{**client_kwargs(self.settings, "consumer"), "group_id": group, "enable_auto_commit": False}
        )
        await kafka_call("Connecting", consumer.start())
        try:
            await kafka_call(
                f"Committing offsets of group {group}",
                consumer.commit(
                    {
                        KafkaTopicPartition(tp.topic, tp.partition): OffsetAndMetadata(off, "")
                        for tp, off in offsets.items()
                    }
                ),
            )
        finally:
            await consumer.stop()

    async def delete_group_offsets(
        self, group: str, partitions: Iterable[TopicPartition] | None = None
    ) -> None:
        """Kafka's OffsetDelete is not in the client: rewind the partitions to their earliest offset instead."""
        chosen = list(partitions) if partitions is not None else list(await self.group_offsets(group))
        if not chosen:
            return
        consumer = AIOKafkaConsumer(**client_kwargs(self.settings, "consumer"))
        await kafka_call("Connecting", consumer.start())
        try:
            earliest = await kafka_call(
                "Reading earliest offsets",
                consumer.beginning_offsets([KafkaTopicPartition(tp.topic, tp.partition) for tp in chosen]),
            )
        finally:
            await consumer.stop()
        await self.commit_group(
            group, {TopicPartition(tp.topic, tp.partition): off for tp, off in earliest.items()}
        )

    async def group_active(self, group: str) -> bool:
        responses = await kafka_call(
            f"Describing group {group}", self.admin.describe_consumer_groups([group])
        )
        for response in responses:
            for described in response.groups:
                members = described[5] if len(described) > 5 else []
                if members:
                    return True
        return False
