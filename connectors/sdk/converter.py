"""Converters turn Connect data into bytes and back. Synchronous by design: pure CPU work."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from connectors.sdk.config import EmptyConfig, PluginConfig
from connectors.sdk.data import Schema, SchemaAndValue


class Converter(ABC):
    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    aliases: ClassVar[tuple[str, ...]] = ()

    def configure(self, config: Mapping[str, str], *, is_key: bool) -> None:  # noqa: B027
        """``config`` has the ``key.converter.``/``value.converter.`` prefix removed."""

    @abstractmethod
    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None: ...

    @abstractmethod
    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue: ...


class HeaderConverter(ABC):
    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    aliases: ClassVar[tuple[str, ...]] = ()

    def configure(self, config: Mapping[str, str]) -> None:  # noqa: B027
        """``config`` has the ``header.converter.`` prefix removed."""

    @abstractmethod
    def from_connect_header(
        self, topic: str, key: str, schema: Schema | None, value: Any
    ) -> bytes | None: ...

    @abstractmethod
    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> SchemaAndValue: ...
