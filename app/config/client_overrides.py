"""Kafka client settings for connectors: which keys each client takes, their types, the
``connector.client.config.override.policy`` and the layering of worker and connector settings.

Pure parsing, shared by the herder (validation of ``*.override.*`` keys) and :mod:`app.kafka`
(which turns the layered settings into aiokafka arguments). Layers, lowest first:
1. the worker's common client keys (``bootstrap.servers``, ``security.protocol``, ``ssl.*``, ...),
2. the worker's ``producer.`` / ``consumer.`` / ``admin.`` keys,
3. the connector's ``<role>.override.`` keys, if the override policy allows them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.settings import WorkerSettings
from connectors.sdk.config import java_trim
from connectors.sdk.errors import ConfigError

Role = Literal["producer", "consumer", "admin"]
ROLES: tuple[Role, ...] = ("producer", "consumer", "admin")

POLICY_KEY = "connector.client.config.override.policy"
PRINCIPAL_ALLOWED = frozenset({"sasl.jaas.config", "sasl.mechanism", "security.protocol"})
"""What the ``Principal`` policy lets a connector override: its identity, nothing else."""

_COMMON_KEYS = frozenset(
    {
        "bootstrap.servers",
        "security.protocol",
        "client.id",
        "request.timeout.ms",
        "retry.backoff.ms",
        "metadata.max.age.ms",
        "connections.max.idle.ms",
    }
)
_COMMON_PREFIXES = ("ssl.", "sasl.")

_SECRET_KEYS = frozenset({"sasl.jaas.config", "ssl.keystore.key"})


def _shown(key: str, value: str) -> str:
    """A value fit for an error message or a log: secrets become ``[hidden]``, as Connect shows them."""
    return "[hidden]" if key in _SECRET_KEYS or key.endswith(".password") else value


# --- value converters: raw text -> aiokafka value, or ValueError(reason in Kafka's words) ----------


def _integer(kind: str = "INT", minimum: int = 0) -> Callable[[str], int]:
    def convert(text: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", text):
            raise ValueError(f"Not a number of type {kind}")
        value = int(text)
        if value < minimum:
            raise ValueError(f"Value must be at least {minimum}")
        return value

    return convert


def _boolean(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError("Expected value to be either true or false")
    return text.lower() == "true"


def _text(text: str) -> str:
    return text


def _choice(options: Mapping[str, Any], *, upper: bool = False) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        normal = text.upper() if upper else text.lower()
        if normal not in options:
            raise ValueError(f"String must be one of: {', '.join(options)}")
        return options[normal]

    return convert


def _servers(text: str) -> list[str]:
    servers = [item.strip() for item in text.split(",") if item.strip()]
    if not servers:
        raise ValueError("No resolvable bootstrap urls given in bootstrap.servers")
    for server in servers:
        if not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):\d{1,5}", server):
            raise ValueError(f"Invalid url in bootstrap.servers: {server}")
    return servers


_PROTOCOLS = {p: p for p in ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")}
MECHANISMS = {m: m for m in ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")}


@dataclass(frozen=True, slots=True)
class _Key:
    """One Kafka key that maps onto one aiokafka keyword argument."""

    kwarg: str
    convert: Callable[[str], Any]
    roles: frozenset[str] = frozenset(ROLES)


_P, _C = frozenset({"producer"}), frozenset({"consumer"})

KEYS: dict[str, _Key] = {
    # every client
    "bootstrap.servers": _Key("bootstrap_servers", _servers),
    "client.id": _Key("client_id", _text),
    "request.timeout.ms": _Key("request_timeout_ms", _integer()),
    "retry.backoff.ms": _Key("retry_backoff_ms", _integer("LONG")),
    "metadata.max.age.ms": _Key("metadata_max_age_ms", _integer("LONG")),
    "connections.max.idle.ms": _Key("connections_max_idle_ms", _integer("LONG")),
    "security.protocol": _Key("security_protocol", _choice(_PROTOCOLS, upper=True)),
    # producer
    "acks": _Key("acks", _choice({"all": "all", "-1": "all", "0": 0, "1": 1}), _P),
    "compression.type": _Key(
        "compression_type",
        _choice({"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstd"}),
        _P,
    ),
    "linger.ms": _Key("linger_ms", _integer("LONG"), _P),
    "batch.size": _Key("max_batch_size", _integer(), _P),
    "max.request.size": _Key("max_request_size", _integer(), _P),
    "enable.idempotence": _Key("enable_idempotence", _boolean, _P),
    "transactional.id": _Key("transactional_id", _text, _P),
    "transaction.timeout.ms": _Key("transaction_timeout_ms", _integer(), _P),
    # consumer
    "group.id": _Key("group_id", _text, _C),
    "group.instance.id": _Key("group_instance_id", _text, _C),
    "client.rack": _Key("client_rack", _text, _C),
    "max.poll.records": _Key("max_poll_records", _integer(minimum=1), _C),
    "max.poll.interval.ms": _Key("max_poll_interval_ms", _integer(minimum=1), _C),
    "fetch.max.bytes": _Key("fetch_max_bytes", _integer(), _C),
    "fetch.min.bytes": _Key("fetch_min_bytes", _integer(), _C),
    "fetch.max.wait.ms": _Key("fetch_max_wait_ms", _integer(), _C),
    "max.partition.fetch.bytes": _Key("max_partition_fetch_bytes", _integer(), _C),
    "session.timeout.ms": _Key("session_timeout_ms", _integer(), _C),
    "heartbeat.interval.ms": _Key("heartbeat_interval_ms", _integer(), _C),
    "rebalance.timeout.ms": _Key("rebalance_timeout_ms", _integer(), _C),
    "auto.offset.reset": _Key(
        "auto_offset_reset", _choice({v: v for v in ("latest", "earliest", "none")}), _C
    ),
    "enable.auto.commit": _Key("enable_auto_commit", _boolean, _C),
    "auto.commit.interval.ms": _Key("auto_commit_interval_ms", _integer(), _C),
    "check.crcs": _Key("check_crcs", _boolean, _C),
    "exclude.internal.topics": _Key("exclude_internal_topics", _boolean, _C),
    "isolation.level": _Key(
        "isolation_level", _choice({v: v for v in ("read_uncommitted", "read_committed")}), _C
    ),
}
"""Kafka key -> aiokafka keyword, converter and the clients that accept it."""

SECURITY_KEYS = frozenset(
    {
        "sasl.mechanism",
        "sasl.jaas.config",
        "ssl.truststore.location",
        "ssl.truststore.type",
        "ssl.truststore.certificates",
        "ssl.truststore.password",  # PEM truststores have none; accepted and unused, as in Kafka
        "ssl.keystore.location",
        "ssl.keystore.type",
        "ssl.keystore.password",
        "ssl.keystore.key",
        "ssl.keystore.certificate.chain",
        "ssl.key.password",
        "ssl.endpoint.identification.algorithm",
    }
)
"""Keys read together to build ``ssl_context`` and the SASL arguments."""

NOT_HONOURED = frozenset(
    {
        "buffer.memory",
        "key.serializer",
        "value.serializer",
        "key.deserializer",
        "value.deserializer",
        "max.block.ms",
        "delivery.timeout.ms",
        "retries",
        "max.in.flight.requests.per.connection",
        "partitioner.class",
        "partition.assignment.strategy",
        "interceptor.classes",
        "metric.reporters",
        "auto.include.jmx.reporter",
        "send.buffer.bytes",
        "receive.buffer.bytes",
        "reconnect.backoff.ms",
        "reconnect.backoff.max.ms",
        "client.dns.lookup",
        "default.api.timeout.ms",
        "allow.auto.create.topics",
        "ssl.protocol",
        "ssl.enabled.protocols",
        "ssl.cipher.suites",
        "ssl.keymanager.algorithm",
        "ssl.trustmanager.algorithm",
        "ssl.client.auth",
    }
)
"""Keys Kafka users often set that aiokafka has no equivalent for: dropped without a word."""


# --- layering and the override policy --------------------------------------------------------------


def _policy(settings: WorkerSettings) -> str:
    """The policy's short name (validated when the settings were loaded)."""
    return settings.connector_client_config_override_policy


