"""Builds and runs a worker in one of three modes: embedded, standalone or distributed.

Kept apart from HTTP so tests and the CLI can start the same service with other settings.
In the Kafka modes the REST server answers from the first moment: while Kafka cannot be
reached the worker keeps retrying with backoff and ``/readyz`` (and any write) says why.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog

from app import supervision
from app.config.parsing import split_list
from app.config.providers import ConfigProviders
from app.config.worker_plugins import load_worker_plugins
from app.herder.base import Herder
from app.herder.standalone import StandaloneHerder
from app.herder.validation import BadRequestError
from app.metrics import WorkerMetrics
from app.plugins.registry import PluginRegistry
from app.runtime.context import RuntimeContext
from app.runtime.worker import Worker
from app.settings import SettingsError, WorkerSettings
from app.storage import cluster_id
from app.storage.base import StatusStore, TopicTracker
from app.storage.file_offsets import FileOffsetStore
from app.storage.log_bus import LogBus
from app.storage.memory import MemoryConfigStore, MemoryLog, MemoryStatusStore, MemoryTopicTracker
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import EmbeddedLog
from app.storage.sqlite.stores import SqliteConfigStore, SqliteOffsetStore, SqliteTopicTracker
from connectors.sdk.errors import ConfigError
from connectors.sdk.filesystem import allow_paths

log = structlog.get_logger(__name__)
CONNECT_BACKOFF_MAX_S = 30.0
STATUS_DRAIN_S = 2.0
"""Longest a stopping worker waits for its last statuses to reach the status topic."""


class Mode(StrEnum):
    EMBEDDED = "embedded"
    STANDALONE = "standalone"
    DISTRIBUTED = "distributed"
    MEMORY = "memory"
    """Embedded, with every store in memory: nothing survives the process (tests, demos)."""


Closer = Callable[[], Awaitable[Any]]


@dataclass(slots=True)
class Service:
    settings: WorkerSettings
    mode: Mode
    herder: Herder
    connect: Callable[[Service], Awaitable[None]]
    """Opens the backend; retried with backoff until it succeeds (Kafka modes)."""
    closers: list[Closer] = field(default_factory=list)
    drain: Closer | None = None
    """Runs after the herder stopped and before background work is cancelled."""
    initial_connectors: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    on_fatal: Callable[[str], None] | None = None
    """Called when the worker must stop (a connector given on the command line was refused);
    the CLI shuts the server down and exits non-zero with ``reason``, as connect-standalone does.
    Unset: the refusal is logged and the worker goes on."""
    _background: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    async def open(
        cls,
        settings: WorkerSettings,
        registry: PluginRegistry | None = None,
        mode: Mode = Mode.EMBEDDED,
        connectors: list[tuple[str, dict[str, str]]] | None = None,
        providers: ConfigProviders | None = None,
    ) -> Service:
        """``providers``: the worker's config providers when the caller already built them
        (:func:`check_worker_settings` does, before the event loop starts)."""
        registry = registry or worker_registry(settings)
        providers = providers or load_worker_plugins(settings, registry)
        if mode is Mode.EMBEDDED:
            service = await _embedded(settings, registry, providers)
        elif mode is Mode.MEMORY:
            service = memory_service(settings, registry, providers=providers)
        elif mode is Mode.STANDALONE:
            service = _standalone(settings, registry, providers)
        else:
            service = _distributed(settings, registry, providers)
        service.initial_connectors = list(connectors or [])
        return service

    async def start(self) -> None:
        if self.mode in (Mode.EMBEDDED, Mode.MEMORY):
            await self.connect(self)
            await self.herder.start()
            log.info("worker started", mode=self.mode.value, connectors=len(self.herder.connector_names()))
        else:
            self.spawn(self._connect_with_backoff(), "connect")

    async def _connect_with_backoff(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.connect(self)
                break
            except Exception as exc:
                # A setting the cluster cannot meet (a replication factor above the broker count)
                # is not a connection problem: its message says what to change. It is retried
                # all the same, as brokers may still be registering while a cluster starts.
                if isinstance(exc, ConfigError):
                    hint = ""
                elif (
                    getattr(exc, "retriable", None) is False
                ):  # a Kafka error such as SaslAuthenticationFailed
                    hint = "; check the worker's security.protocol, sasl.* and ssl.* settings"
                else:
                    hint = "; check bootstrap.servers and that the brokers are up"
                reason = (
                    f"Cannot start on Kafka at {self.settings.bootstrap_servers}: "
                    f"{type(exc).__name__}: {str(exc).rstrip('.')}. "
                    f"Retrying in {delay:.0f}s{hint}."
                )
                self.herder.not_ready_reason = reason
                log.error("cannot start the worker yet", reason=reason)
                await asyncio.sleep(delay)
                delay = min(delay * 2, CONNECT_BACKOFF_MAX_S)
        if self.mode is Mode.STANDALONE:
            self.herder.not_ready_reason = None
        await self.herder.start()
        for name, config in self.initial_connectors:
            try:
                await self.herder.put_config(name, config)
            except (BadRequestError, ValueError) as exc:
                if self.on_fatal is None:
                    log.error("connector from the command line refused", connector=name, error=str(exc))
                    continue
                log.error("stopping after connector error", connector=name, error=str(exc))
                self.on_fatal(f"Connector {name} from the command line was refused: {exc}")
                return
        log.info("worker started", mode=self.mode.value, bootstrap_servers=self.settings.bootstrap_servers)

    @property
    def metrics(self) -> WorkerMetrics:
        return self.herder.ctx.metrics

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` in the background until the service closes; if it fails, the worker is
        no longer ready (``/readyz`` and every REST call say why) instead of limping on silently."""

        def failed(error: BaseException) -> None:
            self.herder.ready = False
            self.herder.not_ready_reason = f"The worker's {name} task failed: {type(error).__name__}: {error}"

        self._background.append(supervision.spawn(work, name, on_failure=failed))

    async def close(self) -> None:
        """Stop the work, tell the cluster (statuses, then leaving the groups), then disconnect.

        The order matters in distributed mode: the tasks commit what they have written while
        the worker is still a member, their last statuses (UNASSIGNED) are published before the
        status writer goes away, and only then does the worker leave its group, so the others
        take over from committed offsets and never list its tasks RUNNING after it is gone.
        """
        for task in self._background:
            if task.get_name() == "connect":
                await _cancel(task)
        await self.herder.stop()
        if self.drain is not None:
            try:
                await self.drain()
            except Exception:
                log.exception("publishing the last statuses failed")
        for task in self._background:
            await _cancel(task)
        await self.herder.ctx.providers.close()
        for close in reversed(self.closers):
            try:
                await close()
            except Exception:
                log.exception("closing failed")
        log.info("worker stopped")


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def worker_registry(settings: WorkerSettings) -> PluginRegistry:
    """The plugins installed in this environment plus those on ``plugin.path``."""
    return PluginRegistry(p.strip() for p in settings.plugin_path.split(","))


