"""``allowed.paths`` (Kafka's KIP-993): the folders a file-reading provider may read under."""

from __future__ import annotations

from connectors.sdk.config import CommaList, PluginConfig, setting
from connectors.sdk.config_provider import ConfigProvider
from connectors.sdk.filesystem import AllowedPaths


class PathsConfig(PluginConfig):
    allowed_paths: CommaList = setting(
        [],
        doc="Absolute folders that files may be read from (comma-separated). Empty: any path.",
    )


class PathProvider(ConfigProvider):
    """A provider that reads files, only under its ``allowed.paths`` folders."""

    config_model = PathsConfig

    def __init__(self) -> None:
        self._allowed = AllowedPaths([])

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, PathsConfig)
        self._allowed = AllowedPaths(config.allowed_paths)
