"""A class named by its import path, imported the first time it is asked for.

The worker loads every installed connector class at start to learn its names (entry points and
aliases), but runs only a few of them. A connector whose task needs a heavy client library (the
Elasticsearch client, a database driver) declares ``task_class = lazy_class("pkg.task:MyTask")``
so that discovering it costs only its config model; the task module is imported when a task is
created or the runtime reads the task's config model, as before, just later.
"""

from __future__ import annotations

import importlib
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class LazyClass(Generic[T]):
    """Descriptor: ``Owner.attr`` and ``instance.attr`` both give the imported class."""

    __slots__ = ("_cls", "_path")

    def __init__(self, path: str) -> None:
        module, sep, name = path.partition(":")
        if not sep or not module or not name:
            raise ValueError(f"expected 'package.module:Class', got {path!r}")
        self._path = path
        self._cls: type[T] | None = None

    def __get__(self, instance: object, owner: type[Any] | None = None) -> type[T]:
        if self._cls is None:
            module, _, name = self._path.partition(":")
            self._cls = getattr(importlib.import_module(module), name)
        return self._cls

    def __repr__(self) -> str:
        return f"LazyClass({self._path!r})"


def lazy_class(path: str) -> Any:
    """``LazyClass(path)`` typed as ``Any``, so it can stand where a class attribute is declared
    ``ClassVar[type[...]]`` (``task_class``) without a cast at every use."""
    return LazyClass[Any](path)
