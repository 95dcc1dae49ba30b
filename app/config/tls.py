"""TLS for the REST listener: Kafka Connect's ``listeners.https.ssl.*`` keys, PEM files only.

As in Kafka Connect, the keys under ``listeners.https.`` are used if any is set (all or
nothing), else the worker's own ``ssl.*`` keys. Penstock reads PEM only, as its Kafka clients
do: ``ssl.keystore.type=PEM`` with ``ssl.keystore.location`` naming one file that holds the
private key and the certificate chain, and ``ssl.truststore.type=PEM`` with
``ssl.truststore.location`` (or ``ssl.truststore.certificates``, inline) holding the CAs that
client certificates must be signed by. ``ssl.client.auth`` is ``none`` (the default),
``requested`` or ``required``.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

from app.settings import SettingsError, WorkerSettings
from connectors.sdk.config import java_trim
from connectors.sdk.errors import ConfigError

HTTPS_PREFIX = "listeners.https."
CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
INLINE_KEYSTORE = ("ssl.keystore.key", "ssl.keystore.certificate.chain")


def require_pem(
    config: Mapping[str, str], type_key: str, shown: str = "", reader: str = "Kafka clients"
) -> None:
    """Refuse a JKS or PKCS12 store (``shown`` is the key as the user wrote it)."""
    shown = shown or type_key
    kind = java_trim(config.get(type_key, "JKS")).upper()  # JKS is Kafka's default store type
    if kind != "PEM":
        raise ConfigError(
            f"{shown} is {kind}, but Penstock's {reader} read PEM files only: convert the "
            f"store to PEM (keytool -importkeystore, then openssl) and set {shown}=PEM"
        )


def inline_keystore_refusal(shown_prefix: str = "") -> str:
    key, chain = (shown_prefix + k for k in INLINE_KEYSTORE)
    return (
        f"{key} and {chain} are not supported: put the private key and certificate chain in one "
        f"PEM file, set {shown_prefix}ssl.keystore.location to it and {shown_prefix}ssl.keystore.type=PEM"
    )


def no_password() -> str:
    """Without a callback OpenSSL would prompt on the terminal for an encrypted key and hang the worker."""
    return ""


def rest_ssl_config(settings: WorkerSettings) -> tuple[dict[str, str], str]:
    """The REST listener's ``ssl.*`` keys and the prefix they were given with."""
    prefixed = settings.with_prefix(HTTPS_PREFIX)
    if prefixed:
        return prefixed, HTTPS_PREFIX
    return {k: v for k, v in settings.extras.items() if k.startswith("ssl.")}, ""


def server_ssl_context(settings: WorkerSettings) -> ssl.SSLContext | None:
    """The TLS context of an ``https://`` listener; None for ``http://``.

    Raises SettingsError naming the key for anything that cannot serve HTTPS."""
    if settings.listener_scheme != "https":
        return None
    config, prefix = rest_ssl_config(settings)
    try:
        return _context(config, prefix if config else HTTPS_PREFIX)
    except ConfigError as exc:
        raise SettingsError(f"Invalid worker settings: {exc}") from None


def _context(config: Mapping[str, str], prefix: str) -> ssl.SSLContext:
    reader = "HTTPS listeners"
    if any(config.get(k) for k in INLINE_KEYSTORE):
        raise ConfigError(inline_keystore_refusal(prefix))
    keystore = java_trim(config.get("ssl.keystore.location", ""))
    if not keystore:
        raise ConfigError(
            f"listeners has an https:// listener, so {prefix}ssl.keystore.location must name a PEM file "
            f"holding the server's private key and certificate chain (and {prefix}ssl.keystore.type=PEM)"
        )
    require_pem(config, "ssl.keystore.type", prefix + "ssl.keystore.type", reader)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    password = config.get("ssl.key.password") or config.get("ssl.keystore.password")
    try:
        context.load_cert_chain(keystore, password=password or no_password)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise ConfigError(
            f"Cannot load {prefix}ssl.keystore.location ({keystore}): {exc}; it must hold the private key "
            f"and certificate chain in PEM (if the key is encrypted, check {prefix}ssl.key.password)"
        ) from None
    truststore = java_trim(config.get("ssl.truststore.location", "")) or None
    inline_cas = config.get("ssl.truststore.certificates", "").strip() or None
    if truststore or inline_cas:
        require_pem(config, "ssl.truststore.type", prefix + "ssl.truststore.type", reader)
        try:
            context.load_verify_locations(cafile=truststore, cadata=inline_cas)
        except (OSError, ValueError) as exc:
            where = truststore or f"{prefix}ssl.truststore.certificates"
            raise ConfigError(f"Cannot load the SSL truststore ({where}): {exc}") from None
    raw = java_trim(config.get("ssl.client.auth", "none"))
    if raw.lower() not in CLIENT_AUTH:
        raise ConfigError(
            f"Invalid value {raw} for configuration {prefix}ssl.client.auth: String must be one of: "
            "required, requested, none"
        )
    context.verify_mode = CLIENT_AUTH[raw.lower()]
    if context.verify_mode != ssl.CERT_NONE and not (truststore or inline_cas):
        raise ConfigError(
            f"{prefix}ssl.client.auth={raw.lower()} needs {prefix}ssl.truststore.location: a PEM file "
            "of the CAs that client certificates must be signed by"
        )
    context.set_alpn_protocols(["http/1.1"])
    return context


def peer_ssl_context(settings: WorkerSettings) -> ssl.SSLContext | None:
    """What a worker forwards requests to other workers with when they speak HTTPS, as Kafka
    Connect's REST client does: it trusts the listener's truststore (the system's CAs when none
    is set) and presents the listener's keystore, so workers that require client certificates
    accept each other. None for an HTTP cluster."""
    if settings.listener_scheme != "https" and settings.rest_advertised_listener != "https":
        return None
    config, prefix = rest_ssl_config(settings)
    truststore = java_trim(config.get("ssl.truststore.location", "")) or None
    inline_cas = config.get("ssl.truststore.certificates", "").strip() or None
    keystore = java_trim(config.get("ssl.keystore.location", "")) or None
    try:
        context = ssl.create_default_context(cafile=truststore, cadata=inline_cas)
        if keystore:
            password = config.get("ssl.key.password") or config.get("ssl.keystore.password")
            context.load_cert_chain(keystore, password=password or no_password)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"Invalid worker settings: cannot load the {prefix}ssl.* stores: {exc}") from None
    if java_trim(config.get("ssl.endpoint.identification.algorithm", "https")) == "":
        context.check_hostname = False  # Kafka: an empty algorithm turns off hostname verification
    return context
