"""REST authentication and roles (``rest.auth.users.file``); see :mod:`app.api.auth.middleware`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.types import Scope

from app.api.auth.middleware import Authenticator, AuthMiddleware, principal_of
from app.api.auth.roles import sees_secrets
from app.api.auth.users import UsersFileError
from app.config.secrets import declared_secret_keys, mask_config
from app.herder.base import Herder
from app.settings import SettingsError, WorkerSettings

log = structlog.get_logger(__name__)

JAAS_EXTENSION = "BasicAuthSecurityRestExtension"


def refuse_jaas_extension(settings: WorkerSettings) -> None:
    """Kafka Connect's basic auth is a JAAS REST extension Penstock cannot load: a worker started
    with it would serve everyone, so it does not start."""
    extensions = settings.extras.get("rest.extension.classes", "")
    if JAAS_EXTENSION in extensions:
        raise SettingsError(
            f"rest.extension.classes={extensions} asks for Kafka Connect's JAAS basic authentication, "
            "which Penstock does not run (the worker would answer everyone). Use Penstock's: create a users "
            "file with 'penstock users add NAME --role admin --file /etc/penstock/users.json' and set "
            "rest.auth.users.file=/etc/penstock/users.json (CONNECT_REST_AUTH_USERS_FILE), then remove "
            "rest.extension.classes"
        )


def install(app: FastAPI, settings: WorkerSettings) -> None:
    """Add the auth middleware when ``rest.auth.users.file`` is set; call it just before the
    request guard is added, so the guard runs first."""
    refuse_jaas_extension(settings)
    app.state.auth = None
    if settings.rest_auth_users_file is None:
        return
    try:
        auth = Authenticator(settings.rest_auth_users_file)
    except UsersFileError as exc:
        raise SettingsError(str(exc)) from None
    app.state.auth = auth
    app.add_middleware(AuthMiddleware, auth=auth)
    log.info("REST authentication on", users_file=str(auth.path), users=len(auth.users.users))


def shown_config(
    scope: Scope, herder: Herder, config: Mapping[str, Any], connector_class: str | None = None
) -> dict[str, Any]:
    """A connector or task config as the caller may see it: secret values masked as ``[hidden]``
    unless auth is off or the caller is an admin. ``connector_class``: the plugin whose
    password-typed keys count as secrets (default: the config's ``connector.class``)."""
    principal = principal_of(scope)
    if principal is None or sees_secrets(principal.role):
        return dict(config)
    desc = herder.registry.find(
        connector_class or str(config.get("connector.class") or ""), ("source", "sink")
    )
    return mask_config(config, declared_secret_keys(desc.cls if desc is not None else None, config))
