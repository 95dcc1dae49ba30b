"""The worker-wide plugins (default converters, config providers), checked before the worker starts.

Kafka Connect refuses to start when ``value.converter`` names a class it cannot load; without
this check Penstock would start and then fail every task that uses the default. Each problem
names the key, what is wrong and what is installed, so the fix is one edit away.
"""

from __future__ import annotations

from app.config.providers import ConfigProviders
from app.plugins.registry import PluginRegistry, UnknownPluginError
from app.settings import SettingsError, WorkerSettings
from connectors.sdk.errors import ConfigError, ConnectError, NotFoundError

CONVERTER_KEYS = (
    ("key.converter", "converter"),
    ("value.converter", "converter"),
    ("header.converter", "header_converter"),
)
INSTALL_HINT = (
    "a converter is a Python package: pip install the one that provides it, or use an installed one"
)


def load_worker_plugins(settings: WorkerSettings, registry: PluginRegistry) -> ConfigProviders:
    """The configured config providers, once the worker-level converters are known to load.

    Raises SettingsError listing every problem.
    """
    problems = converter_problems(settings, registry)
    providers = None
    try:
        providers = ConfigProviders.from_worker_config(
            registry, settings.config_providers, settings.with_prefix("config.providers.")
        )
    except ConfigError as exc:
        problems.append(str(exc))
    if problems or providers is None:
        raise SettingsError("Invalid worker settings: " + "; ".join(problems))
    return providers


def converter_problems(settings: WorkerSettings, registry: PluginRegistry) -> list[str]:
    """``key.converter``, ``value.converter`` and ``header.converter``: each loads and accepts its
    ``<key>.`` settings (``value.converter.schemas.enable``, ...)."""
    problems = []
    for key, plugin_type in CONVERTER_KEYS:
        name = str(getattr(settings, key.replace(".", "_"))).strip()
        try:
            desc = registry.resolve(name, (plugin_type,))
        except UnknownPluginError:
            installed = ", ".join(p.class_name for p in registry.plugins(plugin_type)) or "none"
            kind = "header converters" if plugin_type == "header_converter" else "converters"
            problems.append(
                f"Invalid value {name} for configuration {key}: Class {name} could not be found. "
                f"Installed {kind}: {installed} ({INSTALL_HINT})"
            )
            continue
        except NotFoundError as exc:  # ambiguous, or installed but failing to import
            problems.append(f"Invalid value {name} for configuration {key}: {exc}")
            continue
        try:
            desc.new().config_model.parse(settings.with_prefix(f"{key}."))
        except ConnectError as exc:
            problems.append(str(exc).replace("for configuration ", f"for configuration {key}."))
    return problems
