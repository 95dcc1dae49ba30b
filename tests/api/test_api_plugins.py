"""``/connector-plugins``: listing, per-plugin config keys and config validation (reference §2.20-2.22, §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.api.api_helpers import FILE_SINK, FILE_SOURCE, assert_error
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

TYPE_ORDER = ["sink", "source", "transformation", "predicate", "converter", "header_converter"]
KEY_FIELDS = [
    "name",
    "type",
    "required",
    "default_value",
    "importance",
    "documentation",
    "group",
    "width",
    "display_name",
    "dependents",
    "order",
]
VALUE_FIELDS = ["name", "value", "recommended_values", "errors", "visible"]
COMMON_KEYS = [
    "name",
    "connector.class",
    "tasks.max",
    "tasks.max.enforce",
    "key.converter",
    "value.converter",
    "header.converter",
    "config.action.reload",
    "transforms",
    "predicates",
    "errors.retry.timeout",
    "errors.retry.delay.max.ms",
    "errors.tolerance",
    "errors.log.enable",
    "errors.log.include.messages",
]
DLQ_KEYS = [
    "errors.deadletterqueue.topic.name",
    "errors.deadletterqueue.topic.replication.factor",
    "errors.deadletterqueue.context.headers.enable",
]
SINK_KEYS = ["topics", "topics.regex", *DLQ_KEYS]


def validate(api: ServerProcess, plugin: str, config: dict[str, Any]) -> dict[str, Any]:
    response = api.client.put(f"/connector-plugins/{plugin}/config/validate", json=config)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["name", "error_count", "groups", "configs"]
    for entry in body["configs"]:
        assert list(entry) == ["definition", "value"]
        if entry["definition"] is not None:
            assert list(entry["definition"]) == KEY_FIELDS
        assert list(entry["value"]) == VALUE_FIELDS
    assert body["error_count"] == sum(len(c["value"]["errors"]) for c in body["configs"])
    return dict(body)


def value_of(body: dict[str, Any], key: str) -> dict[str, Any]:
    matches = [c["value"] for c in body["configs"] if c["value"] and c["value"]["name"] == key]
    assert len(matches) == 1, (key, matches)
    return dict(matches[0])


def all_errors(body: dict[str, Any]) -> list[str]:
    return [e for c in body["configs"] for e in c["value"]["errors"]]


# -- GET /connector-plugins -----------------------------------------------------------------------
def test_connectors_only_by_default(api: ServerProcess) -> None:
    response = api.client.get("/connector-plugins")
    assert response.status_code == 200
    plugins = response.json()
    assert {p["type"] for p in plugins} <= {"source", "sink"}
    assert {"class": FILE_SINK, "type": "sink"}.items() <= next(
        p for p in plugins if p["class"] == FILE_SINK
    ).items()
    assert {"class": FILE_SOURCE, "type": "source"}.items() <= next(
        p for p in plugins if p["class"] == FILE_SOURCE
    ).items()
    for plugin in plugins:
        assert list(plugin)[:2] == ["class", "type"]
        assert set(plugin) <= {"class", "type", "version"}
        assert plugin.get("version") != "undefined"
    assert api.client.get("/connector-plugins?connectorsOnly=true").json() == plugins
    assert api.client.get("/connector-plugins?connectorsOnly=TRUE").json() == plugins
    # sinks first, then sources, each sorted by class name
    kinds = [p["type"] for p in plugins]
    assert kinds == sorted(kinds, key=TYPE_ORDER.index)
    for kind in ("sink", "source"):
        classes = [p["class"] for p in plugins if p["type"] == kind]
        assert classes == sorted(classes)


def test_connectors_only_false_lists_every_plugin_type(api: ServerProcess) -> None:
    everything = api.client.get("/connector-plugins?connectorsOnly=false")
    assert everything.status_code == 200
    plugins = everything.json()
    pairs = {(p["class"], p["type"]) for p in plugins}
    assert (FILE_SINK, "sink") in pairs and (FILE_SOURCE, "source") in pairs
    assert ("org.apache.kafka.connect.json.JsonConverter", "converter") in pairs
    assert ("org.apache.kafka.connect.storage.StringConverter", "converter") in pairs
    assert ("org.apache.kafka.connect.storage.SimpleHeaderConverter", "header_converter") in pairs
    # a class that is both a Converter and a HeaderConverter is listed once per type
    assert ("org.apache.kafka.connect.storage.StringConverter", "header_converter") in pairs
    kinds = [p["type"] for p in plugins]
    assert kinds == sorted(kinds, key=TYPE_ORDER.index)
    for kind in TYPE_ORDER:
        classes = [p["class"] for p in plugins if p["type"] == kind]
        assert classes == sorted(classes), kind
    connectors = api.client.get("/connector-plugins").json()
    assert [p for p in plugins if p["type"] in ("sink", "source")] == connectors
    # Java Boolean.valueOf: anything but "true" is false
    assert api.client.get("/connector-plugins?connectorsOnly=no").json() == plugins
    assert api.client.get("/connector-plugins?connectorsOnly=FALSE").json() == plugins


# -- GET /connector-plugins/{p}/config ------------------------------------------------------------
@pytest.mark.parametrize("plugin", [FILE_SINK, "FileStreamSinkConnector", "FileStreamSink"])
def test_sink_plugin_config_keys(api: ServerProcess, plugin: str) -> None:
    response = api.client.get(f"/connector-plugins/{plugin}/config")
    assert response.status_code == 200, response.text
    keys = response.json()
    for key in keys:
        assert list(key) == KEY_FIELDS
        if key["required"]:
            assert key["default_value"] is None, key
    listed = [k["name"] for k in keys]
    assert listed[0] == "file"  # the plugin's own keys first
    framework = [n for n in listed if n in COMMON_KEYS + SINK_KEYS]
    assert framework == [n for n in COMMON_KEYS + SINK_KEYS if n in framework]
    assert set(COMMON_KEYS + SINK_KEYS) <= set(listed)
    assert len(listed) == len(set(listed))
    tasks_max = next(k for k in keys if k["name"] == "tasks.max")
    assert tasks_max == {
        "name": "tasks.max",
        "type": "INT",
        "required": False,
        "default_value": "1",
        "importance": "HIGH",
        "documentation": "Maximum number of tasks to use for this connector.",
        "group": "Common",
        "width": "SHORT",
        "display_name": "Tasks max",
        "dependents": [],
        "order": 3,
    }
    name = next(k for k in keys if k["name"] == "name")
    assert name["required"] is True and name["default_value"] is None


def test_source_plugin_config_keys(api: ServerProcess) -> None:
    response = api.client.get("/connector-plugins/FileStreamSource/config")
    assert response.status_code == 200
    listed = [k["name"] for k in response.json()]
    assert listed[:3] == ["file", "topic", "batch.size"]
    assert set(COMMON_KEYS) <= set(listed)
    assert not {"topics", "topics.regex"} & set(listed)
    assert listed[-3:] == DLQ_KEYS  # Penstock's source-side DLQ (docs/compatibility.md)
    topic = next(k for k in response.json() if k["name"] == "topic")
    assert topic["required"] is True and topic["default_value"] is None and topic["type"] == "STRING"
    assert api.client.get(f"/connector-plugins/{FILE_SOURCE}/config").json() == response.json()


def test_unknown_plugin_config(api: ServerProcess) -> None:
    assert_error(
        api.client.get("/connector-plugins/NoSuchPlugin/config"), 404, "Unknown plugin NoSuchPlugin."
    )
    assert_error(
        api.client.get("/connector-plugins/org.example.Nope/config"), 404, "Unknown plugin org.example.Nope."
    )


# -- PUT /connector-plugins/{p}/config/validate ---------------------------------------------------
def test_validate_reference_example(api: ServerProcess, tmp_path: Path) -> None:
    """The worked example of reference §2.22 (Penstock adds its own group, "Automatic Restart"),
    with a file of its own instead of ``/tmp/x`` (which the sink checks, and which may be anything
    on a shared machine)."""
    file = str(tmp_path / "x")
    body = validate(
        api, "FileStreamSinkConnector", {"connector.class": "FileStreamSink", "topics": "t", "file": file}
    )
    assert body["name"] == "FileStreamSink"
    assert body["error_count"] == 1
    assert body["groups"][:4] == ["Common", "Transforms", "Predicates", "Error Handling"]
    assert body["configs"][0] == {
        "definition": {
            "name": "name",
            "type": "STRING",
            "required": True,
            "default_value": None,
            "importance": "HIGH",
            "documentation": "Globally unique name to use for this connector.",
            "group": "Common",
            "width": "MEDIUM",
            "display_name": "Connector name",
            "dependents": [],
            "order": 1,
        },
        "value": {
            "name": "name",
            "value": None,
            "recommended_values": [],
            "errors": ['Missing required configuration "name" which has no default value.'],
            "visible": True,
        },
    }
    tasks_max = next(c for c in body["configs"] if c["definition"] and c["definition"]["name"] == "tasks.max")
    assert tasks_max == {
        "definition": {
            "name": "tasks.max",
            "type": "INT",
            "required": False,
            "default_value": "1",
            "importance": "HIGH",
            "documentation": "Maximum number of tasks to use for this connector.",
            "group": "Common",
            "width": "SHORT",
            "display_name": "Tasks max",
            "dependents": [],
            "order": 3,
        },
        "value": {"name": "tasks.max", "value": "1", "recommended_values": [], "errors": [], "visible": True},
    }
    listed = [c["definition"]["name"] for c in body["configs"]]
    assert listed[:3] == ["name", "connector.class", "tasks.max"]
    assert value_of(body, "topics")["value"] == "t"
    assert value_of(body, "file")["value"] == file
    assert value_of(body, "transforms")["value"] == ""  # LIST rendered comma-joined
    assert value_of(body, "key.converter")["value"] is None


def test_validate_a_valid_config(api: ServerProcess) -> None:
    body = validate(
        api, FILE_SOURCE, {"connector.class": FILE_SOURCE, "name": "ok", "topic": "t", "file": "/tmp/in"}
    )
    assert body["name"] == FILE_SOURCE
    assert body["error_count"] == 0
    assert all_errors(body) == []


def test_validate_tasks_max_not_a_number(api: ServerProcess) -> None:
    body = validate(
        api,
        "FileStreamSink",
        {"connector.class": "FileStreamSink", "name": "n", "topics": "t", "tasks.max": "abc"},
    )
    value = value_of(body, "tasks.max")
    assert value["value"] == "abc"
    assert "Invalid value abc for configuration tasks.max: Not a number of type INT" in value["errors"]
    assert body["error_count"] >= 1
    zero = validate(
        api,
        "FileStreamSink",
        {"connector.class": "FileStreamSink", "name": "n", "topics": "t", "tasks.max": "0"},
    )
    assert value_of(zero, "tasks.max")["errors"] == [
        "Invalid value 0 for configuration tasks.max: Value must be at least 1"
    ]


def test_validate_sink_topics_rules(api: ServerProcess) -> None:
    missing = validate(api, "FileStreamSink", {"connector.class": "FileStreamSink", "name": "n"})
    assert missing["error_count"] == 1
    assert value_of(missing, "topics")["errors"] == ["Must configure one of topics or topics.regex"]
    both = validate(
        api,
        "FileStreamSink",
        {"connector.class": "FileStreamSink", "name": "n", "topics": "a", "topics.regex": "b.*"},
    )
    message = "topics and topics.regex are mutually exclusive options, but both are set."
    assert message in value_of(both, "topics")["errors"]
    assert message in value_of(both, "topics.regex")["errors"]
    regex_only = validate(
        api, "FileStreamSink", {"connector.class": "FileStreamSink", "name": "n", "topics.regex": "b.*"}
    )
    assert regex_only["error_count"] == 0


def test_validate_empty_name(api: ServerProcess) -> None:
    body = validate(api, "FileStreamSink", {"connector.class": "FileStreamSink", "name": "", "topics": "t"})
    assert value_of(body, "name")["errors"] == [
        "Invalid value  for configuration name: String may not be empty"
    ]


def test_validate_null_values_come_first_without_definition(api: ServerProcess) -> None:
    body = validate(
        api,
        "FileStreamSink",
        {"connector.class": "FileStreamSink", "name": "n", "topics": "t", "extra.key": None},
    )
    assert body["configs"][0] == {
        "definition": None,
        "value": {
            "name": "extra.key",
            "value": None,
            "recommended_values": [],
            "errors": ["Null value can not be supplied as the configuration value."],
            "visible": True,
        },
    }
    assert body["error_count"] == 1


@pytest.mark.parametrize(
    ("plugin", "declared"),
    [
        ("FileStreamSinkConnector", "FileStreamSink"),
        ("FileStreamSink", FILE_SINK),
        (FILE_SINK, FILE_SINK),
        ("FileStreamSink", "FileStreamSinkConnector"),
    ],
)
def test_validate_path_plugin_matches_body_class(api: ServerProcess, plugin: str, declared: str) -> None:
    body = validate(api, plugin, {"connector.class": declared, "name": "n", "topics": "t"})
    assert body["name"] == declared
    assert body["error_count"] == 0


def test_validate_type_mismatch_is_400(api: ServerProcess) -> None:
    response = api.client.put(
        "/connector-plugins/FileStreamSource/config/validate",
        json={"connector.class": "FileStreamSink", "topics": "t"},
    )
    assert_error(
        response, 400, "Included connector type FileStreamSink does not match request type FileStreamSource"
    )


def test_validate_without_connector_class_is_400(api: ServerProcess) -> None:
    """Deliberate difference: Kafka answers 500."""
    response = api.client.put("/connector-plugins/FileStreamSink/config/validate", json={"topics": "t"})
    assert_error(response, 400, contains=("connector.class",))


def test_validate_unknown_class_is_400(api: ServerProcess) -> None:
    response = api.client.put("/connector-plugins/NoSuch/config/validate", json={"connector.class": "NoSuch"})
    assert_error(
        response,
        400,
        startswith="Failed to find any class that implements Connector and which name matches NoSuch",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"connector.class": ', "Malformed JSON in request body"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"connector.class": "FileStreamSink", "x": {"a": 1}}', "'x'"),
        (b"", "Request body is empty"),
    ],
)
def test_validate_bad_bodies_are_400(api: ServerProcess, body: bytes, message: str) -> None:
    response = api.client.put("/connector-plugins/FileStreamSink/config/validate", content=body)
    assert_error(response, 400, contains=(message,))


@pytest.mark.parametrize("value", ["1.0", "2147483648"])
def test_validate_int_settings_are_java_ints(api: ServerProcess, value: str) -> None:
    body = validate(
        api,
        "FileStreamSink",
        {"connector.class": "FileStreamSink", "name": "n", "topics": "t", "tasks.max": value},
    )
    assert value_of(body, "tasks.max")["errors"][:1] == [
        f"Invalid value {value} for configuration tasks.max: Not a number of type INT"
    ]


def test_validate_name_with_c1_control_character(api: ServerProcess) -> None:
    body = validate(
        api, "FileStreamSink", {"connector.class": "FileStreamSink", "name": "v\u0085", "topics": "t"}
    )
    assert value_of(body, "name")["errors"] == [
        "Invalid value v\u0085 for configuration name: String may not contain control sequences but had the "
        "following ASCII chars: 133"
    ]
