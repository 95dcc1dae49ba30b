"""Bad input: every case checks the status, the message, that no partial state was left behind
(``GET /connectors`` unchanged) and that the worker keeps serving (reference §1.2, §2.4, §5, §9,
and the README's deliberate differences: malformed/unknown/mistyped bodies are 400, not 500)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.api_helpers import (
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

INVALID = "Connector configuration is invalid and contains the following {n} error(s):"
VALIDATE_HINT = "\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
EMPTY_NAME = "Invalid value  for configuration name: String may not be empty"
MISSING_TOPIC = 'Missing required configuration "topic" which has no default value.'
NOT_AN_INT = "Invalid value abc for configuration tasks.max: Not a number of type INT"


def good_source(tmp: Path) -> dict[str, Any]:
    return source_config(tmp / "in.txt", uid("t"))


# (id, body builder(name, tmp) -> JSON-able or bytes, expected message check)
# check = ("exact", text) | ("startswith", text) | ("contains", (texts...))
POST_CASES: list[tuple[str, Any, tuple[str, Any]]] = [
    (
        "malformed-json",
        lambda n, t: b'{"name": "x", "config": {',
        ("startswith", "Malformed JSON in request body"),
    ),
    ("truncated-string", lambda n, t: b'{"name": "x', ("startswith", "Malformed JSON in request body")),
    ("empty-body", lambda n, t: b"", ("exact", "Request body is empty; send a JSON object")),
    ("json-null-body", lambda n, t: b"null", ("contains", ("must be a JSON object",))),
    (
        "array-body",
        lambda n, t: [{"name": n}],
        ("exact", "The request body must be a JSON object, not an array"),
    ),
    ("no-name", lambda n, t: {"config": good_source(t)}, ("contains", (INVALID.format(n=1), EMPTY_NAME))),
    (
        "null-name",
        lambda n, t: {"name": None, "config": good_source(t)},
        ("contains", (INVALID.format(n=1), EMPTY_NAME)),
    ),
    (
        "empty-name",
        lambda n, t: {"name": "", "config": good_source(t)},
        ("exact", INVALID.format(n=1) + "\n" + EMPTY_NAME + VALIDATE_HINT),
    ),
    (
        "blank-name",
        lambda n, t: {"name": "  \t ", "config": good_source(t)},
        ("contains", (INVALID.format(n=1), EMPTY_NAME)),
    ),
    (
        "name-with-newline",
        lambda n, t: {"name": n + "\nx", "config": good_source(t)},
        (
            "contains",
            (
                INVALID.format(n=1),
                "String may not contain control sequences but had the following ASCII chars: 10",
            ),
        ),
    ),
    (
        "name-with-del",
        lambda n, t: {"name": n + "\x7fx", "config": good_source(t)},
        ("contains", ("String may not contain control sequences but had the following ASCII chars: 127",)),
    ),
    (
        "name-not-a-string",
        lambda n, t: {"name": 42, "config": good_source(t)},
        ("contains", ("'name'", "string")),
    ),
    (
        "no-config",
        lambda n, t: {"name": n},
        ("exact", "The request body must contain a 'config' object with the connector configuration"),
    ),
    (
        "null-config",
        lambda n, t: {"name": n, "config": None},
        ("exact", "The request body must contain a 'config' object with the connector configuration"),
    ),
    (
        "config-not-an-object",
        lambda n, t: {"name": n, "config": "connector.class=FileStreamSource"},
        ("exact", "Connector config must be a JSON object of string keys to string values, not a string"),
    ),
    (
        "unknown-top-level-field",
        lambda n, t: {"name": n, "config": good_source(t), "bogus": 1},
        ("contains", ("Unrecognized field(s) 'bogus'",)),
    ),
    (
        "name-mismatch",
        lambda n, t: {"name": n, "config": {**good_source(t), "name": "other"}},
        ("exact", None),
    ),  # filled in by the test: needs the name
    (
        "unknown-class",
        lambda n, t: {"name": n, "config": {**good_source(t), "connector.class": "NoSuchConnector"}},
        (
            "startswith",
            "Failed to find any class that implements Connector and which name matches NoSuchConnector",
        ),
    ),
    (
        "no-class",
        lambda n, t: {"name": n, "config": {"topic": "x"}},
        ("exact", None),
    ),  # filled in by the test
    (
        "missing-required",
        lambda n, t: {"name": n, "config": {"connector.class": "FileStreamSource", "file": str(t / "f")}},
        ("exact", INVALID.format(n=1) + "\n" + MISSING_TOPIC + VALIDATE_HINT),
    ),
    (
        "tasks-max-abc",
        lambda n, t: {"name": n, "config": {**good_source(t), "tasks.max": "abc"}},
        ("contains", (INVALID.format(n=1)[: -len("1 error(s):")], NOT_AN_INT)),
    ),
    (
        "tasks-max-zero",
        lambda n, t: {"name": n, "config": {**good_source(t), "tasks.max": 0}},
        ("contains", ("Invalid value 0 for configuration tasks.max: Value must be at least 1",)),
    ),
    (
        "two-errors",
        lambda n, t: {"name": n, "config": {"connector.class": "FileStreamSource", "tasks.max": "0"}},
        ("contains", (INVALID.format(n=2), MISSING_TOPIC, "Value must be at least 1", VALIDATE_HINT)),
    ),
    (
        "bad-boolean",
        lambda n, t: {"name": n, "config": {**good_source(t), "errors.log.enable": "maybe"}},
        ("contains", ("Invalid value maybe for configuration errors.log.enable",)),
    ),
    (
        "bad-enum",
        lambda n, t: {"name": n, "config": {**good_source(t), "errors.tolerance": "some"}},
        ("contains", ("errors.tolerance",)),
    ),
    (
        "nested-object-value",
        lambda n, t: {"name": n, "config": {**good_source(t), "nested": {"a": 1}}},
        ("contains", ("'nested'", "not an object")),
    ),
    (
        "nested-array-value",
        lambda n, t: {"name": n, "config": {**good_source(t), "topic": ["a", "b"]}},
        ("contains", ("'topic'", "not an array")),
    ),
    (
        "null-config-value",
        lambda n, t: {"name": n, "config": {**good_source(t), "file": None}},
        ("contains", ("Null value can not be supplied as the configuration value.",)),
    ),
    (
        "bad-initial-state",
        lambda n, t: {"name": n, "config": good_source(t), "initial_state": "SLEEPING"},
        ("contains", ("initial_state", "SLEEPING")),
    ),
    (
        "initial-state-not-a-string",
        lambda n, t: {"name": n, "config": good_source(t), "initial_state": 1},
        ("contains", ("initial_state",)),
    ),
    (
        "unknown-converter",
        lambda n, t: {"name": n, "config": {**good_source(t), "value.converter": "NoSuchConverter"}},
        ("contains", ("value.converter", "NoSuchConverter")),
    ),
]


@pytest.mark.parametrize(("case", "build", "check"), POST_CASES, ids=[c[0] for c in POST_CASES])
def test_bad_create_request(
    api: ServerProcess, tmp_path: Path, case: str, build: Any, check: tuple[str, Any]
) -> None:
    name = uid("bad")
    before = names(api)
    body = build(name, tmp_path)
    if isinstance(body, bytes):
        response = api.client.post("/connectors", content=body, headers={"content-type": "application/json"})
    else:
        response = api.client.post("/connectors", json=body)
    kind, expected = check
    if case == "name-mismatch":
        expected = f"Connector name configuration (other) doesn't match connector name in the URL ({name})"
    if case == "no-class":
        message = assert_error(response, 400)
        assert message.startswith("Connector config {") and message.endswith(
            "} contains no connector type"
        ), message
        assert "topic=x" in message and f"name={name}" in message
    elif kind == "exact":
        assert_error(response, 400, expected)
    elif kind == "startswith":
        assert_error(response, 400, startswith=expected)
    else:
        assert_error(response, 400, contains=expected)
    assert_untouched(api, before, name)
    # and the worker still creates connectors
    ok = uid("ok")
    assert (
        api.client.post("/connectors", json={"name": ok, "config": good_source(tmp_path)}).status_code == 201
    )
    assert api.client.delete(path(ok)).status_code == 204


def test_existing_name_is_409_and_keeps_the_original(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("dup")
    config = good_source(tmp_path)
    assert api.client.post("/connectors", json={"name": name, "config": config}).status_code == 201
    before = names(api)
    response = api.client.post("/connectors", json={"name": name, "config": {**config, "batch.size": "5"}})
    assert_error(response, 409, f"Connector {name} already exists")
    # validation comes first: an existing name with an invalid config is 400, not 409
    response = api.client.post("/connectors", json={"name": name, "config": {**config, "tasks.max": "abc"}})
    assert_error(response, 400, contains=(NOT_AN_INT,))
    assert names(api) == before
    assert api.client.get(path(name) + "/config").json() == {**config, "name": name}
    api.wait_for_state(name, "RUNNING", tasks=1)


def test_concurrent_creates_of_one_name(api: ServerProcess, tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    name = uid("race")
    config = good_source(tmp_path)

    def post(_: int) -> int:
        with httpx.Client(base_url=api.url, timeout=30) as client:
            return client.post("/connectors", json={"name": name, "config": config}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(post, range(8)))
    assert statuses == [201] + [409] * 7
    assert names(api).count(name) == 1
    api.wait_for_state(name, "RUNNING", tasks=1)


# -- PUT /connectors/{c}/config -------------------------------------------------------------------
PUT_CASES: list[tuple[str, Any, str, str]] = [
    ("malformed-json", b'{"connector.class": ', "startswith", "Malformed JSON in request body"),
    ("empty-body", b"", "exact", "Request body is empty; send a JSON object"),
    ("array", b"[]", "contains", "not an array"),
    ("nested-object", lambda t: {**good_source(t), "x": {"a": 1}}, "contains", "'x'"),
    (
        "unknown-class",
        lambda t: {**good_source(t), "connector.class": "Nope"},
        "startswith",
        "Failed to find any class that implements Connector and which name matches Nope",
    ),
    ("no-class", lambda t: {"topic": "x"}, "contains", "contains no connector type"),
    ("tasks-max-abc", lambda t: {**good_source(t), "tasks.max": "abc"}, "contains", NOT_AN_INT),
    ("missing-topic", lambda t: {"connector.class": "FileStreamSource"}, "contains", MISSING_TOPIC),
]


@pytest.mark.parametrize(("case", "body", "kind", "expected"), PUT_CASES, ids=[c[0] for c in PUT_CASES])
def test_bad_put_config_creates_nothing(
    api: ServerProcess, tmp_path: Path, case: str, body: Any, kind: str, expected: str
) -> None:
    name = uid("badput")
    before = names(api)
    if callable(body):
        response = api.client.put(path(name) + "/config", json=body(tmp_path))
    else:
        response = api.client.put(path(name) + "/config", content=body)
    if kind == "exact":
        assert_error(response, 400, expected)
    elif kind == "startswith":
        assert_error(response, 400, startswith=expected)
    else:
        assert_error(response, 400, contains=(expected,))
    assert_untouched(api, before, name)


def test_put_config_name_mismatch(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("putname")
    before = names(api)
    response = api.client.put(path(name) + "/config", json={**good_source(tmp_path), "name": "other"})
    assert_error(
        response,
        400,
        f"Connector name configuration (other) doesn't match connector name in the URL ({name})",
    )
    # PUT does not trim: the body name must equal the path name exactly
    response = api.client.put(path(name) + "/config", json={**good_source(tmp_path), "name": f" {name} "})
    assert_error(
        response,
        400,
        f"Connector name configuration ( {name} ) doesn't match connector name in the URL ({name})",
    )
    assert_untouched(api, before, name)


def test_bad_put_config_keeps_the_existing_connector(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("keepput")
    config = good_source(tmp_path)
    assert api.client.post("/connectors", json={"name": name, "config": config}).status_code == 201
    api.wait_for_state(name, "RUNNING", tasks=1)
    before = names(api)
    for body in ({**config, "tasks.max": "abc"}, {**config, "connector.class": "Nope"}, {"topic": "x"}):
        assert api.client.put(path(name) + "/config", json=body).status_code == 400
    assert api.client.put(path(name) + "/config", content=b"{").status_code == 400
    assert api.client.get(path(name) + "/config").json() == {**config, "name": name}
    assert_untouched(api, before)
    api.wait_for_state(name, "RUNNING", tasks=1)


# -- PATCH /connectors/{c}/config -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("patch", "kind", "expected"),
    [
        (b"{", "startswith", "Malformed JSON in request body"),
        (b"", "exact", "Request body is empty; send a JSON object"),
        (b'["tasks.max"]', "contains", "not an array"),
        ({"tasks.max": {"v": 2}}, "contains", "'tasks.max'"),
        ({"tasks.max": "abc"}, "contains", NOT_AN_INT),
        ({"topic": None}, "contains", MISSING_TOPIC),
        ({"connector.class": None}, "contains", "contains no connector type"),
        ({"connector.class": "Nope"}, "startswith", "Failed to find any class that implements Connector"),
        ({"name": "renamed"}, "contains", "doesn't match connector name in the URL"),
    ],
)
def test_bad_patch_config_changes_nothing(
    api: ServerProcess, tmp_path: Path, patch: Any, kind: str, expected: str
) -> None:
    name = uid("badpatch")
    config = good_source(tmp_path)
    assert api.client.post("/connectors", json={"name": name, "config": config}).status_code == 201
    before = names(api)
    if isinstance(patch, bytes):
        response = api.client.request("PATCH", path(name) + "/config", content=patch)
    else:
        response = api.client.patch(path(name) + "/config", json=patch)
    if kind == "exact":
        assert_error(response, 400, expected)
    elif kind == "startswith":
        assert_error(response, 400, startswith=expected)
    else:
        assert_error(response, 400, contains=(expected,))
    assert api.client.get(path(name) + "/config").json() == {**config, "name": name}
    assert_untouched(api, before)
    api.wait_for_state(name, "RUNNING", tasks=1)


# -- every per-connector call on an unknown connector ---------------------------------------------
UNKNOWN: list[tuple[str, str, Any, str]] = [
    ("GET", "", None, "Connector {c} not found"),
    ("DELETE", "", None, "Connector {c} not found"),
    ("GET", "/config", None, "Connector {c} not found"),
    ("PATCH", "/config", {"tasks.max": "2"}, "Connector {c} not found"),
    ("GET", "/status", None, "No status found for connector {c}"),
    ("POST", "/restart", None, "Connector {c} not found"),  # standalone wording (reference §8)
    ("POST", "/restart?includeTasks=true", None, "Unknown connector: {c}"),
    ("POST", "/restart?includeTasks=true&onlyFailed=true", None, "Unknown connector: {c}"),
    ("PUT", "/pause", None, "Unknown connector {c}"),
    ("PUT", "/resume", None, "Unknown connector {c}"),
    ("PUT", "/stop", None, "Unknown connector {c}"),  # deliberate: 404 like distributed (standalone: 500)
    ("GET", "/tasks", None, "Connector {c} not found"),
    ("GET", "/tasks-config", None, "Connector {c} not found"),
    ("GET", "/tasks/0/status", None, "No status found for task {c}-0"),
    ("POST", "/tasks/0/restart", None, "Connector {c} not found"),  # standalone wording (reference §2.17)
    ("GET", "/offsets", None, "Connector {c} not found"),
    (
        "PATCH",
        "/offsets",
        {"offsets": [{"partition": {"filename": "/f"}, "offset": {"position": 1}}]},
        "Connector {c} not found",
    ),
    ("DELETE", "/offsets", None, "Connector {c} not found"),
]


@pytest.mark.parametrize(
    ("method", "suffix", "body", "message"), UNKNOWN, ids=[f"{m} {s}" for m, s, _, _ in UNKNOWN]
)
@pytest.mark.parametrize("label", ["plain", "with space"])
def test_unknown_connector_is_404(
    api: ServerProcess, method: str, suffix: str, body: Any, message: str, label: str
) -> None:
    name = uid("ghost" if label == "plain" else "no such")
    before = names(api)
    content = json.dumps(body).encode() if body is not None else None
    response = api.client.request(method, path(name) + suffix, content=content)
    assert_error(response, 404, message.format(c=name))
    assert_untouched(api, before, name)


# -- offsets --------------------------------------------------------------------------------------
def test_offsets_change_on_a_running_connector(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("runoff")
    source = tmp_path / "in.txt"
    assert (
        api.client.post(
            "/connectors", json={"name": name, "config": source_config(source, uid("t"))}
        ).status_code
        == 201
    )
    api.wait_for_state(name, "RUNNING", tasks=1)
    stopped = (
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the "
        f"specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    )
    body = {"offsets": [{"partition": {"filename": str(source)}, "offset": {"position": 0}}]}
    assert_error(api.client.patch(path(name) + "/offsets", json=body), 400, stopped)
    assert_error(api.client.delete(path(name) + "/offsets"), 400, stopped)
    api.wait_for_state(name, "RUNNING", tasks=1)


@pytest.mark.parametrize("body", [b"", b"{}", b'{"offsets": []}', b'{"offsets": null}', b"null"])
def test_alter_offsets_without_offsets(api: ServerProcess, tmp_path: Path, body: bytes) -> None:
    name = uid("nooff")
    config = sink_config(tmp_path / "o", uid("t"))
    assert (
        api.client.post(
            "/connectors", json={"name": name, "config": config, "initial_state": "STOPPED"}
        ).status_code
        == 201
    )
    response = api.client.request("PATCH", path(name) + "/offsets", content=body)
    assert_error(response, 400, "Partitions / offsets need to be provided for an alter offsets request")
    assert api.client.get(path(name) + "/offsets").json() == {"offsets": []}


# -- bugs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["1.0", 1.0], ids=["string", "json-number"])
def test_tasks_max_with_a_fraction_is_rejected(api: ServerProcess, tmp_path: Path, value: Any) -> None:
    name = uid("frac")
    before = names(api)
    response = api.client.post(
        "/connectors", json={"name": name, "config": {**good_source(tmp_path), "tasks.max": value}}
    )
    try:
        assert_error(
            response,
            400,
            contains=("Invalid value 1.0 for configuration tasks.max: Not a number of type INT",),
        )
        assert_untouched(api, before, name)
    finally:
        api.client.delete(path(name))


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_null_config_name_is_treated_as_absent(api: ServerProcess, tmp_path: Path, method: str) -> None:
    name = uid("nullname")
    config = {**good_source(tmp_path), "name": None}
    if method == "POST":
        response = api.client.post("/connectors", json={"name": name, "config": config})
    else:
        response = api.client.put(path(name) + "/config", json=config)
    assert response.status_code == 201, response.text
    assert response.json()["config"]["name"] == name


def test_patch_removing_the_name_has_a_sensible_message(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("patchnull")
    assert (
        api.client.post("/connectors", json={"name": name, "config": good_source(tmp_path)}).status_code
        == 201
    )
    message = assert_error(api.client.patch(path(name) + "/config", json={"name": None}), 400)
    assert "None" not in message, message


def test_name_with_trailing_c1_control_character_is_rejected(api: ServerProcess, tmp_path: Path) -> None:
    name = uid("c1")
    before = names(api)
    try:
        response = api.client.post(
            "/connectors", json={"name": name + "\u0085", "config": good_source(tmp_path)}
        )
        assert_error(
            response,
            400,
            contains=("String may not contain control sequences but had the following ASCII chars: 133",),
        )
        response = api.client.put(path(name + "\u0085") + "/config", json=good_source(tmp_path))
        assert_error(
            response,
            400,
            contains=("String may not contain control sequences but had the following ASCII chars: 133",),
        )
        assert_untouched(api, before)
    finally:
        api.client.delete(path(name))
        api.client.delete(path(name + "\u0085"))


def test_name_trimming_matches_java_trim(api: ServerProcess, tmp_path: Path) -> None:
    name = "\u00a0" + uid("nbsp") + "\u00a0"
    try:
        response = api.client.post("/connectors", json={"name": name, "config": good_source(tmp_path)})
        assert response.status_code == 201, response.text
        assert response.json()["name"] == name
    finally:
        api.client.delete(path(name))
        api.client.delete(path(name.strip()))
