"""Single message transforms and predicates. Synchronous by design: pure CPU work per record."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from connectors.sdk.config import EmptyConfig, PluginConfig
from connectors.sdk.records import ConnectRecord

R = TypeVar("R", bound=ConnectRecord)


class Transformation(ABC, Generic[R]):
    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    aliases: ClassVar[tuple[str, ...]] = ()

    def configure(self, config: PluginConfig) -> None:
        """Receives the parsed ``config_model``."""

    @abstractmethod
    def apply(self, record: R) -> R | None:
        """The transformed record, or None to drop it."""

    def close(self) -> None:
        """Release resources."""


class Predicate(ABC, Generic[R]):
    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    aliases: ClassVar[tuple[str, ...]] = ()

    def configure(self, config: PluginConfig) -> None:
        """Receives the parsed ``config_model``."""

    @abstractmethod
    def test(self, record: R) -> bool: ...
