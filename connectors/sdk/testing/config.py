"""Config checks and converter set-up, as the runtime does them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

from connectors.sdk.connector import Connector
from connectors.sdk.converter import Converter, HeaderConverter

CV = TypeVar("CV", bound=Converter[Any])
HV = TypeVar("HV", bound=HeaderConverter[Any])


def check_config(plugin: type[Any], props: Mapping[str, str]) -> dict[str, list[str]]:
    """The validation errors per key, as ``PUT /connector-plugins/{p}/config/validate`` reports
    them for the plugin's own settings; empty when the config is valid.

    For a connector this runs its ``validate`` (so cross-key checks count); for any other plugin
    (converter, transform, predicate) its ``config_model``.
    """
    if isinstance(plugin, type) and issubclass(plugin, Connector):
        infos = plugin().validate(dict(props))
        return {info.name: list(info.errors) for info in infos if info.errors}
    errors: dict[str, list[str]] = plugin.config_model.errors_by_key(props)
    return errors


def configured_converter(cls: type[CV], props: Mapping[str, str], *, is_key: bool = False) -> CV:
    """A new converter configured from un-prefixed ``props`` (``ConfigError`` if they are invalid)."""
    converter = cls()
    converter.configure(cls.config_model.parse(props), is_key=is_key)
    return converter


def configured_header_converter(cls: type[HV], props: Mapping[str, str]) -> HV:
    """A new header converter configured from un-prefixed ``props``."""
    converter = cls()
    converter.configure(cls.config_model.parse(props))
    return converter


class Harness(ABC):
    """``async with`` a harness starts it and stops it, whatever happens in between."""

    @abstractmethod
    async def start(self) -> Any: ...

    @abstractmethod
    async def stop(self) -> None: ...

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
