"""``${provider:path:key}`` placeholders end to end: data flows with resolved values, while every
REST answer and log line shows them unresolved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.api.api_helpers import FILE_SINK, FILE_SOURCE, uid
from tests.support.server import ServerProcess, wait_until

Factory = Callable[..., ServerProcess]


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def every_answer(server: ServerProcess, names: list[str]) -> str:
    """The text of every read endpoint that shows a connector."""
    urls = ["/connectors?expand=info&expand=status"]
    for name in names:
        urls += [f"/connectors/{name}{suffix}" for suffix in ("", "/config", "/tasks", "/status", "/topics")]
        urls.append(f"/connectors/{name}/tasks/0/status")
    return "\n".join(server.client.get(url).text for url in urls)


def test_file_source_and_sink_use_paths_from_a_properties_file(server_factory: Factory, tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    data_in, data_out = tmp_path / "in-3c81.txt", tmp_path / "out-3c81.txt"
    data_in.touch()
    props = secrets / "pipeline.properties"
    props.write_text(f"in={data_in}\nout={data_out}\n")
    server = server_factory(
        {"offset.flush.interval.ms": "500", "config.providers.file.param.allowed.paths": str(secrets)}
    )
    topic, src, snk = uid("lines"), uid("src"), uid("snk")
    source = {"connector.class": FILE_SOURCE, "file": f"${{file:{props}:in}}", "topic": topic}
    sink = {"connector.class": FILE_SINK, "file": f"${{file:{props}:out}}", "topics": topic}
    server.create(src, source)
    server.create(snk, sink)
    server.wait_for_state(src, tasks=1)
    server.wait_for_state(snk, tasks=1)
    data_in.write_text("one\ntwo\n")
    wait_until(lambda: lines(data_out) == ["one", "two"], message=f"sink file has {lines(data_out)}")
    assert not (tmp_path / f"${{file:{props}:out}}").exists()

    assert server.client.get(f"/connectors/{src}/config").json()["file"] == source["file"]
    assert server.client.get(f"/connectors/{snk}/tasks").json()[0]["config"]["file"] == sink["file"]
    expanded = server.client.get("/connectors?expand=info").json()
    assert expanded[src]["info"]["config"]["file"] == source["file"]
    answers = every_answer(server, [src, snk])
    assert source["file"] in answers
    for resolved in (str(data_in), str(data_out)):
        assert resolved not in answers
        assert resolved not in server.log()


def test_unresolvable_placeholders_are_400_naming_them(server: ServerProcess, tmp_path: Path) -> None:
    props = tmp_path / "db.properties"
    props.write_text("out=/tmp/x.txt\n")
    cases = {
        "${vault:secret/db:path}": "no config provider named vault is enabled on this worker",
        f"${{file:{props}:missing}}": f"config provider file has no key missing at path {props}",
        "${env:PENSTOCK_SURELY_UNSET_VARIABLE}": "config provider env has no key PENSTOCK_SURELY_UNSET_VARIABLE",
        f"${{file:{tmp_path}/nope.properties:out}}": "Could not read properties from file",
    }
    for placeholder, reason in cases.items():
        config = {"connector.class": FILE_SINK, "file": placeholder, "topics": "t"}
        response = server.client.post("/connectors", json={"name": uid("bad"), "config": config})
        assert response.status_code == 400, response.text
        message = response.json()["message"]
        assert f"Invalid value {placeholder} for configuration file: {reason}" in message
        validated = server.client.put("/connector-plugins/FileStreamSink/config/validate", json=config)
        file_value = next(c["value"] for c in validated.json()["configs"] if c["value"]["name"] == "file")
        assert validated.json()["error_count"] >= 1
        assert file_value["value"] == placeholder
        assert any(placeholder in e for e in file_value["errors"])
    assert server.client.get("/connectors").json() == []


def test_config_providers_restricts_the_built_ins_and_takes_kafka_class_names(
    server_factory: Factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out.txt"
    props = tmp_path / "p.properties"
    props.write_text(f"out={out}\n")
    monkeypatch.setenv("PENSTOCK_E2E_OUT", str(out))
    server = server_factory(
        {
            "config.providers": "secrets,env",
            "config.providers.secrets.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
            "config.providers.env.class": "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
            "config.providers.env.param.allowlist.pattern": "PENSTOCK_E2E_.*",
        }
    )
    validate = "/connector-plugins/FileStreamSink/config/validate"

    def errors(file: str) -> list[str]:
        config = {"connector.class": FILE_SINK, "name": "n", "file": file, "topics": "t"}
        body = server.client.put(validate, json=config).json()
        return [e for c in body["configs"] if c["value"] for e in c["value"]["errors"]]

    assert errors(f"${{secrets:{props}:out}}") == []
    assert errors("${env:PENSTOCK_E2E_OUT}") == []
    assert "no config provider named file is enabled on this worker (config.providers: secrets, env)" in (
        json.dumps(errors(f"${{file:{props}:out}}"))
    )
    assert errors("${env:HOME}") == [
        "Invalid value ${env:HOME} for configuration file: config provider env has no key HOME"
    ]


def test_bad_provider_settings_stop_the_worker_with_the_key_named(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", {"config.providers": "vault"})
    with pytest.raises(RuntimeError, match=r"config\.providers\.vault\.class"):
        server.start(timeout=20)
    server.close()


def test_provider_values_that_expire_restart_the_connector(
    server_factory: Factory, testkit_path: Path, tmp_path: Path
) -> None:
    """``config.action.reload=restart``: the sink follows the properties file when the TTL expires."""
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    props = tmp_path / "sink.properties"
    props.write_text(f"out={first}\n")
    server = server_factory(
        {
            "offset.flush.interval.ms": "500",
            "plugin.path": str(testkit_path),
            "config.providers": "leased",
            "config.providers.leased.class": "ExpiringFileConfigProvider",
            "config.providers.leased.param.ttl.ms": "1500",
        }
    )
    topic, src, snk = uid("lease"), uid("src"), uid("snk")
    data_in = tmp_path / "in.txt"
    data_in.touch()
    server.create(src, {"connector.class": FILE_SOURCE, "file": str(data_in), "topic": topic})
    server.create(snk, {"connector.class": FILE_SINK, "file": f"${{leased:{props}:out}}", "topics": topic})
    server.wait_for_state(snk, tasks=1)
    data_in.write_text("a\n")
    wait_until(lambda: lines(first) == ["a"], message="first record not in the first file")
    props.write_text(f"out={second}\n")
    wait_until(lambda: "config provider values expired" in server.log(), timeout=20)
    server.wait_for_state(snk, tasks=1)
    with data_in.open("a") as f:
        f.write("b\n")
    wait_until(lambda: "b" in lines(second), message=f"second file has {lines(second)}")
    assert lines(first) == ["a"]
