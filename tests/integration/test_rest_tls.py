"""The REST API over HTTPS (``listeners=https://...``, Kafka Connect's ``listeners.https.ssl.*``
keys, PEM files) with optional client certificates, against a real worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import ServerProcess, free_port
from tests.support.tls import TestCA

pytestmark = pytest.mark.integration


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "pki")


def https_settings(server_pem: Path, **extra: str) -> dict[str, str]:
    return {
        "listeners": "https://127.0.0.1:8083",
        "listeners.https.ssl.keystore.type": "PEM",
        "listeners.https.ssl.keystore.location": str(server_pem),
        **extra,
    }


def test_the_api_answers_over_https_with_a_certificate_clients_can_verify(tmp_path: Path, ca: TestCA) -> None:
    server_pem = ca.issue("localhost", server=True)
    server = ServerProcess(tmp_path / "data", https_settings(server_pem), verify=ca.client_context())
    server.start()
    try:
        assert server.url.startswith("https://")
        root = server.client.get("/")
        assert root.status_code == 200, root.text
        server.create(
            "sink", {"connector.class": "FileStreamSink", "file": str(tmp_path / "o.txt"), "topics": "t"}
        )
        assert server.client.get("/connectors").json() == ["sink"]
        # a client that does not trust the test CA refuses the server
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(server.url + "/", verify=True)
        # and plain HTTP gets no answer from the HTTPS port
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{server.port}/", timeout=5)
    finally:
        server.close()


def test_a_graceful_stop_does_not_wait_for_idle_https_clients(tmp_path: Path, ca: TestCA) -> None:
    """An idle keep-alive client never answers the TLS goodbye; asyncio would wait 30 s for it
    (app/api/listener.py). A stop must still take about as long as over plain HTTP."""
    server_pem = ca.issue("localhost", server=True)
    server = ServerProcess(tmp_path / "data", https_settings(server_pem), verify=ca.client_context())
    server.start()
    try:
        assert server.client.get("/connectors").status_code == 200  # the connection stays open, idle
        started = time.monotonic()
        server.stop(timeout=25)  # raises TimeoutExpired if the worker does not exit
        assert time.monotonic() - started < 10, "the stop waited for an idle TLS connection"
    finally:
        server.close()


def test_client_auth_required_refuses_a_client_without_a_certificate_from_the_truststore(
    tmp_path: Path, ca: TestCA
) -> None:
    server_pem = ca.issue("localhost", server=True)
    client_pem = ca.issue("operator", server=False)
    stranger = TestCA(tmp_path / "other-pki", name="Another CA")
    stranger_pem = stranger.issue("intruder", server=False)
    settings = https_settings(
        server_pem,
        **{
            "listeners.https.ssl.client.auth": "required",
            "listeners.https.ssl.truststore.type": "PEM",
            "listeners.https.ssl.truststore.location": str(ca.ca_file),
        },
    )
    server = ServerProcess(tmp_path / "data", settings, verify=ca.client_context(client_pem))
    server.start()
    try:
        assert server.client.get("/connectors").status_code == 200
        for context in (ca.client_context(), ca.client_context(stranger_pem)):
            with pytest.raises(httpx.TransportError):
                httpx.get(server.url + "/connectors", verify=context, timeout=5).raise_for_status()
        assert server.client.get("/").status_code == 200  # the worker is still fine
    finally:
        server.close()


def _run_refused(tmp_path: Path, settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env.update({"CONNECT_" + k.upper().replace(".", "_"): v for k, v in settings.items()})
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "run",
            "--data-dir",
            str(tmp_path / "data"),
            "--port",
            str(free_port()),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_jks_keystore_is_refused_at_start_with_a_message_that_says_to_use_pem(tmp_path: Path) -> None:
    keystore = tmp_path / "server.jks"
    keystore.write_bytes(b"\xfe\xed\xfe\xed")
    settings = https_settings(keystore, **{"listeners.https.ssl.keystore.type": "JKS"})
    result = _run_refused(tmp_path, settings)
    assert result.returncode == 2, result.stderr
    assert "listeners.https.ssl.keystore.type is JKS" in result.stderr
    assert "PEM files only" in result.stderr and "listeners.https.ssl.keystore.type=PEM" in result.stderr


def test_an_https_listener_without_a_keystore_is_refused_at_start(tmp_path: Path) -> None:
    result = _run_refused(tmp_path, {"listeners": "https://127.0.0.1:8083"})
    assert result.returncode == 2, result.stderr
    assert "listeners.https.ssl.keystore.location must name a PEM file" in result.stderr


def test_the_key_must_match_and_load(tmp_path: Path, ca: TestCA) -> None:
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    result = _run_refused(tmp_path, https_settings(broken))
    assert result.returncode == 2, result.stderr
    assert f"Cannot load listeners.https.ssl.keystore.location ({broken})" in result.stderr
    assert "not a key" not in result.stderr  # the file's content is never shown
