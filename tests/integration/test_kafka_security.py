"""Distributed workers on the broker's SASL_PLAINTEXT (SCRAM-SHA-512, PLAIN) and SSL listeners.

The broker ``scripts/services`` starts has both listeners besides PLAINTEXT, a test CA and random
passwords for its test users (tests.infra.services.KafkaSecurity). Each test runs a file pipeline
(FileStreamSource -> topic -> FileStreamSink) in distributed mode with the worker's own clients
and the connectors' clients on the secured listener, and checks that the data arrives and that
no password shows up in the worker's log or REST answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.infra.services import KafkaSecurity
from tests.support.cluster import KAFKA_ONLY, distributed_settings
from tests.support.server import ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

Factory = Callable[..., ServerProcess]
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"


def jaas(module: str, user: str, password: str) -> str:
    return f'{module} required username="{user}" password="{password}";'


def scram_settings(kafka: KafkaSecurity, password: str | None = None) -> dict[str, str]:
    """Worker settings: every client of the worker on SASL_PLAINTEXT with SCRAM-SHA-512."""
    return {
        "bootstrap.servers": kafka.sasl_bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.jaas.config": jaas(SCRAM, kafka.scram_user, password or kafka.scram_password),
        "connector.client.config.override.policy": "All",
    }


def ssl_settings(kafka: KafkaSecurity) -> dict[str, str]:
    return {
        "bootstrap.servers": kafka.ssl_bootstrap,
        "security.protocol": "SSL",
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": kafka.ssl_ca_location,
        "connector.client.config.override.policy": "All",
    }


def file_source(path: Path, topic: str, **extra: str) -> dict[str, str]:
    return {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(path),
        "topic": topic,
        **extra,
    }


def file_sink(path: Path, topic: str, **extra: str) -> dict[str, str]:
    return {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "file": str(path),
        "topics": topic,
        **extra,
    }


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def rest_answers(server: ServerProcess, names: Iterable[str]) -> list[str]:
    """What a user sees of the connectors' state: statuses (with traces) and the worker's /readyz."""
    paths = ["/", "/readyz", "/connectors?expand=status"]
    for name in names:
        paths += [f"/connectors/{name}/status", f"/connectors/{name}/tasks/0/status"]
    return [f"GET {path} -> {server.client.get(path).text}" for path in paths]


def assert_no_secret(texts: Iterable[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a password leaked into: {text[:300]}"


def run_pipeline(
    server: ServerProcess,
    tmp_path: Path,
    topic: str,
    source_extra: dict[str, str],
    sink_extra: dict[str, str],
) -> None:
    source, sink = tmp_path / "in.txt", tmp_path / "out.txt"
    source.touch()
    server.create("secured-source", file_source(source, topic, **source_extra))
    server.create("secured-sink", file_sink(sink, topic, **sink_extra))
    server.wait_for_state("secured-source", tasks=1, timeout=60)
    server.wait_for_state("secured-sink", tasks=1, timeout=60)
    expected = [f"secured line {i}" for i in range(500)]
    with source.open("a") as handle:
        handle.write("".join(line + "\n" for line in expected))
    wait_until(
        lambda: len(lines_of(sink)) >= len(expected), timeout=60, message=f"sink has {lines_of(sink)[-1:]}"
    )
    assert lines_of(sink) == expected


@KAFKA_ONLY
def test_scram_pipeline_with_per_connector_plain_override(
    server_factory: Factory, kafka_security: KafkaSecurity, tmp_path: Path, cluster_id: str
) -> None:
    """The worker's clients use SCRAM-SHA-512; the source's producer is overridden to the PLAIN
    user (producer.override.*) whose password comes from a file config provider, the sink's
    consumer inherits the worker's SCRAM settings."""
    server = server_factory(scram_settings(kafka_security))
    secrets = tmp_path / "kafka.properties"
    secrets.write_text(f"password={kafka_security.plain_password}\n")
    plain = {
        "producer.override.sasl.mechanism": "PLAIN",
        "producer.override.sasl.jaas.config": jaas(
            PLAIN, kafka_security.plain_user, f"${{file:{secrets}:password}}"
        ),
    }
    run_pipeline(server, tmp_path, f"{cluster_id}-scram", plain, {})
    configs = [
        server.client.get(path).text
        for path in (
            "/connectors?expand=info",
            "/connectors/secured-source/config",
            "/connectors/secured-source/tasks",
        )
    ]
    assert_no_secret(
        [server.log(), *configs, *rest_answers(server, ["secured-source", "secured-sink"])],
        kafka_security.scram_password,
        kafka_security.plain_password,
    )


@KAFKA_ONLY
def test_exactly_once_sources_over_scram(
    server_factory: Factory, kafka_security: KafkaSecurity, tmp_path: Path, cluster_id: str
) -> None:
    """Transactional producers (one per source task) authenticate like the others."""
    server = server_factory({**scram_settings(kafka_security), "exactly.once.source.support": "enabled"})
    run_pipeline(server, tmp_path, f"{cluster_id}-eos", {}, {})
    assert_no_secret([server.log()], kafka_security.scram_password)


