"""What the PostgreSQL task tells its users: snapshot progress, WAL held by the slot, heartbeats.

Status details (``GET /connectors/{c}/status``, ``tasks[i].details``) and gauges (``/metrics``,
``connector_postgres_*`` labelled with connector and task):

* ``phase``: ``snapshot`` while the initial snapshot runs, then ``streaming`` (``done`` after an
  ``initial_only`` snapshot).
* During the snapshot: ``snapshot_table`` (the table being read), ``snapshot_rows_done``,
  ``snapshot_rows_total`` (exact for small tables, ``pg_class.reltuples`` for big ones; absent
  when unknown), ``snapshot_rows_per_second``, ``snapshot_eta_seconds``, ``snapshot_tables_done``
  and ``snapshot_tables_total``; all removed once the snapshot is complete.
* ``wal_retained_bytes`` (``pg_current_wal_lsn()`` minus the slot's ``confirmed_flush_lsn``: the
  WAL the connector has not confirmed yet) and ``confirmed_lsn``, read on the task's normal
  connection every ``status.update.interval.ms``.

Heartbeats (Debezium's ``heartbeat.interval.ms``): a record on ``__debezium-heartbeat.<topic.prefix>``
(``topic.heartbeat.prefix``, or ``topic.heartbeat.name``) with key
``io.debezium.connector.common.ServerNameKey {serverName}`` and value
``io.debezium.connector.common.Heartbeat {ts_ms}``, carrying the task's current source offset.
"""

from __future__ import annotations

import time
from typing import Any, Final

from connectors.postgres.config import PostgresConfig
from connectors.postgres.lsn import format_lsn
from connectors.postgres.snapshot import Progress
from connectors.sdk import SourceRecord, SourceTaskContext, Struct
from connectors.sdk.schema_builder import SchemaBuilder

__all__ = [
    "HEARTBEAT_KEY_SCHEMA",
    "HEARTBEAT_VALUE_SCHEMA",
    "WAL_QUERY",
    "TaskReporter",
    "heartbeat_record",
]

HEARTBEAT_KEY_SCHEMA: Final = (
    SchemaBuilder.struct()
    .name("io.debezium.connector.common.ServerNameKey")
    .version(1)
    .field("serverName", SchemaBuilder.string())
    .build()
)
HEARTBEAT_VALUE_SCHEMA: Final = (
    SchemaBuilder.struct()
    .name("io.debezium.connector.common.Heartbeat")
    .version(1)
    .field("ts_ms", SchemaBuilder.int64())
    .build()
)

WAL_QUERY: Final = (
    "SELECT confirmed_flush_lsn::text AS confirmed, "
    "pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
    "ELSE pg_current_wal_lsn() END, confirmed_flush_lsn)::bigint AS retained "
    "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1"
)
"""The slot's confirmed position and the WAL written since (``$1``: the slot name)."""

_SNAPSHOT_EVERY_S: Final = 0.25
_SNAPSHOT_FIELDS: Final = (
    "snapshot_table",
    "snapshot_rows_done",
    "snapshot_rows_total",
    "snapshot_rows_per_second",
    "snapshot_eta_seconds",
    "snapshot_tables_done",
    "snapshot_tables_total",
)


def heartbeat_record(
    config: PostgresConfig, offset: dict[str, Any], now_ms: int | None = None
) -> SourceRecord:
    """Debezium's heartbeat: the server name as key, the time as value, the current offset."""
    return SourceRecord(
        topic=config.heartbeat_topic,
        partition=0,
        key=Struct(HEARTBEAT_KEY_SCHEMA, {"serverName": config.topic_prefix}),
        key_schema=HEARTBEAT_KEY_SCHEMA,
        value=Struct(
            HEARTBEAT_VALUE_SCHEMA, {"ts_ms": int(time.time() * 1000) if now_ms is None else now_ms}
        ),
        value_schema=HEARTBEAT_VALUE_SCHEMA,
        source_partition=config.source_partition,
        source_offset=dict(offset),
    )


class TaskReporter:
    """Status details and gauges of one task (see the module doc); cheap to call per batch."""

    def __init__(self, context: SourceTaskContext) -> None:
        self.details = context.details
        metrics = context.metrics
        self.running = metrics.gauge("postgres_snapshot_running", "1 while the initial snapshot runs")
        self.rows_done = metrics.gauge("postgres_snapshot_rows_done", "Rows read by the snapshot so far")
        self.rows_total = metrics.gauge(
            "postgres_snapshot_rows_total", "Rows the snapshot will read (estimated for big tables)"
        )
        self.rate = metrics.gauge("postgres_snapshot_rows_per_second", "Snapshot rows read per second")
        self.eta = metrics.gauge("postgres_snapshot_eta_seconds", "Estimated seconds until the snapshot ends")
        self.wal = metrics.gauge(
            "postgres_wal_retained_bytes",
            "WAL written since the replication slot's confirmed_flush_lsn (bytes the slot holds back)",
        )
        self._last_snapshot = 0.0

    def phase(self, phase: str) -> None:
        self.details.set(phase=phase)

    def snapshot(self, progress: Progress, *, force: bool = False, phase: str = "snapshot") -> None:
        """Snapshot progress, at most four times a second unless ``force``; ``phase`` is
        ``incremental_snapshot`` for tables added while streaming."""
        now = time.monotonic()
        if not force and now - self._last_snapshot < _SNAPSHOT_EVERY_S:
            return
        self._last_snapshot = now
        done, total = progress.rows_done, progress.rows_total
        rate, eta = progress.rows_per_second(now), progress.eta_seconds(now)
        self.details.set(
            phase=phase,
            snapshot_table=progress.current,
            snapshot_rows_done=done,
            snapshot_rows_total=total,
            snapshot_rows_per_second=round(rate, 1),
            snapshot_eta_seconds=None if eta is None else round(eta, 1),
            snapshot_tables_done=progress.tables_done,
            snapshot_tables_total=len(progress.tables),
        )
        self.running.set(1)
        self.rows_done.set(done)
        if total is not None:
            self.rows_total.set(total)
        self.rate.set(rate)
        if eta is not None:
            self.eta.set(eta)

    def snapshot_done(self, phase: str = "streaming") -> None:
        self.details.set(phase=phase, **dict.fromkeys(_SNAPSHOT_FIELDS))
        self.running.set(0)
        self.eta.set(0)

    def wal_retained(self, confirmed_lsn: int | None, retained: int | None) -> None:
        self.details.set(
            confirmed_lsn=None if confirmed_lsn is None else format_lsn(confirmed_lsn),
            wal_retained_bytes=retained,
        )
        if retained is not None:
            self.wal.set(retained)