def check_worker_settings(settings: WorkerSettings, mode: Mode, registry: PluginRegistry) -> ConfigProviders:
    """Everything a worker cannot start without, checked before it starts (as Kafka Connect
    does): the mode's required keys, then the worker-wide converters and config providers.
    Raises SettingsError; returns the config providers, built once, for :meth:`Service.open`."""
    check_mode_settings(settings, mode)
    try:  # the folders file connectors may touch, for the whole process (one worker)
        allow_paths(split_list(settings.file_allowed_paths))
    except ConfigError as exc:
        raise SettingsError(
            f"Invalid value {settings.file_allowed_paths} for configuration file.allowed.paths: {exc}"
        ) from None
    return load_worker_plugins(settings, registry)


def check_mode_settings(settings: WorkerSettings, mode: Mode) -> None:
    """Settings a mode cannot start without, named the way Kafka Connect names them."""
    if mode is not Mode.DISTRIBUTED:
        return
    missing = [
        key
        for key, value in (
            ("group.id", settings.group_id),
            ("config.storage.topic", settings.config_storage_topic),
            ("offset.storage.topic", settings.offset_storage_topic),
            ("status.storage.topic", settings.status_storage_topic),
        )
        if not value
    ]
    if missing:
        raise SettingsError(
            "Missing required configuration "
            + ", ".join(f'"{k}"' for k in missing)
            + " which has no default value"
        )


