"""The Penstock connector SDK: everything a plugin author imports, and nothing from the service.

A source plugin subclasses :class:`SourceConnector` and :class:`SourceTask`, a sink plugin
:class:`SinkConnector` and :class:`SinkTask`; settings are a :class:`PluginConfig` model. The
plugin is registered through an entry point in the ``penstock.source`` / ``penstock.sink`` /
``penstock.converter`` / ``penstock.transformation`` / ``penstock.predicate`` groups; a
:class:`ConfigProvider` (``${provider:path:key}`` placeholders) in ``penstock.config_provider``.
"""

from connectors.sdk.config import (
    CommaList,
    ConfigKeyInfo,
    ConfigType,
    ConfigValueInfo,
    EmptyConfig,
    Importance,
    PluginConfig,
    Width,
    setting,
)
from connectors.sdk.config_provider import ConfigData, ConfigProvider
from connectors.sdk.connector import Connector, ConnectorContext, SinkConnector, SourceConnector
from connectors.sdk.converter import Converter, HeaderConverter
from connectors.sdk.data import Field, Schema, SchemaAndValue, SchemaType, Struct
from connectors.sdk.errors import (
    AlreadyExistsError,
    ConfigError,
    ConnectError,
    DataError,
    NotFoundError,
    RetriableError,
)
from connectors.sdk.records import (
    ConnectRecord,
    Header,
    RecordMetadata,
    SinkRecord,
    SourceRecord,
    TopicPartition,
)
from connectors.sdk.sink import SinkTask, SinkTaskContext
from connectors.sdk.source import SourceTask, SourceTaskContext
from connectors.sdk.transform import Predicate, Transformation

__all__ = [
    "AlreadyExistsError",
    "CommaList",
    "ConfigData",
    "ConfigError",
    "ConfigKeyInfo",
    "ConfigProvider",
    "ConfigType",
    "ConfigValueInfo",
    "ConnectError",
    "ConnectRecord",
    "Connector",
    "ConnectorContext",
    "Converter",
    "DataError",
    "EmptyConfig",
    "Field",
    "Header",
    "HeaderConverter",
    "Importance",
    "NotFoundError",
    "PluginConfig",
    "Predicate",
    "RecordMetadata",
    "RetriableError",
    "Schema",
    "SchemaAndValue",
    "SchemaType",
    "SinkConnector",
    "SinkRecord",
    "SinkTask",
    "SinkTaskContext",
    "SourceConnector",
    "SourceRecord",
    "SourceTask",
    "SourceTaskContext",
    "Struct",
    "TopicPartition",
    "Transformation",
    "Width",
    "setting",
]
