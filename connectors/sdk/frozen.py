"""A faster ``__init__`` for the frozen value classes built per record (records, SchemaAndValue)."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, TypeVar

_T = TypeVar("_T", bound=type)


def slot_filling_init(cls: _T) -> _T:
    """Give a frozen, slotted dataclass an ``__init__`` that fills its slots through their descriptors.

    The ``__init__`` dataclasses generate for a frozen class gets past the frozen guard with one
    ``object.__setattr__`` lookup and call per field, which makes building a record about three
    times as slow as building an unfrozen one. Records (and converters' results) are built once or twice for every
    record that crosses the worker, so that overhead was a visible share of the data path; this keeps the
    records immutable (assignment still raises ``FrozenInstanceError``) without paying for it.
    """
    namespace: dict[str, Any] = {}
    params, body = [], []
    for f in fields(cls):
        assert f.default_factory is MISSING, "records have plain defaults only"
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        namespace[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        body.append(f"    _set_{f.name}(self, {f.name})")
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[misc]
    return cls
