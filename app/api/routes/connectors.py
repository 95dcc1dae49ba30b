"""``/connectors/**``: one handler per Kafka Connect ConnectorsResource method."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request, Response

from app.api import entities as e
from app.api.auth import shown_config
from app.api.body import (
    config_map,
    flat_config_map,
    json_body,
    json_object,
    query_flag,
    reject_unknown_fields,
)
from app.api.deps import HerderDep, SettingsDep
from app.api.errors import HttpError
from app.api.json import JsonResponse
from app.herder import offsets as offsets_api
from app.herder.base import TargetState
from connectors.sdk.config import java_trim

router = APIRouter(prefix="/connectors", tags=["connectors"], responses=e.errors(503))
FORWARD = Query(None, include_in_schema=False)
# Documented as the integer it is; anything else is 404, as in Kafka Connect (JAX-RS).
TaskNumber = Annotated[str, Path(json_schema_extra={"type": "integer", "minimum": 0})]
_INITIAL_STATES = {
    "RUNNING": TargetState.STARTED,
    "PAUSED": TargetState.PAUSED,
    "STOPPED": TargetState.STOPPED,
}


def _task_number(task: str) -> int:
    try:
        return int(task)
    except ValueError:
        raise HttpError(404, "HTTP 404 Not Found") from None


def _shown_task_configs(request: Request, herder: HerderDep, name: str) -> list[dict[str, Any]]:
    configs = herder.task_configs(name)
    plugin = herder.config(name).get("connector.class")
    return [shown_config(request.scope, herder, c, plugin) for c in configs]


def _created(request: Request, name: str, info: dict[str, Any]) -> JsonResponse:
    location = str(request.base_url).rstrip("/") + "/connectors/" + quote(name, safe="")
    return JsonResponse(info, status_code=201, headers={"Location": location})


@router.get(
    "",
    summary="List connectors",
    responses={
        200: {
            "model": list[str] | dict[str, e.ConnectorExpanded],
            "description": "Connector names; with ``expand``, a map of each connector's details",
            "content": {"application/json": {"example": ["file-source"]}},
        }
    },
)
async def list_connectors(
    request: Request,
    herder: HerderDep,
    expand: list[str] = Query([], description="status and/or info; other values add nothing"),
) -> Any:
    """Names of all connectors; with ``expand=status`` and/or ``expand=info``, a map of details."""
    names = herder.connector_names()
    if not expand:
        return JsonResponse(names)
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        item: dict[str, Any] = {}
        try:
            if "status" in expand:
                item["status"] = herder.status(name)
        except Exception:
            continue
        if "info" in expand:
            try:
                info = herder.info(name).as_json()
                item["info"] = {**info, "config": shown_config(request.scope, herder, info["config"])}
            except Exception:
                item["info"] = None
        result[name] = item
    return JsonResponse(result)


@router.post(
    "",
    status_code=201,
    summary="Create a connector",
    response_class=Response,
    responses={**e.created(), **e.errors(400, 409)},
    openapi_extra=e.json_body(e.CreateConnectorRequest, {"name": "file-source", "config": e.FILE_SOURCE}),
)
async def create_connector(request: Request, herder: HerderDep, forward: str | None = FORWARD) -> Any:
    """Validate and create a connector; it starts at once unless ``initial_state`` says otherwise."""
    body = json_object(await json_body(request), "The request body")
    reject_unknown_fields(body, {"name", "config", "initial_state"}, "the create-connector request")
    raw_name = body.get("name")
    if raw_name is not None and not isinstance(raw_name, str):
        raise HttpError(400, "Connector 'name' must be a string")
    name = java_trim(raw_name or "")
    if "config" not in body or body["config"] is None:
        raise HttpError(
            400, "The request body must contain a 'config' object with the connector configuration"
        )
    config = config_map(body["config"])
    state = body.get("initial_state")
    initial = None
    if state is not None:
        if not isinstance(state, str) or state.upper() not in _INITIAL_STATES:
            raise HttpError(400, f"Invalid initial_state {state!r}: use RUNNING, PAUSED or STOPPED")
        initial = _INITIAL_STATES[state.upper()]
    if config.get("name") is not None and config["name"] != name:
        raise HttpError(
            400,
            f"Connector name configuration ({config['name']}) doesn't match connector name in the URL ({name})",
        )
    config["name"] = name
    info = await herder.create(name, config, initial)  # type: ignore[arg-type]
    return _created(request, name, info.as_json())


@router.get("/{name}", summary="Connector info", responses={**e.ok(e.ConnectorInfo), **e.errors(404)})
async def get_connector(name: str, request: Request, herder: HerderDep) -> Any:
    info = herder.info(name).as_json()
    return JsonResponse({**info, "config": shown_config(request.scope, herder, info["config"])})


@router.get(
    "/{name}/config", summary="Connector config", responses={**e.ok(dict[str, str | None]), **e.errors(404)}
)
async def get_config(name: str, request: Request, herder: HerderDep) -> Any:
    return JsonResponse(shown_config(request.scope, herder, herder.config(name)))


@router.put(
    "/{name}/config",
    summary="Create or replace a connector's config",
    responses={**e.ok(e.ConnectorInfo, description="Replaced"), **e.created(), **e.errors(400, 409)},
    openapi_extra=e.json_body(e.CONNECTOR_CONFIG, e.FILE_SOURCE),
)
async def put_config(name: str, request: Request, herder: HerderDep, forward: str | None = FORWARD) -> Any:
    """201 when this created the connector, 200 when it replaced the config (target state unchanged)."""
    config = flat_config_map(await json_body(request), "PUT /connectors/{name}/config")
    if config.get("name") is not None and config["name"] != name:
        raise HttpError(
            400,
            f"Connector name configuration ({config['name']}) doesn't match connector name in the URL ({name})",
        )
    config["name"] = name
    created, info = await herder.put_config(name, config)  # type: ignore[arg-type]
    if created:
        return _created(request, name, info.as_json())
    return JsonResponse(info.as_json())


@router.patch(
    "/{name}/config",
    summary="Patch a connector's config",
    responses={**e.ok(e.ConnectorInfo), **e.errors(400, 404, 409)},
    openapi_extra=e.json_body(
        {**e.CONFIG_MAP, "description": "Keys to set, and keys to remove (null)"},
        {"tasks.max": "2", "batch.size": None},
    ),
)
async def patch_config(name: str, request: Request, herder: HerderDep, forward: str | None = FORWARD) -> Any:
    """Keys with values are set, keys with ``null`` are removed; the result is validated like PUT."""
    patch = config_map(await json_body(request), "Config patch")
    info = await herder.patch_config(name, patch)
    return JsonResponse(info.as_json())


@router.get(
    "/{name}/status",
    summary="Connector and task states",
    responses={**e.ok(e.ConnectorStateInfo), **e.errors(404)},
)
async def get_status(name: str, herder: HerderDep) -> Any:
    return JsonResponse(herder.status(name))


@router.post(
    "/{name}/restart",
    status_code=202,
    summary="Restart a connector (and optionally its tasks)",
    response_class=Response,
    responses={
        **e.ok(e.ConnectorStateInfo, 202, "Restarting (includeTasks or onlyFailed): what restarts"),
        **e.empty(204, "The connector restarted"),
        **e.errors(404, 409),
    },
)
async def restart_connector(
    name: str,
    herder: HerderDep,
    include_tasks: str | None = Query(None, alias="includeTasks"),
    only_failed: str | None = Query(None, alias="onlyFailed"),
    forward: str | None = FORWARD,
) -> Any:
    plan = await herder.restart_connector(name, query_flag(include_tasks), query_flag(only_failed))
    if plan is None:
        return Response(status_code=204)
    return JsonResponse(plan, status_code=202)


@router.put(
    "/{name}/pause",
    status_code=202,
    response_class=Response,
    response_description="Pausing",
    summary="Pause a connector and its tasks",
    responses=e.errors(404, 409),
)
async def pause(name: str, herder: HerderDep) -> Response:
    await herder.pause(name)
    return Response(status_code=202)


@router.put(
    "/{name}/resume",
    status_code=202,
    response_class=Response,
    response_description="Resuming",
    summary="Resume a paused or stopped connector",
    responses=e.errors(404, 409),
)
async def resume(name: str, herder: HerderDep) -> Response:
    await herder.resume(name)
    return Response(status_code=202)


@router.put(
    "/{name}/stop",
    status_code=204,
    summary="Stop a connector (shuts down its tasks)",
    response_description="Stopped",
    responses=e.errors(404, 409),
)
async def stop(name: str, herder: HerderDep, forward: str | None = FORWARD) -> Response:
    await herder.stop_connector(name)
    return Response(status_code=204)


@router.delete(
    "/{name}",
    status_code=204,
    summary="Delete a connector",
    response_description="Deleted",
    responses=e.errors(404, 409),
)
async def delete_connector(name: str, herder: HerderDep, forward: str | None = FORWARD) -> Response:
    await herder.delete(name)
    return Response(status_code=204)


@router.get("/{name}/tasks", summary="Task configs", responses={**e.ok(list[e.TaskInfo]), **e.errors(404)})
async def get_tasks(name: str, request: Request, herder: HerderDep) -> Any:
    configs = _shown_task_configs(request, herder, name)
    return JsonResponse([{"id": {"connector": name, "task": i}, "config": c} for i, c in enumerate(configs)])


@router.get(
    "/{name}/tasks-config",
    summary="Task configs by task id (deprecated)",
    deprecated=True,
    responses={**e.ok(dict[str, dict[str, str | None]]), **e.errors(404)},
)
async def get_tasks_config(name: str, request: Request, herder: HerderDep) -> Any:
    configs = _shown_task_configs(request, herder, name)
    return JsonResponse({f"{name}-{i}": c for i, c in enumerate(configs)})


@router.get(
    "/{name}/tasks/{task}/status",
    summary="One task's state",
    responses={**e.ok(e.TaskState), **e.errors(404)},
)
async def get_task_status(name: str, task: TaskNumber, herder: HerderDep) -> Any:
    return JsonResponse(herder.task_status(name, _task_number(task)))


@router.post(
    "/{name}/tasks/{task}/restart",
    status_code=204,
    summary="Restart one task",
    response_description="Restarted",
    responses=e.errors(404, 409),
)
async def restart_task(
    name: str, task: TaskNumber, herder: HerderDep, forward: str | None = FORWARD
) -> Response:
    await herder.restart_task(name, _task_number(task))
    return Response(status_code=204)


@router.get(
    "/{name}/topics",
    summary="Topics the connector has used",
    responses={**e.ok(dict[str, e.ConnectorTopics]), **e.errors(403)},
)
async def get_topics(name: str, herder: HerderDep, settings: SettingsDep) -> Any:
    if not settings.topic_tracking_enable:
        raise HttpError(403, "Topic tracking is disabled.")
    return JsonResponse({name: {"topics": herder.topics(name)}})


@router.put(
    "/{name}/topics/reset",
    status_code=202,
    summary="Forget the topics the connector has used",
    response_class=Response,
    response_description="Forgotten",
    responses=e.errors(403),
)
async def reset_topics(name: str, herder: HerderDep, settings: SettingsDep) -> Response:
    if not settings.topic_tracking_enable:
        raise HttpError(403, "Topic tracking is disabled.")
    if not settings.topic_tracking_allow_reset:
        raise HttpError(403, "Topic tracking reset is disabled.")
    await herder.reset_topics(name)
    return Response(status_code=202)


@router.get(
    "/{name}/offsets", summary="Committed offsets", responses={**e.ok(e.ConnectorOffsets), **e.errors(404)}
)
async def get_offsets(name: str, herder: HerderDep) -> Any:
    herder.config(name)
    return JsonResponse({"offsets": await offsets_api.get_offsets(herder, name)})


@router.patch(
    "/{name}/offsets",
    summary="Alter offsets of a stopped connector",
    responses={**e.ok(e.Message), **e.errors(400, 404, 409)},
    openapi_extra=e.json_body(
        e.AlterOffsetsRequest,
        {"offsets": [{"partition": {"filename": "/tmp/in.txt"}, "offset": {"position": 0}}]},
    ),
)
async def alter_offsets(name: str, request: Request, herder: HerderDep, forward: str | None = FORWARD) -> Any:
    body = await json_body(request, required=False)
    if body is None or (isinstance(body, dict) and not body.get("offsets")):
        raise HttpError(400, "Partitions / offsets need to be provided for an alter offsets request")
    body = json_object(body, "The request body")
    reject_unknown_fields(body, {"offsets"}, "the alter-offsets request")
    entries = body["offsets"]
    if not isinstance(entries, list):
        raise HttpError(
            400, '\'offsets\' must be a JSON array of {"partition": {...}, "offset": {...}} objects'
        )
    for entry in entries:
        json_object(entry, "Each element of 'offsets'")
        reject_unknown_fields(entry, {"partition", "offset"}, "an offsets element")
        if entry.get("partition") is not None:
            json_object(entry["partition"], "'partition'")
    message = await offsets_api.alter_offsets(herder, name, entries)
    return JsonResponse({"message": message})


@router.delete(
    "/{name}/offsets",
    summary="Reset offsets of a stopped connector",
    responses={**e.ok(e.Message), **e.errors(400, 404, 409)},
)
async def reset_offsets(name: str, herder: HerderDep, forward: str | None = FORWARD) -> Any:
    return JsonResponse({"message": await offsets_api.reset_offsets(herder, name)})
