"""A third-party transform (tests/plugins/droppii) installed the way a user installs one: its own
package metadata declares the ``penstock.transformation`` entry point; Penstock's does not."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from importlib import metadata

import pytest

from app.config.connector_config import CommonConnectorConfig
from app.plugins.registry import PluginRegistry
from app.runtime.pipeline import build_transforms
from connectors.sdk import ConfigError, SchemaBuilder, SourceRecord, Struct
from tests.conftest import PLUGINS, pip_install_target
from tests.unit.transforms import debezium_events as dbz


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PluginRegistry]:
    """A registry over a plugin.path folder holding ``pip install --target`` of the example."""
    target = tmp_path_factory.mktemp("plugin-path")
    pip_install_target(PLUGINS / "droppii", target)
    before = set(sys.modules)
    yield PluginRegistry(extra_paths=[str(target)])
    while str(target) in sys.path:
        sys.path.remove(str(target))
    for name in set(sys.modules) - before:
        if str(target) in str(getattr(sys.modules[name], "__file__", "") or ""):
            del sys.modules[name]


def chain_config(**transforms: str) -> CommonConnectorConfig:
    return CommonConnectorConfig.from_props(
        {"name": "sink", "connector.class": "FileStreamSink", "topics": "t", **transforms}
    )


@pytest.mark.parametrize("name", ["DropPii", "penstock_droppii.DropPii", "com.example.pii.DropPii"])
def test_registry_finds_it_by_entry_point_and_class_name(registry: PluginRegistry, name: str) -> None:
    desc = registry.resolve(name, ("transformation",))
    assert desc.cls is not None and desc.cls.__module__ == "penstock_droppii"
    assert desc.type == "transformation"
    assert desc.class_name == "com.example.pii.DropPii"
    assert desc.version == "1.0.0"  # the plugin's own distribution version


def test_the_entry_point_comes_from_the_plugins_own_metadata(registry: PluginRegistry) -> None:
    listed = [p.class_name for p in registry.plugins("transformation")]
    assert "com.example.pii.DropPii" in listed
    own = metadata.distribution("penstock-droppii").entry_points.select(group="penstock.transformation")
    assert [(ep.name, ep.value) for ep in own] == [("DropPii", "penstock_droppii:DropPii")]
    penstock = metadata.distribution("penstock").entry_points.select(group="penstock.transformation")
    assert "DropPii" not in penstock.names


def test_it_runs_in_a_chain_after_extract_new_record_state(registry: PluginRegistry) -> None:
    chain = build_transforms(
        registry,
        chain_config(
            **{
                "transforms": "unwrap,pii",
                "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
                "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
                "transforms.pii.type": "DropPii",
                "transforms.pii.drop.fields": "name, country",
            }
        ),
    )
    out = chain.apply(dbz.event("c", after=dbz.row(1, "Anne", "NL")))
    assert out is not None
    expected = (
        SchemaBuilder.struct()
        .name(f"{dbz.TOPIC}.Value")
        .field("id", SchemaBuilder.int32())
        .field("__deleted", SchemaBuilder.string().optional())
        .build()
    )
    assert out.value_schema == expected
    assert out.value == Struct(expected, {"id": 1, "__deleted": "false"})
    schemaless = chain.apply(dbz.schemaless(dbz.event("d", before=dbz.row(2, "Bob", "BE"))))
    assert schemaless is not None and schemaless.value == {"id": 2, "__deleted": "true"}
    assert chain.apply(dbz.tombstone(2)) is None  # rewrite drops Debezium's tombstone first


def test_a_plain_map_and_a_tombstone(registry: PluginRegistry) -> None:
    chain = build_transforms(
        registry,
        chain_config(
            **{"transforms": "pii", "transforms.pii.type": "DropPii", "transforms.pii.drop.fields": "ssn"}
        ),
    )
    out = chain.apply(SourceRecord(topic="t", value={"id": 7, "ssn": "123-45-6789"}))
    assert out is not None and out.value == {"id": 7}
    tombstone = SourceRecord(topic="t", value=None)
    assert chain.apply(tombstone) is tombstone


def test_its_config_errors_surface_when_the_chain_is_built(registry: PluginRegistry) -> None:
    with pytest.raises(
        ConfigError,
        match=re.escape('Missing required configuration "drop.fields" which has no default value.'),
    ):
        build_transforms(registry, chain_config(**{"transforms": "pii", "transforms.pii.type": "DropPii"}))
