"""Settings of the JDBC source: Confluent's keys, types, defaults and validation messages.

A Confluent ``JdbcSourceConnector`` JSON works unchanged for PostgreSQL and MySQL/MariaDB URLs.
Cross-key rules are checked here, reported on the key they concern (``mode`` without a value
says "Query mode must be specified", as Confluent's validator does).

Deliberate differences from Confluent (each refuses, with a message, what cannot work here):

* ``dialect.name`` is accepted but the dialect always follows ``connection.url`` (only the
  PostgreSQL and MySQL dialects exist).
* ``timestamp.granularity`` accepts only ``connect_logical``; ``transaction.isolation.mode``,
  ``catalog.pattern`` and ``query.retry.attempts`` are accepted and ignored (the task retries
  transient errors without limit, as with the default -1).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, field_validator, model_validator

from connectors.jdbc.dialect import QuoteMode
from connectors.jdbc.url import JdbcUrl, parse_jdbc_url
from connectors.sdk import CommaList, ConfigType, Importance, PluginConfig, SettingError, Width, setting
from connectors.sdk.config import parse_choice

CONFLUENT_CLASS: Final = "io.confluent.connect.jdbc.JdbcSourceConnector"

G_DATABASE = "Database"
G_MODE = "Mode"
G_CONNECTOR = "Connector"

_TOPIC: Final = re.compile(r"[a-zA-Z0-9._-]*")


class Mode(StrEnum):
    BULK = "bulk"
    INCREMENTING = "incrementing"
    TIMESTAMP = "timestamp"
    TIMESTAMP_INCREMENTING = "timestamp+incrementing"

    @property
    def uses_incrementing(self) -> bool:
        return self in (Mode.INCREMENTING, Mode.TIMESTAMP_INCREMENTING)

    @property
    def uses_timestamp(self) -> bool:
        return self in (Mode.TIMESTAMP, Mode.TIMESTAMP_INCREMENTING)


class NumericMapping(StrEnum):
    NONE = "none"
    PRECISION_ONLY = "precision_only"
    BEST_FIT = "best_fit"
    BEST_FIT_EAGER_DOUBLE = "best_fit_eager_double"


class JdbcSourceConfig(PluginConfig):
    """The source's settings; ``url`` and ``mode_value`` are the parsed forms the task uses."""

    connection_url: str = setting(
        "",
        doc="JDBC connection URL, e.g. jdbc:postgresql://localhost:5432/db or jdbc:mysql://localhost:3306/db.",
        importance=Importance.HIGH,
        group=G_DATABASE,
        order_in_group=1,
        width=Width.LONG,
        display_name="JDBC URL",
        validate_default=True,
    )
    connection_user: str | None = setting(
        None, doc="JDBC connection user.", importance=Importance.HIGH, group=G_DATABASE, order_in_group=2
    )
    connection_password: SecretStr | None = setting(
        None, doc="JDBC connection password.", importance=Importance.HIGH, group=G_DATABASE, order_in_group=3
    )
    connection_attempts: int = setting(
        3, doc="Maximum number of attempts to retrieve a valid JDBC connection.", group=G_DATABASE, ge=1
    )
    connection_backoff_ms: int = setting(
        10000,
        doc="Backoff time in milliseconds between connection attempts.",
        group=G_DATABASE,
        type=ConfigType.LONG,
        ge=0,
    )
    table_whitelist: CommaList = setting(
        [], doc="List of tables to include in copying (exact names).", group=G_DATABASE
    )
    table_blacklist: CommaList = setting(
        [], doc="List of tables to exclude from copying (exact names).", group=G_DATABASE
    )
    table_include_list: CommaList = setting(
        [],
        doc="Regular expressions (full match, case-sensitive) of fully qualified tables to copy.",
        group=G_DATABASE,
    )
    table_exclude_list: CommaList = setting(
        [],
        doc="Regular expressions of fully qualified tables not to copy (with table.include.list).",
        group=G_DATABASE,
    )
    catalog_pattern: str | None = setting(None, doc="Catalog pattern (ignored).", group=G_DATABASE)
    schema_pattern: str | None = setting(
        None,
        doc="Schema pattern (LIKE) to fetch table metadata from; empty = no schema, null = all schemas.",
        group=G_DATABASE,
    )
    numeric_precision_mapping: bool = setting(
        False, doc="Deprecated: true means numeric.mapping=precision_only.", group=G_DATABASE
    )
    numeric_mapping: str | None = setting(
        None,
        doc="Map NUMERIC values by precision and optionally scale to integral or decimal types "
        "(none, precision_only, best_fit, best_fit_eager_double).",
        group=G_DATABASE,
        recommended_values=tuple(m.value for m in NumericMapping),
    )
    dialect_name: str = setting("", doc="Accepted; the dialect follows connection.url.", group=G_DATABASE)
    mode: str = setting(
        "",
        doc="The mode for updating a table each time it is polled: bulk, incrementing, timestamp, "
        "timestamp+incrementing.",
        importance=Importance.HIGH,
        group=G_MODE,
        order_in_group=1,
        recommended_values=tuple(m.value for m in Mode),
        validate_default=True,
    )
    incrementing_column_name: str = setting(
        "", doc="The name of the strictly incrementing column; empty = auto-detect.", group=G_MODE
    )
    timestamp_column_name: CommaList = setting(
        [], doc="Comma separated list of timestamp columns (COALESCE'd).", group=G_MODE
    )
    timestamp_initial: int | None = setting(
        None,
        doc="Epoch ms of the first timestamp to read when no offset exists; -1 = the current time.",
        group=G_MODE,
        type=ConfigType.LONG,
    )
    validate_non_null: bool = setting(
        True, doc="Fail at start if the incrementing/timestamp columns are nullable.", group=G_MODE
    )
    query: str = setting(
        "", doc="Custom query to run instead of copying whole tables.", group=G_MODE, width=Width.LONG
    )
    query_suffix: str = setting("", doc="Suffix appended to the generated query.", group=G_MODE)
    quote_sql_identifiers: str = setting(
        "always", doc="When to quote table names, column names: always or never.", group=G_CONNECTOR
    )
    table_types: CommaList = setting(
        ["TABLE"], doc="Table types to fetch (TABLE, VIEW, ...).", group=G_CONNECTOR
    )
    poll_interval_ms: int = setting(
        5000, doc="Frequency in ms to poll for new data in each table.", group=G_CONNECTOR, ge=0
    )
    batch_max_rows: int = setting(
        1000, doc="Maximum number of rows to include in a single batch.", group=G_CONNECTOR, ge=1
    )
    table_poll_interval_ms: int = setting(
        60000,
        doc="Frequency in ms to poll for new or removed tables.",
        group=G_CONNECTOR,
        type=ConfigType.LONG,
        ge=0,
    )
    topic_prefix: str = setting(
        "", doc="Prefix to prepend to table names to generate topic names.", group=G_CONNECTOR
    )
    timestamp_delay_interval_ms: int = setting(
        0,
        doc="How long to wait after a row with a certain timestamp appears before including it.",
        group=G_CONNECTOR,
        type=ConfigType.LONG,
        ge=0,
    )
    db_timezone: str = setting("UTC", doc="Name of the JDBC timezone.", group=G_CONNECTOR)
    timestamp_granularity: str = setting(
        "connect_logical", doc="Representation of timestamps (connect_logical only).", group=G_CONNECTOR
    )
    query_retry_attempts: int = setting(-1, doc="Accepted; transient errors are retried.", group=G_CONNECTOR)
    transaction_isolation_mode: str = setting("DEFAULT", doc="Accepted and ignored.", group=G_CONNECTOR)

    @field_validator("mode")
    @classmethod
    def _check_mode(cls, value: str) -> str:
        if not value:
            raise ValueError("Query mode must be specified")
        if value not in {m.value for m in Mode}:
            raise ValueError(f"String must be one of: {', '.join(m.value for m in Mode)}")
        return value

    @field_validator("numeric_mapping")
    @classmethod
    def _check_numeric_mapping(cls, value: str | None) -> str | None:
        return parse_choice(value, (m.value for m in NumericMapping), message="String must be one of: ")  # type: ignore[no-any-return]

    @field_validator("quote_sql_identifiers")
    @classmethod
    def _check_quoting(cls, value: str) -> str:
        return parse_choice(value, (m.value for m in QuoteMode), message="String must be one of: ")  # type: ignore[no-any-return]

    @field_validator("timestamp_granularity")
    @classmethod
    def _check_granularity(cls, value: str) -> str:
        if value.lower() != "connect_logical":
            raise ValueError("Penstock supports only connect_logical (Connect Timestamp values)")
        return value

    @field_validator("db_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("Invalid time zone identifier") from None
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _check_topic(cls, value: str) -> str:
        if len(value) > 249 or not _TOPIC.fullmatch(value):
            raise ValueError(
                "must be at most 249 characters of letters, digits, '.', '_' and '-' (a topic name)"
            )
        return value

    @field_validator("connection_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value:
            raise ValueError("A JDBC URL is required")
        parse_jdbc_url(value)  # its ValueError names the supported forms
        return value

    @field_validator("table_include_list", "table_exclude_list")
    @classmethod
    def _check_regexes(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {error}") from None
        return value

    @model_validator(mode="after")
    def _check_together(self) -> JdbcSourceConfig:
        if self.table_whitelist and self.table_blacklist:
            raise SettingError("table.blacklist", "table.whitelist and table.blacklist are exclusive.")
        legacy = bool(self.table_whitelist or self.table_blacklist)
        if (self.table_include_list or self.table_exclude_list) and legacy:
            raise SettingError(
                "table.include.list",
                "table.include.list/table.exclude.list cannot be combined with table.whitelist/table.blacklist.",
            )
        if self.query and (legacy or self.table_include_list or self.table_exclude_list):
            raise SettingError(
                "query", "Do not specify table filtering (whitelist/blacklist/include/exclude) with query."
            )
        if self.mode == Mode.TIMESTAMP and not self.timestamp_column_name:
            raise SettingError("timestamp.column.name", "timestamp mode needs timestamp.column.name")
        if self.mode == Mode.TIMESTAMP_INCREMENTING and not self.timestamp_column_name:
            raise SettingError(
                "timestamp.column.name", "timestamp+incrementing mode needs timestamp.column.name"
            )
        if self.query and self.mode_value.uses_incrementing and not self.incrementing_column_name:
            raise SettingError(
                "incrementing.column.name",
                "a query cannot be searched for an auto-increment column: name incrementing.column.name",
            )
        return self

    # -- parsed forms --------------------------------------------------------------------------
    @property
    def mode_value(self) -> Mode:
        return Mode(self.mode)

    @property
    def url(self) -> JdbcUrl:
        """The URL with ``connection.user`` / ``connection.password`` applied."""
        password = self.connection_password.get_secret_value() if self.connection_password else None
        return parse_jdbc_url(self.connection_url).with_credentials(self.connection_user, password)

    @property
    def numeric(self) -> NumericMapping:
        if self.numeric_mapping is not None:
            return NumericMapping(self.numeric_mapping.lower())
        return NumericMapping.PRECISION_ONLY if self.numeric_precision_mapping else NumericMapping.NONE

    @property
    def quote(self) -> bool:
        return self.quote_sql_identifiers.lower() == QuoteMode.ALWAYS

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.db_timezone)
