"""Config providers: where ``${provider:path:key}`` placeholders in connector configs get their values.

A connector config may say ``"connection.password": "${file:/etc/secrets/db.properties:password}"``
instead of carrying the secret itself. The worker stores and shows the placeholder, and only
the running connector and its tasks see the value, fetched from the provider right before they
start. A provider is registered through an entry point in the ``penstock.config_provider``
group, and enabled on a worker with ``config.providers=<name>`` and
``config.providers.<name>.class=<entry point name, alias or module:Class>``; the worker keys
``config.providers.<name>.param.<key>`` become its :attr:`ConfigProvider.config_model`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import ClassVar

from connectors.sdk.config import EmptyConfig, PluginConfig


@dataclass(frozen=True, slots=True)
class ConfigData:
    """What a provider found under one path.

    Attributes:
        data: The values by key. A key that was asked for but is absent here is reported to
            the user as missing (HTTP 400 on create and validate).
        ttl_ms: How long the values stay valid, if the provider knows. When a TTL is given and
            the connector's ``config.action.reload`` is ``restart`` (the default), the worker
            restarts the connector and its tasks once it expires, so they fetch fresh values.
    """

    data: dict[str, str] = field(default_factory=dict)
    ttl_ms: int | None = None


class ConfigProvider(ABC):
    """Base class for config providers (Kafka's ``ConfigProvider``), one instance per worker.

    Lifecycle: the worker creates the provider once at start-up, calls :meth:`configure` with
    the parsed ``config_model``, then :meth:`get` whenever a connector or task starts or a
    config is validated, and :meth:`close` when it stops. ``get`` may run concurrently for
    several connectors, so keep it free of shared mutable state.

    Values returned by a provider are treated as secrets: the worker never stores, returns or
    logs them, and masks them in error messages and traces.
    """

    config_model: ClassVar[type[PluginConfig]] = EmptyConfig
    """Settings taken from the worker keys ``config.providers.<name>.param.*``."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other class names this provider answers to, such as Kafka's Java class name."""

    def configure(self, config: PluginConfig) -> None:  # noqa: B027 - an optional hook
        """Receive the parsed ``config_model`` once, before the first :meth:`get`.

        Args:
            config: An instance of :attr:`config_model`.
        """

    @abstractmethod
    async def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        """Fetch values under ``path``.

        Args:
            path: The middle part of ``${provider:path:key}``; empty for ``${provider:key}``.
            keys: The keys wanted; None means every key under the path.

        Returns:
            The values found. Leave out keys that do not exist rather than raising.

        Raises:
            ConfigError: The path cannot be read at all (not allowed, not found, malformed).
                Its message is shown to the user, so it must not contain secret values.
        """

    async def close(self) -> None:  # noqa: B027 - an optional hook
        """Release connections or files; called once when the worker stops."""
