"""validate_connector_config with the real plugin registry and the built-in file connectors."""

from __future__ import annotations

from typing import Any

import pytest

from app.herder.validation import (
    BadRequestError,
    ConfigInfos,
    invalid_config_message,
    java_map,
    resolve_connector,
    validate_connector_config,
)
from app.plugins.registry import PluginRegistry
from connectors.file.sink import FileStreamSinkConnector


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    return PluginRegistry()


SINK = {"connector.class": "FileStreamSink", "name": "sink", "topics": "t"}
SOURCE = {"connector.class": "FileStreamSource", "name": "src", "topic": "t", "file": "/tmp/in.txt"}


def errors_of(infos: ConfigInfos) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in infos.configs:
        value = c["value"]
        if value and value["errors"]:
            out.setdefault(value["name"], []).extend(value["errors"])
    return out


def config_named(infos: ConfigInfos, name: str) -> dict[str, Any]:
    [config] = [c for c in infos.configs if c["definition"] and c["definition"]["name"] == name]
    return config


def test_valid_sink_config(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, SINK)
    assert infos.name == "FileStreamSink"
    assert infos.error_count == 0
    assert infos.errors() == []
    assert infos.groups[0] == "Common"
    assert infos.groups == ["Common", "Transforms", "Predicates", "Error Handling", "Automatic Restart"]
    names = [c["definition"]["name"] for c in infos.configs]
    assert names[:3] == ["name", "connector.class", "tasks.max"]
    assert {"topics", "topics.regex", "errors.deadletterqueue.topic.name", "file"} <= set(names)
    assert len(names) == len(set(names))


def test_definition_and_value_json_shape(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, SINK)
    tasks_max = config_named(infos, "tasks.max")
    assert tasks_max["definition"]["type"] == "INT"
    assert tasks_max["definition"]["required"] is False
    assert tasks_max["definition"]["default_value"] == "1"
    assert tasks_max["definition"]["importance"] == "HIGH"
    assert tasks_max["definition"]["group"] == "Common"
    assert tasks_max["value"] == {
        "name": "tasks.max",
        "value": "1",
        "recommended_values": [],
        "errors": [],
        "visible": True,
    }
    topics = config_named(infos, "topics")
    assert topics["value"]["value"] == "t"
    tolerance = config_named(infos, "errors.tolerance")
    assert tolerance["value"]["recommended_values"] == ["none", "all"]


def test_valid_source_config_has_source_groups(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, SOURCE)
    assert infos.error_count == 0
    assert infos.groups[0] == "Common"
    assert "Exactly Once Support" in infos.groups
    names = [c["definition"]["name"] for c in infos.configs]
    assert "topics" not in names
    assert {"exactly.once.support", "transaction.boundary", "topic", "file", "batch.size"} <= set(names)


def test_source_missing_topic_and_bad_batch_size(registry: PluginRegistry) -> None:
    infos = validate_connector_config(
        registry, {"connector.class": "FileStreamSource", "name": "src", "batch.size": "0", "tasks.max": "x"}
    )
    assert errors_of(infos) == {
        "topic": ['Missing required configuration "topic" which has no default value.'],
        "batch.size": ["Invalid value 0 for configuration batch.size: Value must be at least 1"],
        "tasks.max": ["Invalid value x for configuration tasks.max: Not a number of type INT"],
    }
    assert infos.error_count == 3


def test_missing_name_is_reported(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, {"connector.class": "FileStreamSink", "topics": "t"})
    assert errors_of(infos) == {"name": ['Missing required configuration "name" which has no default value.']}


def test_sink_needs_topics_or_regex(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, {"connector.class": "FileStreamSink", "name": "s"})
    assert errors_of(infos) == {"topics": ["Must configure one of topics or topics.regex"]}
    assert infos.error_count == 1
    blank = validate_connector_config(registry, {**SINK, "topics": " , "})
    assert "topics" not in errors_of(blank)  # ", " is a list with empty entries, not an empty list


def test_sink_topics_and_regex_are_mutually_exclusive(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, {**SINK, "topics.regex": "t.*"})
    message = "topics and topics.regex are mutually exclusive options, but both are set."
    assert errors_of(infos) == {"topics": [message], "topics.regex": [message]}
    assert infos.error_count == 2


def test_regex_alone_is_valid_and_invalid_regex_is_reported(registry: PluginRegistry) -> None:
    ok = {"connector.class": "FileStreamSink", "name": "s", "topics.regex": "logs-.*"}
    assert validate_connector_config(registry, ok).error_count == 0
    infos = validate_connector_config(registry, {**ok, "topics.regex": "logs-(["})
    [message] = errors_of(infos)["topics.regex"]
    assert message.startswith("Invalid value logs-([ for configuration topics.regex: ")


def test_dlq_topic_may_not_be_a_consumed_topic(registry: PluginRegistry) -> None:
    infos = validate_connector_config(
        registry, {**SINK, "topics": "a,t", "errors.deadletterqueue.topic.name": "t"}
    )
    assert errors_of(infos) == {
        "errors.deadletterqueue.topic.name": [
            "The DLQ topic 't' may not be included in the list of topics ('topics=...') consumed by the connector"
        ]
    }


def test_unknown_converter_class(registry: PluginRegistry) -> None:
    infos = validate_connector_config(
        registry, {**SINK, "value.converter": "com.example.Nope", "key.converter": "StringConverter"}
    )
    assert errors_of(infos) == {
        "value.converter": [
            "Invalid value com.example.Nope for configuration value.converter: Class com.example.Nope could not be found."
        ]
    }


