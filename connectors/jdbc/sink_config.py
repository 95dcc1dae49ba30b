"""Settings of the JDBC sink: Confluent's keys, types, defaults and rules (reference §5.1).

A Confluent ``JdbcSinkConnector`` JSON works unchanged. A Debezium ``JdbcSinkConnector`` JSON
works where its keys mean the same thing: they are mapped to Confluent's before parsing
(:func:`map_debezium_keys`), and Debezium keys with no Confluent counterpart are refused with a
message listing them, rather than silently ignored.

Enumerated values are case-insensitive, as Confluent parses them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import SecretStr, field_validator, model_validator

from connectors.jdbc.dialect import QuoteMode
from connectors.jdbc.url import JdbcUrl, parse_jdbc_url
from connectors.sdk import CommaList, ConfigType, Importance, PluginConfig, SettingError, Width, setting
from connectors.sdk.config import parse_choice

CONFLUENT_CLASS: Final = "io.confluent.connect.jdbc.JdbcSinkConnector"
DEBEZIUM_CLASS: Final = "io.debezium.connector.jdbc.JdbcSinkConnector"

G_CONNECTION = "Connection"
G_WRITES = "Writes"
G_DATA_MAPPING = "Data Mapping"
G_DDL = "DDL Support"
G_RETRIES = "Retries"


class InsertMode(StrEnum):
    INSERT = "insert"
    UPSERT = "upsert"
    UPDATE = "update"


class PkMode(StrEnum):
    NONE = "none"
    KAFKA = "kafka"
    RECORD_KEY = "record_key"
    RECORD_VALUE = "record_value"


TABLE_TYPES: Final = ("TABLE", "PARTITIONED TABLE", "VIEW")

# -- Debezium JDBC sink keys -------------------------------------------------------------------
DEBEZIUM_RENAMED: Final[dict[str, str]] = {
    "connection.url": "connection.url",
    "connection.username": "connection.user",
    "connection.password": "connection.password",
    "insert.mode": "insert.mode",
    "primary.key.mode": "pk.mode",
    "primary.key.fields": "pk.fields",
    "delete.enabled": "delete.enabled",
    "table.name.format": "table.name.format",
    "batch.size": "batch.size",
}
"""Debezium key -> Confluent key, for keys whose meaning is the same."""
DEBEZIUM_IGNORED: Final = frozenset(
    {
        # harmless here: the pool is one connection per task; quoting and evolution are handled below
        "connection.pool.min_size",
        "connection.pool.max_size",
        "connection.pool.acquire_increment",
        "connection.pool.timeout",
        "schema.evolution",
        "quote.identifiers",
        "database.time_zone",
    }
)
"""Debezium keys read (``schema.evolution``, ``quote.identifiers``, ``database.time_zone``) or
harmless to ignore (the pool sizes: Penstock holds one connection per task)."""
_FRAMEWORK_PREFIXES: Final = (
    "name",
    "connector.class",
    "tasks.max",
    "topics",
    "topics.regex",
    "key.converter",
    "value.converter",
    "header.converter",
    "transforms",
    "predicates",
    "errors.",
    "config.action.reload",
    "consumer.override.",
    "task.class",
)


def map_debezium_keys(props: Mapping[str, Any]) -> dict[str, Any]:
    """Debezium's JDBC sink keys rewritten as Confluent's; a ``ValueError`` lists the ones that
    have no counterpart here (``hibernate.*``, ``collection.name.format``, ...)."""
    mapped: dict[str, Any] = {}
    unsupported: list[str] = []
    for key, value in props.items():
        if key in DEBEZIUM_RENAMED:
            mapped[DEBEZIUM_RENAMED[key]] = value
        elif key in DEBEZIUM_IGNORED or key.startswith(_FRAMEWORK_PREFIXES) or key in _CONFLUENT_KEYS:
            mapped.setdefault(key, value)
        else:
            unsupported.append(key)
    if unsupported:
        raise ValueError(
            f"these {DEBEZIUM_CLASS} settings are not supported by Penstock's JDBC sink: "
            f"{', '.join(sorted(unsupported))}; supported: {', '.join(sorted(DEBEZIUM_RENAMED))}, "
            "schema.evolution (none|basic), quote.identifiers, database.time_zone, or the "
            "Confluent JdbcSinkConnector keys"
        )
    evolution = str(props.get("schema.evolution", "none")).strip().lower()
    if evolution == "basic":
        mapped.setdefault("auto.create", "true")
        mapped.setdefault("auto.evolve", "true")
    elif evolution != "none":
        raise ValueError(f"schema.evolution must be none or basic, not {evolution!r}")
    quote = str(props.get("quote.identifiers", "")).strip().lower()
    if quote:
        mapped.setdefault("quote.sql.identifiers", "always" if quote == "true" else "never")
    if "database.time_zone" in props:
        mapped.setdefault("db.timezone", props["database.time_zone"])
    mode = str(mapped.get("pk.mode", "")).strip().lower()
    if mode == "record_header":
        raise ValueError(
            "primary.key.mode=record_header is not supported; use none, kafka, record_key or record_value"
        )
    return mapped


def _choice(value: Any, enum: type[StrEnum]) -> Any:
    """Case-insensitive enum parsing, in Confluent's wording."""
    return parse_choice(value, (m.value for m in enum), message="String must be one of: ")


