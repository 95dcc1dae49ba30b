"""Wire shapes of Kafka Connect's REST entities, for the OpenAPI document at ``/docs``.

Routes build their JSON directly (exact field order, nulls kept where Connect keeps them);
these models describe it and carry the examples.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FILE_SOURCE = {
    "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
    "tasks.max": "1",
    "file": "/tmp/in.txt",
    "topic": "lines",
}


class ErrorMessage(BaseModel):
    error_code: int = Field(examples=[404])
    message: str | None = Field(examples=["Connector file-source not found"])


class ServerInfo(BaseModel):
    version: str
    commit: str
    kafka_cluster_id: str | None


class TaskId(BaseModel):
    connector: str
    task: int


class ConnectorInfo(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "file-source",
                "config": {**FILE_SOURCE, "name": "file-source"},
                "tasks": [{"connector": "file-source", "task": 0}],
                "type": "source",
            }
        }
    )
    name: str
    config: dict[str, str]
    tasks: list[TaskId]
    type: str


class CreateConnectorRequest(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"name": "file-source", "config": FILE_SOURCE}})  # type: ignore[dict-item]
    name: str
    config: dict[str, str | int | float | bool | None]
    initial_state: str | None = Field(None, description="RUNNING (default), PAUSED or STOPPED")


class AutoRestartInfo(BaseModel):
    attempts: int
    max_attempts: int
    next_attempt_at: str | None


class ConnectorState(BaseModel):
    state: str = Field(examples=["RUNNING"])
    worker_id: str = Field(examples=["127.0.0.1:8083"])
    trace: str | None = None
    auto_restart: AutoRestartInfo | None = Field(
        None, description="Penstock addition: automatic restart progress of a failed connector"
    )


class TaskState(ConnectorState):
    id: int


class ConnectorStateInfo(BaseModel):
    name: str
    connector: ConnectorState
    tasks: list[TaskState]
    type: str


class TaskInfo(BaseModel):
    id: TaskId
    config: dict[str, str]


class ConnectorOffset(BaseModel):
    partition: dict[str, Any]
    offset: dict[str, Any] | None


class ConnectorOffsets(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"offsets": [{"partition": {"filename": "/tmp/in.txt"}, "offset": {"position": 30}}]}
        }
    )
    offsets: list[ConnectorOffset]


class Message(BaseModel):
    message: str


class PluginInfo(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    class_: str = Field(alias="class")
    type: str
    version: str | None = None


class ConfigKeyInfo(BaseModel):
    name: str
    type: str
    required: bool
    default_value: str | None
    importance: str
    documentation: str
    group: str | None
    width: str
    display_name: str
    dependents: list[str]
    order: int


class ConfigValueInfo(BaseModel):
    name: str
    value: str | None
    recommended_values: list[str]
    errors: list[str]
    visible: bool


class ConfigInfo(BaseModel):
    definition: ConfigKeyInfo | None
    value: ConfigValueInfo | None


class ConfigInfos(BaseModel):
    name: str
    error_count: int
    groups: list[str]
    configs: list[ConfigInfo]


class LoggerLevel(BaseModel):
    level: str
    last_modified: int | None


class WorkerStatus(BaseModel):
    status: str
    message: str


def responses(model: type[BaseModel] | None = None, *errors: int, status: int = 200) -> dict[int | str, Any]:
    """OpenAPI ``responses`` for a route: its success model and the error bodies it may return."""
    result: dict[int | str, Any] = {}
    if model is not None:
        result[status] = {"model": model}
    for code in errors:
        result[code] = {"model": ErrorMessage}
    return result


def json_body_doc(model: type[BaseModel] | dict[str, Any], example: Any = None) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body that the route parses itself."""
    schema = model if isinstance(model, dict) else model.model_json_schema()
    content: dict[str, Any] = {"schema": schema}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


class PreviewSample(BaseModel):
    """A sample record. For a sink config, ``key``/``value`` are as on the topic (a JSON string is its
    text, other JSON its JSON text); for a source config they are Connect data, with an optional
    Connect schema in JsonConverter's form in ``key_schema``/``value_schema``."""

    model_config = ConfigDict(extra="forbid")
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    timestamp: int | None = None
    key: Any = None
    value: Any = None
    key_schema: dict[str, Any] | None = None
    value_schema: dict[str, Any] | None = None
    headers: dict[str, Any] | None = None


class TransformPreviewRequest(BaseModel):
    """Exactly one of ``config`` (a connector config that need not exist) or ``connector`` (the
    name of an existing connector, whose stored config is used)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "config": {
                    "connector.class": "FileStreamSink",
                    "topics": "orders",
                    "file": "/tmp/out.txt",
                    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter.schemas.enable": "false",
                    "transforms": "route,mask",
                    "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                    "transforms.route.regex": "(.*)",
                    "transforms.route.replacement": "$1-masked",
                    "transforms.mask.type": "org.apache.kafka.connect.transforms.MaskField$Value",
                    "transforms.mask.fields": "card",
                },
                "records": [{"topic": "orders", "value": {"id": 1, "card": "4111-1111"}}],
            }
        },
    )
    config: dict[str, str | int | float | bool | None] | None = None
    connector: str | None = None
    records: list[PreviewSample]


class PreviewError(BaseModel):
    stage: str = Field(examples=["TRANSFORMATION"])
    transform: str | None = Field(description="The alias in transforms=... that failed")
    class_: str | None = Field(alias="class", description="The plugin class that failed")
    exception: str
    message: str


class PreviewResult(BaseModel):
    index: int
    dropped: bool
    record: dict[str, Any] | None
    error: PreviewError | None


class TransformPreview(BaseModel):
    direction: str = Field(
        examples=["sink"],
        description="sink: topic bytes -> converters -> transforms; "
        "source: Connect data -> transforms -> converters",
    )
    records: list[PreviewResult]
