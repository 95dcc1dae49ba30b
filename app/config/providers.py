"""``${provider:path:key}`` placeholders in connector configs, resolved through config providers.

Configs are stored, returned and logged with their placeholders; only the config handed to a
starting connector or task (and the one validated) is resolved. Unlike Kafka Connect, which
leaves a placeholder it cannot resolve in place as literal text, an unknown provider or a
missing key is an error that names the placeholder: a ``${file:...}`` silently used as a file
name helps nobody.

Worker keys, as in Kafka Connect: ``config.providers`` (names to enable; unset means the
built-ins ``env``, ``file`` and ``directory``), ``config.providers.<name>.class`` (optional for
the built-in names) and ``config.providers.<name>.param.<key>`` (the provider's settings).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import partial

import structlog

from app.plugins.registry import CONFIG_PROVIDER, PluginRegistry, UnknownPluginError
from connectors.sdk.config_provider import ConfigData, ConfigProvider
from connectors.sdk.errors import ConfigError, ConnectError

log = structlog.get_logger(__name__)

PLACEHOLDER = re.compile(r"\$\{([^}]*?):(?:([^}]*?):)?([^}]*?)\}")
"""Kafka's ConfigTransformer pattern: ``${provider:key}`` or ``${provider:path:key}``."""
BUILTIN = ("env", "file", "directory")


@dataclass(frozen=True, slots=True)
class Placeholder:
    text: str
    provider: str
    path: str
    key: str


def placeholders(value: str | None) -> list[Placeholder]:
    if not value or "${" not in value:
        return []
    return [
        Placeholder(m.group(0), m.group(1), m.group(2) or "", m.group(3)) for m in PLACEHOLDER.finditer(value)
    ]


def keys_with_placeholders(config: Mapping[str, str | None]) -> set[str]:
    return {k for k, v in config.items() if placeholders(v)}


def reverse_transform(raw: Mapping[str, str], generated: Mapping[str, str]) -> dict[str, str]:
    """Task configs to store: a key whose raw connector value holds placeholders keeps the raw
    value, so a value a connector copied from its resolved config is never persisted (Kafka's
    ``AbstractHerder.reverseTransform``)."""
    result = dict(generated)
    for key in keys_with_placeholders(raw):
        if key in result:
            result[key] = raw[key]
    return result


@dataclass(slots=True)
class Resolution:
    config: dict[str, str]
    """The config with every resolvable placeholder replaced."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    """Per config key: the placeholders that could not be resolved, and why."""
    values: set[str] = field(default_factory=set)
    """Every value a provider supplied: never to be stored, returned or logged."""
    ttl_ms: int | None = None
    """The shortest time-to-live a provider reported."""

    def check(self) -> None:
        """Raise a ConfigError naming every placeholder that could not be resolved."""
        if self.errors:
            raise ConfigError("; ".join(e for errors in self.errors.values() for e in errors))


class ConfigProviders:
    """The providers enabled on this worker, by the name used in placeholders."""

    def __init__(self, providers: Mapping[str, ConfigProvider]) -> None:
        self.providers = dict(providers)

    @classmethod
    def from_worker_config(
        cls, registry: PluginRegistry, enabled: str | None, props: Mapping[str, str]
    ) -> ConfigProviders:
        """Build from ``config.providers`` and the ``config.providers.``-prefixed keys (prefix removed).

        Raises ConfigError naming the key when a provider cannot be found or configured.
        """
        names = BUILTIN if enabled is None else [n.strip() for n in enabled.split(",") if n.strip()]
        providers: dict[str, ConfigProvider] = {}
        for name in names:
            class_name = (props.get(f"{name}.class") or "").strip() or (name if name in BUILTIN else "")
            if not class_name:
                raise ConfigError(f'Missing required configuration "config.providers.{name}.class"')
            try:
                desc = registry.resolve(class_name, (CONFIG_PROVIDER,))
            except UnknownPluginError:
                installed = ", ".join(p.class_name for p in registry.plugins(CONFIG_PROVIDER)) or "none"
                raise ConfigError(
                    f"Invalid value {class_name} for configuration config.providers.{name}.class: "
                    f"Class {class_name} could not be found. Installed config providers: {installed} "
                    "(a config provider is a Python package: pip install the one that provides it)"
                ) from None
            except ConnectError as exc:
                raise ConfigError(f"config.providers.{name}.class: {exc}") from None
            try:
                provider: ConfigProvider = desc.new()
                params = {k[len(name) + 7 :]: v for k, v in props.items() if k.startswith(f"{name}.param.")}
                provider.configure(provider.config_model.parse(params))
            except ConnectError as exc:
                raise ConfigError(f"config.providers.{name}: {exc}") from None
            providers[name] = provider
        return cls(providers)

    async def resolve(self, config: Mapping[str, str | None]) -> Resolution:
        """Replace placeholders; never raises for a bad placeholder (see ``Resolution.errors``)."""
        wanted: dict[tuple[str, str], set[str]] = {}
        for value in config.values():
            for p in placeholders(value):
                if p.provider in self.providers:
                    wanted.setdefault((p.provider, p.path), set()).add(p.key)
        results = await asyncio.gather(
            *(self._fetch(name, path, keys) for (name, path), keys in wanted.items())
        )
        fetched = dict(zip(wanted, results, strict=True))
        resolution = Resolution({})
        ttls = [d.ttl_ms for d in fetched.values() if isinstance(d, ConfigData) and d.ttl_ms is not None]
        resolution.ttl_ms = min(ttls) if ttls else None
        for key, value in config.items():
            if value is None:
                continue
            resolution.config[key] = PLACEHOLDER.sub(
                partial(self._substitute, key, fetched, resolution), value
            )
        return resolution

    def _substitute(
        self,
        key: str,
        fetched: Mapping[tuple[str, str], ConfigData | str],
        resolution: Resolution,
        match: re.Match[str],
    ) -> str:
        p = Placeholder(match.group(0), match.group(1), match.group(2) or "", match.group(3))
        reason = None
        if p.provider not in self.providers:
            enabled = ", ".join(self.providers) or "none"
            reason = f"no config provider named {p.provider} is enabled on this worker (config.providers: {enabled})"
        else:
            data = fetched[(p.provider, p.path)]
            if isinstance(data, str):
                reason = data
            elif p.key not in data.data:
                where = f" at path {p.path}" if p.path else ""
                reason = f"config provider {p.provider} has no key {p.key}{where}"
            else:
                resolution.values.add(data.data[p.key])
                return data.data[p.key]
        resolution.errors.setdefault(key, []).append(
            f"Invalid value {p.text} for configuration {key}: {reason}"
        )
        return p.text

    async def _fetch(self, name: str, path: str, keys: Collection[str]) -> ConfigData | str:
        """The provider's data, or the reason it could not be read."""
        try:
            return await self.providers[name].get(path, keys)
        except ConfigError as exc:
            return str(exc)
        except Exception as exc:  # a third-party provider's failure is a config problem, not a crash
            log.warning("config provider failed", provider=name, error=type(exc).__name__)
            return f"config provider {name} failed: {type(exc).__name__}"

    async def close(self) -> None:
        for provider in self.providers.values():
            try:
                await provider.close()
            except Exception as exc:
                log.warning("config provider failed to close", error=repr(exc))