def _context(
    settings: WorkerSettings,
    registry: PluginRegistry,
    providers: ConfigProviders,
    bus: Any,
    offsets: Any,
    statuses: StatusStore,
    topics: TopicTracker,
    metrics: WorkerMetrics,
) -> RuntimeContext:
    return RuntimeContext(
        settings=settings,
        registry=registry,
        bus=bus,
        offsets=offsets,
        topics=topics,
        statuses=statuses,
        worker_id=settings.worker_id,
        on_failure=lambda *_: None,
        metrics=metrics,
        providers=providers,
    )


async def _embedded(
    settings: WorkerSettings, registry: PluginRegistry, providers: ConfigProviders
) -> Service:
    data_dir = settings.data_dir.expanduser().resolve()
    db = Database(data_dir / "penstock.db")
    await db.open()
    topic_log = EmbeddedLog(
        db,
        default_partitions=settings.num_partitions,
        auto_create=settings.auto_create_topics_enable,
        max_lag=settings.log_max_lag_records,
    )
    await topic_log.open()
    configs = SqliteConfigStore(db)
    await configs.open()
    topics = SqliteTopicTracker(db)
    await topics.open()
    bus = LogBus(topic_log, settings.consumer_max_poll_records)
    metrics = WorkerMetrics(settings.worker_id)
    ctx = _context(
        settings, registry, providers, bus, SqliteOffsetStore(db), MemoryStatusStore(metrics), topics, metrics
    )
    herder = StandaloneHerder(ctx, configs, Worker(ctx))
    herder.kafka_cluster_id = cluster_id.load_or_create(data_dir)

    async def retention() -> None:
        interval = settings.log_retention_check_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                removed = await topic_log.enforce_retention(
                    settings.log_retention_ms, settings.log_retention_unread_max_records
                )
                if removed:
                    log.info("retention removed old records", records=removed)
            except Exception:
                log.exception("retention check failed")

    async def connect(service: Service) -> None:
        service.spawn(retention(), "log-retention")

    return Service(settings, Mode.EMBEDDED, herder, connect, closers=[db.close])


def memory_service(
    settings: WorkerSettings,
    registry: PluginRegistry,
    log: MemoryLog | None = None,
    providers: ConfigProviders | None = None,
) -> Service:
    """The embedded worker on the in-memory backend; ``log`` lets a test choose its writer."""
    topic_log = log or MemoryLog(
        default_partitions=settings.num_partitions,
        auto_create=settings.auto_create_topics_enable,
        max_lag=settings.log_max_lag_records,
    )
    bus = LogBus(topic_log, settings.consumer_max_poll_records)
    metrics = WorkerMetrics(settings.worker_id)
    ctx = _context(
        settings,
        registry,
        providers or load_worker_plugins(settings, registry),
        bus,
        topic_log.offsets,
        MemoryStatusStore(metrics),
        MemoryTopicTracker(),
        metrics,
    )

    async def connect(_: Service) -> None:
        return None

    herder = StandaloneHerder(ctx, MemoryConfigStore(), Worker(ctx))
    herder.kafka_cluster_id = cluster_id.new_cluster_id()  # nothing survives the process, nor does the id
    return Service(settings, Mode.MEMORY, herder, connect)


