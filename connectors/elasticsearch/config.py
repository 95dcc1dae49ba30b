"""Settings of the Elasticsearch sink: the Confluent connector's keys, types, defaults and rules.

A Confluent ``ElasticsearchSinkConnector`` JSON works unchanged, including the 10.x-era keys the
tutorials and seed configs still carry (``type.name``, ``topic.index.map``,
``auto.create.indices.at.start``): they are accepted, and ``type.name`` is logged once as ignored
(Elasticsearch 7+ has no mapping types). Enumerated values are case-insensitive, as Confluent
parses them. The cross-key rules of Confluent's validator are model checks reported on the key
they concern. What differs on purpose is listed in ``docs/elasticsearch.md``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr, field_validator, model_validator

from connectors.sdk import CommaList, ConfigType, Importance, PluginConfig, SettingError, Width, setting
from connectors.sdk.config import parse_choice

CONFLUENT_CLASS = "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector"

G_CONNECTOR = "Connector"
G_DATA = "Data Conversion"
G_SECURITY = "Security"
G_DATA_STREAM = "Data Stream"


class NullValueBehavior(StrEnum):
    IGNORE = "IGNORE"
    DELETE = "DELETE"
    FAIL = "FAIL"


class MalformedBehavior(StrEnum):
    IGNORE = "IGNORE"
    WARN = "WARN"
    FAIL = "FAIL"


class WriteMethod(StrEnum):
    INSERT = "INSERT"
    UPSERT = "UPSERT"


class DataStreamType(StrEnum):
    LOGS = "LOGS"
    METRICS = "METRICS"
    NONE = "NONE"


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"


_ENUMS: dict[str, type[StrEnum]] = {
    "behavior_on_null_values": NullValueBehavior,
    "behavior_on_malformed_documents": MalformedBehavior,
    "write_method": WriteMethod,
    "data_stream_type": DataStreamType,
    "elastic_security_protocol": SecurityProtocol,
}
_DATASET_FORBIDDEN = re.compile(r'[\\/*?"<>|,#\-: ]')
_PEM_TYPES = ("PEM", "")


class ElasticsearchSinkConfig(PluginConfig):
    """Every setting, as ``GET /connector-plugins/ElasticsearchSinkConnector/config`` lists them."""

    group_name: ClassVar[str | None] = G_CONNECTOR

    # -- connection -------------------------------------------------------------------------------
    connection_url: CommaList = setting(
        doc=(
            "The comma-separated list of one or more Elasticsearch URLs, such as "
            "``http://eshost1:9200,http://eshost2:9200`` or ``https://eshost3:9200``. HTTPS is used for "
            "all connections if any of the URLs starts with ``https:``. A URL without a protocol is "
            "treated as ``http``."
        ),
        importance=Importance.HIGH,
        width=Width.LONG,
    )
    connection_username: str | None = setting(
        None,
        doc="The username used to authenticate with Elasticsearch. Basic authentication is used only "
        "when both username and password are set.",
        importance=Importance.MEDIUM,
    )
    connection_password: SecretStr | None = setting(
        None,
        doc="The password used to authenticate with Elasticsearch.",
        importance=Importance.MEDIUM,
    )
    connection_api_key: SecretStr | None = setting(
        None,
        doc="Penstock extension: an Elasticsearch API key (the base64 ``id:api_key`` form Kibana "
        "shows as 'encoded'), sent as ``Authorization: ApiKey ...``. Not combined with a username.",
        importance=Importance.MEDIUM,
    )
    batch_size: int = setting(
        2000,
        doc="The number of records to process as a batch when writing to Elasticsearch.",
        ge=1,
        le=1000000,
    )
    bulk_size_bytes: int = setting(
        5 * 1024 * 1024,
        doc="The maximum size (in bytes) to be processed as a batch when writing records to "
        "Elasticsearch. Setting to '-1' will disable this configuration.",
        type=ConfigType.LONG,
        ge=-1,
    )
    max_in_flight_requests: int = setting(
        5,
        doc="The maximum number of indexing requests that can be in-flight to Elasticsearch before "
        "blocking further requests.",
        ge=1,
        le=1000,
    )
    max_buffered_records: int = setting(
        20000,
        doc="The maximum number of records each task will buffer before blocking acceptance of more "
        "records: fetching from the topics pauses until Elasticsearch has taken some.",
        ge=1,
        le=2147483647,
    )
    linger_ms: int = setting(
        1,
        doc="Linger time in milliseconds for batching: a batch smaller than ``batch.size`` is sent "
        "after this long.",
        type=ConfigType.LONG,
        ge=0,
        le=604800000,
    )
    flush_timeout_ms: int = setting(
        180000,
        doc="The timeout in milliseconds to use for periodic flushing (``flush.synchronously``) and "
        "when waiting for buffer space.",
        type=ConfigType.LONG,
        ge=1000,
        le=604800000,
    )
    flush_synchronously: bool = setting(
        False,
        doc="True if flushes should wait for the in-flight requests: offsets are then committed for "
        "everything put so far. False (the default) commits the offsets of what Elasticsearch has "
        "accepted, without waiting.",
        importance=Importance.LOW,
    )
    max_retries: int = setting(
        5,
        doc="The maximum number of retries that are allowed for failed indexing requests; the wait "
        "between retries stops growing after this many (Penstock keeps retrying while Elasticsearch "
        "is unreachable or overloaded, and says so in the task status).",
        ge=0,
    )
    retry_backoff_ms: int = setting(
        100,
        doc="How long to wait in milliseconds before attempting the first retry of a failed indexing "
        "request. Upon a failure, the wait is a random time up to double the previous one.",
        type=ConfigType.LONG,
        ge=0,
        le=86400000,
    )
    connection_compression: bool = setting(
        False,
        doc="Whether to use GZip compression on HTTP connection to Elasticsearch.",
        importance=Importance.LOW,
    )
    max_connection_idle_time_ms: int = setting(
        60000,
        doc="How long to wait in milliseconds before dropping an idle connection (accepted; the "
        "client's pool manages idle connections).",
        ge=-1,
        importance=Importance.LOW,
    )
    connection_timeout_ms: int = setting(
        1000,
        doc="How long to wait in milliseconds when establishing a connection to the Elasticsearch server.",
        ge=0,
        importance=Importance.LOW,
    )
    read_timeout_ms: int = setting(
        3000,
        doc="How long to wait in milliseconds for the Elasticsearch server to send a response.",
        ge=0,
        importance=Importance.LOW,
    )

    # -- data conversion ---------------------------------------------------------------------------
    key_ignore: bool = setting(
        False,
        doc="Whether to ignore the record key for the purpose of forming the Elasticsearch document "
        "ID. When this is set to true, document IDs will be generated as the record's "
        "``topic+partition+offset``.",
        importance=Importance.HIGH,
        group=G_DATA,
    )
    schema_ignore: bool = setting(
        False,
        doc="Whether to ignore schemas during indexing. When true the record schema is ignored for "
        "the purpose of registering an Elasticsearch mapping: Elasticsearch infers it.",
        importance=Importance.LOW,
        group=G_DATA,
    )
    compact_map_entries: bool = setting(
        True,
        doc="Defines how map entries with string keys within record values should be written to "
        'JSON. When true, they are written as ``"entryKey": "entryValue"``; otherwise as '
        '``{"key": "entryKey", "value": "entryValue"}`` objects.',
        importance=Importance.LOW,
        group=G_DATA,
    )
    topic_key_ignore: CommaList = setting(
        [],
        doc="List of topics for which ``key.ignore`` should be ``true``.",
        importance=Importance.LOW,
        group=G_DATA,
    )
    topic_schema_ignore: CommaList = setting(
        [],
        doc="List of topics for which ``schema.ignore`` should be ``true``.",
        importance=Importance.LOW,
        group=G_DATA,
    )
    drop_invalid_message: bool = setting(
        False,
        doc="Whether to drop a record that cannot be converted to a document (an unusable key, say) "
        "instead of failing the task; dropped records go to the errant-record reporter (DLQ).",
        importance=Importance.LOW,
        group=G_DATA,
    )
    behavior_on_null_values: NullValueBehavior = setting(
        NullValueBehavior.FAIL,
        doc="How to handle records with a non-null key and a null value (i.e. Kafka tombstone "
        "records). Valid options are IGNORE, DELETE, and FAIL.",
        importance=Importance.LOW,
        group=G_DATA,
        recommended_values=("IGNORE", "DELETE", "FAIL"),
    )
    behavior_on_malformed_documents: MalformedBehavior = setting(
        MalformedBehavior.FAIL,
        doc="How to handle records that Elasticsearch rejects due to some malformation of the "
        "document itself, such as an index mapping conflict or a field name containing illegal "
        "characters. Valid options are IGNORE, WARN, and FAIL.",
        importance=Importance.LOW,
        group=G_DATA,
        recommended_values=("IGNORE", "WARN", "FAIL"),
    )
    write_method: WriteMethod = setting(
        WriteMethod.INSERT,
        doc="Method used for writing data to Elasticsearch: INSERT (index requests, the document is "
        "replaced) or UPSERT (update requests, fields are merged).",
        importance=Importance.LOW,
        group=G_DATA,
        recommended_values=("INSERT", "UPSERT"),
    )
    external_version_header: str = setting(
        "",
        doc="Header name to pull the value for the external version from; empty uses the record's offset.",
        importance=Importance.LOW,
        group=G_DATA,
    )
    type_name: str | None = setting(
        None,
        doc="Legacy (connector 10.x and older, Elasticsearch 6 mapping types): accepted and ignored.",
        importance=Importance.LOW,
        group=G_DATA,
    )
    topic_index_map: CommaList = setting(
        [],
        doc="Legacy (connector 10.x and older) ``topic:index`` pairs: accepted; each listed topic is "
        "written to the named index.",
        importance=Importance.LOW,
        group=G_DATA,
    )
    auto_create_indices_at_start: bool = setting(
        True,
        doc="Legacy (connector 10.x and older): accepted and ignored; indices are created at their first record.",
        importance=Importance.LOW,
        group=G_DATA,
    )

    # -- security ----------------------------------------------------------------------------------
    elastic_security_protocol: SecurityProtocol = setting(
        SecurityProtocol.PLAINTEXT,
        doc="The security protocol to use when connecting to Elasticsearch. Values can be PLAINTEXT or SSL.",
        group=G_SECURITY,
        recommended_values=("PLAINTEXT", "SSL"),
    )
    elastic_https_ssl_truststore_location: str | None = setting(
        None,
        doc="A PEM file of the certificate authorities that sign the servers' certificates.",
        group=G_SECURITY,
    )
    elastic_https_ssl_truststore_type: str = setting(
        "PEM", doc="The format of the trust store file: PEM (JKS and PKCS12 are not read).", group=G_SECURITY
    )
    elastic_https_ssl_truststore_password: SecretStr | None = setting(
        None, doc="Accepted; a PEM trust store has no password.", group=G_SECURITY
    )
    elastic_https_ssl_keystore_location: str | None = setting(
        None,
        doc="A PEM file with the client certificate and its private key, for TLS client authentication.",
        group=G_SECURITY,
    )
    elastic_https_ssl_keystore_type: str = setting(
        "PEM", doc="The format of the key store file: PEM (JKS and PKCS12 are not read).", group=G_SECURITY
    )
    elastic_https_ssl_keystore_password: SecretStr | None = setting(
        None,
        doc="Accepted; the PEM key store's key is decrypted with ``elastic.https.ssl.key.password``.",
        group=G_SECURITY,
    )
    elastic_https_ssl_key_password: SecretStr | None = setting(
        None,
        doc="The password of the private key in the key store file, if it is encrypted.",
        group=G_SECURITY,
    )
    elastic_https_ssl_endpoint_identification_algorithm: str = setting(
        "https",
        doc="The endpoint identification algorithm: ``https`` checks the server's host name against "
        "its certificate; empty turns the check off.",
        group=G_SECURITY,
    )

    # -- data streams ------------------------------------------------------------------------------
    data_stream_type: DataStreamType = setting(
        DataStreamType.NONE,
        doc="Generic type describing the data to be written to data stream: LOGS, METRICS or NONE. "
        "Data streams are used when this and ``data.stream.dataset`` are both set.",
        group=G_DATA_STREAM,
        recommended_values=("LOGS", "METRICS", "NONE"),
    )
    data_stream_dataset: str = setting(
        "",
        doc="Describes the data ingested and its structure: at most 100 lowercase characters, none of "
        '``\\ / * ? " < > | , # - :`` or a space.',
        group=G_DATA_STREAM,
    )
    data_stream_namespace: str = setting(
        "${topic}",
        doc="The user-configurable namespace for data streams; ``${topic}`` is replaced by the topic "
        "name, lowercased.",
        group=G_DATA_STREAM,
    )
    data_stream_timestamp_field: CommaList = setting(
        [],
        doc="The Kafka record field(s) to use as the ``@timestamp`` of a data stream document (the "
        "first present wins); empty uses the record's timestamp.",
        group=G_DATA_STREAM,
    )

    # -- parsing -----------------------------------------------------------------------------------
    @field_validator(*_ENUMS, mode="before")
    @classmethod
    def _enum_any_case(cls, value: Any, info: Any) -> Any:
        """Confluent parses these case-insensitively (``delete`` and ``DELETE`` both work)."""
        enum = _ENUMS[info.field_name]
        return parse_choice(
            value, (m.value for m in enum), message="String must be one of (case insensitive): ", upper=True
        )

    @field_validator("connection_url")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        urls = [u for u in value if u]
        if not urls:
            raise ValueError("At least one Elasticsearch URL is required")
        return urls

    @field_validator("data_stream_dataset")
    @classmethod
    def _dataset(cls, value: str) -> str:
        if value and (len(value) > 100 or value != value.lower() or _DATASET_FORBIDDEN.search(value)):
            raise ValueError(
                "must be at most 100 lowercase characters, none of \\, /, *, ?, \", <, >, |, ',', #, -, : or space"
            )
        return value

    @field_validator("elastic_https_ssl_truststore_type", "elastic_https_ssl_keystore_type")
    @classmethod
    def _pem_only(cls, value: str) -> str:
        if value.strip().upper() not in _PEM_TYPES:
            raise ValueError(
                "Penstock reads PEM files only; convert the store with "
                "'openssl pkcs12 -in store.p12 -out store.pem' (keytool can export JKS to PKCS12 first)"
            )
        return "PEM"

    @field_validator("topic_index_map")
    @classmethod
    def _index_map(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry and entry.count(":") != 1:
                raise ValueError(f"'{entry}' is not of the form topic:index")
        return [e for e in value if e]

    @model_validator(mode="after")
    def _cross_checks(self) -> ElasticsearchSinkConfig:
        """Confluent's validator rules that span several keys, each reported on one key."""
        if (self.connection_username is None) != (self.connection_password is None):
            raise SettingError(
                "connection.username",
                "Both connection.username and connection.password must be set, or neither.",
            )
        if self.connection_api_key is not None and self.connection_username is not None:
            raise SettingError(
                "connection.api.key", "Use either connection.api.key or a username and password."
            )
        if (self.data_stream_type is DataStreamType.NONE) == bool(self.data_stream_dataset):
            if self.data_stream_dataset:
                raise SettingError(
                    "data.stream.type", "data.stream.type must be set with data.stream.dataset."
                )
            if self.data_stream_type is not DataStreamType.NONE:
                raise SettingError(
                    "data.stream.dataset", "data.stream.dataset must be set with data.stream.type."
                )
        if self.data_stream_timestamp_field and not self.is_data_stream:
            raise SettingError(
                "data.stream.timestamp.field",
                "data.stream.timestamp.field is only used with data.stream.type and data.stream.dataset.",
            )
        if self.is_data_stream and self.write_method is WriteMethod.UPSERT:
            raise SettingError("write.method", "Upserts are not supported with data streams.")
        if self.is_data_stream and self.behavior_on_null_values is NullValueBehavior.DELETE:
            raise SettingError("behavior.on.null.values", "Deletes are not supported with data streams.")
        if self.key_ignore and self.topic_key_ignore:
            raise SettingError(
                "topic.key.ignore", "topic.key.ignore can not be set if key.ignore is set to true."
            )
        if self.schema_ignore and self.topic_schema_ignore:
            raise SettingError(
                "topic.schema.ignore", "topic.schema.ignore can not be set if schema.ignore is set to true."
            )
        if self.linger_ms > self.flush_timeout_ms:
            raise SettingError("linger.ms", "linger.ms cannot be larger than flush.timeout.ms.")
        if self.max_buffered_records < self.batch_size * self.max_in_flight_requests:
            raise SettingError(
                "max.buffered.records",
                "max.buffered.records must be larger than or equal to batch.size * max.in.flight.requests.",
            )
        for key in ("elastic_https_ssl_truststore_location", "elastic_https_ssl_keystore_location"):
            path = getattr(self, key)
            if path and not Path(path).is_file():
                raise SettingError(key.replace("_", "."), f"File not found: {path}")
        return self

    # -- derived -----------------------------------------------------------------------------------
    @property
    def is_data_stream(self) -> bool:
        return self.data_stream_type is not DataStreamType.NONE and bool(self.data_stream_dataset)

    @property
    def uses_tls(self) -> bool:
        return self.elastic_security_protocol is SecurityProtocol.SSL or any(
            u.lower().startswith("https:") for u in self.connection_url
        )

    def ignores_key(self, topic: str) -> bool:
        return self.key_ignore or topic in self.topic_key_ignore

    def ignores_schema(self, topic: str) -> bool:
        return self.schema_ignore or topic in self.topic_schema_ignore
