"""Settings of the PostgreSQL source: Debezium's keys, types, defaults and rules.

A Debezium PostgreSQL connector JSON works unchanged. Keys are those of Debezium 2.x/3.x
(``topic.prefix``, ``table.include.list``, ...); the 1.x names are read when the new name is
absent: ``database.server.name`` stands in for ``topic.prefix``, ``*.whitelist`` /
``*.blacklist`` for ``*.include.list`` / ``*.exclude.list``, ``heartbeat.topics.prefix`` for
``topic.heartbeat.prefix`` and ``truncate.handling.mode=include`` for ``skipped.operations=none``.
Enumerated values are case-insensitive, as Debezium parses them.

Deliberate differences from Debezium (each makes a working setup out of a failing one):

* ``plugin.name`` defaults to ``pgoutput`` (Debezium: ``decoderbufs``, which needs a server-side
  extension most servers lack); ``decoderbufs`` is refused with a message saying how to switch.
* ``snapshot.mode`` ``configuration_based`` and ``custom`` (Java snapshotter classes) and
  ``time.precision.mode`` values newer than ``connect`` are refused with the supported list;
  the retired ``never`` (3.3) and ``exported`` (1.9) are read as ``no_data`` and ``initial``.
* ``database.sslfactory`` names a Java class: it is accepted and ignored (``database.sslmode``
  and the certificate keys configure TLS).

Required privileges, and what ``publication.autocreate.mode`` needs, are in ``connectors.postgres``'s
package docstring; ``checks.py`` verifies them against the server.
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from urllib.parse import urlencode

from pydantic import BeforeValidator, SecretStr, ValidationInfo, field_validator, model_validator

from connectors.postgres.filters import ColumnFilter, TableFilter, regex_problem, split_patterns
from connectors.sdk import ConfigType, Importance, PluginConfig, Width, setting
from connectors.sdk.config import parse_choice

DEBEZIUM_CLASS = "io.debezium.connector.postgresql.PostgresConnector"

G_CONNECTION = "Connection"
G_SSL = "Connection Advanced (SSL)"
G_ADVANCED_CONNECTION = "Connection Advanced"
G_REPLICATION = "Connection Advanced (Replication)"
G_SNAPSHOT = "Connector (Snapshot)"
G_FILTERS = "Filters"
G_CONNECTOR = "Connector"
G_TOPICS = "Topics"
G_HEARTBEAT = "Advanced (Heartbeat)"
G_ADVANCED = "Advanced"


class SslMode(StrEnum):
    DISABLE = "disable"
    ALLOW = "allow"
    PREFER = "prefer"
    REQUIRE = "require"
    VERIFY_CA = "verify-ca"
    VERIFY_FULL = "verify-full"


class PluginName(StrEnum):
    PGOUTPUT = "pgoutput"


class AutoCreateMode(StrEnum):
    ALL_TABLES = "all_tables"
    DISABLED = "disabled"
    FILTERED = "filtered"
    NO_TABLES = "no_tables"


class SnapshotMode(StrEnum):
    INITIAL = "initial"
    ALWAYS = "always"
    INITIAL_ONLY = "initial_only"
    NO_DATA = "no_data"
    WHEN_NEEDED = "when_needed"

    @property
    def snapshots_data(self) -> bool:
        """Whether this mode may read table rows (every mode but ``no_data``)."""
        return self is not SnapshotMode.NO_DATA

    @property
    def streams(self) -> bool:
        """Whether changes are streamed after the snapshot (every mode but ``initial_only``)."""
        return self is not SnapshotMode.INITIAL_ONLY


class DecimalHandlingMode(StrEnum):
    PRECISE = "precise"
    DOUBLE = "double"
    STRING = "string"


class TimePrecisionMode(StrEnum):
    ADAPTIVE = "adaptive"
    ADAPTIVE_TIME_MICROSECONDS = "adaptive_time_microseconds"
    CONNECT = "connect"


class BinaryHandlingMode(StrEnum):
    BYTES = "bytes"
    BASE64 = "base64"
    BASE64_URL_SAFE = "base64-url-safe"
    HEX = "hex"


class IntervalHandlingMode(StrEnum):
    NUMERIC = "numeric"
    STRING = "string"


class HStoreHandlingMode(StrEnum):
    JSON = "json"
    MAP = "map"


OPERATIONS = {"c": "create", "u": "update", "d": "delete", "t": "truncate"}
"""``skipped.operations`` codes (``none`` clears the list)."""
TOPIC_NAMING_STRATEGIES = (
    "io.debezium.schema.SchemaTopicNamingStrategy",
    "io.debezium.schema.DefaultTopicNamingStrategy",
)
"""Both name data topics ``<topic.prefix>.<schema>.<table>`` for PostgreSQL."""

LEGACY_NAMES: dict[str, str] = {
    "database.server.name": "topic.prefix",
    "table.whitelist": "table.include.list",
    "table.blacklist": "table.exclude.list",
    "schema.whitelist": "schema.include.list",
    "schema.blacklist": "schema.exclude.list",
    "column.whitelist": "column.include.list",
    "column.blacklist": "column.exclude.list",
    "heartbeat.topics.prefix": "topic.heartbeat.prefix",
}
"""Debezium 1.x name -> current name; the old key is read only when the new one is absent."""

_SERVER_NAME = re.compile(r"[a-zA-Z0-9_.\-]+")
_HOSTNAME = re.compile(r"[a-zA-Z0-9\-_.]+")
_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")


def apply_legacy_names(props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` with Debezium 1.x keys copied to their current names where those are absent or
    blank (``database.server.name`` -> ``topic.prefix``, ``table.whitelist`` ->
    ``table.include.list``, ...). The old keys stay; the model ignores them."""
    mapped = dict(props)
    for old, new in LEGACY_NAMES.items():
        value = mapped.get(old)
        if value is not None and not str(mapped.get(new) or "").strip():
            mapped[new] = value
    truncate = mapped.get("truncate.handling.mode")
    if (
        isinstance(truncate, str)
        and truncate.strip().lower() == "include"
        and "skipped.operations" not in mapped
    ):
        mapped["skipped.operations"] = "none"  # 1.x had no skipped.operations default
    return mapped


