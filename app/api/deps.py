"""Dependencies handed to routes; the herder is the only thing routes talk to."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.herder.base import Herder
from app.logging import LoggerAdmin
from app.settings import WorkerSettings


def get_herder(request: Request) -> Herder:
    herder: Herder = request.app.state.herder
    return herder


def get_settings(request: Request) -> WorkerSettings:
    settings: WorkerSettings = request.app.state.settings
    return settings


def get_loggers(request: Request) -> LoggerAdmin:
    loggers: LoggerAdmin = request.app.state.loggers
    return loggers


HerderDep = Annotated[Herder, Depends(get_herder)]
SettingsDep = Annotated[WorkerSettings, Depends(get_settings)]
LoggersDep = Annotated[LoggerAdmin, Depends(get_loggers)]
