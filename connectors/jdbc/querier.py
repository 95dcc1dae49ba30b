"""One table (or the query) being read: its SQL, its offset and how a row becomes a record.

Offsets are stored exactly as Confluent's connector stores them, so ``GET /connectors/{c}/offsets``
reads the same and offsets can move between the two:

* partition ``{"protocol": "1", "table": "<schema>.<table>"}`` (MySQL ``<database>.<table>``) in
  the incremental modes, ``{"table": "<table>"}`` in bulk mode (with a null offset), and
  ``{"query": "query"}`` in query mode;
* offset ``{"incrementing": <long>}`` and/or ``{"timestamp": <epoch ms>, "timestamp_nanos":
  <nanos of the second>}``.

The legacy partition ``{"table": "<table>"}`` (protocol 0) is read when no protocol-1 offset exists.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any, Final

from connectors.jdbc.source_config import Mode
from connectors.jdbc.source_queries import QueryShape
from connectors.jdbc.source_schema import RowSchema
from connectors.sdk import SourceRecord

EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
QUERY_PARTITION: Final = {"query": "query"}


@dataclass
class Offset:
    """Where a querier has read to: the last incrementing value and/or the last timestamp."""

    incrementing: int | None = None
    timestamp_ms: int | None = None
    timestamp_nanos: int | None = None

    @classmethod
    def from_map(cls, stored: dict[str, Any] | None) -> Offset:
        if not stored:
            return cls()
        inc = stored.get("incrementing")
        ms = stored.get("timestamp")
        nanos = stored.get("timestamp_nanos")
        return cls(
            int(inc) if inc is not None else None,
            int(ms) if ms is not None else None,
            int(nanos) if nanos is not None else None,
        )

    def to_map(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.incrementing is not None:
            result["incrementing"] = self.incrementing
        if self.timestamp_ms is not None:
            result["timestamp"] = self.timestamp_ms
            result["timestamp_nanos"] = self.timestamp_nanos or 0
        return result

    @property
    def timestamp(self) -> datetime.datetime | None:
        """The timestamp offset as an aware UTC datetime (microseconds kept)."""
        if self.timestamp_ms is None:
            return None
        nanos = (
            self.timestamp_nanos if self.timestamp_nanos is not None else (self.timestamp_ms % 1000) * 10**6
        )
        seconds = self.timestamp_ms // 1000
        return EPOCH + datetime.timedelta(seconds=seconds, microseconds=nanos // 1000)


def to_offset_time(value: datetime.datetime, zone: datetime.tzinfo) -> tuple[int, int]:
    """(epoch ms, nanos of second) of a column value; a naive value is in ``db.timezone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    delta = value - EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros // 1000, value.microsecond * 1000


@dataclass
class Querier:
    """The state of one table or query within a task."""

    shape: QueryShape
    topic: str
    partition: dict[str, Any]
    offset: Offset
    schema_name: str | None
    next_run: float = 0.0
    row_schema: RowSchema | None = None
    inc_index: int = -1
    ts_indexes: tuple[int, ...] = ()
    rows_remaining: int | None = None
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def mode(self) -> Mode:
        return self.shape.mode

    def record(self, row: tuple[Any, ...], zone: datetime.tzinfo) -> SourceRecord:
        """The record for ``row``, advancing the offset past it."""
        assert self.row_schema is not None
        offset: dict[str, Any] | None = None
        if self.mode is not Mode.BULK:
            if self.inc_index >= 0:
                value = row[self.inc_index]
                if value is None:
                    raise ValueError(f"null incrementing value in {self.label}")
                self.offset.incrementing = int(value)
            if self.ts_indexes:
                stamp = next((row[i] for i in self.ts_indexes if row[i] is not None), None)
                if stamp is not None:
                    self.offset.timestamp_ms, self.offset.timestamp_nanos = to_offset_time(stamp, zone)
            offset = self.offset.to_map()
        struct = self.row_schema.struct(row)
        return SourceRecord(
            topic=self.topic,
            value=struct,
            value_schema=self.row_schema.schema,
            source_partition=self.partition,
            source_offset=offset,
        )
