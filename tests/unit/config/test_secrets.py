"""The one rule for which config values are secret, and masking them inside free text."""

from __future__ import annotations

import pytest

from app.config.secrets import HIDDEN, is_secret_key, mask_config, mask_text, password_keys, secret_values
from connectors.sdk.config import ConfigType, PluginConfig, setting


@pytest.mark.parametrize(
    "key",
    [
        "connection.password",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl.keystore.key",
        "producer.override.ssl.keystore.key",
        "sasl.jaas.config",
        "consumer.override.sasl.jaas.config",
        "aws.secret.access.key",
        "client.secret",
        "snowflake.private.key",
        "snowflake.private.key.passphrase",
        "datadog.api.key",
        "github.access.token",
        "DB_PASSWD",
    ],
)
def test_secret_keys(key: str) -> None:
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key",
    [
        "key.converter",
        "key.converter.schemas.enable",
        "key.ignore",
        "message.key",
        "producer.override.key.serializer",
        "ssl.truststore.certificates",
        "ssl.keystore.location",
        "ssl.keystore.type",
        "transforms.createKey.type",
        "connection.user",
        "sasl.oauthbearer.token.endpoint.url",
        "file",
    ],
)
def test_settings_that_are_not_secrets(key: str) -> None:
    assert not is_secret_key(key)


def test_password_typed_keys_are_secret_whatever_their_name() -> None:
    class Config(PluginConfig):
        credentials_json: str = setting(doc="x", type=ConfigType.PASSWORD)
        url: str = setting(doc="y")

    declared = password_keys(Config)
    assert declared == {"credentials.json"}
    config = {"credentials.json": "{...json...}", "url": "http://x", "db.password": "pw12"}
    assert secret_values(config, declared) == {"{...json...}", "pw12"}
    assert mask_config(config, declared) == {
        "credentials.json": HIDDEN,
        "url": "http://x",
        "db.password": HIDDEN,
    }


def test_mask_text_hides_values_also_as_repr_shows_them() -> None:
    secrets = {"s3cr3t-XYZ", "line1\nline2", "abc"}
    error = ValueError("login failed for admin:s3cr3t-XYZ with key line1\nline2")
    masked = mask_text(f"{error!r} / {error} / abc stays", secrets)
    assert "s3cr3t-XYZ" not in masked
    assert "line1" not in masked
    assert "abc stays" in masked  # too short to replace inside free text without garbling it


def test_the_longest_secret_is_hidden_whole() -> None:
    assert mask_text("token=abcd-efgh", {"abcd", "abcd-efgh"}) == f"token={HIDDEN}"


def test_a_config_lists_its_own_secret_keys() -> None:
    from app.config.secrets import declared_secret_keys, listed_secret_keys, mask_config

    config = {"penstock.secret.keys": " my.credential , other ", "my.credential": "abcd", "topic": "t"}
    assert listed_secret_keys(config) == {"my.credential", "other"}
    assert listed_secret_keys({"topic": "t"}) == set()
    declared = declared_secret_keys(None, config)
    assert mask_config(config, declared) == {**config, "my.credential": "[hidden]"}
