"""How the REST listener's TLS settings are read (pure logic; the HTTPS tests run a real worker)."""

from __future__ import annotations

import re
import ssl
from pathlib import Path

import pytest

from app.config.tls import server_ssl_context
from app.settings import SettingsError, WorkerSettings
from tests.support.tls import TestCA


def settings(**values: str) -> WorkerSettings:
    return WorkerSettings.model_validate(values)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("pki"))


def test_an_http_listener_has_no_tls_and_advertises_http() -> None:
    plain = settings(listeners="http://127.0.0.1:8083")
    assert server_ssl_context(plain) is None
    assert plain.advertised_url == "http://127.0.0.1:8083"


def test_an_https_listener_advertises_https_unless_rest_advertised_listener_says_otherwise() -> None:
    assert settings(listeners="https://127.0.0.1:8443").advertised_url == "https://127.0.0.1:8443"
    forced = settings(**{"listeners": "https://127.0.0.1:8443", "rest.advertised.listener": "HTTP"})
    assert forced.advertised_url == "http://127.0.0.1:8443"
    with pytest.raises(ValueError, match=re.escape("one of: http, https")):
        settings(**{"rest.advertised.listener": "ftp"})


def test_the_worker_ssl_keys_serve_when_no_listeners_https_key_is_set(ca: TestCA) -> None:
    pem = ca.issue("localhost", server=True)
    context = server_ssl_context(
        settings(
            **{"listeners": "https://:8443", "ssl.keystore.type": "PEM", "ssl.keystore.location": str(pem)}
        )
    )
    assert context is not None and context.verify_mode == ssl.CERT_NONE


def test_listeners_https_keys_are_all_or_nothing_as_in_kafka_connect(ca: TestCA) -> None:
    pem = ca.issue("localhost", server=True)
    mixed = settings(
        **{
            "listeners": "https://:8443",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(pem),
            "listeners.https.ssl.client.auth": "none",
        }
    )
    with pytest.raises(SettingsError, match=re.escape("listeners.https.ssl.keystore.location must name")):
        server_ssl_context(mixed)


@pytest.mark.parametrize(
    ("value", "mode"), [("requested", ssl.CERT_OPTIONAL), ("REQUIRED", ssl.CERT_REQUIRED)]
)
def test_client_auth_modes(ca: TestCA, value: str, mode: ssl.VerifyMode) -> None:
    pem = ca.issue("localhost", server=True)
    prefix = "listeners.https."
    context = server_ssl_context(
        settings(
            **{
                "listeners": "https://:8443",
                prefix + "ssl.keystore.type": "PEM",
                prefix + "ssl.keystore.location": str(pem),
                prefix + "ssl.truststore.type": "PEM",
                prefix + "ssl.truststore.location": str(ca.ca_file),
                prefix + "ssl.client.auth": value,
            }
        )
    )
    assert context is not None and context.verify_mode == mode


def test_client_auth_needs_a_truststore_and_a_known_value(ca: TestCA) -> None:
    pem = ca.issue("localhost", server=True)
    base = {"listeners": "https://:8443", "ssl.keystore.type": "PEM", "ssl.keystore.location": str(pem)}
    with pytest.raises(
        SettingsError, match=re.escape("ssl.client.auth=required needs ssl.truststore.location")
    ):
        server_ssl_context(settings(**base, **{"ssl.client.auth": "required"}))
    with pytest.raises(
        SettingsError, match=re.escape("Invalid value maybe for configuration ssl.client.auth")
    ):
        server_ssl_context(settings(**base, **{"ssl.client.auth": "maybe"}))
    with pytest.raises(SettingsError, match=re.escape("ssl.truststore.type is PKCS12")):
        server_ssl_context(
            settings(
                **base,
                **{"ssl.truststore.location": str(ca.ca_file), "ssl.truststore.type": "PKCS12"},
            )
        )


def test_inline_pem_keys_are_refused_as_for_the_kafka_clients(tmp_path: Path) -> None:
    inline = settings(
        **{
            "listeners": "https://:8443",
            "listeners.https.ssl.keystore.key": "-----BEGIN PRIVATE KEY-----secret",
            "listeners.https.ssl.keystore.certificate.chain": "-----BEGIN CERTIFICATE-----",
        }
    )
    with pytest.raises(SettingsError, match=re.escape("listeners.https.ssl.keystore.key and")) as refused:
        server_ssl_context(inline)
    assert "secret" not in str(refused.value)
