"""The ``penstock`` console script as installed by pip."""

import subprocess
import sys

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