def _standalone(settings: WorkerSettings, registry: PluginRegistry, providers: ConfigProviders) -> Service:
    from app.kafka.bus import KafkaBus

    bus = KafkaBus(settings)
    offsets = FileOffsetStore(settings.offset_storage_file_filename.expanduser())
    metrics = WorkerMetrics(settings.worker_id)
    ctx = _context(
        settings, registry, providers, bus, offsets, MemoryStatusStore(metrics), MemoryTopicTracker(), metrics
    )
    herder = StandaloneHerder(ctx, MemoryConfigStore(), Worker(ctx))
    herder.not_ready_reason = f"Connecting to Kafka at {settings.bootstrap_servers}"

    async def connect(_: Service) -> None:
        await offsets.open()
        await bus.start()
        herder.kafka_cluster_id = await bus.cluster_id()

    return Service(settings, Mode.STANDALONE, herder, connect, closers=[bus.close])


def _distributed(settings: WorkerSettings, registry: PluginRegistry, providers: ConfigProviders) -> Service:
    from app.herder.distributed import JOINING, DistributedHerder
    from app.kafka.bus import KafkaBus
    from app.kafka.compacted_topic import CompactedTopic
    from app.kafka.membership import GroupMembership
    from app.kafka.stores import KafkaConfigStore, KafkaOffsetStore, KafkaStatusStore, encode_offset

    check_mode_settings(settings, Mode.DISTRIBUTED)
    assert settings.config_storage_topic and settings.offset_storage_topic and settings.status_storage_topic
    bus = KafkaBus(settings)
    metrics = WorkerMetrics(settings.worker_id)
    configs, offsets, statuses = KafkaConfigStore(), KafkaOffsetStore(), KafkaStatusStore(metrics)
    ctx = _context(settings, registry, providers, bus, offsets, statuses, MemoryTopicTracker(), metrics)
    url = settings.advertised_url
    herder = DistributedHerder(ctx, configs, Worker(ctx), url)
    configs.listener = herder.on_config
    topics = {
        "offsets": CompactedTopic(
            bus,
            settings.offset_storage_topic,
            settings.offset_storage_partitions,
            settings.offset_storage_replication_factor,
            offsets.on_record,
            "offset.storage.replication.factor",
        ),
        "status": CompactedTopic(
            bus,
            settings.status_storage_topic,
            settings.status_storage_partitions,
            settings.status_storage_replication_factor,
            statuses.on_record,
            "status.storage.replication.factor",
        ),
        "config": CompactedTopic(
            bus,
            settings.config_storage_topic,
            1,
            settings.config_storage_replication_factor,
            configs.on_record,
            "config.storage.replication.factor",
        ),
    }
    offsets.topic, statuses.topic, configs.topic = topics["offsets"], topics["status"], topics["config"]
    membership = GroupMembership(
        settings,
        settings.worker_id,
        url,
        settings.config_storage_topic,
        herder.current_load,
        herder.plan,
        herder.on_assignment,
        herder.on_rebalance,
    )
    outbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    statuses.publish = lambda key, value: outbox.put_nowait((key, value))

    async def publish_statuses() -> None:
        import orjson

        while True:
            key, value = await outbox.get()
            try:
                await topics["status"].send(key.encode(), None if value is None else orjson.dumps(value))
            except Exception as exc:
                log.warning("status not published", key=key, error=str(exc))
                statuses.not_published(key)
            finally:
                outbox.task_done()

    async def drain_statuses() -> None:
        if topics["status"].started:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(STATUS_DRAIN_S):
                    await outbox.join()

    async def connect(service: Service) -> None:
        await bus.start()
        herder.kafka_cluster_id = await bus.cluster_id()
        for topic in topics.values():
            await topic.start()
        service.spawn(publish_statuses(), "status-publisher")
        if settings.exactly_once_source_support == "enabled":
            bus.exactly_once = (settings.offset_storage_topic or "", encode_offset, offsets.offsets.apply)
        herder.membership = membership
        herder.not_ready_reason = JOINING  # requests wait for the group again, not fail with the last error
        await membership.start()

    closers: list[Closer] = [bus.close, *(t.close for t in topics.values()), membership.close]
    return Service(settings, Mode.DISTRIBUTED, herder, connect, closers, drain=drain_statuses)
