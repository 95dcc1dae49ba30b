"""Connectors: they read a config, split the work into task configs, and watch for changes.

Lifecycle, all called by the runtime: ``start(config)`` once, then ``task_configs(max_tasks)``
whenever tasks are (re)generated, then ``stop()`` once. A connector that notices its source
changed (a new table, say) calls ``context.request_task_reconfiguration()``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from connectors.sdk.config import ConfigValueInfo, PluginConfig
from connectors.sdk.metrics import NO_METRICS, PluginMetrics

if TYPE_CHECKING:
    from connectors.sdk.sink import SinkTask
    from connectors.sdk.source import SourceTask

C = TypeVar("C", bound=PluginConfig)


class ConnectorContext:
    """What a connector may ask of the runtime. The runtime supplies a subclass."""

    metrics: PluginMetrics = NO_METRICS

    def request_task_reconfiguration(self) -> None:
        """Ask the runtime to call ``task_configs`` again and restart the tasks if they changed."""

    def raise_error(self, error: Exception) -> None:
        """Fail the connector from a background activity of its own."""
        raise error


class Connector(ABC, Generic[C]):
    config_model: ClassVar[type[PluginConfig]]
    """The settings this connector accepts; drives validation and the plugin config endpoint."""

    aliases: ClassVar[tuple[str, ...]] = ()
    """Other class names this connector answers to (e.g. the Java class it replaces)."""

    context: ConnectorContext

    def initialize(self, context: ConnectorContext) -> None:
        self.context = context

    def version(self) -> str:
        """Defaults to the version of the distribution that ships the plugin."""
        top = type(self).__module__.split(".")[0]
        try:
            dist = metadata.packages_distributions().get(top, [])
            return metadata.version(dist[0]) if dist else "undefined"
        except metadata.PackageNotFoundError:
            return "undefined"

    async def start(self, config: C) -> None:
        """Called once with the parsed config before any task config is asked for."""

    @abstractmethod
    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        """At most ``max_tasks`` task configs; each becomes one running task.

        The runtime layers each returned dict over the connector's own config, so a task config
        only needs the keys that differ between tasks (``[{}]`` means one task, same config).
        """

    async def stop(self) -> None:
        """Release what ``start`` acquired."""

    def validate(self, props: dict[str, str]) -> list[ConfigValueInfo]:
        """Per-key validation; override to add checks that span several keys."""
        return self.config_model.validate_props(props)

    async def validate_connection(self, props: dict[str, str]) -> dict[str, list[str]]:
        """Checks that need I/O (log in to a database, look for a bucket): errors per config key.

        Called after ``validate`` when it found no error in this connector's own settings, for
        ``/config/validate`` and before a config is accepted (create, update), with placeholders
        resolved. Bound the time it takes (the runtime also gives up after a generous limit), and
        never put a secret in a message. Default: no checks.
        """
        return {}


class SourceConnector(Connector[C]):
    task_class: ClassVar[type[SourceTask[Any]]]

    async def alter_offsets(self, config: dict[str, str], offsets: dict[Any, Any]) -> bool:
        """Check offsets a user sets through REST; return True if the connector applied them itself."""
        return False


class SinkConnector(Connector[C]):
    task_class: ClassVar[type[SinkTask[Any]]]

    async def alter_offsets(self, config: dict[str, str], offsets: dict[Any, Any]) -> bool:
        return False