def _overrides(connector_config: Mapping[str, str] | None, role: Role) -> dict[str, str]:
    prefix = f"{role}.override."
    return {
        k[len(prefix) :]: v
        for k, v in (connector_config or {}).items()
        if k.startswith(prefix) and len(k) > len(prefix)
    }


def policy_errors(
    settings: WorkerSettings, role: Role, connector_config: Mapping[str, str] | None
) -> list[str]:
    overrides = _overrides(connector_config, role)
    if not overrides:
        return []
    try:
        policy = _policy(settings)
    except ConfigError as exc:
        return [str(exc)]
    return [
        f"The '{policy}' policy does not allow '{role}.override.{key}' to be overridden "
        "in the connector configuration."
        for key in overrides
        if policy == "None" or (policy == "Principal" and key not in PRINCIPAL_ALLOWED)
    ]


def layered(
    settings: WorkerSettings, role: Role, connector_config: Mapping[str, str] | None
) -> dict[str, tuple[str, str]]:
    """Kafka key -> (value, the key it was given under), higher layers winning."""
    extras = settings.extras
    merged: dict[str, tuple[str, str]] = {
        "bootstrap.servers": (settings.bootstrap_servers, "bootstrap.servers")
    }
    for key, value in extras.items():
        if key in _COMMON_KEYS or key.startswith(_COMMON_PREFIXES):
            merged[key] = (value, key)
    if role == "consumer":
        # A declared worker field (so never in extras), with Kafka's default of 500.
        merged["max.poll.records"] = (str(settings.consumer_max_poll_records), "consumer.max.poll.records")
    for key, value in settings.with_prefix(f"{role}.").items():
        merged[key] = (value, f"{role}.{key}")
    for key, value in _overrides(connector_config, role).items():
        merged[key] = (value, f"{role}.override.{key}")
    return merged


