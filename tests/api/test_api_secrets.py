"""Secrets never leak: a real worker runs pipelines whose configs hold a password and a value from
a config provider; neither may appear in any answer, error body, status trace or log line, except
that the endpoints returning a connector's own config return it as stored (as Kafka Connect does),
which never includes a provider-resolved value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.api.api_helpers import FILE_SINK, FILE_SOURCE, uid
from tests.support.server import ServerProcess

SECRET = "s3cr3t-XYZ"
RESOLVED = "r3solved-QRS"


def without_configs(data: Any) -> Any:
    """The JSON minus the connector configs, which are returned as stored."""
    if isinstance(data, dict):
        return {k: without_configs(v) for k, v in data.items() if k != "config"}
    if isinstance(data, list):
        return [without_configs(v) for v in data]
    return data


def test_secret_values_never_leak(server: ServerProcess, tmp_path: Path) -> None:
    props = tmp_path / "db.properties"
    missing_dir = tmp_path / f"no-such-dir-{RESOLVED}"
    gone_dir = tmp_path / f"gone-{RESOLVED}"
    props.write_text(f"password={RESOLVED}-pw\nout={missing_dir}/out.txt\ngone={gone_dir}/out.txt\n")
    source_in = tmp_path / "in.txt"
    source_in.touch()
    topic, src, bad_sink, resolved_sink = uid("t"), uid("src"), uid("snk"), uid("rsnk")
    seen: list[str] = []  # every answer whose text must be free of secrets

    server.create(
        src,
        {
            "connector.class": FILE_SOURCE,
            "file": str(source_in),
            "topic": topic,
            "connection.password": SECRET,
            "ssl.keystore.key": SECRET + "-key",
            "producer.override.sasl.jaas.config": f'PlainLoginModule required password="{SECRET}";',
        },
    )
    # Two sinks fail at start because their output directory went away after they were created
    # (stopped, so that no task opened the file yet): one whose path contains the secret, so the
    # trace would show it, and one on a path that came from the provider.
    (tmp_path / SECRET).mkdir()
    missing_dir.mkdir()
    for name, file in (
        (bad_sink, str(tmp_path / SECRET / "out.txt")),
        (resolved_sink, f"${{file:{props}:out}}"),
    ):
        config = {"connector.class": FILE_SINK, "file": file, "topics": topic}
        config["connection.password"] = SECRET if name == bad_sink else f"${{file:{props}:password}}"
        response = server.client.post(
            "/connectors", json={"name": name, "config": config, "initial_state": "STOPPED"}
        )
        assert response.status_code == 201, response.text
    (tmp_path / SECRET).rmdir()
    missing_dir.rmdir()
    for name in (bad_sink, resolved_sink):
        assert server.client.put(f"/connectors/{name}/resume").status_code == 202
    server.wait_for_state(src, tasks=1)
    failed = server.wait_for_state(bad_sink, "RUNNING")
    for name in (bad_sink, resolved_sink):
        status = server.client.get(f"/connectors/{name}/tasks/0/status")
        for _ in range(100):
            if status.json().get("state") == "FAILED":
                break
            status = server.client.get(f"/connectors/{name}/tasks/0/status")
        assert status.json()["state"] == "FAILED", failed
        assert "[hidden]" in status.json()["trace"]
        seen.append(status.text)

    names = [src, bad_sink, resolved_sink]
    for url in ["/connectors?expand=info&expand=status", "/connectors?expand=status", "/connectors"]:
        seen.append(str(without_configs(server.client.get(url).json())))
    for name in names:
        for suffix in ("/status", "/topics", "/tasks/0/status"):
            seen.append(server.client.get(f"/connectors/{name}{suffix}").text)
        seen.append(str(without_configs(server.client.get(f"/connectors/{name}").json())))
    # Configs come back as stored: the literal password yes, the provider's value never.
    stored = [server.client.get(f"/connectors/{n}{s}").text for n in names for s in ("", "/config", "/tasks")]
    stored.append(server.client.get("/connectors?expand=info").text)
    assert SECRET in stored[1]
    assert all(RESOLVED not in text for text in stored)

    # Error bodies: no connector class (Kafka quotes the config), an invalid config, validation.
    leaky = {"connection.password": SECRET, "ssl.key.password": SECRET, "topics": "t"}
    for body in (
        {"name": uid("x"), "config": leaky},
        {"name": uid("x"), "config": {**leaky, "connector.class": FILE_SINK, "topics": ""}},
        {"name": uid("x"), "config": {**leaky, "connector.class": FILE_SINK, "file": "${nope:a:b}"}},
        # a provider-resolved path in a missing directory: the 400 says so without quoting it
        {
            "name": uid("x"),
            "config": {**leaky, "connector.class": FILE_SINK, "file": f"${{file:{props}:gone}}"},
        },
    ):
        response = server.client.post("/connectors", json=body)
        assert response.status_code == 400, response.text
        seen.append(response.text)
    validated = server.client.put(
        "/connector-plugins/FileStreamSink/config/validate",
        json={
            **leaky,
            "connector.class": FILE_SINK,
            "file": f"${{file:{props}:password}}",
            "tasks.max": SECRET,
        },
    )
    assert validated.status_code == 200
    seen.append(validated.text)
    values = {c["value"]["name"]: c["value"] for c in validated.json()["configs"] if c["value"]}
    assert values["file"]["value"] == f"${{file:{props}:password}}"
    assert values["tasks.max"]["value"] == "[hidden]"  # it holds the password's value
    assert values["tasks.max"]["errors"] == [
        "Invalid value [hidden] for configuration tasks.max: Not a number of type INT"
    ]

    for text in [*seen, server.log()]:
        assert SECRET not in text
        assert RESOLVED not in text