def test_header_converter_must_be_a_header_converter(registry: PluginRegistry) -> None:
    ok = validate_connector_config(registry, {**SINK, "header.converter": "SimpleHeaderConverter"})
    assert ok.error_count == 0
    infos = validate_connector_config(registry, {**SINK, "value.converter": "SimpleHeaderConverter"})
    assert list(errors_of(infos)) == ["value.converter"]


def test_transform_alias_with_missing_or_unknown_type(registry: PluginRegistry) -> None:
    infos = validate_connector_config(
        registry, {**SINK, "transforms": "a, b", "transforms.b.type": "com.example.NoSuchTransform"}
    )
    assert errors_of(infos) == {
        "transforms.a.type": [
            'Missing required configuration "transforms.a.type" which has no default value.'
        ],
        "transforms.b.type": [
            "Invalid value com.example.NoSuchTransform for configuration transforms.b.type: "
            "Class com.example.NoSuchTransform could not be found."
        ],
    }
    assert "Transforms: a" in infos.groups and "Transforms: b" in infos.groups
    assert infos.groups.index("Transforms: a") < infos.groups.index("Transforms: b")
    type_b = config_named(infos, "transforms.b.type")
    assert type_b["definition"]["type"] == "CLASS"
    assert type_b["definition"]["group"] == "Transforms: b"
    assert type_b["value"]["value"] == "com.example.NoSuchTransform"


def test_transform_predicate_references(registry: PluginRegistry) -> None:
    infos = validate_connector_config(
        registry,
        {
            **SINK,
            "transforms": "a,b",
            "transforms.a.type": "X",
            "transforms.a.predicate": "undefined",
            "transforms.b.type": "Y",
            "transforms.b.negate": "true",
        },
    )
    errors = errors_of(infos)
    assert errors["transforms.a.predicate"] == [
        "Invalid value undefined for configuration transforms.a.predicate: undefined predicate alias"
    ]
    assert errors["transforms.b.predicate"] == [
        "Invalid value true for configuration transforms.b.negate: negate is set but no predicate is"
    ]


def test_predicate_alias_with_missing_type(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, {**SINK, "predicates": "p"})
    assert errors_of(infos) == {
        "predicates.p.type": [
            'Missing required configuration "predicates.p.type" which has no default value.'
        ]
    }
    assert "Predicates: p" in infos.groups


def test_null_value_is_an_error(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, {**SINK, "file": None})  # type: ignore[dict-item]
    errors = errors_of(infos)
    assert errors["file"] == ["Null value can not be supplied as the configuration value."]
    assert infos.error_count == 1


def test_error_count_matches_errors(registry: PluginRegistry) -> None:
    infos = validate_connector_config(
        registry,
        {
            "connector.class": "FileStreamSink",
            "topics": "t",
            "topics.regex": "(",
            "tasks.max": "0",
            "value.converter": "Nope",
            "x": None,
        },  # type: ignore[dict-item]
    )
    assert infos.error_count == len(infos.errors()) == 7


def test_invalid_config_message_format(registry: PluginRegistry) -> None:
    infos = validate_connector_config(registry, {"connector.class": "FileStreamSink", "tasks.max": "0"})
    message = invalid_config_message(infos)
    lines = message.split("\n")
    assert lines[0] == "Connector configuration is invalid and contains the following 3 error(s):"
    assert lines[1:-1] == infos.errors()
    assert set(lines[1:-1]) == {
        'Missing required configuration "name" which has no default value.',
        "Invalid value 0 for configuration tasks.max: Value must be at least 1",
        "Must configure one of topics or topics.regex",
    }
    assert lines[-1] == (
        "You can also find the above list of errors at the endpoint "
        "`/connector-plugins/{connectorType}/config/validate`"
    )


def test_resolve_connector(registry: PluginRegistry) -> None:
    assert resolve_connector(registry, SINK).cls is FileStreamSinkConnector
    with pytest.raises(BadRequestError) as info:
        resolve_connector(registry, {"name": "x", "topics": "t"})
    assert str(info.value) == "Connector config {name=x, topics=t} contains no connector type"
    with pytest.raises(BadRequestError, match="contains no connector type"):
        resolve_connector(registry, {"connector.class": "   "})
    with pytest.raises(
        BadRequestError,
        match="Failed to find any class that implements Connector and which name matches Nope",
    ):
        resolve_connector(registry, {"connector.class": "Nope"})
    with pytest.raises(BadRequestError, match="Failed to find any class"):
        resolve_connector(registry, {"connector.class": "JsonConverter"})  # not a connector


def test_java_map() -> None:
    assert java_map({}) == "{}"
    assert java_map({"a": "1", "b": "x y"}) == "{a=1, b=x y}"


def test_source_topic_creation_settings_are_validated(registry: PluginRegistry) -> None:
    base = {"connector.class": "FileStreamSource", "name": "s", "topic": "t"}
    bad = {
        **base,
        "topic.creation.default.partitions": "abc",
        "topic.creation.default.replication.factor": "1",
    }
    errors = errors_of(validate_connector_config(registry, bad))
    assert list(errors) == ["topic.creation.default.partitions"]
    good = {
        **base,
        "topic.creation.default.partitions": "6",
        "topic.creation.default.replication.factor": "-1",
    }
    assert validate_connector_config(registry, good).error_count == 0
