"""aiokafka arguments for the worker's and connectors' Kafka clients.

The settings are layered and checked in :mod:`app.config.client_overrides`; this module adds
what needs aiokafka: the SSL context from PEM files and the SASL arguments.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any

import structlog
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.helpers import create_ssl_context

from app.config.client_overrides import (
    LOGIN_MODULES,
    MECHANISMS,
    NOT_HONOURED,
    SECURITY_KEYS,
    Role,
    convert,
    layered,
    parse_jaas_config,
    policy_errors,
)
from app.settings import WorkerSettings
from connectors.sdk.config import java_trim
from connectors.sdk.errors import ConfigError

log = structlog.get_logger(__name__)


# --- security --------------------------------------------------------------------------------------


def _require_pem(config: Mapping[str, str], type_key: str) -> None:
    kind = java_trim(config.get(type_key, "JKS")).upper()  # JKS is Kafka's default store type
    if kind != "PEM":
        raise ConfigError(
            f"{type_key} is {kind}, but Penstock's Kafka clients read PEM files only: convert the "
            f"store to PEM (keytool -importkeystore, then openssl) and set {type_key}=PEM"
        )


def _no_password() -> str:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key and hang the worker.
    return ""


def _ssl_context(config: Mapping[str, str]) -> ssl.SSLContext:
    """An SSLContext from PEM trust and key stores; system CAs when no truststore is given."""
    truststore = java_trim(config.get("ssl.truststore.location", "")) or None
    inline_cas = config.get("ssl.truststore.certificates", "").strip() or None
    keystore = java_trim(config.get("ssl.keystore.location", "")) or None
    if truststore or inline_cas:
        _require_pem(config, "ssl.truststore.type")
    if config.get("ssl.keystore.key") or config.get("ssl.keystore.certificate.chain"):
        raise ConfigError(
            "ssl.keystore.key and ssl.keystore.certificate.chain are not supported: put the private "
            "key and certificate chain in one PEM file, set ssl.keystore.location to it and "
            "ssl.keystore.type=PEM"
        )
    if keystore:
        _require_pem(config, "ssl.keystore.type")
    password = config.get("ssl.key.password") or config.get("ssl.keystore.password")
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=truststore, cadata=inline_cas, certfile=keystore, password=password or _no_password
        )
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        files = ", ".join(f for f in (truststore, keystore) if f) or "ssl.truststore.certificates"
        hint = "; if the key is encrypted, check ssl.key.password" if keystore else ""
        raise ConfigError(f"Cannot load the SSL trust or key store ({files}): {exc}{hint}") from None
    if java_trim(config.get("ssl.endpoint.identification.algorithm", "https")) == "":
        context.check_hostname = False  # Kafka: an empty algorithm turns off hostname verification
    return context


def _sasl_kwargs(config: Mapping[str, str]) -> dict[str, Any]:
    raw = config.get("sasl.mechanism")
    if raw is None:
        raise ConfigError(
            "sasl.mechanism is not set and Kafka's default, GSSAPI, is not supported: "
            "set it to PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
        )
    mechanism = java_trim(raw).upper()
    if mechanism not in MECHANISMS:
        raise ConfigError(
            f"Invalid value {raw} for configuration sasl.mechanism: "
            "Penstock supports PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512"
        )
    jaas = config.get("sasl.jaas.config")
    if not jaas:
        raise ConfigError(f"sasl.jaas.config must give the username and password for {mechanism}")
    module, options = parse_jaas_config(jaas)
    expected = LOGIN_MODULES[mechanism]
    if module.rsplit(".", 1)[-1] != expected:
        raise ConfigError(f"sasl.jaas.config uses {module}, but sasl.mechanism {mechanism} needs {expected}")
    if "username" not in options or "password" not in options:
        raise ConfigError(f"sasl.jaas.config must set username and password for {mechanism}")
    return {
        "sasl_mechanism": mechanism,
        "sasl_plain_username": options["username"],
        "sasl_plain_password": options["password"],
    }


def _security_kwargs(config: Mapping[str, str]) -> dict[str, Any]:
    """``ssl_context`` and SASL arguments, built only for the protocol in use (Kafka ignores the rest)."""
    protocol = java_trim(config.get("security.protocol", "PLAINTEXT")).upper()
    kwargs: dict[str, Any] = {}
    if protocol in ("SSL", "SASL_SSL"):
        kwargs["ssl_context"] = _ssl_context(config)
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        kwargs.update(_sasl_kwargs(config))
    return kwargs


def client_kwargs(
    settings: WorkerSettings,
    role: Role,
    connector_config: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for aiokafka's producer, consumer or admin client.

    Raises ConfigError, naming the key, for an override the policy forbids, a value that does
    not parse, or security settings aiokafka cannot use (JKS stores, GSSAPI, ...).
    """
    errors = policy_errors(settings, role, connector_config)
    if errors:
        raise ConfigError("; ".join(errors))
    settings_by_key = layered(settings, role, connector_config)
    kwargs: dict[str, Any] = {}
    unknown = []
    for key, (value, given_as) in settings_by_key.items():
        try:
            converted = convert(role, key, value, given_as)
        except ConfigError as exc:
            errors.append(str(exc))
            continue
        if converted is not None:
            kwargs[converted[0]] = converted[1]
        elif key not in SECURITY_KEYS and key not in NOT_HONOURED:
            unknown.append(given_as)
    if errors:
        raise ConfigError("; ".join(errors))
    if unknown:
        log.debug("Client configurations were supplied but are not known configs", role=role, keys=unknown)
    kwargs.update(_security_kwargs({key: value for key, (value, _) in settings_by_key.items()}))
    return kwargs


