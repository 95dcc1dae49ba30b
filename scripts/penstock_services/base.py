"""What every service provides to the orchestrator."""

from __future__ import annotations

import os
import signal
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from .common import Context


@dataclass
class Launch:
    """How to start a configured service."""

    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))


class Service(ABC):
    name: ClassVar[str]
    env_var: ClassVar[str]
    default_ports: ClassVar[dict[str, int]]
    graceful_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_timeout: ClassVar[float] = 30.0

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    @abstractmethod
    def version(self) -> str:
        """The version that `up` would start."""

    @abstractmethod
    def install(self) -> None:
        """Make the binaries available (download into the cache when missing)."""

    @abstractmethod
    def configure(self, data_dir: Path, ports: dict[str, int]) -> Launch:
        """Create a fresh data folder and configuration; return how to start the server."""

    @abstractmethod
    def is_ready(self, ports: dict[str, int]) -> bool:
        """One quick probe: does the server answer real requests yet?"""

    @abstractmethod
    def exports(self, ports: dict[str, int]) -> dict[str, str]:
        """Environment variables that tell clients where the server is."""

    def after_ready(self, ports: dict[str, int]) -> None:  # noqa: B027 - optional hook
        """Runs once after the first successful probe (e.g. create a database)."""
