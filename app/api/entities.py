"""Wire shapes of Kafka Connect's REST entities, for the OpenAPI document at ``/docs``.

Routes build their JSON directly (exact field order, nulls kept where Connect keeps them);
these models describe it and carry the examples. Response models forbid extra fields so the
document says exactly what is sent (the schemathesis test in ``tests/api`` holds them to it).
Bodies are parsed by :mod:`app.api.body`; their models here describe what that parser
accepts, no more and no less.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FILE_SOURCE = {
    "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
    "tasks.max": "1",
    "file": "/tmp/in.txt",
    "topic": "lines",
}


class Shape(BaseModel):
    """A JSON object with exactly these fields."""

    model_config = ConfigDict(extra="forbid")


class ErrorMessage(Shape):
    error_code: int = Field(examples=[404])
    message: str | None = Field(examples=["Connector file-source not found"])


class ServerInfo(Shape):
    version: str = Field(
        examples=["3.9.0"], description="The Kafka Connect version whose REST API this worker speaks"
    )
    commit: str = Field(examples=["penstock-0.1.0"])
    kafka_cluster_id: str | None = Field(examples=["MkU3OEVBNTcwNTJENDM2Qk"])


class WorkerStatus(Shape):
    status: str = Field(examples=["healthy"], description="healthy, or starting (with 503)")
    message: str


class Liveness(Shape):
    status: Literal["ok"]


class Readiness(Shape):
    status: Literal["ready"]


class NotReady(Shape):
    status: Literal["starting"]
    message: str


class TaskId(Shape):
    connector: str
    task: int


ConnectorType = Literal["source", "sink", "unknown"]


class ConnectorInfo(Shape):
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
    config: dict[str, str | None]
    tasks: list[TaskId]
    type: ConnectorType


class AutoRestartInfo(Shape):
    attempts: int
    max_attempts: int
    next_attempt_at: str | None


class ConnectorState(Shape):
    state: str = Field(
        examples=["RUNNING"], description="UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED or RESTARTING"
    )
    worker_id: str = Field(examples=["127.0.0.1:8083"])
    trace: str | None = Field(None, description="Why it failed (only when FAILED)")
    auto_restart: AutoRestartInfo | None = Field(
        None, description="Penstock addition: automatic restart progress of a failed connector or task"
    )


class TaskState(ConnectorState):
    id: int
    consumer_lag: int | None = Field(None, description="Penstock addition, sinks: records not yet read")
    records_lost: int | None = Field(
        None, description="Penstock addition, embedded sinks: records retention deleted before they were read"
    )
    dead_lettered: int | None = Field(
        None, description="Penstock addition: records this run of the task sent to the dead-letter queue"
    )
    details: dict[str, str | int | float | bool] | None = Field(
        None, description="Penstock addition: the task's own progress report (context.details)"
    )


class ConnectorStateInfo(Shape):
    name: str
    connector: ConnectorState
    tasks: list[TaskState]
    type: ConnectorType


class ConnectorExpanded(Shape):
    """One connector of ``GET /connectors?expand=...``: the parts that were asked for."""

    status: ConnectorStateInfo | None = None
    info: ConnectorInfo | None = None


class TaskInfo(Shape):
    id: TaskId
    config: dict[str, str | None]


class ConnectorTopics(Shape):
    topics: list[str]


class ConnectorOffset(Shape):
    partition: dict[str, Any] = Field(
        description="Source: the connector's partition map; sink: kafka_topic and kafka_partition"
    )
    offset: dict[str, Any] | None = Field(
        description="Source: the connector's offset map; sink: kafka_offset; null resets it"
    )


class ConnectorOffsets(Shape):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"offsets": [{"partition": {"filename": "/tmp/in.txt"}, "offset": {"position": 30}}]}
        }
    )
    offsets: list[ConnectorOffset]


class AlterOffsetsRequest(Shape):
    """``PATCH /connectors/{c}/offsets``: at least one partition and its new offset."""

    offsets: list[ConnectorOffset] = Field(min_length=1)


class Message(Shape):
    message: str


class PluginInfo(Shape):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    class_: str = Field(alias="class")
    type: str = Field(examples=["source"])
    version: str | None = Field(None, description="Left out when the plugin does not say")


class ConfigKeyInfo(Shape):
    name: str
    type: str = Field(examples=["STRING"])
    required: bool
    default_value: str | None
    importance: str = Field(examples=["HIGH"])
    documentation: str
    group: str | None
    width: str = Field(examples=["NONE"])
    display_name: str
    dependents: list[str]
    order: int


class ConfigValueInfo(Shape):
    name: str
    value: str | None
    recommended_values: list[str]
    errors: list[str]
    visible: bool


class ConfigInfo(Shape):
    definition: ConfigKeyInfo | None
    value: ConfigValueInfo | None


class ConfigInfos(Shape):
    name: str
    error_count: int
    groups: list[str]
    configs: list[ConfigInfo]


class LoggerLevel(Shape):
    level: str = Field(examples=["INFO"])
    last_modified: int | None = Field(description="When it was last set (ms since the epoch), or null")


ConfigValue = str | float | bool | None
"""A config value as a body may give it: numbers and booleans are stored as strings."""


CONFIG_MAP: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
    "description": "Config keys to values; numbers and booleans are stored as strings",
}
CONNECTOR_CONFIG: dict[str, Any] = {
    **CONFIG_MAP,
    "properties": {"connector.class": {"type": "string"}},
    "required": ["connector.class"],
}


class CreateConnectorRequest(Shape):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"name": "file-source", "config": dict(FILE_SOURCE)}},
    )
    name: str
    config: dict[str, ConfigValue] = Field(json_schema_extra=CONNECTOR_CONFIG)
    initial_state: Literal["RUNNING", "PAUSED", "STOPPED"] | None = Field(
        None, description="RUNNING (default), PAUSED or STOPPED; case-insensitive"
    )


class LoggerLevelRequest(BaseModel):
    """Kafka Connect reads the body as a string map and uses only ``level``."""

    level: Literal["OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL"] = Field(
        description="Case-insensitive"
    )


class DeadLetterReplay(Shape):
    topic: str = Field(examples=["orders-dlq"], description="The dead-letter queue that was replayed")
    replayed: int = Field(description="Records delivered: put by the sink, or written by the source")
    failed_again: int = Field(description="Records that failed again and went back to the DLQ")
    skipped: int = Field(description="Dead letters without __connect.errors.* context headers")
    error: str | None = Field(description="The trace, when the replay stopped on a failure")


class PreviewSample(BaseModel):
    """A sample record. For a sink config, ``key``/``value`` are as on the topic (a JSON string is its
    text, other JSON its JSON text); for a source config they are Connect data, with an optional
    Connect schema in JsonConverter's form in ``key_schema``/``value_schema``."""

    model_config = ConfigDict(extra="forbid")
    topic: str | None = Field(None, max_length=249, pattern=r"^[A-Za-z0-9._-]+$")
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
    records: list[PreviewSample] = Field(max_length=1000, description="At most 1000 sample records")


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


