"""What every runner needs from the worker, passed explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.config.providers import ConfigProviders
from app.config.secrets import declared_secret_keys, secret_values
from app.metrics import WorkerMetrics
from app.plugins.registry import PluginRegistry
from app.settings import WorkerSettings
from app.storage.base import DataBus, OffsetStore, StatusStore, TaskId, TopicTracker

FailureCallback = Callable[[str, "TaskId | None", BaseException], None]
"""(connector, task id or None for the connector itself, error)."""


@dataclass(slots=True)
class RuntimeContext:
    settings: WorkerSettings
    registry: PluginRegistry
    bus: DataBus
    offsets: OffsetStore
    topics: TopicTracker
    statuses: StatusStore
    worker_id: str
    on_failure: FailureCallback
    metrics: WorkerMetrics
    on_reconfigure: Callable[[str], None] = lambda _: None
    """A connector asked for its task configs to be generated again."""
    providers: ConfigProviders = field(default_factory=lambda: ConfigProviders({}))
    """Resolve ``${provider:path:key}`` placeholders right before a connector or task starts."""
    on_reload: Callable[[str, int], None] = lambda *_: None
    """(connector, ttl ms): a provider said its values expire; restart the connector then."""

    def secrets_of(self, config: dict[str, str]) -> set[str]:
        """Values of the config's secret keys, including those its plugin declares PASSWORD and those
        the config lists in ``penstock.secret.keys``."""
        desc = self.registry.find(config.get("connector.class", ""), ("source", "sink"))
        return secret_values(config, declared_secret_keys(desc.cls if desc is not None else None, config))

    async def resolve(self, connector: str, config: dict[str, str]) -> tuple[dict[str, str], set[str]]:
        """The config a starting connector or task gets, placeholders resolved, and every value
        to keep out of traces and logs. Raises ConfigError naming unresolvable placeholders."""
        resolution = await self.providers.resolve(config)
        resolution.check()
        reload = (config.get("config.action.reload") or "restart").strip().lower()
        if resolution.ttl_ms is not None and reload == "restart":
            self.on_reload(connector, resolution.ttl_ms)
        return resolution.config, self.secrets_of(config) | resolution.values

    async def resolve_once(self, config: dict[str, str]) -> tuple[dict[str, str], set[str]]:
        """:meth:`resolve` for one-off work beside a connector (a preview, a replay): the same
        values, but a TTL does not schedule a restart of the connector."""
        resolution = await self.providers.resolve(config)
        resolution.check()
        return resolution.config, self.secrets_of(config) | resolution.values
