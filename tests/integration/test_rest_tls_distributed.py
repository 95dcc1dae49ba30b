"""Distributed workers that speak HTTPS and require client certificates forward writes to the
leader over HTTPS, presenting their own certificate (Kafka Connect's REST client does the same)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.api.auth.users import Role, UsersFile
from tests.support.cluster import KAFKA_ONLY
from tests.support.server import wait_until
from tests.support.tls import TestCA

pytestmark = [pytest.mark.integration, KAFKA_ONLY]


def https_settings(ca: TestCA, worker_pem: Path) -> dict[str, str]:
    """A worker serving HTTPS with ``worker_pem``, trusting only the test CA."""
    prefix = "listeners.https."
    return {
        "listeners": "https://127.0.0.1:8083",
        prefix + "ssl.keystore.type": "PEM",
        prefix + "ssl.keystore.location": str(worker_pem),
        prefix + "ssl.truststore.type": "PEM",
        prefix + "ssl.truststore.location": str(ca.ca_file),
    }


def file_sink(name: str, tmp_path: Path, server: Any) -> dict[str, Any]:
    """A FileStreamSink on a topic of its own: where it is created shows which worker took it."""
    return {
        "name": name,
        "config": {
            "connector.class": "FileStreamSink",
            "file": str(tmp_path / f"{name}.txt"),
            "topics": f"{server.port}-t",
        },
    }


def test_writes_sent_to_any_worker_reach_the_leader_over_https_with_client_certificates(
    server_factory: Any, tmp_path: Path
) -> None:
    ca = TestCA(tmp_path / "pki")
    worker_pem = ca.issue("localhost", server=True)
    admin_pem = ca.issue("admin", server=False)
    settings = https_settings(ca, worker_pem) | {"listeners.https.ssl.client.auth": "required"}
    # the workers' certificate serves as their client certificate too (server and client use)
    first = server_factory(settings, verify=ca.client_context(admin_pem))
    second = server_factory(settings, verify=ca.client_context(admin_pem))
    for number, server in enumerate((first, second, first, second)):
        response = server.client.post("/connectors", json=file_sink(f"sink-{number}", tmp_path, server))
        assert response.status_code == 201, response.text
    names = ["sink-0", "sink-1", "sink-2", "sink-3"]
    for server in (first, second):
        wait_until(lambda s=server: sorted(s.client.get("/connectors").json()) == names, timeout=30)


def test_forwarded_writes_carry_a_signed_identity_over_https_with_auth_on(
    server_factory: Any, tmp_path: Path
) -> None:
    """Both halves of a safe cluster at once: HTTPS between workers and REST authentication. A
    write sent to a follower reaches the leader over HTTPS with the caller's name and role signed by
    the cluster secret, never the caller's password; roles are enforced wherever the call lands."""
    ca = TestCA(tmp_path / "pki")
    worker_pem = ca.issue("localhost", server=True)
    users = UsersFile.load_or_new(tmp_path / "users.json")
    users.add("root", "admin-pass-7", Role.ADMIN)
    users.add("viewer", "reader-pass-7", Role.READ_ONLY)
    users.save()
    settings = https_settings(ca, worker_pem) | {"rest.auth.users.file": str(users.path)}
    first = server_factory(settings, verify=ca.client_context(None))
    second = server_factory(settings, verify=ca.client_context(None))
    assert first.url.startswith("https://") and second.url.startswith("https://")
    for number, server in enumerate((first, second, first, second)):
        body = file_sink(f"safe-{number}", tmp_path, server)
        assert server.client.post("/connectors", json=body).status_code == 401
        refused = server.client.post("/connectors", json=body, auth=("viewer", "reader-pass-7"))
        assert refused.status_code == 403, refused.text
        created = server.client.post("/connectors", json=body, auth=("root", "admin-pass-7"), timeout=100)
        assert created.status_code == 201, created.text
    names = ["safe-0", "safe-1", "safe-2", "safe-3"]
    for server in (first, second):
        wait_until(
            lambda s=server: (
                sorted(s.client.get("/connectors", auth=("viewer", "reader-pass-7")).json()) == names
            ),
            timeout=30,
        )
    for server in (first, second):
        log = server.log()
        assert "admin-pass-7" not in log and "reader-pass-7" not in log
