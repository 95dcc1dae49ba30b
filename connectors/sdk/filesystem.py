"""Folders a plugin may touch: :class:`AllowedPaths`, and the worker's ``file.allowed.paths``.

The worker calls :func:`allow_paths` once at start with its ``file.allowed.paths`` setting; a
plugin that reads or writes files a connector config names (the file connectors) asks
:func:`worker_paths` when the config is validated and again when it opens the file, and opens
the real path the check returns, so a symlink swapped in later cannot lead elsewhere than the
check saw. Unset (the default, as in Kafka Connect): any path the worker's user can reach.
The setting is per process, as a worker is. Config providers that read files use the same
check with their own ``allowed.paths`` (Kafka's KIP-993).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from connectors.sdk.errors import ConfigError

WORKER_SETTING = "file.allowed.paths"


class AllowedPaths:
    """Checks a path against the allowed folders after resolving ``..`` and symbolic links,
    so neither can be used to step outside them. No folders: every path is allowed."""

    def __init__(self, folders: Iterable[str], setting: str = "allowed.paths") -> None:
        self.setting = setting
        folders = [f.strip() for f in folders if f.strip()]
        for folder in folders:
            if not os.path.isabs(folder):
                raise ConfigError(f"{setting} must be absolute paths, not {folder}")
        self.folders = [os.path.realpath(f) for f in folders]

    def refusal(self, path: str) -> str | None:
        """None when ``path`` lies under an allowed folder (or none is set), else why not."""
        real = os.path.realpath(path)
        if self.folders and not any(
            real == folder or real.startswith(folder.rstrip(os.sep) + os.sep) for folder in self.folders
        ):
            return (
                f"the path (symlinks and .. resolved) is outside {self.setting} ({', '.join(self.folders)})"
            )
        return None

    def check(self, path: str) -> str:
        """The real path to use; ConfigError if it lies outside every allowed folder."""
        real = os.path.realpath(path)
        if self.refusal(path) is not None:
            raise ConfigError(f"The path {path} is not in the list of allowed paths ({self.setting})")
        return real


_worker = AllowedPaths([], WORKER_SETTING)


def allow_paths(folders: Iterable[str]) -> None:
    """The worker's ``file.allowed.paths`` (absolute folders; empty: no restriction)."""
    global _worker
    _worker = AllowedPaths(folders, WORKER_SETTING)


def worker_paths() -> AllowedPaths:
    """The folders this worker lets connectors read and write files in."""
    return _worker
