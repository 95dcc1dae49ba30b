"""Finds plugins through entry points and resolves the names users give them.

A plugin answers to: its Python path (``pkg.mod.Class`` or ``pkg.mod:Class``), its entry-point
name, every alias it declares (Kafka Connect's Java class names), and the short forms of those
(``FileStreamSourceConnector``, ``FileStreamSource``, ``JsonConverter``). The registry rescans
when a folder on ``sys.path`` changes, so a package ``pip install``ed into a running worker's
environment (or ``plugin.path``) shows up without a restart.
"""

from __future__ import annotations

import builtins
import importlib
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import structlog

from app.plugins.kafka_catalogue import known_connector
from connectors.sdk.errors import NotFoundError

log = structlog.get_logger(__name__)

PLUGIN_TYPES = ("sink", "source", "transformation", "predicate", "converter", "header_converter")
"""In the order ``GET /connector-plugins?connectorsOnly=false`` lists them."""
CONFIG_PROVIDER = "config_provider"
_SUFFIXES = ("Connector", "Transformation", "Predicate", "Converter", "HeaderConverter", "ConfigProvider")


@dataclass(slots=True)
class PluginDesc:
    class_name: str
    """The name shown in REST listings: the first declared alias, else the Python path."""
    type: str
    version: str
    cls: builtins.type[Any] | None
    names: set[str] = field(default_factory=set)
    error: str | None = None

    def new(self) -> Any:
        """A fresh instance of the plugin class."""
        if self.cls is None:
            raise NotFoundError(f"Plugin {self.class_name} is installed but failed to load: {self.error}")
        return self.cls()


class AmbiguousPluginError(NotFoundError):
    pass


class UnknownPluginError(NotFoundError):
    """No installed plugin of the wanted types answers to the name."""


class PluginRegistry:
    def __init__(self, extra_paths: Iterable[str] = ()) -> None:
        for path in extra_paths:
            if path and not _warn_if_not_python(path) and path not in sys.path:
                sys.path.append(path)
        self._fingerprint: tuple[tuple[str, int], ...] | None = None
        self._plugins: dict[str, list[PluginDesc]] = {}
        self._registered: list[PluginDesc] = []

    def register(self, plugin_type: str, cls: builtins.type[Any], *names: str) -> PluginDesc:
        """Add a plugin class directly, without an entry point (tests, embedding applications).

        It answers to its Python path, its ``aliases`` and ``names``, and survives rescans.
        """
        path = f"{cls.__module__}.{cls.__qualname__}"
        aliases = tuple(getattr(cls, "aliases", ()))
        desc = PluginDesc(
            aliases[0] if aliases else path, plugin_type, "registered", cls, {path, *aliases, *names}
        )
        self._registered.append(desc)
        self._fingerprint = None  # rescan, so the new plugin gets its short names too
        return desc

    def plugins(self, plugin_type: str | None = None) -> list[PluginDesc]:
        self._refresh()
        types = (plugin_type,) if plugin_type else PLUGIN_TYPES
        return [
            p
            for t in types
            for p in sorted(self._plugins.get(t, []), key=lambda d: d.class_name)
            if p.cls is not None
        ]

    def resolve(self, name: str, types: Iterable[str]) -> PluginDesc:
        """The loadable plugin of one of ``types`` that answers to ``name``."""
        self._refresh()
        wanted = tuple(types)
        matches = [p for t in wanted for p in self._plugins.get(t, []) if name in p.names]
        unique = {id(p.cls): p for p in matches}
        if not unique:
            raise UnknownPluginError(self._not_found(name, wanted))
        if len(unique) > 1:
            classes = ", ".join(sorted(p.class_name for p in unique.values()))
            raise AmbiguousPluginError(
                f"More than one plugin matches alias {name}. Use the full class name instead. Classes found: {classes}"
            )
        desc = next(iter(unique.values()))
        if desc.cls is None:
            raise NotFoundError(f"Plugin {name} is installed but failed to load: {desc.error}")
        return desc

    def find(self, name: str, types: Iterable[str] = PLUGIN_TYPES) -> PluginDesc | None:
        try:
            return self.resolve(name, types)
        except NotFoundError:
            return None

    def _not_found(self, name: str, types: tuple[str, ...]) -> str:
        kind = "Connector" if set(types) <= {"source", "sink"} else "/".join(types)
        available = ", ".join(p.class_name for t in types for p in self._plugins.get(t, []))
        known = known_connector(name) if kind == "Connector" else None
        if known is not None:
            full, what = known
            return (
                f"{full} is a Kafka Connect plugin ({what}) that Penstock does not provide yet (Penstock "
                f"runs connectors written in Python); the connectors installed here are: {available or 'none'}"
            )
        return (
            f"Failed to find any class that implements {kind} and which name matches {name}, "
            f"available {'connectors' if kind == 'Connector' else 'plugins'} are: {available}"
        )

    # -- discovery --------------------------------------------------------------------------
    def _refresh(self) -> None:
        fingerprint = _path_fingerprint()
        if fingerprint == self._fingerprint:
            return
        importlib.invalidate_caches()
        self._fingerprint = fingerprint
        # one scan of the installed distributions for all groups (each entry_points(group=...) call
        # reads every distribution's entry_points.txt again), one version read per distribution
        installed = metadata.entry_points()
        versions: dict[int, str] = {}
        self._plugins = {
            t: self._discover(installed.select(group=f"penstock.{t}"), f"penstock.{t}", t, versions)
            for t in (*PLUGIN_TYPES, CONFIG_PROVIDER)
        }
        for desc in self._registered:
            self._plugins[desc.type].append(desc)
        self._add_short_names()

    def _discover(
        self, entry_points: metadata.EntryPoints, group: str, plugin_type: str, versions: dict[int, str]
    ) -> list[PluginDesc]:
        found: dict[str, PluginDesc] = {}
        for ep in entry_points:
            path = ep.value.replace(":", ".")
            if path in found:
                continue
            try:
                cls = ep.load()
            except Exception as exc:  # a broken plugin must never take the worker down
                log.warning("plugin failed to load", entry_point=ep.name, group=group, error=repr(exc))
                found[path] = PluginDesc(path, plugin_type, "undefined", None, {ep.name, path}, repr(exc))
                continue
            aliases = tuple(getattr(cls, "aliases", ()))
            version = _version(ep, versions)
            names = {ep.name, path, ep.value, *aliases}
            found[path] = PluginDesc(aliases[0] if aliases else path, plugin_type, version, cls, names)
        return list(found.values())

    def _add_short_names(self) -> None:
        """Simple class names, and those without the type suffix, where they are unambiguous."""
        for plugins in self._plugins.values():
            counts: dict[str, int] = {}
            candidates: dict[int, set[str]] = {}
            for p in plugins:
                shorts = set()
                for full in list(p.names):
                    simple = re.split(r"[.:]", full)[-1]
                    shorts.add(simple)
                    for suffix in _SUFFIXES:
                        if simple.endswith(suffix) and len(simple) > len(suffix):
                            shorts.add(simple[: -len(suffix)])
                candidates[id(p)] = shorts - p.names
                for s in candidates[id(p)]:
                    counts[s] = counts.get(s, 0) + 1
            for p in plugins:
                p.names.update(s for s in candidates[id(p)] if counts[s] == 1)


