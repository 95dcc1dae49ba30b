"""Settings every connector accepts, whatever its plugin (Kafka's ConnectorConfig and friends).

Parsed once, by the herder, into a typed :class:`SourceConnectorConfig` or
:class:`SinkConnectorConfig` (:func:`parse_connector_config`); the runners, the error handler and
the restart policy read the typed fields and never the raw strings again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Literal, Self

from pydantic import BeforeValidator, PrivateAttr, field_validator

from app.config.parsing import with_prefix
from app.config.topic_creation import TopicCreationRules, topic_creation_rules
from connectors.sdk.config import CommaList, ConfigType, Importance, PluginConfig, Width, setting


def _lower(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


Tolerance = Annotated[Literal["none", "all"], BeforeValidator(_lower)]
Reload = Annotated[Literal["none", "restart"], BeforeValidator(_lower)]


class CommonConnectorConfig(PluginConfig):
    group_name = "Common"
    _raw: dict[str, str] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> Self:
        """Parse (raising ``ConfigError`` listing every problem) and keep the raw map for plugins."""
        config = cls.parse(props)
        config._raw = dict(props)
        return config

    @property
    def raw(self) -> dict[str, str]:
        """The connector's (or task's) config as stored: what plugins and converters are given."""
        return self._raw

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Raw keys under ``prefix``, with the prefix removed (``transforms.a.``, ``consumer.override.``)."""
        return with_prefix(self._raw, prefix)

    name: str = setting(
        doc="Globally unique name to use for this connector.",
        importance=Importance.HIGH,
        width=Width.MEDIUM,
        display_name="Connector name",
        order_in_group=1,
    )
    connector_class: str = setting(
        doc="Name or alias of the class for this connector. Must be a subclass of "
        "org.apache.kafka.connect.connector.Connector (a Penstock SourceConnector or SinkConnector).",
        importance=Importance.HIGH,
        width=Width.LONG,
        display_name="Connector class",
        order_in_group=2,
    )
    tasks_max: int = setting(
        1,
        doc="Maximum number of tasks to use for this connector.",
        importance=Importance.HIGH,
        width=Width.SHORT,
        display_name="Tasks max",
        order_in_group=3,
        ge=1,
    )
    tasks_max_enforce: bool = setting(
        True,
        doc="(Deprecated) Whether to fail a connector that generates more than tasks.max tasks.",
        importance=Importance.LOW,
        width=Width.SHORT,
        display_name="Enforce tasks max",
        order_in_group=4,
    )
    key_converter: str | None = setting(
        None,
        doc="Converter class for the record key; overrides the worker's key.converter.",
        importance=Importance.LOW,
        type=ConfigType.CLASS,
        width=Width.SHORT,
        display_name="Key converter class",
        order_in_group=5,
    )
    value_converter: str | None = setting(
        None,
        doc="Converter class for the record value; overrides the worker's value.converter.",
        importance=Importance.LOW,
        type=ConfigType.CLASS,
        width=Width.SHORT,
        display_name="Value converter class",
        order_in_group=6,
    )
    header_converter: str | None = setting(
        None,
        doc="HeaderConverter class for record headers; overrides the worker's header.converter.",
        importance=Importance.LOW,
        type=ConfigType.CLASS,
        width=Width.SHORT,
        display_name="Header converter class",
        order_in_group=7,
    )
    config_action_reload: Reload = setting(
        "restart",
        doc="What to do when an external config provider's value changes: none or restart.",
        importance=Importance.LOW,
        width=Width.MEDIUM,
        display_name="Reload Action",
        order_in_group=8,
    )
    transforms: CommaList = setting(
        [],
        doc="Aliases for the transformations to be applied to records.",
        importance=Importance.LOW,
        group="Transforms",
        width=Width.LONG,
        display_name="Transforms",
        order_in_group=1,
    )
    predicates: CommaList = setting(
        [],
        doc="Aliases for the predicates used by transformations.",
        importance=Importance.LOW,
        group="Predicates",
        width=Width.LONG,
        display_name="Predicates",
        order_in_group=1,
    )
    errors_retry_timeout: int = setting(
        0,
        doc="Maximum duration in milliseconds that a failed operation will be reattempted.",
        importance=Importance.MEDIUM,
        group="Error Handling",
        width=Width.MEDIUM,
        display_name="Retry Timeout for Errors",
        order_in_group=1,
    )
    errors_retry_delay_max_ms: int = setting(
        60000,
        doc="The maximum duration in milliseconds between consecutive retry attempts.",
        importance=Importance.MEDIUM,
        group="Error Handling",
        width=Width.MEDIUM,
        display_name="Maximum Delay Between Retries for Errors",
        order_in_group=2,
    )
    errors_tolerance: Tolerance = setting(
        "none",
        doc="Behavior for tolerating errors during connector operation: 'none' fails the task "
        "on the first error, 'all' skips problematic records.",
        importance=Importance.MEDIUM,
        group="Error Handling",
        width=Width.SHORT,
        display_name="Error Tolerance",
        order_in_group=3,
        recommended_values=("none", "all"),
    )
    errors_log_enable: bool = setting(
        False,
        doc="Log each error and the details of the failed operation.",
        importance=Importance.MEDIUM,
        group="Error Handling",
        width=Width.SHORT,
        display_name="Log Errors",
        order_in_group=4,
    )
    errors_log_include_messages: bool = setting(
        False,
        doc="Include the failed record in the error log.",
        importance=Importance.MEDIUM,
        group="Error Handling",
        width=Width.SHORT,
        display_name="Log Error Details",
        order_in_group=5,
    )
    auto_restart_enable: bool = setting(
        True,
        doc="Restart a task or connector that failed with a retriable cause (network, timeout, "
        "RetriableError), with exponential backoff. Configuration and data errors are never retried.",
        importance=Importance.MEDIUM,
        group="Automatic Restart",
        display_name="Automatic restart",
        order_in_group=1,
    )
    auto_restart_max_attempts: int = setting(
        10,
        doc="Automatic restarts before the failure is left for a person to fix.",
        importance=Importance.LOW,
        group="Automatic Restart",
        order_in_group=2,
        ge=0,
    )
    auto_restart_backoff_initial_ms: int = setting(
        1000,
        doc="Wait before the first automatic restart; doubled after each further failure.",
        importance=Importance.LOW,
        group="Automatic Restart",
        order_in_group=3,
        ge=0,
    )
    auto_restart_backoff_max_ms: int = setting(
        60000,
        doc="Longest wait between automatic restarts.",
        importance=Importance.LOW,
        group="Automatic Restart",
        order_in_group=4,
        ge=0,
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value:
            raise ValueError("String may not be empty")
        controls = [ord(c) for c in value if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F]
        if controls:
            codes = ", ".join(map(str, controls))
            raise ValueError(
                f"String may not contain control sequences but had the following ASCII chars: {codes}"
            )
        return value


# The dead-letter queue settings, shared by sinks (as in Kafka Connect) and sources (Penstock's
# extension: records a source's transforms or converters reject go to the DLQ too).
_DLQ_TOPIC_NAME: str = setting(
    "",
    doc="The name of the topic to be used as the dead letter queue (DLQ) for records that fail "
    "in processing (converters, transforms; for sinks also the task's errant-record reporter). "
    "Empty disables the DLQ.",
    importance=Importance.MEDIUM,
    group="Error Handling",
    width=Width.MEDIUM,
    display_name="Dead Letter Queue Topic Name",
    order_in_group=6,
)
_DLQ_REPLICATION_FACTOR: int = setting(
    3,
    doc="Replication factor used to create the dead letter queue topic when it doesn't already exist.",
    importance=Importance.MEDIUM,
    group="Error Handling",
    width=Width.MEDIUM,
    display_name="Dead Letter Queue Topic Replication Factor",
    order_in_group=7,
)
_DLQ_CONTEXT_HEADERS: bool = setting(
    False,
    doc="If true, add headers containing error context to the messages written to the DLQ.",
    importance=Importance.MEDIUM,
    group="Error Handling",
    width=Width.MEDIUM,
    display_name="Enable Error Context Headers",
    order_in_group=8,
)


class SinkConnectorConfig(CommonConnectorConfig):
    topics: CommaList = setting(
        [],
        doc="List of topics to consume, separated by commas",
        importance=Importance.HIGH,
        width=Width.LONG,
        display_name="Topics",
        order_in_group=4,
    )
    topics_regex: str = setting(
        "",
        doc="Regular expression giving topics to consume.",
        importance=Importance.HIGH,
        width=Width.LONG,
        display_name="Topics regex",
        order_in_group=4,
    )
    errors_deadletterqueue_topic_name: str = _DLQ_TOPIC_NAME
    errors_deadletterqueue_topic_replication_factor: int = _DLQ_REPLICATION_FACTOR
    errors_deadletterqueue_context_headers_enable: bool = _DLQ_CONTEXT_HEADERS

    @property
    def group_id(self) -> str:
        """The sink's consumer group: ``connect-<name>`` unless ``consumer.override.group.id`` says otherwise."""
        return self._raw.get("consumer.override.group.id") or f"connect-{self.name}"

    @property
    def topics_pattern(self) -> re.Pattern[str] | None:
        pattern = self.topics_regex.strip()
        return re.compile(pattern) if pattern else None


class SourceConnectorConfig(CommonConnectorConfig):
    exactly_once_support: Annotated[Literal["requested", "required"], BeforeValidator(_lower)] = setting(
        "requested",
        doc="Whether the connector must support exactly-once delivery (embedded mode always "
        "provides it: records and offsets are written in one transaction).",
        importance=Importance.MEDIUM,
        group="Exactly Once Support",
        order_in_group=1,
    )
    transaction_boundary: Annotated[Literal["poll", "interval", "connector"], BeforeValidator(_lower)] = (
        setting(
            "poll",
            doc="Where producer transactions start and end: poll, interval or connector.",
            importance=Importance.MEDIUM,
            group="Exactly Once Support",
            order_in_group=2,
        )
    )
    offsets_storage_topic: str | None = setting(
        None,
        doc="A separate offsets topic for this connector (used on Kafka).",
        importance=Importance.LOW,
        group="offsets.topic",
        order_in_group=1,
    )

    errors_deadletterqueue_topic_name: str = _DLQ_TOPIC_NAME
    errors_deadletterqueue_topic_replication_factor: int = _DLQ_REPLICATION_FACTOR
    errors_deadletterqueue_context_headers_enable: bool = _DLQ_CONTEXT_HEADERS

    _topic_creation: TopicCreationRules | None = PrivateAttr(default=None)

    @classmethod
    def from_props(cls, props: Mapping[str, str]) -> Self:
        config = super().from_props(props)
        config._topic_creation = topic_creation_rules(props)
        return config

    @property
    def topic_creation(self) -> TopicCreationRules | None:
        """KIP-158 rules (``topic.creation.*``), or None when the connector sets none."""
        return self._topic_creation


ConnectorConfig = SourceConnectorConfig | SinkConnectorConfig


def parse_connector_config(props: Mapping[str, str], connector_type: str) -> ConnectorConfig:
    """The typed framework config of a ``source`` or ``sink`` connector (or one of its tasks)."""
    model: type[ConnectorConfig] = SinkConnectorConfig if connector_type == "sink" else SourceConnectorConfig
    return model.from_props(props)
