"""The file connectors refuse a ``file`` that cannot work when they are validated, and a task
whose path broke after that fails with a ``ConfigError`` naming the fix (no automatic restart)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.file.sink import FileStreamSinkConnector, FileStreamSinkTask
from connectors.file.source import FileStreamSourceConnector
from connectors.sdk import ConfigError
from connectors.sdk.testing import SourceHarness, check_config


def sink_errors(file: str) -> list[str]:
    return check_config(FileStreamSinkConnector, {"file": file, "topics": "t"}).get("file", [])


def source_errors(file: str) -> list[str]:
    return check_config(FileStreamSourceConnector, {"file": file, "topic": "t"}).get("file", [])


def test_sink_file_in_an_existing_directory_is_valid(tmp_path: Path) -> None:
    (tmp_path / "there.txt").write_text("old\n")
    assert sink_errors(str(tmp_path / "new.txt")) == []
    assert sink_errors(str(tmp_path / "there.txt")) == []
    assert sink_errors("") == []  # standard output
    assert sink_errors("   ") == []


def test_sink_in_a_missing_directory_names_it_and_the_fix(tmp_path: Path) -> None:
    value = str(tmp_path / "nope" / "out.txt")
    assert sink_errors(value) == [
        f"Invalid value {value} for configuration file: its directory does not exist; "
        "create it, or choose a file in an existing directory"
    ]


def test_sink_on_a_directory_or_below_a_file_is_refused(tmp_path: Path) -> None:
    assert sink_errors(str(tmp_path)) == [
        f"Invalid value {tmp_path} for configuration file: it is a directory; give the path of a "
        "file to append to"
    ]
    (tmp_path / "plain").touch()
    (error,) = sink_errors(str(tmp_path / "plain" / "out.txt"))
    assert error.endswith("a part of its path is a file, not a directory; correct the path")


def test_relative_paths_show_where_they_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (error,) = sink_errors("logs/out.txt")
    assert error == (
        "Invalid value logs/out.txt for configuration file: its directory does not exist (a relative "
        f"path starts at the worker's working directory, {tmp_path}); create it, or choose a file in "
        "an existing directory"
    )
    assert sink_errors("out.txt") == []


def test_unwritable_or_unreadable_paths_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Permission bits do not stop root (the tests may run as root), so access() is made to say no."""
    (tmp_path / "f.txt").touch()
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    (error,) = sink_errors(str(tmp_path / "new.txt"))
    assert (
        "files cannot be created in its directory (permission denied for the user running Penstock)" in error
    )
    (error,) = sink_errors(str(tmp_path / "f.txt"))
    assert "it cannot be written (permission denied" in error
    (error,) = source_errors(str(tmp_path / "f.txt"))
    assert "it cannot be read (permission denied" in error


def test_source_may_wait_for_a_file_but_not_for_its_directory(tmp_path: Path) -> None:
    assert source_errors(str(tmp_path / "later.txt")) == []  # the task waits for it to appear
    value = str(tmp_path / "nope" / "in.txt")
    assert source_errors(value) == [
        f"Invalid value {value} for configuration file: its directory does not exist; create it, or "
        "correct the path (the source waits for a missing file to appear, but only in a directory "
        "that exists)"
    ]
    (error,) = source_errors(str(tmp_path))
    assert error.endswith("it is a directory; give the path of a file to read")
    assert source_errors("") == []  # standard input


def test_other_errors_of_the_key_come_first(tmp_path: Path) -> None:
    """The path check adds to the connector's own validation, it does not replace it."""
    errors = check_config(FileStreamSourceConnector, {"file": str(tmp_path / "nope" / "f")})
    assert errors["topic"] == ['Missing required configuration "topic" which has no default value.']
    assert "does not exist" in errors["file"][0]


def test_sink_whose_directory_went_away_fails_with_a_config_error(tmp_path: Path) -> None:
    """The harness validates first (as the runtime does on create), so the task's own open is
    called directly, as it runs when the directory was removed after the connector was created."""
    folder = tmp_path / "out"
    folder.mkdir()
    assert check_config(FileStreamSinkConnector, {"file": str(folder / "out.txt"), "topics": "t"}) == {}
    folder.rmdir()
    with pytest.raises(
        ConfigError, match=f"Cannot write to {folder}/out.txt: its directory does not exist"
    ) as raised:
        FileStreamSinkTask._open(str(folder / "out.txt"))
    assert isinstance(raised.value.__cause__, FileNotFoundError)


async def test_source_on_a_directory_fails_with_a_config_error(tmp_path: Path) -> None:
    target = tmp_path / "later"
    async with SourceHarness(FileStreamSourceConnector, {"file": str(target), "topic": "t"}) as kit:
        assert await kit.poll(timeout=0.1) == []  # waiting for the file
        target.mkdir()
        with pytest.raises(ConfigError, match="it is a directory; give the path of a file to read"):
            await kit.poll(timeout=1)
