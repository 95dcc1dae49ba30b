"""Status details, gauges and heartbeat records of the PostgreSQL task (no server needed)."""

from __future__ import annotations

import time
from typing import Any

from connectors.postgres.config import PostgresConfig
from connectors.postgres.progress import TaskReporter, heartbeat_record
from connectors.postgres.snapshot import Progress, TableProgress
from connectors.sdk import SourceTaskContext, StatusDetails


class _Gauge:
    def __init__(self) -> None:
        self.value: float | None = None

    def set(self, value: float, **labels: str) -> None:
        self.value = value

    def inc(self, amount: float = 1, **labels: str) -> None:
        self.value = (self.value or 0) + amount


class _Metrics:
    def __init__(self) -> None:
        self.gauges: dict[str, _Gauge] = {}

    def gauge(self, name: str, documentation: str, labels: Any = ()) -> _Gauge:
        return self.gauges.setdefault(name, _Gauge())

    def counter(self, name: str, documentation: str, labels: Any = ()) -> _Gauge:
        return self.gauges.setdefault(name, _Gauge())


class _Offsets:
    async def offset(self, partition: dict[str, Any]) -> dict[str, Any] | None:
        return None


def _config(**extra: str) -> PostgresConfig:
    return PostgresConfig.model_validate(
        {
            "database.hostname": "localhost",
            "database.user": "postgres",
            "database.dbname": "db",
            "topic.prefix": "dbserver1",
            **extra,
        }
    )


def test_snapshot_progress_then_streaming_clears_the_snapshot_fields() -> None:
    metrics = _Metrics()
    context = SourceTaskContext(_Offsets(), metrics=metrics, details=StatusDetails())  # type: ignore[arg-type]
    report = TaskReporter(context)
    progress = Progress(started=time.monotonic() - 10)
    progress.tables = {
        "s.a": TableProgress("s.a", 100, done=100, finished=True),
        "s.b": TableProgress("s.b", 300, 50),
    }
    progress.current = "s.b"
    report.snapshot(progress, force=True)
    d = context.details.values
    assert d["phase"] == "snapshot" and d["snapshot_table"] == "s.b"
    assert (d["snapshot_rows_done"], d["snapshot_rows_total"]) == (150, 400)
    assert (d["snapshot_tables_done"], d["snapshot_tables_total"]) == (1, 2)
    assert d["snapshot_eta_seconds"] >= 0 and d["snapshot_rows_per_second"] > 0
    assert metrics.gauges["postgres_snapshot_rows_done"].value == 150
    assert metrics.gauges["postgres_snapshot_running"].value == 1
    report.snapshot(progress)  # within a quarter second: not reported again
    report.snapshot_done()
    report.wal_retained(0x1_0000_0010, 4096)
    assert context.details.values == {
        "phase": "streaming",
        "confirmed_lsn": "1/10",
        "wal_retained_bytes": 4096,
    }
    assert metrics.gauges["postgres_snapshot_running"].value == 0
    assert metrics.gauges["postgres_wal_retained_bytes"].value == 4096


def test_heartbeat_record_is_debeziums() -> None:
    offset = {"lsn": 123, "lsn_commit": 100, "txId": 7}
    record = heartbeat_record(_config(), offset, now_ms=1_700_000_000_000)
    assert record.topic == "__debezium-heartbeat.dbserver1"
    assert (
        record.key_schema is not None
        and record.key_schema.name == "io.debezium.connector.common.ServerNameKey"
    )
    assert (
        record.value_schema is not None
        and record.value_schema.name == "io.debezium.connector.common.Heartbeat"
    )
    assert record.key.values == {"serverName": "dbserver1"}
    assert record.value.values == {"ts_ms": 1_700_000_000_000}
    assert record.source_partition == {"server": "dbserver1"}
    assert record.source_offset == offset and record.source_offset is not offset
    renamed = heartbeat_record(_config(**{"topic.heartbeat.prefix": "hb"}), offset)
    assert renamed.topic == "hb.dbserver1"
