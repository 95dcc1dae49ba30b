"""``/connector-plugins``: installed plugins, their settings, and config validation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request

from app.api import entities as e
from app.api.body import flat_config_map, json_body, query_flag
from app.api.deps import HerderDep
from app.api.errors import HttpError
from app.api.json import JsonResponse
from app.config.connector_config import SinkConnectorConfig, SourceConnectorConfig
from app.herder.validation import BadRequestError, case_hint
from app.plugins.registry import PLUGIN_TYPES
from connectors.sdk.config import PluginConfig

router = APIRouter(prefix="/connector-plugins", tags=["connector-plugins"])


def _plugin_json(desc: Any) -> dict[str, Any]:
    data = {"class": desc.class_name, "type": desc.type}
    if desc.version and desc.version != "undefined":
        data["version"] = desc.version
    return data


@router.get("", summary="Installed plugins", responses=e.ok(list[e.PluginInfo]))
async def list_plugins(
    herder: HerderDep, connectors_only: str | None = Query(None, alias="connectorsOnly")
) -> Any:
    """Connectors only by default; ``connectorsOnly=false`` adds transforms, predicates and converters."""
    only = connectors_only is None or query_flag(connectors_only)
    types = ("sink", "source") if only else PLUGIN_TYPES
    plugins = [_plugin_json(p) for t in types for p in herder.registry.plugins(t)]
    return JsonResponse(plugins)


@router.get(
    "/{plugin}/config",
    summary="A plugin's settings",
    responses={**e.ok(list[e.ConfigKeyInfo]), **e.errors(404)},
)
async def plugin_config(plugin: str, herder: HerderDep) -> Any:
    desc = herder.registry.find(plugin)
    if desc is None or desc.cls is None:
        raise HttpError(404, f"Unknown plugin {plugin}.")
    model: type[PluginConfig] = desc.cls.config_model
    keys = model.describe()
    if desc.type in ("source", "sink"):
        framework = SinkConnectorConfig if desc.type == "sink" else SourceConnectorConfig
        own = {k.name for k in keys}
        keys += [k for k in framework.describe() if k.name not in own]
    return JsonResponse([{k: getattr(v, "value", v) for k, v in asdict(key).items()} for key in keys])


@router.put(
    "/{plugin}/config/validate",
    summary="Validate a connector config",
    responses={**e.ok(e.ConfigInfos), **e.errors(400)},
    openapi_extra=e.json_body(
        e.CONNECTOR_CONFIG, {"connector.class": "FileStreamSink", "topics": "lines", "file": "/tmp/out.txt"}
    ),
)
async def validate(plugin: str, request: Request, herder: HerderDep) -> Any:
    """Every setting with its value and errors; problems are in the body, not the status code."""
    config = flat_config_map(await json_body(request), "PUT /connector-plugins/{plugin}/config/validate")
    declared = (config.get("connector.class") or "").strip()
    if not declared:
        raise BadRequestError(
            f'The config must contain \'connector.class\'; for example {{"connector.class": "{plugin}", ...}}'
            + case_hint(config, "connector.class")
        )
    if not declared.removesuffix("Connector").endswith(plugin.removesuffix("Connector")):
        raise HttpError(400, f"Included connector type {declared} does not match request type {plugin}")
    infos = await herder.validate(config)  # type: ignore[arg-type]  # the same checks as POST /connectors
    return JsonResponse(
        {
            "name": infos.name,
            "error_count": infos.error_count,
            "groups": infos.groups,
            "configs": infos.configs,
        }
    )