# --- why no broker accepted the client ----------------------------------------------------------

PROBE_TIMEOUT_MS = 10_000


async def _first_refusal(kwargs: Mapping[str, Any]) -> tuple[str, BaseException] | None:
    """Connect to each bootstrap server as the client does (TLS, SASL); the first one's error."""
    for server in kwargs.get("bootstrap_servers") or []:
        host, _, port = str(server).rpartition(":")
        try:
            conn = await create_conn(
                host.strip("[]"),
                int(port),
                client_id="penstock-connection-check",
                request_timeout_ms=min(
                    int(kwargs.get("request_timeout_ms") or PROBE_TIMEOUT_MS), PROBE_TIMEOUT_MS
                ),
                ssl_context=kwargs.get("ssl_context"),
                security_protocol=kwargs.get("security_protocol", "PLAINTEXT"),
                sasl_mechanism=kwargs.get("sasl_mechanism", "PLAIN"),
                sasl_plain_username=kwargs.get("sasl_plain_username"),
                sasl_plain_password=kwargs.get("sasl_plain_password"),
            )
        except (TimeoutError, OSError, KafkaError) as exc:
            return str(server), exc
        conn.close()
    return None


async def explain_bootstrap_failure(error: KafkaConnectionError, kwargs: Mapping[str, Any]) -> BaseException:
    """The error to report instead of aiokafka's bare "Unable to bootstrap from [...]".

    aiokafka only logs why each bootstrap server refused (a wrong password, an untrusted
    certificate). This connects once more with the same settings: a broker's non-retriable
    answer (SaslAuthenticationFailed, as Kafka's SaslAuthenticationException) is returned as is,
    anything else (TLS, network) is added to the message. Neither ever holds the password.
    """
    refusal = await _first_refusal(kwargs)
    explained: BaseException = error
    if refusal is not None:
        server, cause = refusal
        if isinstance(cause, KafkaError) and not getattr(cause, "retriable", False):
            explained = cause
        else:
            said = error.args[0] if error.args else "Unable to bootstrap"  # str() repeats the class name
            message = f"{said}; {server} refused the connection: {type(cause).__name__}: {cause}"
            explained = KafkaConnectionError(message)
    return explained


async def start_client(client: Any, kwargs: Mapping[str, Any]) -> None:
    """``client.start()``; when no bootstrap server accepts it, the error says why (see
    :func:`explain_bootstrap_failure`), e.g. a failed authentication."""
    try:
        await client.start()
    except KafkaConnectionError as exc:
        explained = await explain_bootstrap_failure(exc, kwargs)
        if explained is exc:
            raise
        raise explained from exc
