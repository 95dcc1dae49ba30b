"""``allowed.paths`` (Kafka's KIP-993): the folders a file-reading provider may read under."""

from __future__ import annotations

import os

from connectors.sdk.config import CommaList, PluginConfig, setting
from connectors.sdk.config_provider import ConfigProvider
from connectors.sdk.errors import ConfigError


class PathsConfig(PluginConfig):
    allowed_paths: CommaList = setting(
        [],
        doc="Absolute folders that files may be read from (comma-separated). Empty: any path.",
    )


class AllowedPaths:
    """Checks a path against the allowed folders after resolving ``..`` and symbolic links,
    so neither can be used to step outside them."""

    def __init__(self, folders: list[str]) -> None:
        for folder in folders:
            if not os.path.isabs(folder):
                raise ConfigError(f"allowed.paths must be absolute paths, not {folder}")
        self._folders = [os.path.realpath(f) for f in folders]

    def check(self, path: str) -> str:
        """The real path to read; ConfigError if it lies outside every allowed folder."""
        real = os.path.realpath(path)
        if self._folders and not any(
            real == folder or real.startswith(folder.rstrip(os.sep) + os.sep) for folder in self._folders
        ):
            raise ConfigError(f"The path {path} is not in the list of allowed paths (allowed.paths)")
        return real


class PathProvider(ConfigProvider):
    """A provider that reads files, only under its ``allowed.paths`` folders."""

    config_model = PathsConfig

    def __init__(self) -> None:
        self._allowed = AllowedPaths([])

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, PathsConfig)
        self._allowed = AllowedPaths(config.allowed_paths)
