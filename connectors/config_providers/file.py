"""``${file:/path/to/file.properties:key}``: a key of a Java ``.properties`` file (Kafka's
FileConfigProvider). The file is read each time a connector or task starts."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from connectors.config_providers.allowed_paths import PathProvider
from connectors.sdk.config_provider import ConfigData
from connectors.sdk.errors import ConfigError
from connectors.sdk.properties import parse_properties


class FileConfigProvider(PathProvider):
    aliases = ("org.apache.kafka.common.config.provider.FileConfigProvider",)

    async def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        if not path:
            raise ConfigError("The file provider needs a path: write ${file:/path/to/file.properties:key}")
        real = self._allowed.check(path)
        try:
            text = await asyncio.to_thread(_read, real)
        except OSError as exc:
            raise ConfigError(f"Could not read properties from file {path}: {exc.strerror}") from None
        data = parse_properties(text)
        if keys is not None:
            data = {k: data[k] for k in keys if k in data}
        return ConfigData(data)


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()
