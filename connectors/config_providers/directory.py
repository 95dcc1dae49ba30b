"""``${directory:/path/to/folder:filename}``: the content of a file in a folder (Kafka's
DirectoryConfigProvider), the layout of Kubernetes secrets mounted as volumes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Collection

from connectors.config_providers.allowed_paths import PathProvider
from connectors.sdk.config_provider import ConfigData
from connectors.sdk.errors import ConfigError


class DirectoryConfigProvider(PathProvider):
    aliases = ("org.apache.kafka.common.config.provider.DirectoryConfigProvider",)

    async def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        if not path:
            raise ConfigError("The directory provider needs a path: write ${directory:/path/to/folder:file}")
        folder = self._allowed.check(path)
        data = await asyncio.to_thread(_read_files, folder, keys)
        if data is None:
            raise ConfigError(f"The directory {path} does not exist")
        return ConfigData(data)


def _read_files(folder: str, keys: Collection[str] | None) -> dict[str, str] | None:
    """Regular files directly in the folder (no sub-folders, no names with a separator); None
    if there is no such folder."""
    if not os.path.isdir(folder):
        return None
    names = os.listdir(folder) if keys is None else [k for k in keys if k and os.sep not in k]
    data = {}
    for name in names:
        full = os.path.join(folder, name)
        if os.path.isfile(full):
            with open(full, encoding="utf-8") as f:
                data[name] = f.read()
    return data
