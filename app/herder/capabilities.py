"""The plugins an administrator lets connector configs name: ``connector.plugins.allowed`` and
``connector.plugins.denied`` (class names or aliases, comma-separated).

Checked on every create, update and validation, before the plugin sees the config, for the
connector class, its converters, transforms and predicates. A refused plugin answers 400, as
an unknown class does. A plugin is matched by every name it answers to, so denying
``FileStreamSource`` also denies ``org.apache.kafka.connect.file.FileStreamSourceConnector``.
The worker-wide converters (the worker's own ``key.converter`` ...) are the administrator's
choice already and are not checked. Connectors stored before a list changed keep running.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from app.config.parsing import split_list
from app.herder.validation import BadRequestError
from app.plugins.registry import PluginRegistry
from app.settings import WorkerSettings

ALLOWED = "connector.plugins.allowed"
DENIED = "connector.plugins.denied"


def _named_plugins(config: Mapping[str, str]) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(what, name, plugin types) for each plugin ``config`` names."""
    yield "Connector class", (config.get("connector.class") or "").strip(), ("source", "sink")
    for kind, group in (("key", "converter"), ("value", "converter"), ("header", "header_converter")):
        yield f"Converter {kind}.converter", (config.get(f"{kind}.converter") or "").strip(), (group,)
    for key, group in (("transforms", "transformation"), ("predicates", "predicate")):
        for alias in split_list(config.get(key)):
            kind = "Transform" if key == "transforms" else "Predicate"
            yield f"{kind} {alias}", (config.get(f"{key}.{alias}.type") or "").strip(), (group,)


def plugin_refusals(
    settings: WorkerSettings, registry: PluginRegistry, config: Mapping[str, str]
) -> list[str]:
    allowed = set(split_list(settings.connector_plugins_allowed))
    denied = set(split_list(settings.connector_plugins_denied))
    if not allowed and not denied:
        return []
    refusals = []
    for what, name, types in _named_plugins(config):
        if not name:
            continue
        desc = registry.find(name, types)
        names = {name} | (desc.names if desc is not None else set())
        if names & denied:
            refusals.append(f"{what} {name} is not allowed on this worker ({DENIED})")
        elif allowed and not names & allowed:
            refusals.append(f"{what} {name} is not allowed on this worker (not in {ALLOWED})")
    return refusals


def check_plugins(settings: WorkerSettings, registry: PluginRegistry, config: Mapping[str, str]) -> None:
    """BadRequestError (400) naming each refused plugin and the setting that refuses it."""
    refusals = plugin_refusals(settings, registry, config)
    if refusals:
        raise BadRequestError("; ".join(refusals))
