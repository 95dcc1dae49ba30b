"""Placeholder resolution: what gets resolved, what is an error, and which providers a worker enables."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pytest

from app.config.providers import ConfigProviders, placeholders, reverse_transform
from app.plugins.registry import PluginRegistry
from connectors.config_providers.file import FileConfigProvider
from connectors.sdk import ConfigData, ConfigError, ConfigProvider


class Expiring(ConfigProvider):
    """A provider whose values expire, as a vault lease would."""

    async def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        return ConfigData({k: f"{path}/{k}" for k in keys or ()}, ttl_ms=int(path))


def test_placeholder_syntax_is_kafkas() -> None:
    found = placeholders("jdbc:${env:HOST}:5432 ${file:/etc/db.properties:password} ${vault:a:b:c} $x {y}")
    assert [(p.provider, p.path, p.key) for p in found] == [
        ("env", "", "HOST"),
        ("file", "/etc/db.properties", "password"),
        ("vault", "a", "b:c"),
    ]


@pytest.fixture
def props(tmp_path: Path) -> Path:
    path = tmp_path / "db.properties"
    path.write_text("password=s3cr3t\nhost=db.internal\n")
    return path


async def test_every_placeholder_in_a_value_is_replaced(props: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSTOCK_TEST_PORT", "5433")
    providers = ConfigProviders.from_worker_config(PluginRegistry(), None, {})
    resolution = await providers.resolve(
        {
            "connection.url": f"postgres://${{file:{props}:host}}:${{env:PENSTOCK_TEST_PORT}}/db",
            "connection.password": f"${{file:{props}:password}}",
            "plain": "no placeholder",
        }
    )
    assert resolution.errors == {}
    assert resolution.config == {
        "connection.url": "postgres://db.internal:5433/db",
        "connection.password": "s3cr3t",
        "plain": "no placeholder",
    }
    assert resolution.values == {"db.internal", "5433", "s3cr3t"}
    assert resolution.ttl_ms is None


async def test_unknown_providers_and_missing_keys_are_errors_naming_the_placeholder(props: Path) -> None:
    providers = ConfigProviders({"file": FileConfigProvider()})
    config = {
        "a": "${vault:secret/db:password}",
        "b": f"${{file:{props}:nope}}",
        "c": "${file:/does/not/exist.properties:x}",
    }
    resolution = await providers.resolve(config)
    assert resolution.config == config
    assert resolution.errors["a"] == [
        "Invalid value ${vault:secret/db:password} for configuration a: no config provider named vault "
        "is enabled on this worker (config.providers: file)"
    ]
    assert resolution.errors["b"] == [
        f"Invalid value ${{file:{props}:nope}} for configuration b: config provider file has no key nope at path {props}"
    ]
    assert "Could not read properties from file /does/not/exist.properties" in resolution.errors["c"][0]
    with pytest.raises(ConfigError, match=r"\$\{vault:secret/db:password\}"):
        resolution.check()


async def test_the_shortest_ttl_is_reported() -> None:
    providers = ConfigProviders({"lease": Expiring()})
    resolution = await providers.resolve({"a": "${lease:5000:x}", "b": "${lease:300:y}"})
    assert resolution.config == {"a": "5000/x", "b": "300/y"}
    assert resolution.ttl_ms == 300


def test_worker_keys_choose_and_configure_providers(tmp_path: Path) -> None:
    registry = PluginRegistry()
    props = {
        "secrets.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
        "secrets.param.allowed.paths": str(tmp_path),
        "env.param.allowlist.pattern": "APP_.*",
    }
    providers = ConfigProviders.from_worker_config(registry, "secrets, env", props)
    assert set(providers.providers) == {"secrets", "env"}
    assert isinstance(providers.providers["secrets"], FileConfigProvider)
    assert set(ConfigProviders.from_worker_config(registry, None, {}).providers) == {
        "env",
        "file",
        "directory",
    }
    assert ConfigProviders.from_worker_config(registry, "", {}).providers == {}
    with pytest.raises(ConfigError, match=r'"config.providers.vault.class"'):
        ConfigProviders.from_worker_config(registry, "vault", {})
    with pytest.raises(ConfigError, match=r"config\.providers\.vault\.class: Class com\.example\.Vault could not be found\. Installed config providers: .*FileConfigProvider"):
        ConfigProviders.from_worker_config(registry, "vault", {"vault.class": "com.example.Vault"})
    with pytest.raises(ConfigError, match=r"config\.providers\.file: allowed\.paths must be absolute"):
        ConfigProviders.from_worker_config(registry, "file", {"file.param.allowed.paths": "rel"})


def test_task_configs_keep_the_placeholders_of_the_connector_config() -> None:
    raw = {"file": "${file:/s.properties:path}", "topic": "t", "other": "${env:X}"}
    generated = {"file": "/resolved/in.txt", "topic": "t", "task.class": "T"}
    assert reverse_transform(raw, generated) == {
        "file": "${file:/s.properties:path}",
        "topic": "t",
        "task.class": "T",
    }
