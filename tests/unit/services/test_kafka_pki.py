"""scripts/services: the throw-away CA and broker certificate behind Kafka's SSL listener."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

import contextlib

from penstock_services.kafka import _make_test_pki


def test_the_broker_certificate_is_trusted_through_the_ca_for_127_0_0_1(tmp_path: Path) -> None:
    files = _make_test_pki(tmp_path / "tls", tmp_path / "openssl.log")
    keystore = files["keystore"].read_text()
    # Kafka's PEM keystore: an unencrypted PKCS#8 key followed by the certificate.
    assert keystore.startswith("-----BEGIN PRIVATE KEY-----")
    assert "-----BEGIN CERTIFICATE-----" in keystore
    assert not (tmp_path / "tls" / "ca.key").exists()

    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(files["keystore"])  # key and certificate belong together
    client = ssl.create_default_context(cafile=str(files["ca"]))
    # The chain verifies and the name matches: a handshake over a memory pipe succeeds.
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    server_side = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (client_side, server_side):
            with contextlib.suppress(ssl.SSLWantReadError):
                side.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    assert client_side.getpeercert()["subject"] == ((("commonName", "127.0.0.1"),),)

    other = ssl.create_default_context()  # the system CAs do not know the test CA
    o_in, o_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    refused = other.wrap_bio(o_in, o_out, server_hostname="127.0.0.1")
    fresh_server = server.wrap_bio(s_in2 := ssl.MemoryBIO(), s_out2 := ssl.MemoryBIO(), server_side=True)
    error = None
    for _ in range(10):
        try:
            refused.do_handshake()
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLCertVerificationError as exc:
            error = exc
            break
        with contextlib.suppress(ssl.SSLWantReadError, ssl.SSLError):
            fresh_server.do_handshake()
        s_in2.write(o_out.read())
        o_in.write(s_out2.read())
    assert error is not None
