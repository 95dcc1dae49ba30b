"""How the client is built from the settings: URLs, TLS from PEM files, credentials."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from connectors.elasticsearch.client import hosts, make_client, ssl_context
from connectors.elasticsearch.config import ElasticsearchSinkConfig


def config(**props: str) -> ElasticsearchSinkConfig:
    return ElasticsearchSinkConfig.parse({"connection.url": "http://es:9200", **props})


def test_urls_get_a_scheme_and_https_wins() -> None:
    assert hosts(config(**{"connection.url": "es1:9200, http://es2:9200"})) == ["http://es1:9200", "http://es2:9200"]
    assert hosts(config(**{"connection.url": "es1:9200,https://es2:9200"})) == [
        "https://es1:9200",
        "https://es2:9200",
    ]
    assert hosts(config(**{"elastic.security.protocol": "ssl"})) == ["https://es:9200"]


@pytest.fixture
def pem(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate (the trust store) and a file with certificate and key (the key store)."""
    cert, key = tmp_path / "ca.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=es", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    bundle = tmp_path / "client.pem"
    bundle.write_bytes(cert.read_bytes() + key.read_bytes())
    return cert, bundle


def test_tls_from_pem_files(pem: tuple[Path, Path]) -> None:
    cert, bundle = pem
    context = ssl_context(
        config(
            **{
                "connection.url": "https://es:9200",
                "elastic.https.ssl.truststore.location": str(cert),
                "elastic.https.ssl.keystore.location": str(bundle),
                "elastic.https.ssl.endpoint.identification.algorithm": "",
            }
        )
    )
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and not context.check_hostname
    assert ssl_context(config()) is None


async def test_basic_auth_only_with_both_username_and_password() -> None:
    client = make_client(config(**{"connection.username": "elastic", "connection.password": "s3cret"}))
    try:
        assert "Basic" in client._headers["authorization"]
    finally:
        await client.close()
    anonymous = make_client(config())
    try:
        assert "authorization" not in anonymous._headers
    finally:
        await anonymous.close()
