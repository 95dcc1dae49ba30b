"""PluginRegistry: built-in plugins by every name they answer to, and discovery of installed ones.

Installed plugins are simulated with a distribution folder (``<name>.dist-info`` with ``METADATA``
and ``entry_points.txt``) on a temporary path passed as ``extra_paths``, as ``plugin.path`` does.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from app.plugins.registry import AmbiguousPluginError, PluginRegistry
from connectors.converters.json import JsonConverter
from connectors.converters.simple_header import SimpleHeaderConverter
from connectors.converters.string import StringConverter
from connectors.file.sink import FileStreamSinkConnector
from connectors.file.source import FileStreamSourceConnector
from connectors.jdbc.source import JdbcSourceConnector
from connectors.postgres.connector import PostgresConnector
from connectors.sdk.errors import NotFoundError


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry()


# -- built-ins --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "FileStreamSource",
        "connectors.file.source.FileStreamSourceConnector",
        "connectors.file.source:FileStreamSourceConnector",
        "FileStreamSourceConnector",
    ],
)
def test_builtin_source_resolves_by_every_name(registry: PluginRegistry, name: str) -> None:
    desc = registry.resolve(name, ("source", "sink"))
    assert desc.cls is FileStreamSourceConnector
    assert desc.type == "source"
    assert desc.class_name == "org.apache.kafka.connect.file.FileStreamSourceConnector"
    assert desc.error is None


@pytest.mark.parametrize(
    "name",
    ["org.apache.kafka.connect.file.FileStreamSinkConnector", "FileStreamSink", "FileStreamSinkConnector"],
)
def test_builtin_sink_resolves(registry: PluginRegistry, name: str) -> None:
    desc = registry.resolve(name, ("source", "sink"))
    assert desc.cls is FileStreamSinkConnector
    assert desc.type == "sink"


@pytest.mark.parametrize(
    "name",
    [
        "JsonConverter",
        "org.apache.kafka.connect.json.JsonConverter",
        "Json",
        "connectors.converters.json.JsonConverter",
    ],
)
def test_converter_resolves_by_alias_simple_and_suffixless_name(registry: PluginRegistry, name: str) -> None:
    desc = registry.resolve(name, ("converter",))
    assert desc.cls is JsonConverter
    assert desc.type == "converter"


def test_string_converter_short_names(registry: PluginRegistry) -> None:
    for name in ("String", "StringConverter", "org.apache.kafka.connect.storage.StringConverter"):
        assert registry.resolve(name, ("converter",)).cls is StringConverter


@pytest.mark.parametrize("name", ["SimpleHeaderConverter", "SimpleHeader", "Simple"])
def test_header_converter_strips_either_suffix(registry: PluginRegistry, name: str) -> None:
    desc = registry.resolve(name, ("header_converter",))
    assert desc.cls is SimpleHeaderConverter


def test_resolve_only_searches_the_requested_types(registry: PluginRegistry) -> None:
    assert registry.find("SimpleHeaderConverter", ("converter",)) is None
    assert registry.find("FileStreamSource", ("sink",)) is None
    assert registry.find("JsonConverter", ("source", "sink")) is None
    assert registry.find("JsonConverter") is not None  # all types by default


def test_same_class_in_two_types_is_not_ambiguous(registry: PluginRegistry) -> None:
    desc = registry.resolve("JsonConverter", ("converter", "header_converter"))
    assert desc.cls is JsonConverter


def test_unknown_connector_message(registry: PluginRegistry) -> None:
    with pytest.raises(NotFoundError) as info:
        registry.resolve("NoSuchConnector", ("source", "sink"))
    message = str(info.value)
    assert message.startswith(
        "Failed to find any class that implements Connector and which name matches NoSuchConnector, "
        "available connectors are: "
    )
    assert "org.apache.kafka.connect.file.FileStreamSourceConnector" in message
    assert "org.apache.kafka.connect.file.FileStreamSinkConnector" in message
    assert not isinstance(info.value, AmbiguousPluginError)


def test_unknown_converter_message_names_the_plugin_type(registry: PluginRegistry) -> None:
    with pytest.raises(
        NotFoundError, match="implements converter and which name matches Nope, available plugins"
    ):
        registry.resolve("Nope", ("converter",))


def test_plugins_lists_each_type_sorted(registry: PluginRegistry) -> None:
    everything = registry.plugins()
    types = [p.type for p in everything]
    order = ["sink", "source", "transformation", "predicate", "converter", "header_converter"]
    assert types == sorted(types, key=order.index)  # grouped in REST order
    for t in set(types):
        names = [p.class_name for p in everything if p.type == t]
        assert names == sorted(names)
    converters = [p.class_name for p in registry.plugins("converter")]
    assert converters == [
        "org.apache.kafka.connect.converters.ByteArrayConverter",
        "org.apache.kafka.connect.json.JsonConverter",
        "org.apache.kafka.connect.storage.StringConverter",
    ]
    assert [p.class_name for p in registry.plugins("source")] == [
        "io.confluent.connect.jdbc.JdbcSourceConnector",
        "io.debezium.connector.postgresql.PostgresConnector",
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
    ]
    assert all(p.version != "" for p in everything)


def test_short_names_do_not_include_module_colon_fragments(registry: PluginRegistry) -> None:
    desc = registry.resolve("JsonConverter", ("converter",))
    assert not [n for n in desc.names if ":" in n and not n.startswith("connectors.")]


# -- installed plugins on an extra path -------------------------------------------------------

InstallFn = Callable[..., str]


@pytest.fixture
def plugin_dir(tmp_path: Path) -> Iterator[Path]:
    """A plugin.path folder; removed from sys.path and sys.modules afterwards."""
    before = set(sys.modules)
    yield tmp_path
    while str(tmp_path) in sys.path:
        sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        if str(tmp_path) in str(getattr(module, "__file__", "") or ""):
            del sys.modules[name]


def install(
    folder: Path, dist: str, group: str, entry: str, module: str, source: str, version: str = "1.0"
) -> None:
    """Writes a module and a ``.dist-info`` folder declaring one entry point for it."""
    (folder / f"{module}.py").write_text(source, encoding="utf-8")
    info = folder / f"{dist}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[{group}]\n{entry}\n", encoding="utf-8")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


GOOD = """
class {cls}:
    aliases = {aliases!r}
