"""Building a transform or predicate the way the runtime does: parse its config model, configure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def configured(cls: type[T], props: Mapping[str, str]) -> T:
    plugin: Any = cls()
    plugin.configure(plugin.config_model.parse(props))
    return plugin  # type: ignore[no-any-return]
