"""Worker settings that cannot work stop ``penstock`` before it serves anything: exit code 2 and a
message naming the key, what is wrong and what is installed (Kafka Connect refuses to start too)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

DISTRIBUTED = {
    "group.id": "startup-checks",
    "config.storage.topic": "startup-checks-configs",
    "offset.storage.topic": "startup-checks-offsets",
    "status.storage.topic": "startup-checks-status",
    # Nothing listens here: the worker must stop on its settings before it tries Kafka.
    "bootstrap.servers": "127.0.0.1:1",
}
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"


def start(tmp_path: Path, mode: str, settings: dict[str, str]) -> subprocess.CompletedProcess[str]:
    properties = tmp_path / "worker.properties"
    base = DISTRIBUTED if mode != "run" else {}
    properties.write_text("".join(f"{k}={v}\n" for k, v in {**base, **settings}.items()))
    with socket.socket() as busy:  # a worker that gets past its checks fails to bind: no hang
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = [str(properties), "--host", "127.0.0.1", "--port", str(busy.getsockname()[1])]
        if mode == "run":
            args += ["--data-dir", str(tmp_path / "data")]
        return subprocess.run(
            [sys.executable, "-m", "app.cli", mode, *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )


@pytest.mark.parametrize("mode", ["run", "standalone", "distributed"])
def test_a_worker_converter_that_is_not_installed_stops_every_mode(tmp_path: Path, mode: str) -> None:
    avro = "io.confluent.connect.avro.AvroConverter"
    result = start(tmp_path, mode, {"value.converter": avro})
    assert result.returncode == 2, result.stderr
    assert f"Invalid value {avro} for configuration value.converter: Class {avro} could not be found" in (
        result.stderr
    )
    assert (
        f"Installed converters: {'org.apache.kafka.connect.converters.ByteArrayConverter'}" in result.stderr
    )
    assert JSON_CONVERTER in result.stderr and "pip install" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # stopped before opening anything


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"key.converter": "NoSuchConverter"}, ["key.converter: Class NoSuchConverter", JSON_CONVERTER]),
        (
            {"header.converter": "com.example.Headers"},
            [
                "header.converter: Class com.example.Headers could not be found",
                "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            ],
        ),
        (
            {"value.converter.schemas.enable": "maybe"},
            ["Invalid value maybe for configuration value.converter.schemas.enable"],
        ),
        (
            {"config.providers": "vault", "config.providers.vault.class": "com.example.VaultConfigProvider"},
            [
                "config.providers.vault.class: Class com.example.VaultConfigProvider could not be found",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ],
        ),
        (
            {"config.providers": "vault"},
            ['Missing required configuration "config.providers.vault.class"'],
        ),
        (
            {"offset.flush.interval.ms": "often"},
            ["Invalid value often for configuration offset.flush.interval.ms"],
        ),
        ({"log.level": "VERBOSE"}, ["configuration log.level: String must be one of: OFF, FATAL"]),
        ({"bootstrap.servers": "http://kafka"}, ["bootstrap.servers: 'http://kafka' is not host:port"]),
        (
            {"status.storage.replication.factor": "0"},
            ["Invalid value 0 for configuration status.storage.replication.factor: Must be -1"],
        ),
        ({"rest.advertised.port": "80800"}, ["rest.advertised.port: Value must be no more than 65535"]),
    ],
)
def test_settings_that_cannot_work_exit_2_naming_the_key(
    tmp_path: Path, settings: dict[str, str], expected: list[str]
) -> None:
    result = start(tmp_path, "run", settings)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: Invalid worker settings: ")
    for text in expected:
        assert text in result.stderr
    assert "Traceback" not in result.stderr


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    result = start(tmp_path, "run", {"key.converter": "Nope", "config.providers": "vault"})
    assert result.returncode == 2
    assert "key.converter: Class Nope" in result.stderr
    assert "config.providers.vault.class" in result.stderr


def test_a_plugin_path_of_jars_is_warned_about_when_the_worker_starts(tmp_path: Path) -> None:
    jar = tmp_path / "connect-plugins" / "confluentinc-kafka-connect-jdbc" / "lib" / "kafka-connect-jdbc.jar"
    jar.parent.mkdir(parents=True)
    jar.touch()
    result = start(tmp_path, "run", {"plugin.path": str(tmp_path / "connect-plugins")})
    assert result.returncode != 2 and "address already in use" in result.stderr  # past the checks
    assert result.stderr.count("plugin.path entry holds Java jars") == 1
    assert "Python packages" in result.stderr and "pip install <package>" in result.stderr
