"""What a task tells its users about its own progress, shown in its REST status.

Kafka Connect's task status says only RUNNING or FAILED; users of a CDC or bulk-copy connector
want to see how far a snapshot is (rows done of the estimated total, rate, ETA) or how much WAL a
replication slot holds back, without a metrics system. A task sets such fields on
``context.details``; the runtime shows them as ``"details": {...}`` in the task's entry of
``GET /connectors/{c}/status`` (written to the status store at most about once a second).
Numbers worth graphing belong in ``context.metrics`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Detail = str | int | float | bool | None


class StatusDetails:
    """A task's status details: flat JSON-able fields (``None`` removes a field)."""

    def __init__(self, on_change: Callable[[Mapping[str, Detail]], None] | None = None) -> None:
        self._values: dict[str, Detail] = {}
        self._on_change = on_change

    def set(self, **fields: Detail) -> None:
        """Update some fields, e.g. ``set(snapshot_rows_done=5000, snapshot_rows_total=10000)``."""
        changed = False
        for name, value in fields.items():
            if value is None:
                changed |= self._values.pop(name, None) is not None
            elif not isinstance(value, str | int | float | bool):
                raise TypeError(
                    f"A status detail must be a string, number or boolean, not {type(value).__name__}"
                )
            elif self._values.get(name) != value:
                self._values[name] = value
                changed = True
        if changed and self._on_change is not None:
            self._on_change(dict(self._values))

    def clear(self) -> None:
        if self._values:
            self._values.clear()
            if self._on_change is not None:
                self._on_change({})

    @property
    def values(self) -> dict[str, Any]:
        return dict(self._values)
