"""The ``penstock`` console script as installed by pip."""

import subprocess
import sys

import pytest

from app import __version__


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_version_prints_the_package_version() -> None:
    result = run("version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"penstock {__version__}"


def test_run_help_lists_the_documented_options() -> None:
    result = run("run", "--help")
    assert result.returncode == 0
    for option in ("--host", "--port", "--data-dir"):
        assert option in result.stdout


def test_run_rejects_invalid_settings_with_a_clear_message(tmp_path) -> None:
    properties = tmp_path / "worker.properties"
    properties.write_text("listeners=not a listener\n")
    result = run("run", str(properties), "--data-dir", str(tmp_path / "data"))
    assert result.returncode == 2
    assert "listeners" in result.stderr and "is not a listener" in result.stderr


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_short_and_long_help_work_for_the_command_and_every_subcommand(flag: str) -> None:
    top = run(flag)
    assert top.returncode == 0, top.stderr
    assert "Usage: penstock" in top.stdout and "Example" in top.stdout
    for command in ("run", "standalone", "distributed", "version"):
        result = run(command, flag)
        assert result.returncode == 0, result.stderr
        assert f"Usage: penstock {command}" in result.stdout
        assert "Example" in result.stdout and f"penstock {command}" in result.stdout.split("Example")[1]


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag_prints_the_version(flag: str) -> None:
    result = run(flag)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"penstock {__version__}"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.json", None, "No such file or directory"),
        ("broken.json", '{"name": "x", "config": {', "unexpected end of data"),
        (
            "nameless.json",
            '{"config": {"connector.class": "FileStreamSink"}}',
            'the connector needs a "name"',
        ),
        ("nameless.properties", "connector.class=FileStreamSink\n", 'the connector needs a "name"'),
        ("list.json", "[1, 2]", "expected a JSON object"),
    ],
)
def test_standalone_exits_3_when_a_connector_file_cannot_be_read(
    tmp_path, name: str, content: str | None, reason: str
) -> None:
    properties = tmp_path / "worker.properties"
    properties.write_text("bootstrap.servers=127.0.0.1:1\n")  # never reached: files are read first
    connector = tmp_path / name
    if content is not None:
        connector.write_text(content)
    result = run("standalone", str(properties), str(connector))
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"error: Connector file {connector}: ")
    assert reason in result.stderr
