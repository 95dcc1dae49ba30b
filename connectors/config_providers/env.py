"""``${env:NAME}``: values of the worker's environment variables (Kafka's EnvVarConfigProvider)."""

from __future__ import annotations

import os
import re
from collections.abc import Collection

from connectors.sdk.config import PluginConfig, setting
from connectors.sdk.config_provider import ConfigData, ConfigProvider
from connectors.sdk.errors import ConfigError


class EnvConfig(PluginConfig):
    allowlist_pattern: str = setting(
        ".*", doc="Regular expression that a variable's whole name must match to be readable."
    )


class EnvVarConfigProvider(ConfigProvider):
    config_model = EnvConfig
    aliases = ("org.apache.kafka.common.config.provider.EnvVarConfigProvider",)

    def __init__(self) -> None:
        self._allowed = re.compile(".*")

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, EnvConfig)
        try:
            self._allowed = re.compile(config.allowlist_pattern)
        except re.error as exc:
            raise ConfigError(f"Invalid allowlist.pattern {config.allowlist_pattern}: {exc}") from None

    async def get(self, path: str, keys: Collection[str] | None = None) -> ConfigData:
        if path:
            raise ConfigError("The env provider takes no path: write ${env:NAME}")
        visible = {k: v for k, v in os.environ.items() if self._allowed.fullmatch(k)}
        if keys is not None:
            visible = {k: visible[k] for k in keys if k in visible}
        return ConfigData(visible)
