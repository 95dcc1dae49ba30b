"""``${file:/path/to/file.properties:key}``: a key of a Java ``.properties`` file (Kafka's
FileConfigProvider). The file is read each time a connector or task starts."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from connectors.config_providers.allowed_paths import AllowedPaths, PathsConfig
from connectors.sdk.config import PluginConfig
from connectors.sdk.config_provider import ConfigData, ConfigProvider
from connectors.sdk.errors import ConfigError

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def parse_properties(text: str) -> dict[str, str]:
    """The ``java.util.Properties`` format: comments (``#``, ``!``), ``key=value``,
    ``key: value`` or ``key value``, backslash line continuations and escapes."""
    result: dict[str, str] = {}
    for line in _logical_lines(text):
        i, key = 0, []
        while i < len(line) and line[i] not in "=: \t\f":
            if line[i] == "\\" and i + 1 < len(line):
                key.append(line[i : i + 2])
                i += 2
            else:
                key.append(line[i])
                i += 1
        rest = line[i:].lstrip(" \t\f")
        if rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(" \t\f")
        result[_unescape("".join(key))] = _unescape(rest)
    return result


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending: str | None = None
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f")
        if pending is None and (not line or line[0] in "#!"):
            continue
        continued = (len(line) - len(line.rstrip("\\"))) % 2 == 1
        joined = (pending or "") + (line[:-1] if continued else line)
        if continued:
            pending = joined
        else:
            lines.append(joined)
            pending = None
    if pending is not None:
        lines.append(pending)
    return lines


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            digits = text[i + 2 : i + 6]
            if nxt == "u" and len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
                out.append(chr(int(digits, 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class FileConfigProvider(ConfigProvider):
    config_model = PathsConfig
    aliases = ("org.apache.kafka.common.config.provider.FileConfigProvider",)

    def __init__(self) -> None:
        self._allowed = AllowedPaths([])

    def configure(self, config: PluginConfig) -> None:
        assert isinstance(config, PathsConfig)
        self._allowed = AllowedPaths(config.allowed_paths)

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
