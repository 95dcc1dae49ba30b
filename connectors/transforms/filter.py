"""``Filter``: drops every record it is applied to (reference §7.13); used with a predicate,
e.g. to drop tombstones (``RecordIsTombstone``) or one topic's records (``TopicNameMatches``)."""

from __future__ import annotations

from typing import ClassVar

from connectors.sdk.records import ConnectRecord
from connectors.sdk.transform import Transformation
from connectors.transforms.operand import KAFKA_TRANSFORMS


class Filter(Transformation[ConnectRecord]):
    aliases: ClassVar[tuple[str, ...]] = (KAFKA_TRANSFORMS + "Filter",)

    def apply(self, record: ConnectRecord) -> ConnectRecord | None:
        return None
