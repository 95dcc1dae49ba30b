"""Worker settings: Kafka Connect's key names, from a .properties file, .env and CONNECT_* variables.

Priority, lowest first: defaults, the ``.properties`` file given on the command line, a ``.env``
file in the working directory, environment variables named the Confluent-image way
(``CONNECT_OFFSET_FLUSH_INTERVAL_MS`` for ``offset.flush.interval.ms``), then command-line flags.
Keys the model does not declare (``value.converter.schemas.enable``, ``producer.*``, ...) are kept
in ``extras`` and handed to converters and clients by prefix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.sdk.config import kafka_reason
from connectors.sdk.properties import parse_properties

ENV_PREFIX = "CONNECT_"
LOG_LEVELS = ("OFF", "FATAL", "CRITICAL", "ERROR", "WARN", "WARNING", "INFO", "DEBUG", "TRACE", "ALL")
_BROKER = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):\d{1,5}")
_LISTENER = re.compile(
    r"(?i)(?:https?://)?(?P<host>\[[0-9A-Fa-f:.]*\]|[A-Za-z0-9._-]*)(?::(?P<port>\d{0,5}))?/?"
)


def _key(name: str) -> str:
    return name.replace("_", ".")


class WorkerSettings(BaseModel):
    """Every worker setting Penstock reads; ``.env.example`` lists them with their defaults."""

    model_config = ConfigDict(alias_generator=_key, populate_by_name=True, extra="allow", frozen=True)

    # REST server
    listeners: str = Field(
        "http://:8083",
        description="Where the REST API listens: http://host:port or https://host:port (https takes the "
        "listeners.https.ssl.* keys, PEM files only)",
    )
    rest_advertised_host_name: str | None = Field(None, description="Host shown as worker_id and to peers")
    rest_advertised_port: int | None = Field(
        None, ge=1, le=65535, description="Port shown as worker_id and to peers"
    )
    rest_advertised_listener: str | None = Field(
        None, description="http or https: the scheme peers are told to use; unset: the listener's"
    )
    admin_listeners: str | None = Field(
        None, description="Unset: /admin/loggers on the main listener; empty: disabled"
    )
    access_control_allow_origin: str = Field(
        "",
        description="Origins (comma-separated, * for any) whose web pages may call the API (CORS) and "
        "change state; empty: only the worker's own pages",
    )
    access_control_allow_methods: str = Field("", description="CORS allowed methods (default GET,POST,HEAD)")
    rest_request_max_bytes: int = Field(
        4_194_304, ge=1024, description="Largest request body the REST API reads; a longer one gets 413"
    )
    rest_auth_users_file: Path | None = Field(
        None,
        description="Users file (penstock users add) that turns on REST authentication and roles; "
        "unset: the API answers anyone who reaches it",
    )
    topic_tracking_enable: bool = Field(True, description="Serve /connectors/{c}/topics")
    topic_tracking_allow_reset: bool = Field(True, description="Allow PUT /connectors/{c}/topics/reset")

    # Embedded storage
    data_dir: Path = Field(Path("./data"), description="Where the embedded SQLite database lives")
    num_partitions: int = Field(1, ge=1, description="Partitions of automatically created topics")
    auto_create_topics_enable: bool = Field(True, description="Create a topic on first write or subscribe")
    log_retention_ms: int = Field(604_800_000, description="Keep records this long; -1 keeps them forever")
    log_retention_unread_max_records: int = Field(
        10_000_000,
        ge=-1,
        description="Retention keeps records a sink has not read yet, up to this many per partition "
        "(beyond it the oldest go and the sink counts them as lost); -1: no cap",
    )
    log_retention_check_interval_ms: int = Field(300_000, ge=1000, description="How often retention runs")
    log_max_lag_records: int = Field(
        100_000,
        ge=-1,
        description="Writers to a topic wait while a running consumer group is this many records behind "
        "on a partition (a slow sink slows its source); -1 disables the limit",
    )

    # Data path
    key_converter: str = Field(
        "org.apache.kafka.connect.json.JsonConverter", description="Default key converter"
    )
    value_converter: str = Field(
        "org.apache.kafka.connect.json.JsonConverter", description="Default value converter"
    )
    header_converter: str = Field(
        "org.apache.kafka.connect.storage.SimpleHeaderConverter", description="Default header converter"
    )
    offset_flush_interval_ms: int = Field(
        10_000, ge=1, description="How often sinks flush and commit offsets"
    )
    offset_flush_timeout_ms: int = Field(
        5_000, ge=1, description="Longest a flush may take before it is retried"
    )
    task_shutdown_graceful_timeout_ms: int = Field(5_000, ge=0, description="Grace period for tasks to stop")
    consumer_max_poll_records: int = Field(500, ge=1, description="Most records handed to one put()")
    source_max_inflight_batches: int = Field(
        4, ge=1, description="Converted source batches waiting to be written before poll() pauses"
    )

    # Plugins
    plugin_path: str = Field("", description="Extra comma-separated folders searched for plugin packages")

    # What connectors may do (the administrator's choice; empty: anything, as in Kafka Connect)
    connector_plugins_allowed: str = Field(
        "",
        description="Plugins (class names or aliases, comma-separated) a connector config may name: "
        "connector.class, converters, transforms and predicates; empty: every installed one",
    )
    connector_plugins_denied: str = Field(
        "", description="Plugins (class names or aliases, comma-separated) no connector config may name"
    )
    file_allowed_paths: str = Field(
        "",
        description="Folders (comma-separated) the file connectors may read and write in, symlinks and "
        ".. resolved; empty: any path the worker's user can reach",
    )

    # Kafka (standalone and distributed modes)
    bootstrap_servers: str = Field("localhost:9092", description="Kafka brokers (standalone/distributed)")
    offset_storage_file_filename: Path = Field(
        Path("./data/connect.offsets"), description="Standalone mode: file holding source offsets"
    )
    group_id: str | None = Field(None, description="Cluster this worker joins (distributed mode)")
    config_storage_topic: str | None = Field(
        None, description="Distributed: compacted topic of connector configs"
    )
    config_storage_replication_factor: int = Field(
        -1, description="Replication of the config topic; -1: broker default"
    )
    offset_storage_topic: str | None = Field(
        None, description="Distributed: compacted topic of source offsets"
    )
    offset_storage_partitions: int = Field(25, ge=1, description="Partitions of the offsets topic")
    offset_storage_replication_factor: int = Field(
        -1, description="Replication of the offsets topic; -1: broker default"
    )
    status_storage_topic: str | None = Field(None, description="Distributed: compacted topic of statuses")
    status_storage_partitions: int = Field(5, ge=1, description="Partitions of the status topic")
    status_storage_replication_factor: int = Field(
        -1, description="Replication of the status topic; -1: broker default"
    )
    session_timeout_ms: int = Field(
        10_000, ge=1, description="A silent worker leaves the group after this long"
    )
    heartbeat_interval_ms: int = Field(3_000, ge=1, description="How often a worker heartbeats to the group")
    rebalance_timeout_ms: int = Field(
        60_000, ge=1, description="Longest a worker may take to rejoin a rebalance"
    )
    topic_creation_enable: bool = Field(
        True, description="Let source connectors create their topics with topic.creation.* settings (KIP-158)"
    )
    connector_client_config_override_policy: str = Field(
        "All",
        description="Which producer/consumer/admin.override.* keys connectors may set: None, Principal or All",
    )
    exactly_once_source_support: str = Field(
        "disabled", description="enabled: source records and offsets commit in one Kafka transaction"
    )

    config_providers: str | None = Field(
        None,
        description="Config providers for ${name:path:key} placeholders (comma-separated); unset: env,file,"
        "directory. Each takes config.providers.<name>.class and config.providers.<name>.param.*",
    )

    log_level: str = Field("INFO", description="Root log level")
    log_format: str = Field("console", description="console or json")

    @field_validator("connector_client_config_override_policy")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        """Kafka accepts the short name or the policy's class name; stored as the short name."""
        short = value.strip().rsplit(".", 1)[-1].removesuffix("ConnectorClientConfigOverridePolicy")
        for name in ("None", "Principal", "All"):
            if short.lower() == name.lower():
                return name
        raise ValueError(
            f"Invalid value {value} for configuration connector.client.config.override.policy: must be one of None, Principal or All"
        )

    @field_validator("exactly_once_source_support")
    @classmethod
    def _known_eos(cls, value: str) -> str:
        if value.strip().lower() not in ("disabled", "preparing", "enabled"):
            raise ValueError("String must be one of: disabled, preparing, enabled")
        return value.strip().lower()

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"String must be one of: {', '.join(LOG_LEVELS)}")
        return {"WARNING": "WARN", "CRITICAL": "FATAL"}.get(level, level)

    @field_validator("bootstrap_servers")
    @classmethod
    def _broker_list(cls, value: str) -> str:
        brokers = [b.strip() for b in value.split(",") if b.strip()]
        if not brokers:
            raise ValueError("List the Kafka brokers as host:port[,host:port...], e.g. localhost:9092")
        for broker in brokers:
            if not _BROKER.fullmatch(broker):
                raise ValueError(f"'{broker}' is not host:port (e.g. localhost:9092)")
        return value

    @field_validator(
        "config_storage_replication_factor",
        "offset_storage_replication_factor",
        "status_storage_replication_factor",
    )
    @classmethod
    def _replication_factor(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError("Must be -1 (the broker's default) or at least 1, and no more than the brokers")
        return value

    @field_validator("rest_advertised_listener")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is not None and value.strip().lower() not in ("http", "https"):
            raise ValueError("String must be one of: http, https")
        return value.strip().lower() if value is not None else None

    @field_validator("log_format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in ("console", "json"):
            raise ValueError("String must be one of: console, json")
        return value

    @property
    def extras(self) -> dict[str, str]:
        return {k: str(v) for k, v in (self.model_extra or {}).items()}

    def with_prefix(self, prefix: str) -> dict[str, str]:
        """Extra settings under ``prefix`` with the prefix removed (``value.converter.`` -> ...)."""
        return {k[len(prefix) :]: v for k, v in self.extras.items() if k.startswith(prefix)}

    @field_validator("listeners")
    @classmethod
    def _valid_listeners(cls, value: str) -> str:
        for item in value.split(","):
            if not _LISTENER.fullmatch(item.strip()):
                raise ValueError(
                    f"'{item.strip()}' is not a listener; use http://host:port or https://host:port, "
                    "e.g. http://:8083"
                )
        return value

    @property
    def listener(self) -> tuple[str, int]:
        """(host, port) of the first listener; an empty host means all interfaces."""
        match = _LISTENER.fullmatch(self.listeners.split(",")[0].strip())
        assert match is not None  # checked by the validator
        host = match["host"].strip("[]") or "0.0.0.0"  # Kafka: an empty host means all interfaces
        return host, int(match["port"] or 8083)

    @property
    def listener_scheme(self) -> str:
        """``https`` when the first listener says so, else ``http``."""
        return "https" if self.listeners.split(",")[0].strip().lower().startswith("https://") else "http"

    @property
    def advertised_url(self) -> str:
        """The URL other workers reach this one at (``rest.advertised.listener`` picks the scheme)."""
        return f"{self.rest_advertised_listener or self.listener_scheme}://{self.worker_id}"

    @property
    def worker_id(self) -> str:
        host, port = self.listener
        if host in ("0.0.0.0", "::"):
            import socket

            host = socket.gethostname()
        return f"{self.rest_advertised_host_name or host}:{self.rest_advertised_port or port}"


def read_properties(path: Path) -> dict[str, str]:
    """A Java ``.properties`` file (see :func:`connectors.sdk.properties.parse_properties`)."""
    return parse_properties(path.read_text(encoding="utf-8"))


def read_dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    result = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        result[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return result


def env_to_key(name: str) -> str:
    """``CONNECT_OFFSET_FLUSH_INTERVAL_MS`` -> ``offset.flush.interval.ms`` (Confluent image rule)."""
    return name[len(ENV_PREFIX) :].lower().replace("__", "-").replace("_", ".")


def from_env(env: Mapping[str, str]) -> dict[str, str]:
    return {env_to_key(k): v for k, v in env.items() if k.startswith(ENV_PREFIX) and len(k) > len(ENV_PREFIX)}


class SettingsError(ValueError):
    """Settings that cannot start a worker; the message names each bad key."""


def load_settings(
    properties: Path | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    dotenv: Path | None = Path(".env"),
) -> WorkerSettings:
    merged: dict[str, Any] = {}
    if properties is not None:
        merged.update(read_properties(properties))
    if dotenv is not None:
        merged.update(from_env(read_dotenv(dotenv)))
    merged.update(from_env(os.environ if env is None else env))
    merged.update({k: v for k, v in (overrides or {}).items() if v is not None})
    try:
        return WorkerSettings.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(f"Invalid worker settings: {'; '.join(map(_problem, exc.errors()))}") from None


def _problem(error: Any) -> str:
    """Kafka's wording: ``Invalid value abc for configuration offset.flush.interval.ms: <why>``."""
    key = ".".join(map(str, error["loc"]))
    reason = kafka_reason(error)
    if reason.startswith("Invalid value"):
        return reason
    return f"Invalid value {error.get('input')} for configuration {key}: {reason}"


def _shown_default(default: object) -> str:
    if default is None:
        return ""
    return "true" if default is True else "false" if default is False else str(default)


def settings_table() -> str:
    """The README's settings table (a test keeps it in sync with the model)."""
    rows = ["| Setting | Environment variable | Default | Meaning |", "|---|---|---|---|"]
    for name, info in WorkerSettings.model_fields.items():
        default = _shown_default(info.get_default())
        rows.append(f"| `{_key(name)}` | `{ENV_PREFIX}{name.upper()}` | `{default}` | {info.description} |")
    return "\n".join(rows) + "\n"


def env_example() -> str:
    """The text of ``.env.example``: every setting, its default and meaning (a test keeps it in sync)."""
    lines = [
        "# Penstock worker settings. Copy to .env and uncomment what you change.",
        "# Each key is a Kafka Connect worker key: CONNECT_OFFSET_FLUSH_INTERVAL_MS is offset.flush.interval.ms.",
        "# Any other key (for example CONNECT_VALUE_CONVERTER_SCHEMAS_ENABLE=false) is passed on by prefix.",
        "",
    ]
    for name, info in WorkerSettings.model_fields.items():
        shown = _shown_default(info.get_default())
        lines.append(f"# {info.description} ({_key(name)})")
        lines.append(f"#{ENV_PREFIX}{name.upper()}={shown}")
    return "\n".join(lines) + "\n"