BODY_MODELS: tuple[type[BaseModel], ...] = (
    CreateConnectorRequest,
    AlterOffsetsRequest,
    LoggerLevelRequest,
    TransformPreviewRequest,
)
"""Request bodies the routes parse themselves; their schemas go into the document's components."""

# -- route documentation ---------------------------------------------------------------------

_ERRORS = {
    400: "The request is not valid; the message says what to fix",
    403: "Topic tracking (or resetting it) is disabled on this worker",
    404: "No such connector, task, plugin or logger",
    409: "The connector already exists, or a rebalance or another operation got in the way; retry",
    413: "The request body is too large",
    415: "The body is not JSON (send Content-Type: application/json)",
    503: "The worker is starting or has not joined its group yet",
}


def ok(model: Any, status: int = 200, description: str = "Success") -> dict[int | str, Any]:
    """A success answer with a JSON body of this model (any type annotation)."""
    return {status: {"model": model, "description": description}}


def created(model: Any = ConnectorInfo) -> dict[int | str, Any]:
    return {
        201: {
            "model": model,
            "description": "Created",
            "headers": {
                "Location": {
                    "description": "The new connector's URL",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        }
    }


def empty(status: int, description: str) -> dict[int | str, Any]:
    """A success answer without a body (the route uses ``response_class=Response``)."""
    return {status: {"description": description}}


def errors(*codes: int) -> dict[int | str, Any]:
    """The ``{"error_code", "message"}`` answers a route may give."""
    return {code: {"model": ErrorMessage, "description": _ERRORS.get(code, "Error")} for code in codes}


def json_body(schema: type[BaseModel] | dict[str, Any], example: Any = None) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body that the route parses itself."""
    if isinstance(schema, dict):
        content: dict[str, Any] = {"schema": schema}
    else:
        content = {"schema": {"$ref": f"#/components/schemas/{schema.__name__}"}}
    if example is not None:
        content["example"] = example
    return {"requestBody": {"required": True, "content": {"application/json": content}}}
