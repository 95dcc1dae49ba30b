"""Converters turn Connect data into bytes and back.

The per-record methods are synchronous by design: conversion is CPU work done once per record on
the data path, and a plain call is the fastest thing the runtime can make. A converter that needs
a service (a schema registry) must not block the event loop there, nor pay a network round trip
per record; it overrides the async *batch hooks* instead:

* ``prepare_from_connect(records)`` runs once per batch, before ``from_connect_data`` is called
  for each ``(topic, schema, value)`` of that batch (a source task's batch, after transforms);
* ``prepare_to_connect(records)`` runs once per batch, before ``to_connect_data`` is called for
  each ``(topic, bytes)`` of that batch (a sink task's fetched batch).

A hook looks up or registers what the batch needs and caches it (a registry's schema by id), so
the per-record calls that follow find it in memory. An exception raised by a hook fails every
record of the batch at that converter stage, exactly as if each per-record call had raised it:
``errors.tolerance`` decides whether the records are skipped (and reported) or the task fails;
a ``RetriableError`` is retried like any retriable conversion error. Converters that do not
override the hooks cost nothing: the runner asks :func:`has_batch_hooks` once and skips them.

``configure`` receives the parsed ``config_model`` (like transforms), with the
``key.converter.`` / ``value.converter.`` / ``header.converter.`` prefix already removed from
the keys. ``close()`` runs once when the task stops, after the last conversion.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar, Generic

from typing_extensions import TypeVar

from connectors.sdk.config import EmptyConfig, PluginConfig
from connectors.sdk.data import Schema, SchemaAndValue

__all__ = ["Converter", "HeaderConverter", "has_batch_hooks"]

C = TypeVar("C", bound=PluginConfig, default=PluginConfig)


class Converter(ABC, Generic[C]):
    """Key or value converter (Kafka's ``Converter``); one instance per role per task."""

    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    """The settings this converter accepts; ``configure`` receives an instance of it."""

    aliases: ClassVar[tuple[str, ...]] = ()
    """Other class names this converter answers to (e.g. the Java class it replaces)."""

    def configure(self, config: C, *, is_key: bool) -> None:
        """Receives the parsed ``config_model``; ``is_key`` tells the key converter from the value one."""

    @abstractmethod
    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        """Serialize one value; ``DataError`` when it cannot be."""

    @abstractmethod
    def to_connect_data(self, topic: str, data: bytes | None) -> SchemaAndValue:
        """Deserialize one record's bytes; ``DataError`` when they cannot be."""

    async def prepare_from_connect(self, records: Sequence[tuple[str, Schema | None, Any]]) -> None:
        """Before a batch is serialized: fetch or register what ``from_connect_data`` will need.

        ``records`` are the ``(topic, schema, value)`` triples about to be serialized, in order.
        Raising fails every record of the batch at this stage (see the module docstring).
        """

    async def prepare_to_connect(self, records: Sequence[tuple[str, bytes | None]]) -> None:
        """Before a batch is deserialized: fetch what ``to_connect_data`` will need.

        ``records`` are the ``(topic, data)`` pairs about to be deserialized, in order.
        Raising fails every record of the batch at this stage (see the module docstring).
        """

    async def close(self) -> None:
        """Release connections opened by the hooks; called once when the task stops."""


class HeaderConverter(ABC, Generic[C]):
    """Converter for header values (Kafka's ``HeaderConverter``)."""

    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    """The settings this converter accepts; ``configure`` receives an instance of it."""

    aliases: ClassVar[tuple[str, ...]] = ()
    """Other class names this converter answers to."""

    def configure(self, config: C) -> None:
        """Receives the parsed ``config_model``."""

    @abstractmethod
    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: Any) -> bytes | None:
        """Serialize one header value."""

    @abstractmethod
    def to_connect_header(self, topic: str, key: str, data: bytes | None) -> SchemaAndValue:
        """Deserialize one header value."""

    async def close(self) -> None:
        """Release resources; called once when the task stops."""


def has_batch_hooks(converter: Converter[Any]) -> bool:
    """Whether ``converter`` overrides either batch hook; runners skip the awaits when it does not.

    Looked up on the class, so it is cheap enough to ask once per task.
    """
    cls = type(converter)
    return (
        cls.prepare_from_connect is not Converter.prepare_from_connect
        or cls.prepare_to_connect is not Converter.prepare_to_connect
    )
