"""The Penstock connector SDK: everything a plugin author imports, and nothing from the service.

A source plugin subclasses :class:`SourceConnector` and :class:`SourceTask`, a sink plugin
:class:`SinkConnector` and :class:`SinkTask`; settings are a :class:`PluginConfig` model. The
plugin is registered through an entry point in the ``penstock.source`` / ``penstock.sink`` /
``penstock.converter`` / ``penstock.transformation`` / ``penstock.predicate`` groups; a
:class:`ConfigProvider` (``${provider:path:key}`` placeholders) in ``penstock.config_provider``.

Data: schemas are built with :class:`SchemaBuilder` (or the ``*_SCHEMA`` constants and
``struct_schema``), logical values converted with :class:`Decimal` / :class:`Date` /
:class:`Time` / :class:`Timestamp` (schema helpers, not value types: values are the standard
``decimal`` and ``datetime`` types), and checked with :func:`validate_value`.
:mod:`connectors.sdk.testing` runs a connector's tasks in memory for its tests.
"""

from connectors.sdk.config import (
    CommaList,
    ConfigKeyInfo,
    ConfigType,
    ConfigValueInfo,
    EmptyConfig,
    Importance,
    PluginConfig,
    SettingError,
    Width,
    setting,
)
from connectors.sdk.config_provider import ConfigData, ConfigProvider
from connectors.sdk.connector import Connector, ConnectorContext, SinkConnector, SourceConnector
from connectors.sdk.converter import Converter, HeaderConverter, has_batch_hooks
from connectors.sdk.data import (
    BOOLEAN_SCHEMA,
    BYTES_SCHEMA,
    DATE,
    DATE_SCHEMA,
    DECIMAL,
    FLOAT32_SCHEMA,
    FLOAT64_SCHEMA,
    INT8_SCHEMA,
    INT16_SCHEMA,
    INT32_SCHEMA,
    INT64_SCHEMA,
    OPTIONAL_BOOLEAN_SCHEMA,
    OPTIONAL_BYTES_SCHEMA,
    OPTIONAL_FLOAT32_SCHEMA,
    OPTIONAL_FLOAT64_SCHEMA,
    OPTIONAL_INT8_SCHEMA,
    OPTIONAL_INT16_SCHEMA,
    OPTIONAL_INT32_SCHEMA,
    OPTIONAL_INT64_SCHEMA,
    OPTIONAL_STRING_SCHEMA,
    STRING_SCHEMA,
    TIME,
    TIME_SCHEMA,
    TIMESTAMP,
    TIMESTAMP_SCHEMA,
    Field,
    Schema,
    SchemaAndValue,
    SchemaType,
    Struct,
    array_schema,
    decimal_schema,
    map_schema,
    struct_schema,
)
from connectors.sdk.errors import (
    AlreadyExistsError,
    ConfigError,
    ConnectError,
    DataError,
    NotFoundError,
    RetriableError,
)
from connectors.sdk.lazy import LazyClass, lazy_class
from connectors.sdk.logical import Date, Decimal, Time, Timestamp, logical_name
from connectors.sdk.records import (
    ConnectRecord,
    Header,
    RecordMetadata,
    SinkRecord,
    SourceRecord,
    TopicPartition,
)
from connectors.sdk.schema_builder import SchemaBuilder
from connectors.sdk.sink import ErrantRecordReporter, SinkTask, SinkTaskContext
from connectors.sdk.source import CommittedOffsets, SourceTask, SourceTaskContext
from connectors.sdk.status import StatusDetails
from connectors.sdk.transform import Predicate, Transformation
from connectors.sdk.values import convert_value, infer_schema, validate_value

__all__ = [
    "BOOLEAN_SCHEMA",
    "BYTES_SCHEMA",
    "DATE",
    "DATE_SCHEMA",
    "DECIMAL",
    "FLOAT32_SCHEMA",
    "FLOAT64_SCHEMA",
    "INT8_SCHEMA",
    "INT16_SCHEMA",
    "INT32_SCHEMA",
    "INT64_SCHEMA",
    "OPTIONAL_BOOLEAN_SCHEMA",
    "OPTIONAL_BYTES_SCHEMA",
    "OPTIONAL_FLOAT32_SCHEMA",
    "OPTIONAL_FLOAT64_SCHEMA",
    "OPTIONAL_INT8_SCHEMA",
    "OPTIONAL_INT16_SCHEMA",
    "OPTIONAL_INT32_SCHEMA",
    "OPTIONAL_INT64_SCHEMA",
    "OPTIONAL_STRING_SCHEMA",
    "STRING_SCHEMA",
    "TIME",
    "TIMESTAMP",
    "TIMESTAMP_SCHEMA",
    "TIME_SCHEMA",
    "AlreadyExistsError",
    "CommaList",
    "CommittedOffsets",
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
    "Date",
    "Decimal",
    "EmptyConfig",
    "ErrantRecordReporter",
    "Field",
    "Header",
    "HeaderConverter",
    "Importance",
    "LazyClass",
    "NotFoundError",
    "PluginConfig",
    "Predicate",
    "RecordMetadata",
    "RetriableError",
    "Schema",
    "SchemaAndValue",
    "SchemaBuilder",
    "SchemaType",
    "SettingError",
    "SinkConnector",
    "SinkRecord",
    "SinkTask",
    "SinkTaskContext",
    "SourceConnector",
    "SourceRecord",
    "SourceTask",
    "SourceTaskContext",
    "StatusDetails",
    "Struct",
    "Time",
    "Timestamp",
    "TopicPartition",
    "Transformation",
    "Width",
    "array_schema",
    "convert_value",
    "decimal_schema",
    "has_batch_hooks",
    "infer_schema",
    "lazy_class",
    "logical_name",
    "map_schema",
    "setting",
    "struct_schema",
    "validate_value",
]
