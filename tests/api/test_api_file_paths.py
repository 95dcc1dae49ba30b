"""A file connector whose ``file`` cannot work is refused when it is created or validated, with a
400 that names ``file`` and what to fix, instead of a task that fails (and restarts) later."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.api_helpers import (
    FILE_SINK,
    FILE_SOURCE,
    assert_error,
    assert_untouched,
    names,
    path,
    sink_config,
    source_config,
    uid,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

INVALID = "Connector configuration is invalid and contains the following 1 error(s):\n"


def test_sink_in_a_missing_directory_is_refused_on_create(api: ServerProcess, tmp_path: Path) -> None:
    name, missing = uid("sink-nodir"), tmp_path / "no-such-dir"
    before = names(api)
    config = sink_config(missing / "out.txt", uid("t"))
    response = api.client.post("/connectors", json={"name": name, "config": config})
    assert_error(
        response,
        400,
        startswith=INVALID
        + f"Invalid value {missing / 'out.txt'} for configuration file: its directory does not exist; "
        "create it, or choose a file in an existing directory\n",
    )
    assert_untouched(api, before, name)
    # PUT /connectors/{c}/config (create-or-update) is refused the same way.
    assert_error(api.client.put(path(name) + "/config", json=config), 400, startswith=INVALID)
    assert_untouched(api, before, name)


def test_sink_on_a_directory_is_refused(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("sink-isdir")
    response = api.client.post("/connectors", json={"name": name, "config": sink_config(tmp_path, uid("t"))})
    assert_error(
        response,
        400,
        contains=(
            f"Invalid value {tmp_path} for configuration file: it is a directory; "
            "give the path of a file to append to",
        ),
    )


def test_updating_a_sink_to_a_missing_directory_keeps_the_old_config(
    api: ServerProcess, tmp_path: Path
) -> None:
    name, topic = uid("sink-update"), uid("t")
    good = sink_config(tmp_path / "out.txt", topic)
    assert api.client.post("/connectors", json={"name": name, "config": good}).status_code == 201
    bad = sink_config(tmp_path / "gone" / "out.txt", topic)
    assert_error(
        api.client.put(path(name) + "/config", json=bad),
        400,
        contains=(f"Invalid value {tmp_path / 'gone' / 'out.txt'} for configuration file: its directory",),
    )
    assert api.client.get(path(name) + "/config").json()["file"] == str(tmp_path / "out.txt")


def test_source_waits_for_a_missing_file_but_not_for_a_missing_directory(
    api: ServerProcess, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir"
    response = api.client.post(
        "/connectors", json={"name": uid("src-nodir"), "config": source_config(missing / "in.txt", uid("t"))}
    )
    assert_error(
        response,
        400,
        contains=(
            f"Invalid value {missing / 'in.txt'} for configuration file: its directory does not exist; "
            "create it, or correct the path (the source waits for a missing file to appear, but only in "
            "a directory that exists)",
        ),
    )
    later = uid("src-later")
    response = api.client.post(
        "/connectors", json={"name": later, "config": source_config(tmp_path / "later.txt", uid("t"))}
    )
    assert response.status_code == 201, response.text
    api.wait_for_state(later, tasks=1)


def test_validate_reports_the_path_problem_on_the_file_key(api: ServerProcess, tmp_path: Path) -> None:
    for plugin, config in (
        (FILE_SINK, sink_config(tmp_path / "a" / "out.txt", "t", name="n")),
        (FILE_SOURCE, source_config(tmp_path / "b" / "in.txt", "t", name="n")),
    ):
        response = api.client.put(f"/connector-plugins/{plugin}/config/validate", json=config)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["error_count"] == 1, body
        (entry,) = [c["value"] for c in body["configs"] if c["value"]["name"] == "file"]
        (error,) = entry["errors"]
        assert error.startswith(
            f"Invalid value {config['file']} for configuration file: its directory does not exist; create it"
        )
