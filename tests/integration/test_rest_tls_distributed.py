"""Distributed workers that speak HTTPS and require client certificates forward writes to the
leader over HTTPS, presenting their own certificate (Kafka Connect's REST client does the same)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import KAFKA_ONLY
from tests.support.server import wait_until
from tests.support.tls import TestCA

pytestmark = [pytest.mark.integration, KAFKA_ONLY]


def test_writes_sent_to_any_worker_reach_the_leader_over_https_with_client_certificates(
    server_factory: Any, tmp_path: Path
) -> None:
    ca = TestCA(tmp_path / "pki")
    worker_pem = ca.issue("localhost", server=True)
    admin_pem = ca.issue("admin", server=False)
    prefix = "listeners.https."
    settings = {
        "listeners": "https://127.0.0.1:8083",
        prefix + "ssl.keystore.type": "PEM",
        prefix + "ssl.keystore.location": str(worker_pem),
        prefix + "ssl.truststore.type": "PEM",
        prefix + "ssl.truststore.location": str(ca.ca_file),
        prefix + "ssl.client.auth": "required",
    }
    # the workers' certificate serves as their client certificate too (server and client use)
    first = server_factory(settings, verify=ca.client_context(admin_pem))
    second = server_factory(settings, verify=ca.client_context(admin_pem))
    for number, server in enumerate((first, second, first, second)):
        response = server.client.post(
            "/connectors",
            json={
                "name": f"sink-{number}",
                "config": {
                    "connector.class": "FileStreamSink",
                    "file": str(tmp_path / f"out-{number}.txt"),
                    "topics": f"{server.port}-t",
                },
            },
        )
        assert response.status_code == 201, response.text
    names = ["sink-0", "sink-1", "sink-2", "sink-3"]
    for server in (first, second):
        wait_until(lambda s=server: sorted(s.client.get("/connectors").json()) == names, timeout=30)
