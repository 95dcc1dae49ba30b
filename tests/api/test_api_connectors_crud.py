"""Connector CRUD: list (+expand), create, info, config GET/PUT/PATCH, delete (reference §2.3-2.8, §2.13, §5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.api.api_helpers import (
    FILE_SINK,
    FILE_SOURCE,
    assert_error,
    assert_state_entry,
    assert_untouched,
    names,
    path,
    sink_config,
    source_config,
    uid,
    worker_id,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration


def create(api: ServerProcess, name: str, config: dict[str, Any], **extra: Any) -> httpx.Response:
    response = api.client.post("/connectors", json={"name": name, "config": config, **extra})
    assert response.status_code == 201, response.text
    return response


# -- POST /connectors ----------------------------------------------------------------------------
def test_create_answers_201_with_location_and_connector_info(api: ServerProcess, tmp_path: Path) -> None:
    name, topic = uid("create"), uid("t")
    config = sink_config(tmp_path / "out.txt", topic)
    response = create(api, name, config)
    assert response.headers["location"] == f"{api.url}/connectors/{name}"
    body = response.json()
    assert list(body) == ["name", "config", "tasks", "type"]
    assert body["name"] == name
    assert body["config"] == {**config, "name": name}  # config.name added
    assert body["tasks"] == [{"connector": name, "task": 0}]  # embedded mode starts at once, like standalone
    assert body["type"] == "sink"
    assert name in names(api)
    api.wait_for_state(name, "RUNNING", tasks=1)


def test_create_location_percent_encodes_the_name(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("my conn %?#é")
    response = create(api, name, sink_config(tmp_path / "o.txt", uid("t")))
    assert response.headers["location"] == api.url + path(name)
    assert "%20" in response.headers["location"] and "%25" in response.headers["location"]
    info = api.client.get(path(name))
    assert info.status_code == 200
    assert info.json()["name"] == name
    api.wait_for_state(
        quote(name, safe=""), "RUNNING", tasks=1
    )  # the helper interpolates the name into the path
    assert api.client.delete(path(name)).status_code == 204
    assert name not in names(api)


def test_create_trims_the_top_level_name(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("trim")
    response = api.client.post(
        "/connectors", json={"name": f"  {name} \n", "config": sink_config(tmp_path / "o", uid("t"))}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert response.json()["config"]["name"] == name
    assert response.headers["location"].endswith(f"/connectors/{name}")
    # config.name must equal the *trimmed* name
    other = uid("trim")
    response = api.client.post(
        "/connectors",
        json={"name": f" {other} ", "config": {**sink_config(tmp_path / "o", uid("t")), "name": other}},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == other


def test_create_with_matching_config_name(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("same")
    config = {**sink_config(tmp_path / "o", uid("t")), "name": name}
    assert create(api, name, config).json()["config"] == config


@pytest.mark.parametrize("state", ["PAUSED", "paused"])
def test_create_paused(api: ServerProcess, tmp_path: Path, state: str) -> None:
    name = uid("paused")
    body = create(api, name, sink_config(tmp_path / "o", uid("t")), initial_state=state).json()
    assert body["tasks"] == [{"connector": name, "task": 0}]
    status = api.wait_for_state(name, "PAUSED", tasks=1)
    assert status["type"] == "sink"


def test_create_stopped(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("stopped")
    body = create(api, name, source_config(tmp_path / "in", uid("t")), initial_state="STOPPED").json()
    assert body["tasks"] == []
    status = api.wait_for_state(name, "STOPPED")
    assert status["tasks"] == []
    assert api.client.get(path(name) + "/tasks").json() == []
    assert api.client.get(path(name)).json()["tasks"] == []


def test_create_running_explicitly(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("running")
    create(api, name, sink_config(tmp_path / "o", uid("t")), initial_state="RUNNING")
    api.wait_for_state(name, "RUNNING", tasks=1)


def test_config_values_given_as_json_numbers_and_booleans_are_stored_as_strings(
    api: ServerProcess, tmp_path: Path
) -> None:
    name = uid("typed")
    config = {
        **source_config(tmp_path / "in", uid("t")),
        "tasks.max": 1,
        "batch.size": 100,
        "errors.log.enable": True,
        "errors.log.include.messages": False,
    }
    stored = create(api, name, config).json()["config"]
    assert stored["tasks.max"] == "1"
    assert stored["batch.size"] == "100"
    assert stored["errors.log.enable"] == "true"
    assert stored["errors.log.include.messages"] == "false"
    assert api.client.get(path(name) + "/config").json() == stored
    api.wait_for_state(name, "RUNNING", tasks=1)


@pytest.mark.parametrize(
    ("connector_class", "expected_type"),
    [
        ("FileStreamSource", "source"),
        ("FileStreamSourceConnector", "source"),
        (FILE_SOURCE, "source"),
        ("FileStreamSink", "sink"),
        ("FileStreamSinkConnector", "sink"),
        (FILE_SINK, "sink"),
    ],
)
def test_short_and_full_class_names(
    api: ServerProcess, tmp_path: Path, connector_class: str, expected_type: str
) -> None:
    name = uid("alias")
    base = (
        source_config(tmp_path / "in", uid("t"))
        if expected_type == "source"
        else sink_config(tmp_path / "o", uid("t"))
    )
    body = create(api, name, {**base, "connector.class": connector_class}).json()
    assert body["type"] == expected_type
    assert body["config"]["connector.class"] == connector_class  # stored raw, as given
    api.wait_for_state(name, "RUNNING", tasks=1)


# -- GET /connectors -----------------------------------------------------------------------------
def test_list_and_expand(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("listed")
    config = sink_config(tmp_path / "o", uid("t"))
    create(api, name, config)
    api.wait_for_state(name, "RUNNING", tasks=1)

    plain = api.client.get("/connectors")
    assert plain.status_code == 200
    assert isinstance(plain.json(), list) and name in plain.json()
    assert all(isinstance(n, str) for n in plain.json())

    info = api.client.get(path(name)).json()
    status = api.client.get(path(name) + "/status").json()

    by_status = api.client.get("/connectors", params={"expand": "status"}).json()
    assert set(by_status) == set(plain.json())
    assert by_status[name] == {"status": status}

    by_info = api.client.get("/connectors", params={"expand": "info"}).json()
    assert by_info[name] == {"info": info}

    both = api.client.get("/connectors?expand=status&expand=info").json()
    assert both[name] == {"status": status, "info": info}
    assert set(both) == set(plain.json())

    # unknown expansions (including a comma-separated pair, which is one unknown token) map to {}
    for query in ("expand=bogus", "expand=status,info", "expand="):
        unknown = api.client.get(f"/connectors?{query}")
        assert unknown.status_code == 200
        assert unknown.json()[name] == {}, query
        assert set(unknown.json()) == set(plain.json())


# -- GET /connectors/{c} and /config -------------------------------------------------------------
def test_info_and_config(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("info")
    config = source_config(tmp_path / "in", uid("t"))
    create(api, name, config)
    info = api.client.get(path(name))
    assert info.status_code == 200
    assert info.json() == {
        "name": name,
        "config": {**config, "name": name},
        "tasks": [{"connector": name, "task": 0}],
        "type": "source",
    }
    assert list(info.json()) == ["name", "config", "tasks", "type"]
    got = api.client.get(path(name) + "/config")
    assert got.status_code == 200
    assert got.json() == {**config, "name": name}


# -- PUT /connectors/{c}/config -------------------------------------------------------------------
def test_put_config_creates_then_updates(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("put")
    config = sink_config(tmp_path / "o", uid("t"))
    created = api.client.put(path(name) + "/config", json=config)
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"{api.url}/connectors/{name}"
    assert created.json()["config"] == {**config, "name": name}
    assert created.json()["type"] == "sink"
    api.wait_for_state(name, "RUNNING", tasks=1)

    updated_config = {**config, "tasks.max": "2", "name": name}
    updated = api.client.put(path(name) + "/config", json=updated_config)
    assert updated.status_code == 200, updated.text
    assert "location" not in updated.headers
    assert updated.json() == {
        "name": name,
        "config": updated_config,
        "tasks": [{"connector": name, "task": 0}, {"connector": name, "task": 1}],
        "type": "sink",
    }
    assert api.client.get(path(name) + "/config").json() == updated_config
    api.wait_for_state(name, "RUNNING", tasks=2)


def test_put_config_can_change_the_connector_class(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("swap")
    create(api, name, sink_config(tmp_path / "o", uid("t")))
    response = api.client.put(path(name) + "/config", json=source_config(tmp_path / "in", uid("t")))
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "source"
    assert api.wait_for_state(name, "RUNNING", tasks=1)["type"] == "source"


@pytest.mark.parametrize("target", ["PAUSED", "STOPPED"])
def test_put_config_preserves_the_target_state(api: ServerProcess, tmp_path: Path, target: str) -> None:
    name = uid("keep")
    config = sink_config(tmp_path / "o", uid("t"))
    create(api, name, config, initial_state=target)
    api.wait_for_state(name, target, tasks=1 if target == "PAUSED" else 0)
    response = api.client.put(path(name) + "/config", json={**config, "tasks.max": "2"})
    assert response.status_code == 200, response.text
    if target == "PAUSED":
        api.wait_for_state(name, "PAUSED", tasks=2)
    else:
        status = api.wait_for_state(name, "STOPPED", tasks=0)
        assert status["tasks"] == []
        assert response.json()["tasks"] == []


# -- PATCH /connectors/{c}/config -----------------------------------------------------------------
def test_patch_config_sets_and_removes_keys(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("patch")
    config = source_config(tmp_path / "in", uid("t"), **{"batch.size": "10"})
    create(api, name, config)
    api.wait_for_state(name, "RUNNING", tasks=1)

    response = api.client.patch(
        path(name) + "/config", json={"tasks.max": 1, "batch.size": None, "errors.log.enable": "true"}
    )
    assert response.status_code == 200, response.text
    expected = {k: v for k, v in config.items() if k != "batch.size"} | {
        "name": name,
        "errors.log.enable": "true",
    }
    assert response.json()["config"] == expected
    assert list(response.json()) == ["name", "config", "tasks", "type"]
    assert api.client.get(path(name) + "/config").json() == expected
    api.wait_for_state(name, "RUNNING", tasks=1)

    # an empty patch is a no-op update
    same = api.client.patch(path(name) + "/config", json={})
    assert same.status_code == 200
    assert same.json()["config"] == expected


def test_patch_config_keeps_a_paused_connector_paused(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("patchp")
    create(api, name, sink_config(tmp_path / "o", uid("t")), initial_state="PAUSED")
    api.wait_for_state(name, "PAUSED", tasks=1)
    assert api.client.patch(path(name) + "/config", json={"tasks.max": "2"}).status_code == 200
    api.wait_for_state(name, "PAUSED", tasks=2)


def test_patch_config_validates_the_merged_config(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("patchv")
    config = source_config(tmp_path / "in", uid("t"))
    create(api, name, config)
    response = api.client.patch(path(name) + "/config", json={"topic": None})
    assert_error(
        response,
        400,
        startswith="Connector configuration is invalid and contains the following 1 error(s):",
        contains=('Missing required configuration "topic" which has no default value.',),
    )
    assert api.client.get(path(name) + "/config").json() == {**config, "name": name}


def test_patch_config_of_unknown_connector(api: ServerProcess) -> None:
    name = uid("ghost")
    before = names(api)
    assert_error(
        api.client.patch(path(name) + "/config", json={"tasks.max": "2"}), 404, f"Connector {name} not found"
    )
    assert_untouched(api, before, name)


# -- DELETE /connectors/{c} -----------------------------------------------------------------------
def test_delete_then_everything_is_404(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("delete")
    create(api, name, sink_config(tmp_path / "o", uid("t")))
    api.wait_for_state(name, "RUNNING", tasks=1)
    response = api.client.delete(path(name))
    assert response.status_code == 204
    assert response.content == b""
    assert name not in names(api)
    assert_error(api.client.get(path(name)), 404, f"Connector {name} not found")
    assert_error(api.client.get(path(name) + "/status"), 404, f"No status found for connector {name}")
    assert_error(api.client.delete(path(name)), 404, f"Connector {name} not found")
    expanded = api.client.get("/connectors?expand=status&expand=info").json()
    assert name not in expanded
    # the name can be used again
    create(api, name, sink_config(tmp_path / "o2", uid("t")))
    state = api.wait_for_state(name, "RUNNING", tasks=1)
    assert_state_entry(state["connector"], "RUNNING", worker_id(api))