_JAAS_ENTRY = re.compile(
    r"\s*(?P<module>[\w.$]+)\s+(?P<flag>required|requisite|sufficient|optional)"
    r'(?P<options>(?:[^;"]|"(?:[^"\\]|\\.)*")*);',
    re.IGNORECASE,
)
_JAAS_OPTION = re.compile(r'\s*(?P<key>[^\s=;"]+)\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[^\s;"]+))')
LOGIN_MODULES = {
    "PLAIN": "PlainLoginModule",
    "SCRAM-SHA-256": "ScramLoginModule",
    "SCRAM-SHA-512": "ScramLoginModule",
}


def parse_jaas_config(text: str) -> tuple[str, dict[str, str]]:
    """``Module required key="value" ...;`` -> (module class, options). Errors never show the text."""
    entries = []
    position = 0
    while text[position:].strip():
        entry = _JAAS_ENTRY.match(text, position)
        if entry is None:
            raise ConfigError(
                "sasl.jaas.config is not valid JAAS: expected 'LoginModule flag key=value ...;'"
            )
        entries.append(entry)
        position = entry.end()
    if len(entries) != 1:
        raise ConfigError(f"JAAS config property contains {len(entries)} login modules, should be 1 module")
    options: dict[str, str] = {}
    rest = entries[0]["options"]
    position = 0
    while rest[position:].strip():
        option = _JAAS_OPTION.match(rest, position)
        if option is None:
            raise ConfigError('sasl.jaas.config is not valid JAAS: expected key=value or key="value" options')
        quoted = option["quoted"]
        options[option["key"]] = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else option["bare"]
        position = option.end()
    return entries[0]["module"], options


# --- the public surface ----------------------------------------------------------------------------


def convert(role: Role, key: str, value: str, given_as: str) -> tuple[str, Any] | None:
    """(kwarg, value) for a key this role's client accepts; None for one it does not."""
    spec = KEYS.get(key)
    if spec is None or role not in spec.roles:
        return None
    try:
        return spec.kwarg, spec.convert(java_trim(value))
    except ValueError as exc:
        raise ConfigError(f"Invalid value {_shown(key, value)} for configuration {given_as}: {exc}") from None


def check_overrides(settings: WorkerSettings, connector_config: Mapping[str, str]) -> list[str]:
    """Problems with the connector's ``producer.override.*``, ``consumer.override.*`` and
    ``admin.override.*`` keys: those the worker's policy forbids, and values that cannot work."""
    errors: list[str] = []
    for role in ROLES:
        refused = policy_errors(settings, role, connector_config)
        errors.extend(refused)
        if refused:
            continue
        for key, value in _overrides(connector_config, role).items():
            try:
                convert(role, key, value, f"{role}.override.{key}")
                if key == "sasl.jaas.config":
                    parse_jaas_config(value)
            except ConfigError as exc:
                errors.append(str(exc))
    return errors