@KAFKA_ONLY
def test_ssl_pipeline_and_connectors_overridden_onto_the_sasl_listener(
    server_factory: Factory, kafka_security: KafkaSecurity, tmp_path: Path, cluster_id: str
) -> None:
    """The worker's clients (and the first pipeline's) use SSL, trusting the test CA from a PEM
    truststore. A second pipeline's producer and consumer are moved onto the SASL_PLAINTEXT
    listener by their overrides alone (SCRAM for the source, PLAIN for the sink): the listeners
    accept nothing else, so its data arrives only if every override key is used."""
    server = server_factory(ssl_settings(kafka_security))
    run_pipeline(server, tmp_path, f"{cluster_id}-ssl", {}, {})

    def onto_sasl(role: str, mechanism: str, module: str, user: str, password: str) -> dict[str, str]:
        override = {
            "bootstrap.servers": kafka_security.sasl_bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": mechanism,
            "sasl.jaas.config": jaas(module, user, password),
        }
        return {f"{role}.override.{key}": value for key, value in override.items()}

    source2, sink2 = tmp_path / "in2.txt", tmp_path / "out2.txt"
    source2.write_text("over sasl\n")
    topic2 = f"{cluster_id}-sasl2"
    k = kafka_security
    server.create(
        "override-source",
        file_source(
            source2, topic2, **onto_sasl("producer", "SCRAM-SHA-512", SCRAM, k.scram_user, k.scram_password)
        ),
    )
    server.create(
        "override-sink",
        file_sink(sink2, topic2, **onto_sasl("consumer", "PLAIN", PLAIN, k.plain_user, k.plain_password)),
    )
    wait_until(
        lambda: lines_of(sink2) == ["over sasl"], timeout=60, message=f"status: {server.log()[-2000:]}"
    )
    assert_no_secret(
        [
            server.log(),
            *rest_answers(server, ["secured-source", "secured-sink", "override-source", "override-sink"]),
        ],
        k.scram_password,
        k.plain_password,
    )


@KAFKA_ONLY
def test_a_wrong_connector_password_fails_the_task_with_a_clear_reason(
    server_factory: Factory, kafka_security: KafkaSecurity, tmp_path: Path, cluster_id: str
) -> None:
    server = server_factory(scram_settings(kafka_security))
    wrong = "not-the-password-" + kafka_security.scram_password[:6]
    source = tmp_path / "in.txt"
    source.write_text("never sent\n")
    server.create(
        "bad-source",
        file_source(
            source,
            f"{cluster_id}-bad",
            **{"producer.override.sasl.jaas.config": jaas(SCRAM, kafka_security.scram_user, wrong)},
        ),
    )
    failed = wait_until(
        lambda: _task_failed(server, "bad-source"), timeout=60, message="the task did not fail"
    )
    trace = failed["trace"]
    assert "authentication failed" in trace.lower(), trace
    assert "SCRAM-SHA-512" in trace, trace
    assert_no_secret(
        [server.log(), *rest_answers(server, ["bad-source"])], wrong, kafka_security.scram_password
    )


def unready_reason(server: ServerProcess, words: str) -> str:
    """The worker's /readyz message once it names ``words`` (case-insensitive); it stays 503 meanwhile."""

    def reason() -> str | None:
        response = server.client.get("/readyz")
        assert response.status_code == 503, response.text
        message = str(response.json()["message"])
        return message if words.lower() in message.lower() else None

    return str(wait_until(reason, timeout=30, message=f"/readyz never said {words!r}"))


def test_a_wrong_worker_password_keeps_the_worker_unready_with_the_reason(
    kafka_security: KafkaSecurity, tmp_path: Path, cluster_id: str
) -> None:
    wrong = "wrong-worker-password-" + kafka_security.scram_password[:6]
    settings = {
        **distributed_settings(kafka_security.sasl_bootstrap, cluster_id),
        **scram_settings(kafka_security, password=wrong),
    }
    server = ServerProcess(tmp_path / "data", settings, mode="distributed")
    try:
        server.start(timeout=30, ready=False)
        message = unready_reason(server, "authentication")
        assert "SCRAM-SHA-512" in message, message
        assert_no_secret([server.log(), message, *rest_answers(server, [])], wrong)
    finally:
        server.close()


def test_an_untrusted_broker_certificate_is_the_reason_the_worker_gives(
    kafka_security: KafkaSecurity, tmp_path: Path, cluster_id: str
) -> None:
    """SSL without the test CA in the truststore: /readyz names the failed certificate check."""
    settings = {
        **distributed_settings(kafka_security.ssl_bootstrap, cluster_id),
        "security.protocol": "SSL",
    }
    server = ServerProcess(tmp_path / "data", settings, mode="distributed")
    try:
        server.start(timeout=30, ready=False)
        message = unready_reason(server, "CERTIFICATE_VERIFY_FAILED")
        assert kafka_security.ssl_bootstrap in message, message
    finally:
        server.close()


def _task_failed(server: ServerProcess, name: str) -> dict[str, Any] | None:
    try:
        response = server.client.get(f"/connectors/{name}/status")
    except httpx.TransportError:
        return None
    if response.status_code != 200:
        return None
    tasks = response.json()["tasks"]
    if tasks and tasks[0]["state"] == "FAILED":
        return dict(tasks[0])
    return None