"""


def test_broken_plugin_is_listed_nowhere_and_does_not_raise(plugin_dir: Path) -> None:
    module = unique("broken_mod")
    install(
        plugin_dir,
        unique("broken_dist"),
        "penstock.source",
        f"BrokenSource = {module}:BrokenConnector",
        module,
        "raise RuntimeError('boom at import')\n",
    )
    registry = PluginRegistry(extra_paths=[str(plugin_dir)])
    assert str(plugin_dir) in sys.path
    sources = registry.plugins("source")  # must not raise
    assert [p.cls for p in sources] == [JdbcSourceConnector, PostgresConnector, FileStreamSourceConnector]
    with pytest.raises(NotFoundError) as info:
        registry.resolve("BrokenSource", ("source", "sink"))
    assert "installed but failed to load" in str(info.value)
    assert "boom at import" in str(info.value)
    # the good built-ins still resolve
    assert registry.resolve("FileStreamSource", ("source",)).cls is FileStreamSourceConnector


def test_installed_plugin_resolves_with_its_distribution_version(plugin_dir: Path) -> None:
    module = unique("good_mod")
    install(
        plugin_dir,
        unique("good_dist"),
        "penstock.source",
        f"Widget = {module}:WidgetSourceConnector",
        module,
        GOOD.format(cls="WidgetSourceConnector", aliases=("com.example.WidgetSourceConnector",)),
        version="2.3.4",
    )
    registry = PluginRegistry(extra_paths=[str(plugin_dir)])
    for name in (
        "Widget",
        "WidgetSourceConnector",
        "WidgetSource",
        "com.example.WidgetSourceConnector",
        f"{module}.WidgetSourceConnector",
        f"{module}:WidgetSourceConnector",
    ):
        desc = registry.resolve(name, ("source", "sink"))
        assert desc.cls is not None and desc.cls.__name__ == "WidgetSourceConnector"
    assert desc.version == "2.3.4"
    assert desc.class_name == "com.example.WidgetSourceConnector"


def test_class_without_aliases_is_listed_by_python_path(plugin_dir: Path) -> None:
    module = unique("plain_mod")
    install(
        plugin_dir,
        unique("plain_dist"),
        "penstock.sink",
        f"Plain = {module}:PlainSinkConnector",
        module,
        GOOD.format(cls="PlainSinkConnector", aliases=()),
    )
    registry = PluginRegistry(extra_paths=[str(plugin_dir)])
    names = [p.class_name for p in registry.plugins("sink")]
    assert f"{module}.PlainSinkConnector" in names
    assert names == sorted(names)


def test_new_distribution_appears_on_next_call_after_fingerprint_change(plugin_dir: Path) -> None:
    registry = PluginRegistry(extra_paths=[str(plugin_dir)])
    before = [p.class_name for p in registry.plugins("source")]
    assert registry.find("LateArrival", ("source",)) is None

    module = unique("late_mod")
    install(
        plugin_dir,
        unique("late_dist"),
        "penstock.source",
        f"LateArrival = {module}:LateSourceConnector",
        module,
        GOOD.format(cls="LateSourceConnector", aliases=()),
    )
    after = [p.class_name for p in registry.plugins("source")]
    assert after == sorted([*before, f"{module}.LateSourceConnector"])
    assert registry.resolve("LateArrival", ("source",)).cls.__name__ == "LateSourceConnector"  # type: ignore[union-attr]


def test_duplicate_simple_names_are_not_used_as_short_names(plugin_dir: Path) -> None:
    mod_a, mod_b = unique("dup_a"), unique("dup_b")
    install(
        plugin_dir,
        unique("dist_a"),
        "penstock.sink",
        f"DupA = {mod_a}:DupSinkConnector",
        mod_a,
        GOOD.format(cls="DupSinkConnector", aliases=()),
    )
    install(
        plugin_dir,
        unique("dist_b"),
        "penstock.sink",
        f"DupB = {mod_b}:DupSinkConnector",
        mod_b,
        GOOD.format(cls="DupSinkConnector", aliases=()),
    )
    registry = PluginRegistry(extra_paths=[str(plugin_dir)])
    assert registry.find("DupSinkConnector", ("sink",)) is None
    assert registry.find("DupSink", ("sink",)) is None
    assert registry.resolve("DupA", ("sink",)).cls.__module__ == mod_a  # type: ignore[union-attr]
    assert registry.resolve(f"{mod_b}.DupSinkConnector", ("sink",)).cls.__module__ == mod_b  # type: ignore[union-attr]


def test_alias_declared_by_two_classes_is_ambiguous(plugin_dir: Path) -> None:
    mod_a, mod_b = unique("amb_a"), unique("amb_b")
    for mod in (mod_a, mod_b):
        install(
            plugin_dir,
            unique("amb_dist"),
            "penstock.sink",
            f"{mod} = {mod}:{mod.title()}Connector",
            mod,
            GOOD.format(cls=f"{mod.title()}Connector", aliases=("com.example.Shared",)),
        )
    registry = PluginRegistry(extra_paths=[str(plugin_dir)])
    with pytest.raises(AmbiguousPluginError) as info:
        registry.resolve("com.example.Shared", ("sink",))
    assert str(info.value).startswith("More than one plugin matches alias com.example.Shared.")


# -- plugin.path entries that hold Java jars ---------------------------------------------------


def _jar_warnings(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in logs if e["log_level"] == "warning" and "Java jars" in e["event"]]


@pytest.mark.parametrize("layout", ["x.jar", "kafka-connect-jdbc/lib/kafka-connect-jdbc-10.7.jar", "a/b.jar"])
def test_a_folder_of_jars_on_plugin_path_is_warned_about_once(tmp_path: Path, layout: str) -> None:
    jar = tmp_path / "plugins" / layout
    jar.parent.mkdir(parents=True)
    jar.touch()
    folder = str(tmp_path / "plugins")
    with capture_logs() as logs:
        PluginRegistry([folder])
        PluginRegistry([folder])
    warnings = _jar_warnings(logs)
    assert len(warnings) == 1
    assert warnings[0]["plugin_path"] == folder and warnings[0]["jar"] == str(jar)
    assert "Python packages" in warnings[0]["event"] and "pip install" in warnings[0]["fix"]


def test_a_jar_file_on_plugin_path_is_warned_about_and_not_put_on_sys_path(tmp_path: Path) -> None:
    jar = tmp_path / "debezium-connector-postgres-2.7.jar"
    jar.touch()
    with capture_logs() as logs:
        PluginRegistry([str(jar)])
    assert len(_jar_warnings(logs)) == 1
    assert str(jar) not in sys.path


def test_a_python_plugin_folder_is_not_warned_about(tmp_path: Path) -> None:
    package = tmp_path / "site" / "penstock_example"
    package.mkdir(parents=True)
    (package / "__init__.py").touch()
    with capture_logs() as logs:
        PluginRegistry([str(tmp_path / "site")])
    assert [e for e in logs if e["log_level"] == "warning" and "plugin.path" in e["event"]] == []