_warned_paths: set[str] = set()
JAR_LAYOUTS = ("*.jar", "*/*.jar", "*/lib/*.jar")
"""Where Kafka Connect finds jars under a plugin.path folder (Confluent Hub puts them in <plugin>/lib)."""


def _warn_if_not_python(path: str) -> bool:
    """Warn (once per path and process) about a ``plugin.path`` entry that cannot hold Python plugins:
    Kafka Connect users point it at jars, which Penstock ignores. True for a jar file itself."""
    folder = Path(path).expanduser()
    is_jar = folder.suffix.lower() == ".jar"
    jars = [] if is_jar or not folder.is_dir() else [j for p in JAR_LAYOUTS for j in folder.glob(p)]
    if path not in _warned_paths and (is_jar or jars or not folder.exists()):
        _warned_paths.add(path)
        if is_jar or jars:
            target = folder.parent if is_jar else folder
            log.warning(
                "plugin.path entry holds Java jars, which Penstock ignores: it loads connectors, "
                "converters and transforms from Python packages",
                plugin_path=path,
                jar=str(jars[0]) if jars else path,
                fix=f"pip install <package>, or pip install --target {target} <package> to load it "
                "through plugin.path",
            )
        else:
            log.warning("plugin.path entry does not exist (yet): nothing is loaded from it", plugin_path=path)
    return is_jar


def _version(ep: metadata.EntryPoint, versions: dict[int, str]) -> str:
    """The version of the distribution that ships ``ep``; ``versions`` caches it per distribution
    object (reading it parses the METADATA file, ~1 ms, and one distribution ships dozens of plugins)."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "undefined"
    if id(dist) not in versions:
        versions[id(dist)] = dist.version
    return versions[id(dist)]


def _path_fingerprint() -> tuple[tuple[str, int], ...]:
    items = []
    for entry in sys.path:
        try:
            items.append((entry, os.stat(entry or ".").st_mtime_ns))
        except OSError:
            continue
    return tuple(items)