def _choice(value: Any, enum: type[StrEnum], aliases: Mapping[str, str] | None = None) -> Any:
    """Case-insensitive enum parsing in Debezium's wording ("Value must be one of ...")."""
    return parse_choice(value, (m.value for m in enum), message="Value must be one of ", aliases=aliases)


def _patterns(value: Any) -> Any:
    """A filter list: split on unescaped commas; each entry must compile."""
    if value is None:
        return None
    patterns = split_patterns(value if isinstance(value, str | list) else str(value))
    problem = regex_problem(patterns)
    if problem:
        raise ValueError(problem)
    return patterns or None


RegexList = Annotated[list[str] | None, BeforeValidator(_patterns)]


class PostgresConfig(PluginConfig):
    """Every setting of the PostgreSQL source, as ``GET /connector-plugins/PostgresConnector/config`` lists them."""

    group_name: ClassVar[str | None] = G_CONNECTOR

    # -- naming -----------------------------------------------------------------------------------
    topic_prefix: str = setting(
        doc=(
            "Topic prefix that identifies and provides a namespace for the particular database server/cluster "
            "that is capturing changes. The topic prefix should be unique across all other connectors, since it "
            "is used as a prefix for all Kafka topic names that receive events emitted by this connector. Only "
            "alphanumeric characters, hyphens, dots and underscores are accepted. Debezium 1.x configs may give "
            "database.server.name instead."
        ),
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=0,
        width=Width.MEDIUM,
        display_name="Topic prefix",
    )
    # -- connection -------------------------------------------------------------------------------
    database_hostname: str = setting(
        doc="Resolvable hostname or IP address of the database server.",
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=2,
        width=Width.MEDIUM,
        display_name="Hostname",
    )
    database_port: int = setting(
        5432,
        doc="Port of the database server.",
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=3,
        width=Width.SHORT,
        display_name="Port",
        ge=1,
        le=65535,
    )
    database_user: str = setting(
        doc=(
            "Name of the database user to be used when connecting to the database. It needs the REPLICATION "
            "attribute (or superuser) and SELECT on the captured tables."
        ),
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=4,
        width=Width.SHORT,
        display_name="User",
    )
    database_password: SecretStr | None = setting(
        None,
        doc="Password of the database user to be used when connecting to the database.",
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=5,
        width=Width.SHORT,
        display_name="Password",
    )
    database_dbname: str = setting(
        doc="The name of the database from which the connector should capture changes",
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=6,
        width=Width.MEDIUM,
        display_name="Database",
    )
    # -- SSL --------------------------------------------------------------------------------------
    database_sslmode: SslMode = setting(
        SslMode.PREFER,
        doc=(
            "Whether to use an encrypted connection to Postgres. Options include: 'disable' to use an "
            "unencrypted connection; 'allow' to try and use an unencrypted connection first and, failing that, "
            "a secure (encrypted) connection; 'prefer' (the default) to try and use a secure (encrypted) "
            "connection first and, failing that, an unencrypted connection; 'require' to use a secure "
            "(encrypted) connection, and fail if one cannot be established; 'verify-ca' like 'require' but "
            "additionally verify the server TLS certificate against the configured Certificate Authority (CA) "
            "certificates, or fail if no valid matching CA certificates are found; or 'verify-full' like "
            "'verify-ca' but additionally verify that the server certificate matches the host to which the "
            "connection is attempted."
        ),
        group=G_SSL,
        width=Width.MEDIUM,
        display_name="SSL mode",
        recommended_values=tuple(m.value for m in SslMode),
    )
    database_sslcert: str | None = setting(
        None,
        doc="File containing the SSL Certificate for the client. See the Postgres SSL docs for further information",
        group=G_SSL,
        width=Width.LONG,
        display_name="SSL Client Certificate",
    )
    database_sslkey: str | None = setting(
        None,
        doc="File containing the SSL private key for the client. See the Postgres SSL docs for further information",
        group=G_SSL,
        width=Width.LONG,
        display_name="SSL Client Key",
    )
    database_sslpassword: SecretStr | None = setting(
        None,
        doc="Password to access the client private key from the file specified by 'database.sslkey'.",
        group=G_SSL,
        width=Width.MEDIUM,
        display_name="SSL Client Key Password",
    )
    database_sslrootcert: str | None = setting(
        None,
        doc="File containing the root certificate(s) against which the server is validated.",
        group=G_SSL,
        width=Width.LONG,
        display_name="SSL Root Certificate",
    )
    database_sslfactory: str | None = setting(
        None,
        doc=(
            "A Java class that creates SSL sockets (pgjdbc). Accepted for compatibility and ignored: "
            "database.sslmode and the certificate settings configure TLS."
        ),
        group=G_SSL,
        width=Width.LONG,
        display_name="SSL Socket Factory",
    )
    # -- advanced connection ----------------------------------------------------------------------
    database_tcp_keep_alive: bool = setting(
        True,
        alias="database.tcpKeepAlive",
        doc="Enable or disable TCP keep-alive probe to avoid dropping TCP connection",
        group=G_ADVANCED_CONNECTION,
        width=Width.SHORT,
        display_name="TCP keep-alive probe",
    )
    database_initial_statements: str | None = setting(
        None,
        doc=(
            "A semicolon separated list of SQL statements to be executed when a connection to the database is "
            "established. Use doubled semicolon (';;') to use a semicolon as a character and not as a delimiter."
        ),
        importance=Importance.LOW,
        group=G_ADVANCED_CONNECTION,
        width=Width.LONG,
        display_name="Initial statements",
    )
    database_query_timeout_ms: int = setting(
        600000,
        doc="Time to wait for a query to execute, given in milliseconds. Defaults to 600 seconds (600,000 ms); zero means there is no limit.",
        importance=Importance.LOW,
        group=G_ADVANCED_CONNECTION,
        width=Width.MEDIUM,
        display_name="Query timeout (ms)",
        ge=0,
    )
    connection_validation_timeout_ms: int = setting(
        60000,
        type=ConfigType.LONG,
        doc="The maximum time in milliseconds to wait for connection validation to complete. Defaults to 60 seconds.",
        importance=Importance.LOW,
        group=G_ADVANCED_CONNECTION,
        width=Width.SHORT,
        display_name="Connection validation timeout (ms)",
        ge=1,
    )
    # -- replication ------------------------------------------------------------------------------
    plugin_name: PluginName = setting(
        PluginName.PGOUTPUT,
        doc=(
            "The name of the Postgres logical decoding plugin. Penstock streams with 'pgoutput', built into "
            "PostgreSQL 10 and later (Debezium's default 'decoderbufs' is not supported)."
        ),
        group=G_REPLICATION,
        width=Width.MEDIUM,
        display_name="Plugin",
        recommended_values=("pgoutput",),
    )
    slot_name: str = setting(
        "debezium",
        doc="The name of the Postgres logical decoding slot created for streaming changes from a plugin. Defaults to 'debezium'",
        group=G_REPLICATION,
        width=Width.MEDIUM,
        display_name="Slot",
    )
    slot_drop_on_stop: bool = setting(
        False,
        doc=(
            "Whether or not to drop the logical replication slot when the connector finishes orderly. By default "
            "the replication is kept so that on restart progress can resume from the last recorded location"
        ),
        group=G_REPLICATION,
        display_name="Drop slot on stop",
    )
    slot_max_retries: int = setting(
        6,
        doc="How many times to retry connecting to a replication slot when an attempt fails.",
        importance=Importance.LOW,
        group=G_REPLICATION,
        display_name="Retry count",
        ge=0,
    )
    slot_retry_delay_ms: int = setting(
        10000,
        type=ConfigType.LONG,
        doc=(
            "Time to wait between retry attempts when the connector fails to connect to a replication slot, "
            "given in milliseconds. Defaults to 10 seconds (10,000 ms)."
        ),
        importance=Importance.LOW,
        group=G_REPLICATION,
        display_name="Retry delay",
        ge=0,
    )
    publication_name: str = setting(
        "dbz_publication",
        doc="The name of the Postgres 10+ publication used for streaming changes from a plugin. Defaults to 'dbz_publication'",
        group=G_REPLICATION,
        width=Width.MEDIUM,
        display_name="Publication",
        min_length=1,
    )
    publication_autocreate_mode: AutoCreateMode = setting(
        AutoCreateMode.ALL_TABLES,
        doc=(
            "Determine how creation of a publication should work, the default is all_tables. "
            "DISABLED - The connector will not attempt to create a publication at all; it must exist. "
            "ALL_TABLES - If no publication exists, the connector will create a new publication for all tables "
            "(CREATE PUBLICATION <name> FOR ALL TABLES, which needs a superuser). "
            "FILTERED - If no publication exists, the connector will create a new publication for the tables "
            "matching the current filter configuration (needs CREATE on the database and ownership of the "
            "tables). NO_TABLES - If no publication exists, the connector will create an empty one. "
            "An existing publication is used as is."
        ),
        group=G_REPLICATION,
        width=Width.MEDIUM,
        display_name="Publication Auto Create Mode",
        recommended_values=tuple(m.value for m in AutoCreateMode),
    )
    status_update_interval_ms: int = setting(
        10000,
        doc="Frequency for sending replication connection status updates to the server, given in milliseconds. Defaults to 10 seconds (10,000 ms).",
        group=G_REPLICATION,
        width=Width.SHORT,
        display_name="Status update interval (ms)",
        ge=1,
    )
    table_discovery_interval_ms: int = setting(
        10000,
        type=ConfigType.LONG,
        doc=(
            "Penstock only: how often (in ms) the task looks for tables that appeared since it started "
            "and match the filters. With publication.autocreate.mode=filtered a new table is added to "
            "the publication and snapshotted alone while streaming goes on; with a publication FOR ALL "
            "TABLES its changes are already streamed from its creation. 0 disables the check."
        ),
        group=G_REPLICATION,
        width=Width.SHORT,
        display_name="Table discovery interval (ms)",
        ge=0,
    )
    xmin_fetch_interval_ms: int = setting(
        0,
        type=ConfigType.LONG,
        doc="Specify how often (in ms) the xmin will be fetched from the replication slot. The default is set to 0 ms, which disables tracking xmin.",
        group=G_REPLICATION,
        width=Width.SHORT,
        display_name="Xmin fetch interval (ms)",
        ge=0,
    )
    flush_lsn_source: bool = setting(
        True,
        doc="Boolean to determine if the connector should confirm processed LSNs to the replication slot, so that PostgreSQL can release WAL.",
        importance=Importance.LOW,
        group=G_REPLICATION,
        width=Width.SHORT,
        display_name="Flush LSN in source",
    )
    # -- snapshot ---------------------------------------------------------------------------------
    snapshot_mode: SnapshotMode = setting(
        SnapshotMode.INITIAL,
        doc=(
            "The criteria for running a snapshot upon startup of the connector. 'initial' (default): snapshot "
            "the captured tables if no offset exists for the topic prefix, then stream; 'always': snapshot on "
            "every start, then stream; 'initial_only': snapshot, then stop without streaming; 'no_data' (old "
            "name 'never'): never snapshot, stream from the stored position or the slot's; 'when_needed': "
            "snapshot if no offset exists or the stored position is no longer available on the server."
        ),
        group=G_SNAPSHOT,
        width=Width.SHORT,
        display_name="Snapshot mode",
        recommended_values=tuple(m.value for m in SnapshotMode),
    )
    snapshot_fetch_size: int = setting(
        10240,
        doc="The maximum number of records that should be loaded into memory while performing a snapshot.",
        group=G_SNAPSHOT,
        width=Width.MEDIUM,
        display_name="Snapshot fetch size",
        ge=1,
    )
    # -- filters ----------------------------------------------------------------------------------
    schema_include_list: RegexList = setting(
        None,
        type=ConfigType.LIST,
        doc="The schemas for which events should be captured",
        importance=Importance.HIGH,
        group=G_FILTERS,
        order_in_group=0,
        width=Width.LONG,
        display_name="Include Schemas",
    )
    schema_exclude_list: RegexList = setting(
        None,
        type=ConfigType.LIST,
        doc="The schemas for which events must not be captured",
        group=G_FILTERS,
        order_in_group=1,
        width=Width.LONG,
        display_name="Exclude Schemas",
    )
    table_include_list: RegexList = setting(
        None,
        type=ConfigType.LIST,
        doc="The tables for which changes are to be captured",
        importance=Importance.HIGH,
        group=G_FILTERS,
        order_in_group=2,
        width=Width.LONG,
        display_name="Include Tables",
    )
    table_exclude_list: RegexList = setting(
        None,
        type=ConfigType.LIST,
        doc="A comma-separated list of regular expressions that match the fully-qualified names of tables to be excluded from monitoring",
        group=G_FILTERS,
        order_in_group=3,
        width=Width.LONG,
        display_name="Exclude Tables",
    )
    column_include_list: RegexList = setting(
        None,
        type=ConfigType.LIST,
        doc="Regular expressions matching columns to include in change events",
        group=G_FILTERS,
        order_in_group=4,
        width=Width.LONG,
        display_name="Include Columns",
    )
    column_exclude_list: RegexList = setting(
        None,
        type=ConfigType.LIST,
        doc="Regular expressions matching columns to exclude from change events",
        group=G_FILTERS,
        order_in_group=5,
        width=Width.LONG,
        display_name="Exclude Columns",
    )
    table_ignore_builtin: bool = setting(
        True,
        doc="Flag specifying whether built-in tables should be ignored.",
        importance=Importance.LOW,
        group=G_FILTERS,
        order_in_group=6,
        width=Width.SHORT,
        display_name="Ignore system databases",
    )
    message_key_columns: str | None = setting(
        None,
        doc=(
            "A semicolon-separated list of expressions that match fully-qualified tables and column(s) to be "
            "used as message key. Each expression must match the pattern '<fully-qualified table name>:<key "
            "columns>', where the table names are SCHEMA_NAME.TABLE_NAME and the key columns are a "
            "comma-separated list of columns. Example: inventory.orderlines:orderId,orderLineId;inventory.orders:id"
        ),
        group=G_FILTERS,
        width=Width.LONG,
        display_name="Columns PK mapping",
    )
    # -- value shaping ----------------------------------------------------------------------------
    tombstones_on_delete: bool = setting(
        True,
        doc="Whether delete operations should be represented by a delete event and a subsequent tombstone event (true) or only by a delete event (false).",
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Change the behaviour of Debezium with regards to delete operations",
    )
    decimal_handling_mode: DecimalHandlingMode = setting(
        DecimalHandlingMode.PRECISE,
        doc=(
            "Specify how DECIMAL and NUMERIC columns should be represented in change events, including: "
            "'precise' (the default) uses Kafka Connect's 'org.apache.kafka.connect.data.Decimal' type; "
            "'string' uses string to represent values; 'double' represents values as double-precision floats."
        ),
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Decimal Handling",
        recommended_values=tuple(m.value for m in DecimalHandlingMode),
    )
    time_precision_mode: TimePrecisionMode = setting(
        TimePrecisionMode.ADAPTIVE,
        doc=(
            "Time, date, and timestamps can be represented with different kinds of precisions, including: "
            "'adaptive' (the default) bases the precision of time, date, and timestamp values on the database "
            "column's precision; 'adaptive_time_microseconds' like 'adaptive' mode, but TIME fields always use "
            "microseconds precision; 'connect' always represents time, date, and timestamp values using Kafka "
            "Connect's built-in representations for Time, Date, and Timestamp (millisecond precision)."
        ),
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Time Precision",
        recommended_values=tuple(m.value for m in TimePrecisionMode),
    )
    binary_handling_mode: BinaryHandlingMode = setting(
        BinaryHandlingMode.BYTES,
        doc=(
            "Specify how binary (blob, binary, etc.) columns should be represented in change events, including: "
            "'bytes' represents binary data as byte array (default); 'base64' represents binary data as "
            "base64-encoded string; 'base64-url-safe' represents binary data as base64-url-safe-encoded string; "
            "'hex' represents binary data as hex-encoded (base16) string"
        ),
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Binary Handling",
        recommended_values=tuple(m.value for m in BinaryHandlingMode),
    )
    interval_handling_mode: IntervalHandlingMode = setting(
        IntervalHandlingMode.NUMERIC,
        doc=(
            "Specify how INTERVAL columns should be represented in change events, including: 'string' represents "
            "values as an exact ISO formatted string; 'numeric' (default) represents values using the inexact "
            "conversion into microseconds"
        ),
        importance=Importance.LOW,
        group=G_CONNECTOR,
        width=Width.MEDIUM,
        display_name="Interval Handling",
        recommended_values=tuple(m.value for m in IntervalHandlingMode),
    )
    hstore_handling_mode: HStoreHandlingMode = setting(
        HStoreHandlingMode.JSON,
        doc=(
            "Specify how HSTORE columns should be represented in change events, including: 'json' represents "
            "values as string-ified JSON (default); 'map' represents values as a key/value map"
        ),
        importance=Importance.LOW,
        group=G_CONNECTOR,
        width=Width.MEDIUM,
        display_name="HStore Handling",
        recommended_values=tuple(m.value for m in HStoreHandlingMode),
    )
    money_fraction_digits: int = setting(
        2,
        type=ConfigType.SHORT,
        doc="Number of fractional digits when money type is converted to 'precise' decimal number.",
        importance=Importance.LOW,
        group=G_CONNECTOR,
        width=Width.MEDIUM,
        display_name="Money fraction digits",
        ge=0,
        le=32767,
    )
    include_unknown_datatypes: bool = setting(
        False,
        doc=(
            "Specify whether the fields of data type not supported by Debezium should be processed: 'false' (the "
            "default) omits the fields; 'true' converts the field into an implementation dependent binary representation."
        ),
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Include unknown datatypes",
    )
    skipped_operations: list[str] = setting(
        ["t"],
        doc=(
            "The comma-separated list of operations to skip during streaming, defined as: 'c' for inserts/create; "
            "'u' for updates; 'd' for deletes, 't' for truncates, and 'none' to indicate nothing skipped. By "
            "default, only truncate operations will be skipped."
        ),
        importance=Importance.LOW,
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Skipped Operations",
    )
    provide_transaction_metadata: bool = setting(
        False,
        doc="Enables transaction metadata extraction together with event counting",
        importance=Importance.LOW,
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Store transaction metadata information in a dedicated topic.",
    )
    unavailable_value_placeholder: str = setting(
        "__debezium_unavailable_value",
        doc=(
            "Specify the constant that will be provided by Debezium to indicate that the original value is a "
            "toasted value not provided by the database. If starts with 'hex:' prefix it is expected that the "
            "rest of the string represents hexadecimal encoded octets."
        ),
        group=G_CONNECTOR,
        width=Width.MEDIUM,
        display_name="Unavailable value placeholder",
    )
    extended_headers_enabled: bool = setting(
        True,
        doc="Enable/Disable Debezium context headers that provides essential metadata for tracking and identifying the source of CDC events in downstream processing systems.",
        importance=Importance.LOW,
        group=G_CONNECTOR,
        width=Width.SHORT,
        display_name="Enable/Disable extended headers",
    )
    # -- topics -----------------------------------------------------------------------------------
    topic_delimiter: str = setting(
        ".",
        doc="Specify the delimiter for topic name, defaults to '.'.",
        importance=Importance.LOW,
        group=G_TOPICS,
        width=Width.SHORT,
        display_name="Topic delimiter",
        min_length=1,
    )
    topic_naming_strategy: str = setting(
        TOPIC_NAMING_STRATEGIES[0],
        type=ConfigType.CLASS,
        doc="The name of the TopicNamingStrategy class that should be used to determine the topic name for data change, schema change, transaction, heartbeat event etc.",
        importance=Importance.LOW,
        group=G_TOPICS,
        width=Width.MEDIUM,
        display_name="Topic naming strategy class",
    )
    topic_heartbeat_prefix: str = setting(
        "__debezium-heartbeat",
        doc="Specify the heartbeat topic name. Defaults to __debezium-heartbeat.${topic.prefix}",
        importance=Importance.LOW,
        group=G_TOPICS,
        width=Width.MEDIUM,
        display_name="Prefix name of heartbeat topic",
    )
    topic_heartbeat_name: str | None = setting(
        None,
        doc="The whole name of the heartbeat topic; when set it replaces ${topic.heartbeat.prefix}.${topic.prefix}.",
        importance=Importance.LOW,
        group=G_TOPICS,
        width=Width.MEDIUM,
        display_name="Heartbeat topic name",
    )
    topic_transaction: str = setting(
        "transaction",
        doc="Specify the transaction topic name. Defaults to ${topic.prefix}.transaction",
        importance=Importance.LOW,
        group=G_TOPICS,
        width=Width.MEDIUM,
        display_name="Transaction topic name",
    )
    # -- heartbeat --------------------------------------------------------------------------------
    heartbeat_interval_ms: int = setting(
        0,
        doc=(
            "Length of an interval in milli-seconds in in which the connector periodically sends heartbeat "
            "messages to a heartbeat topic. Use 0 to disable heartbeat messages. Disabled by default."
        ),
        group=G_HEARTBEAT,
        width=Width.MEDIUM,
        display_name="Connector heartbeat interval (milli-seconds)",
        ge=0,
    )
    heartbeat_action_query: str | None = setting(
        None,
        doc=(
            "The query executed with every heartbeat (e.g. an insert into a heartbeat table), so the slot "
            "advances even when the captured tables are idle."
        ),
        group=G_HEARTBEAT,
        width=Width.LONG,
        display_name="An optional query to execute with every heartbeat",
    )
    # -- batching ---------------------------------------------------------------------------------
    max_batch_size: int = setting(
        2048,
        doc="Maximum size of each batch of source records. Defaults to 2048.",
        group=G_ADVANCED,
        width=Width.SHORT,
        display_name="Change event batch size",
        ge=1,
    )
    max_queue_size: int = setting(
        8192,
        doc="Maximum size of the queue for change events read from the database log but not yet recorded or forwarded. Defaults to 8192, and should always be larger than the maximum batch size.",
        group=G_ADVANCED,
        width=Width.SHORT,
        display_name="Change event buffer size",
        ge=1,
    )
    poll_interval_ms: int = setting(
        500,
        type=ConfigType.LONG,
        doc="Time to wait for new change events to appear after receiving no events, given in milliseconds. Defaults to 500 ms.",
        group=G_ADVANCED,
        width=Width.SHORT,
        display_name="Poll interval (ms)",
        ge=1,
    )

    # -- parsing rules ----------------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _legacy_names(cls, data: Any) -> Any:
        return apply_legacy_names(data) if isinstance(data, Mapping) else data

    @field_validator("topic_prefix")
    @classmethod
    def _check_topic_prefix(cls, value: str) -> str:
        if not _SERVER_NAME.fullmatch(value):
            raise ValueError(
                f"{value} has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"
            )
        return value

    @field_validator("database_hostname")
    @classmethod
    def _check_hostname(cls, value: str) -> str:
        if not _HOSTNAME.fullmatch(value):
            raise ValueError("The hostname may contain only letters, digits, '-', '_' and '.'")
        return value

    @field_validator("database_user", "database_dbname")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value:
            raise ValueError("A value is required")
        return value

    @field_validator("slot_name")
    @classmethod
    def _check_slot_name(cls, value: str) -> str:
        if not _SLOT_NAME.fullmatch(value):
            raise ValueError(
                "Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63"
            )
        return value

    @field_validator("plugin_name", mode="before")
    @classmethod
    def _check_plugin(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == "decoderbufs":
            raise ValueError(
                "Penstock streams with pgoutput, the logical decoding plugin built into PostgreSQL 10 and later; "
                "decoderbufs is not supported. Set plugin.name=pgoutput: the change events are the same. The "
                "connector creates the publication named by publication.name (see publication.autocreate.mode); "
                "a slot created for decoderbufs cannot be reused, so choose a new slot.name or drop the old slot "
                "with SELECT pg_drop_replication_slot('<slot.name>')"
            )
        return _choice(value, PluginName)

    @field_validator("snapshot_mode", mode="before")
    @classmethod
    def _check_snapshot_mode(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("custom", "configuration_based"):
            raise ValueError(
                f"Penstock does not support snapshot.mode={value.strip()} (a Java snapshotter); "
                f"use one of {', '.join(m.value for m in SnapshotMode)}"
            )
        return _choice(value, SnapshotMode, {"never": "no_data", "exported": "initial"})

    @field_validator(
        "database_sslmode",
        "publication_autocreate_mode",
        "decimal_handling_mode",
        "time_precision_mode",
        "binary_handling_mode",
        "interval_handling_mode",
        "hstore_handling_mode",
        mode="before",
    )
    @classmethod
    def _check_choice(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields[info.field_name or ""]
        enum = field.annotation
        assert isinstance(enum, type) and issubclass(enum, StrEnum)
        return _choice(value, enum)

    @field_validator("skipped_operations", mode="before")
    @classmethod
    def _check_skipped(cls, value: Any) -> Any:
        codes = split_patterns(value) if isinstance(value, str) else value
        if not isinstance(codes, list):
            return value
        lowered = [str(c).strip().lower() for c in codes]
        for code in lowered:
            if code not in OPERATIONS and code != "none":
                raise ValueError(
                    f"'{code}' is not a valid operation: use a comma-separated list of c (create), u (update), "
                    "d (delete), t (truncate), or none"
                )
        return [] if "none" in lowered else lowered

    @field_validator("schema_exclude_list", "table_exclude_list", "column_exclude_list")
    @classmethod
    def _include_or_exclude(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        include = (info.field_name or "").replace("exclude", "include")
        if value and info.data.get(include):
            raise ValueError(f'"{include.replace("_", ".")}" is already specified')
        return value

    @field_validator("topic_naming_strategy")
    @classmethod
    def _check_naming(cls, value: str) -> str:
        if value not in TOPIC_NAMING_STRATEGIES:
            raise ValueError(
                f"Class {value} could not be found: Penstock names topics with "
                f"{' or '.join(TOPIC_NAMING_STRATEGIES)}; rename topics with a RegexRouter transform instead"
            )
        return value

    @field_validator("max_queue_size")
    @classmethod
    def _queue_above_batch(cls, value: int, info: ValidationInfo) -> int:
        batch = info.data.get("max_batch_size")
        if isinstance(batch, int) and value <= batch:
            raise ValueError("Must be larger than the maximum batch size")
        return value

    # -- derived values for the connector code ----------------------------------------------------
    @functools.cached_property
    def table_filter(self) -> TableFilter:
        """Which ``schema.table`` are captured (compiled once per config)."""
        return TableFilter(
            self.schema_include_list,
            self.schema_exclude_list,
            self.table_include_list,
            self.table_exclude_list,
            self.table_ignore_builtin,
        )

    @functools.cached_property
    def column_filter(self) -> ColumnFilter:
        """Which ``schema.table.column`` appear in ``before``/``after``."""
        return ColumnFilter(self.column_include_list, self.column_exclude_list)

    @property
    def skipped_operation_codes(self) -> frozenset[str]:
        """Subset of ``{"c", "u", "d", "t"}`` not emitted while streaming."""
        return frozenset(self.skipped_operations)

    @property
    def source_partition(self) -> dict[str, str]:
        """Debezium's source partition for this connector: ``{"server": <topic.prefix>}``."""
        return {"server": self.topic_prefix}

    def topic_for(self, schema: str, table: str) -> str:
        """The data topic of a table: ``<topic.prefix>.<schema>.<table>``, characters Kafka refuses
        in topic names replaced with ``_``."""
        d = self.topic_delimiter
        return _TOPIC_UNSAFE.sub("_", f"{self.topic_prefix}{d}{schema}{d}{table}")

    @property
    def heartbeat_topic(self) -> str:
        return self.topic_heartbeat_name or f"{self.topic_heartbeat_prefix}.{self.topic_prefix}"

    @property
    def transaction_topic(self) -> str:
        return f"{self.topic_prefix}{self.topic_delimiter}{self.topic_transaction}"

    @property
    def initial_statements(self) -> list[str]:
        """``database.initial.statements`` split on ``;`` (``;;`` is a literal semicolon)."""
        text = self.database_initial_statements or ""
        parts = [p.replace("\x00", ";").strip() for p in text.replace(";;", "\x00").split(";")]
        return [p for p in parts if p]

    def connect_kwargs(
        self, *, application_name: str = "penstock", timeout: float | None = None
    ) -> dict[str, Any]:
        """Keyword arguments for ``asyncpg.connect``: host, port, user, password, database, TLS
        (``database.sslmode`` and the certificate files, with libpq's semantics), the query timeout
        and ``application_name`` (which shows in ``pg_stat_activity`` / ``pg_stat_replication``).
        The password is passed as an argument, never inside a DSN that an error could quote (the
        DSN carries only the TLS options asyncpg reads from there, libpq-style)."""
        params = {
            "sslmode": self.database_sslmode.value,
            "sslcert": self.database_sslcert,
            "sslkey": self.database_sslkey,
            "sslrootcert": self.database_sslrootcert,
            "sslpassword": self.database_sslpassword.get_secret_value()
            if self.database_sslpassword
            else None,
        }
        query = urlencode({k: v for k, v in params.items() if v})
        kwargs: dict[str, Any] = {
            "dsn": f"postgresql://?{query}",
            "host": self.database_hostname,
            "port": self.database_port,
            "user": self.database_user,
            "password": self.database_password.get_secret_value() if self.database_password else None,
            "database": self.database_dbname,
            "command_timeout": self.database_query_timeout_ms / 1000 or None,
            "server_settings": {"application_name": application_name},
        }
        if timeout is not None:
            kwargs["timeout"] = timeout
        return kwargs

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context for ``require``/``verify-*`` (None for the modes that may go unencrypted),
        for connections not made through asyncpg (the replication stream)."""
        mode = self.database_sslmode
        if mode in (SslMode.DISABLE, SslMode.ALLOW, SslMode.PREFER):
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = mode is SslMode.VERIFY_FULL
        if self.database_sslrootcert:
            context.load_verify_locations(cafile=self.database_sslrootcert)
            context.verify_mode = ssl.CERT_REQUIRED
        elif mode is SslMode.REQUIRE:
            context.verify_mode = ssl.CERT_NONE
        else:
            context.load_default_certs()
            context.verify_mode = ssl.CERT_REQUIRED
        if self.database_sslcert:
            secret = self.database_sslpassword.get_secret_value() if self.database_sslpassword else None
            context.load_cert_chain(self.database_sslcert, self.database_sslkey, password=secret)
        return context


_TOPIC_UNSAFE = re.compile(r"[^a-zA-Z0-9._\-]")
