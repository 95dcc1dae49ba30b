"""The built-in providers read what Kafka's read: properties files, folders of files, the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.config_providers.allowed_paths import PathsConfig
from connectors.config_providers.directory import DirectoryConfigProvider
from connectors.config_providers.env import EnvConfig, EnvVarConfigProvider
from connectors.config_providers.file import FileConfigProvider
from connectors.sdk.errors import ConfigError
from connectors.sdk.properties import parse_properties


def test_properties_parsing_follows_java_properties() -> None:
    text = (
        "# comment\n! also a comment\n"
        "user=admin\n"
        "password : s3cr3t=with=equals\n"
        "spaced   value here\n"
        "long=first \\\n    second\n"
        "escaped\\:key=a\\tb\\u0041\n"
        "empty=\n"
        "bare\n"
    )
    assert parse_properties(text) == {
        "user": "admin",
        "password": "s3cr3t=with=equals",
        "spaced": "value here",
        "long": "first second",
        "escaped:key": "a\tbA",
        "empty": "",
        "bare": "",
    }


async def test_file_provider_returns_only_the_keys_asked_for(tmp_path: Path) -> None:
    props = tmp_path / "db.properties"
    props.write_text("user=admin\npassword=s3cr3t\n")
    data = await FileConfigProvider().get(str(props), ["password", "absent"])
    assert data.data == {"password": "s3cr3t"}
    assert data.ttl_ms is None
    assert (await FileConfigProvider().get(str(props))).data == {"user": "admin", "password": "s3cr3t"}


async def test_file_provider_refuses_paths_outside_allowed_paths(tmp_path: Path) -> None:
    allowed, other = tmp_path / "allowed", tmp_path / "other"
    allowed.mkdir()
    other.mkdir()
    (allowed / "a.properties").write_text("k=v\n")
    (other / "b.properties").write_text("k=v\n")
    provider = FileConfigProvider()
    provider.configure(PathsConfig.parse({"allowed.paths": str(allowed)}))
    assert (await provider.get(str(allowed / "a.properties"), ["k"])).data == {"k": "v"}
    for escape in (other / "b.properties", allowed / ".." / "other" / "b.properties"):
        with pytest.raises(ConfigError, match="not in the list of allowed paths"):
            await provider.get(str(escape), ["k"])
    with pytest.raises(ConfigError, match="must be absolute"):
        provider.configure(PathsConfig.parse({"allowed.paths": "relative/dir"}))


async def test_file_provider_explains_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Could not read properties from file"):
        await FileConfigProvider().get(str(tmp_path / "missing.properties"), ["k"])


async def test_directory_provider_reads_files_by_name(tmp_path: Path) -> None:
    (tmp_path / "username").write_text("admin")
    (tmp_path / "password").write_text("s3cr3t\n")
    (tmp_path / "sub").mkdir()
    provider = DirectoryConfigProvider()
    assert (await provider.get(str(tmp_path), ["password", "sub", "../etc"])).data == {"password": "s3cr3t\n"}
    assert (await provider.get(str(tmp_path))).data == {"username": "admin", "password": "s3cr3t\n"}
    with pytest.raises(ConfigError, match="does not exist"):
        await provider.get(str(tmp_path / "nope"), ["x"])


async def test_env_provider_honours_the_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSTOCK_TEST_DB_PASSWORD", "s3cr3t")
    monkeypatch.setenv("PENSTOCK_TEST_OTHER", "x")
    provider = EnvVarConfigProvider()
    keys = ["PENSTOCK_TEST_DB_PASSWORD", "PENSTOCK_TEST_OTHER"]
    assert (await provider.get("", keys)).data == {
        "PENSTOCK_TEST_DB_PASSWORD": "s3cr3t",
        "PENSTOCK_TEST_OTHER": "x",
    }
    provider.configure(EnvConfig.parse({"allowlist.pattern": "PENSTOCK_TEST_DB_.*"}))
    assert (await provider.get("", keys)).data == {"PENSTOCK_TEST_DB_PASSWORD": "s3cr3t"}
    with pytest.raises(ConfigError, match="takes no path"):
        await provider.get("/some/path", keys)
