"""Builds and runs the embedded service: storage, plugin registry, worker and herder.

Kept apart from HTTP so tests and the CLI can start the same service with other settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import structlog

from app.herder.herder import Herder
from app.plugins.registry import PluginRegistry
from app.runtime.context import RuntimeContext
from app.runtime.status import StatusStore
from app.runtime.worker import Worker
from app.settings import WorkerSettings
from app.storage.sqlite.consumer import GroupCoordinator
from app.storage.sqlite.database import Database
from app.storage.sqlite.log import EmbeddedLog
from app.storage.sqlite.stores import ConfigStore, OffsetStore, TopicTracker

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Service:
    settings: WorkerSettings
    db: Database
    log: EmbeddedLog
    herder: Herder
    _retention: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, settings: WorkerSettings, registry: PluginRegistry | None = None) -> Service:
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
        configs = ConfigStore(db)
        await configs.open()
        topics = TopicTracker(db)
        await topics.open()
        ctx = RuntimeContext(
            settings=settings,
            registry=registry or PluginRegistry(p.strip() for p in settings.plugin_path.split(",")),
            log=topic_log,
            groups=GroupCoordinator(topic_log),
            offsets=OffsetStore(db),
            topics=topics,
            statuses=StatusStore(),
            worker_id=settings.worker_id,
            on_failure=lambda *_: None,
        )
        herder = Herder(ctx, configs, Worker(ctx))
        return cls(settings, db, topic_log, herder)

    async def start(self) -> None:
        await self.herder.start()
        self._retention = asyncio.create_task(self._retention_loop(), name="log-retention")
        log.info(
            "worker started", data_dir=str(self.db.path.parent), connectors=len(self.herder.connector_names())
        )

    async def _retention_loop(self) -> None:
        interval = self.settings.log_retention_check_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                removed = await self.log.enforce_retention(self.settings.log_retention_ms)
                if removed:
                    log.info("retention removed old records", records=removed)
            except Exception:
                log.exception("retention check failed")

    async def close(self) -> None:
        if self._retention is not None:
            self._retention.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention
        await self.herder.stop()
        await self.db.close()
        log.info("worker stopped")
