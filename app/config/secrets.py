"""The one rule for secret config values, and masking them as ``[hidden]`` wherever text leaves
the worker (error messages, status traces, log lines).

A key is secret when (compared in lower case, ``_`` and ``-`` read as ``.``):

- its name contains ``password``, ``passwd``, ``secret`` or ``passphrase``
  (``connection.password``, ``ssl.key.password``, ``aws.secret.access.key``);
- it is ``sasl.jaas.config``, also under a prefix (``producer.override.sasl.jaas.config``);
- its last segments name private-key or token material: ``*.keystore.key`` (Kafka's PEM
  ``ssl.keystore.key``), ``*private.key``, ``*api.key`` and ``*.token``. Other keys ending in
  ``key`` are *not* secret: ``key.converter``, ``message.key``, ``*.key.serializer`` are settings,
  not key material;
- or the plugin declares it ``ConfigType.PASSWORD`` (passed in as ``password_keys``).

Values are also masked *by value* inside free text such as exception messages and traces, so a
secret that a plugin copies into its own error message is hidden too. Values shorter than
:data:`MIN_MASKED_LENGTH` are not replaced inside free text (they would garble every message);
keyed masking still hides them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from connectors.sdk.config import ConfigType, PluginConfig

HIDDEN = "[hidden]"
MIN_MASKED_LENGTH = 4
_WORDS = ("password", "passwd", "secret", "passphrase")
_SECRET_TAIL = re.compile(r"(^|\.)(sasl\.jaas\.config|keystore\.key|private[._]?key|api[._]?key|token)$")

V = TypeVar("V")


def is_secret_key(key: str, password_keys: Collection[str] = ()) -> bool:
    lowered = key.lower().replace("_", ".").replace("-", ".")  # log fields and env names too
    if lowered == SECRET_KEYS_SETTING:
        return False  # names secret keys; holds none
    return key in password_keys or any(w in lowered for w in _WORDS) or bool(_SECRET_TAIL.search(lowered))


def password_keys(model: type[PluginConfig]) -> set[str]:
    """The keys a plugin's config model declares as ``ConfigType.PASSWORD``."""
    return {k.name for k in model.describe() if k.type is ConfigType.PASSWORD}


SECRET_KEYS_SETTING = "penstock.secret.keys"
"""A connector config's own list of further secret keys (Penstock only): a plugin that keeps a
credential under a name the naming rule cannot know (``my.custom.credential``) is masked anyway."""


def listed_secret_keys(config: Mapping[str, object]) -> set[str]:
    """The keys a connector config names in ``penstock.secret.keys`` (comma-separated)."""
    listed = config.get(SECRET_KEYS_SETTING)
    return {k.strip() for k in str(listed).split(",") if k.strip()} if listed else set()


def declared_secret_keys(connector: type | None, config: Mapping[str, object]) -> set[str]:
    """Secret keys beyond the naming rule: the connector's and its task's PASSWORD-typed keys and
    the keys the config lists in ``penstock.secret.keys``."""
    declared = listed_secret_keys(config)
    for plugin in (connector, getattr(connector, "task_class", None)):
        model = getattr(plugin, "config_model", None)
        if model is not None:
            declared |= password_keys(model)
    return declared


def secret_values(config: Mapping[str, str | None], password_keys: Collection[str] = ()) -> set[str]:
    """The values of a config's secret keys."""
    return {v for k, v in config.items() if v and is_secret_key(k, password_keys)}


def mask_config(config: Mapping[str, V], password_keys: Collection[str] = ()) -> dict[str, V | str]:
    """A copy of the config with the values of secret keys replaced by ``[hidden]``."""
    return {k: HIDDEN if v is not None and is_secret_key(k, password_keys) else v for k, v in config.items()}


def mask_text(text: str, values: Iterable[str]) -> str:
    """``text`` with every occurrence of the given secret values replaced by ``[hidden]``.

    Longer values go first, so a secret that contains another is hidden whole.
    """
    for value in sorted({v for v in values if len(v) >= MIN_MASKED_LENGTH}, key=len, reverse=True):
        text = text.replace(value, HIDDEN)
        if (r := repr(value)[1:-1]) != value:  # as repr() shows it inside exception messages
            text = text.replace(r, HIDDEN)
    return text
