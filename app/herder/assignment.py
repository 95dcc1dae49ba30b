"""The group leader's assignment of connectors and tasks to workers (incremental, like KIP-415).

Each worker reports what it runs. Everything keeps its owner when it still exists and is not
claimed twice; new or orphaned work goes to the least loaded workers; then, only while some
worker has two or more items more than another, single items move from the busiest worker to
the idlest. A joining worker therefore takes over just its share and nobody else restarts.
Connectors and tasks are balanced separately, as Kafka Connect does.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TypeVar

from app.storage.base import Load, TaskId

T = TypeVar("T", bound=Hashable)


def assign(owned: Mapping[str, Load], connectors: Iterable[str], tasks: Iterable[TaskId]) -> dict[str, Load]:
    """New loads for the workers in ``owned`` (worker id -> what it runs now)."""
    workers = sorted(owned)
    result = {w: Load() for w in workers}
    if not workers:
        return result
    wanted_connectors = _spread(
        {w: owned[w].connectors for w in workers}, set(connectors), key=lambda c: (c,)
    )
    wanted_tasks = _spread(
        {w: owned[w].tasks for w in workers}, set(tasks), key=lambda t: (t.connector, t.task)
    )
    for w in workers:
        result[w].connectors = wanted_connectors[w]
        result[w].tasks = wanted_tasks[w]
    return result


def _spread(
    owned: dict[str, set[T]], items: set[T], key: Callable[[T], tuple[object, ...]]
) -> dict[str, set[T]]:
    workers = list(owned)
    kept: dict[str, set[T]] = {w: set() for w in workers}
    taken: set[T] = set()
    for w in workers:
        for item in sorted(owned[w] & items, key=key):
            if item not in taken:
                kept[w].add(item)
                taken.add(item)

    def idlest() -> str:
        return min(workers, key=lambda w: (len(kept[w]), w))

    for item in sorted(items - taken, key=key):
        kept[idlest()].add(item)
    while True:
        busiest = max(workers, key=lambda w: (len(kept[w]), w))
        target = idlest()
        if len(kept[busiest]) - len(kept[target]) <= 1:
            return kept
        moved = max(kept[busiest], key=key)  # the newest item moves, older ones stay put
        kept[busiest].discard(moved)
        kept[target].add(moved)