class JdbcSinkConfig(PluginConfig):
    """Every setting of the JDBC sink, as ``GET /connector-plugins/JdbcSinkConnector/config`` lists them."""

    group_name: ClassVar[str | None] = G_WRITES

    # -- connection ---------------------------------------------------------------------------
    connection_url: str = setting(
        doc=(
            "JDBC connection URL: jdbc:postgresql://host:port/database, jdbc:mysql://... or "
            "jdbc:mariadb://...; user and password may be given as ?user=...&password=..."
        ),
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=1,
        width=Width.LONG,
        display_name="JDBC URL",
    )
    connection_user: str | None = setting(
        None, doc="JDBC connection user.", importance=Importance.HIGH, group=G_CONNECTION, order_in_group=2
    )
    connection_password: SecretStr | None = setting(
        None,
        doc="JDBC connection password.",
        importance=Importance.HIGH,
        group=G_CONNECTION,
        order_in_group=3,
    )
    connection_attempts: int = setting(
        3,
        doc="Maximum number of attempts to retrieve a valid JDBC connection. Must be a positive integer.",
        importance=Importance.LOW,
        group=G_CONNECTION,
        ge=1,
    )
    connection_backoff_ms: int = setting(
        10000,
        doc="Backoff time in milliseconds between connection attempts.",
        importance=Importance.LOW,
        group=G_CONNECTION,
        type=ConfigType.LONG,
        ge=0,
    )
    dialect_name: str = setting(
        "",
        doc=(
            "The name of the database dialect. Empty: decided by the JDBC URL. PostgreSqlDatabaseDialect, "
            "MySqlDatabaseDialect and MariaDbDatabaseDialect are accepted (they must match the URL)."
        ),
        importance=Importance.LOW,
        group=G_CONNECTION,
    )

    # -- writes -------------------------------------------------------------------------------
    insert_mode: InsertMode = setting(
        InsertMode.INSERT,
        doc=(
            "The insertion mode to use: insert (standard INSERT), upsert (INSERT ... ON CONFLICT / ON "
            "DUPLICATE KEY UPDATE) or update (UPDATE ... WHERE key)."
        ),
        importance=Importance.HIGH,
        type=ConfigType.STRING,
        recommended_values=tuple(m.value for m in InsertMode),
    )
    batch_size: int = setting(
        3000,
        doc="Specifies how many records to attempt to batch together for insertion into the destination table.",
        ge=0,
    )
    delete_enabled: bool = setting(
        False,
        doc="Whether to treat null record values as deletes. Requires pk.mode to be record_key.",
    )

    # -- data mapping ------------------------------------------------------------------------
    table_name_format: str = setting(
        "${topic}",
        doc=(
            "A format string for the destination table name, which may contain '${topic}' as a placeholder "
            "for the originating topic name. Dots separate [catalog.][schema.]table."
        ),
        group=G_DATA_MAPPING,
        min_length=1,
    )
    pk_mode: PkMode = setting(
        PkMode.NONE,
        doc="The primary key mode: none, kafka, record_key or record_value.",
        importance=Importance.HIGH,
        group=G_DATA_MAPPING,
        type=ConfigType.STRING,
        recommended_values=tuple(m.value for m in PkMode),
    )
    pk_fields: CommaList = setting(
        default_factory=list,
        doc=(
            "List of comma-separated primary key field names; their meaning depends on pk.mode (kafka: the "
            "three coordinate column names; record_key/record_value: the fields of the key/value)."
        ),
        group=G_DATA_MAPPING,
    )
    fields_whitelist: CommaList = setting(
        default_factory=list,
        doc="List of comma-separated record value field names. If empty, all fields from the record value are used.",
        group=G_DATA_MAPPING,
    )
    db_timezone: str = setting(
        "UTC",
        doc="Name of the JDBC timezone used in the connector when inserting time-based values.",
        group=G_DATA_MAPPING,
    )

    # -- DDL ----------------------------------------------------------------------------------
    auto_create: bool = setting(
        False,
        doc="Whether to automatically create the destination table based on record schema (CREATE TABLE).",
        group=G_DDL,
    )
    auto_evolve: bool = setting(
        False,
        doc="Whether to automatically add columns in the table schema when found to be missing (ALTER TABLE).",
        group=G_DDL,
    )
    quote_sql_identifiers: QuoteMode = setting(
        QuoteMode.ALWAYS,
        doc="When to quote table names, column names, and other identifiers in SQL statements: always or never.",
        group=G_DDL,
        type=ConfigType.STRING,
        recommended_values=tuple(m.value for m in QuoteMode),
    )
    table_types: CommaList = setting(
        default_factory=lambda: ["TABLE"],
        doc="The comma-separated types of database tables the sink writes to: TABLE, PARTITIONED TABLE, VIEW.",
        group=G_DDL,
    )

    # -- retries ------------------------------------------------------------------------------
    max_retries: int = setting(
        10,
        doc="The maximum number of times to retry on errors before failing the task.",
        group=G_RETRIES,
        ge=0,
    )
    retry_backoff_ms: int = setting(
        3000,
        doc="The time in milliseconds to wait following an error before a retry attempt is made.",
        group=G_RETRIES,
        ge=0,
    )

    # -- parsing rules ------------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _debezium_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and str(data.get("connector.class", "")).strip() == DEBEZIUM_CLASS:
            try:
                return map_debezium_keys(data)
            except ValueError as error:
                raise SettingError("connector.class", str(error)) from None
        return data

    @field_validator("insert_mode", mode="before")
    @classmethod
    def _insert_mode(cls, value: Any) -> Any:
        return _choice(value, InsertMode)

    @field_validator("pk_mode", mode="before")
    @classmethod
    def _pk_mode(cls, value: Any) -> Any:
        return _choice(value, PkMode)

    @field_validator("quote_sql_identifiers", mode="before")
    @classmethod
    def _quote(cls, value: Any) -> Any:
        return _choice(value, QuoteMode)

    @field_validator("connection_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parse_jdbc_url(value)  # ValueError with the supported forms
        return value

    @field_validator("db_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Invalid time zone identifier: {value}") from None
        return value

    @field_validator("table_types")
    @classmethod
    def _table_types(cls, value: list[str]) -> list[str]:
        types = [t.upper() for t in value]
        wrong = [t for t in types if t not in TABLE_TYPES]
        if wrong or not types:
            raise ValueError(f"Table types must be among {', '.join(TABLE_TYPES)}")
        return types

    @field_validator("dialect_name")
    @classmethod
    def _dialect(cls, value: str) -> str:
        known = ("", "PostgreSqlDatabaseDialect", "MySqlDatabaseDialect", "MariaDbDatabaseDialect")
        if value not in known:
            raise ValueError(f"Penstock's JDBC sink supports {', '.join(k for k in known if k)} (or empty)")
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> JdbcSinkConfig:
        if self.delete_enabled and self.pk_mode is not PkMode.RECORD_KEY:
            raise SettingError(
                "pk.mode",
                "Primary key mode must be 'record_key' when delete support is enabled",
            )
        if self.insert_mode is InsertMode.UPSERT and self.pk_mode is PkMode.NONE:
            raise SettingError("pk.mode", "insert.mode=upsert needs primary key columns: set pk.mode")
        if self.pk_mode is PkMode.KAFKA and self.pk_fields and len(self.pk_fields) != 3:
            raise SettingError(
                "pk.fields",
                "PK mode for table is kafka, so pk.fields must be empty or name exactly 3 columns "
                "(topic, partition, offset)",
            )
        if self.dialect_name:
            wanted = "postgresql" if self.dialect_name.startswith("PostgreSql") else "mysql"
            if self.url().dialect != wanted:
                raise SettingError("dialect.name", f"{self.dialect_name} does not match connection.url")
        return self

    # -- derived ------------------------------------------------------------------------------
    def url(self) -> JdbcUrl:
        """The URL with ``connection.user`` / ``connection.password`` applied over its own."""
        password = self.connection_password.get_secret_value() if self.connection_password else None
        return parse_jdbc_url(self.connection_url).with_credentials(self.connection_user, password)


_CONFLUENT_KEYS: Final = frozenset(info.alias or name for name, info in JdbcSinkConfig.model_fields.items())
