"""The sink's settings: Confluent's keys, defaults, case-insensitive values and cross-key rules."""

from __future__ import annotations

import pytest

from connectors.elasticsearch.config import (
    ElasticsearchSinkConfig,
    MalformedBehavior,
    NullValueBehavior,
    WriteMethod,
)
from connectors.elasticsearch.connector import ElasticsearchSinkConnector
from connectors.sdk import ConfigError

URL = {"connection.url": "http://es:9200"}


def errors(**props: str) -> dict[str, list[str]]:
    return ElasticsearchSinkConfig.errors_by_key({**URL, **props})


def test_defaults_are_confluents() -> None:
    config = ElasticsearchSinkConfig.parse(URL)
    assert config.batch_size == 2000
    assert config.max_in_flight_requests == 5
    assert config.max_buffered_records == 20000
    assert config.linger_ms == 1
    assert config.flush_timeout_ms == 180000
    assert config.max_retries == 5 and config.retry_backoff_ms == 100
    assert config.read_timeout_ms == 3000 and config.connection_timeout_ms == 1000
    assert config.behavior_on_null_values is NullValueBehavior.FAIL
    assert config.behavior_on_malformed_documents is MalformedBehavior.FAIL
    assert config.write_method is WriteMethod.INSERT
    assert config.compact_map_entries and not config.key_ignore and not config.schema_ignore
    assert config.bulk_size_bytes == 5242880


def test_seed_style_config_is_accepted() -> None:
    """The 10.x-era keys of tutorials (type.name, topic.index.map...) parse; values any case."""
    config = ElasticsearchSinkConfig.parse(
        {
            "connection.url": "http://elasticsearch:9200",
            "type.name": "_doc",
            "key.ignore": "true",
            "schema.ignore": "true",
            "schema.enable": "false",
            "behavior.on.null.values": "delete",
            "auto.create.indices.at.start": "false",
        }
    )
    assert config.type_name == "_doc"
    assert config.behavior_on_null_values is NullValueBehavior.DELETE


def test_connector_answers_to_the_confluent_class_name() -> None:
    assert (
        "io.confluent.connect.elasticsearch.ElasticsearchSinkConnector" in ElasticsearchSinkConnector.aliases
    )


def test_every_key_of_the_reference_is_declared() -> None:
    keys = set(ElasticsearchSinkConfig.keys())
    for key in (
        "connection.url", "connection.username", "connection.password", "key.ignore", "schema.ignore",
        "topic.key.ignore", "topic.schema.ignore", "compact.map.entries", "behavior.on.null.values",
        "behavior.on.malformed.documents", "drop.invalid.message", "write.method", "batch.size",
        "bulk.size.bytes", "max.in.flight.requests", "max.buffered.records", "linger.ms", "flush.timeout.ms",
        "flush.synchronously", "max.retries", "retry.backoff.ms", "connection.timeout.ms", "read.timeout.ms",
        "external.version.header", "data.stream.type", "data.stream.dataset", "data.stream.namespace",
        "data.stream.timestamp.field", "type.name", "elastic.security.protocol",
        "elastic.https.ssl.truststore.location", "elastic.https.ssl.keystore.location",
    ):  # fmt: skip
        assert key in keys, key


@pytest.mark.parametrize(
    ("props", "key", "text"),
    [
        ({"connection.username": "u"}, "connection.username", "must be set, or neither"),
        ({"data.stream.type": "logs"}, "data.stream.dataset", "must be set with data.stream.type"),
        ({"data.stream.dataset": "app"}, "data.stream.type", "must be set with data.stream.dataset"),
        (
            {"data.stream.type": "logs", "data.stream.dataset": "app", "write.method": "upsert"},
            "write.method",
            "not supported with data streams",
        ),
        ({"key.ignore": "true", "topic.key.ignore": "a"}, "topic.key.ignore", "can not be set"),
        ({"schema.ignore": "true", "topic.schema.ignore": "a"}, "topic.schema.ignore", "can not be set"),
        ({"linger.ms": "200000"}, "linger.ms", "cannot be larger than flush.timeout.ms"),
        ({"max.buffered.records": "100"}, "max.buffered.records", "batch.size * max.in.flight.requests"),
        ({"behavior.on.null.values": "drop"}, "behavior.on.null.values", "IGNORE, DELETE, FAIL"),
        ({"data.stream.type": "logs", "data.stream.dataset": "My-App"}, "data.stream.dataset", "lowercase"),
        ({"elastic.https.ssl.truststore.type": "JKS"}, "elastic.https.ssl.truststore.type", "PEM"),
        ({"elastic.https.ssl.truststore.location": "/nonexistent.pem"}, "elastic.https.ssl.truststore.location",
         "File not found"),
        ({"batch.size": "many"}, "batch.size", "Not a number"),
    ],
)  # fmt: skip
def test_bad_settings_are_reported_on_their_key(props: dict[str, str], key: str, text: str) -> None:
    found = errors(**props)
    assert key in found, found
    assert text in found[key][0]


def test_missing_url_and_hidden_password() -> None:
    with pytest.raises(ConfigError, match=r'Missing required configuration "connection\.url"'):
        ElasticsearchSinkConfig.parse({})
    found = ElasticsearchSinkConfig.errors_by_key({**URL, "connection.password": "s3cret"})
    assert "s3cret" not in str(found)


def test_plugin_config_endpoint_shape() -> None:
    """``GET /connector-plugins/ElasticsearchSinkConnector/config`` lists Confluent's types and defaults."""
    described = {k.name: k for k in ElasticsearchSinkConfig.describe()}
    assert described["connection.url"].required and described["connection.url"].type.value == "LIST"
    assert described["connection.password"].type.value == "PASSWORD"
    assert described["bulk.size.bytes"].type.value == "LONG"
    assert described["behavior.on.null.values"].default_value == "FAIL"
    assert described["write.method"].default_value == "INSERT"
    assert described["data.stream.namespace"].default_value == "${topic}"
    shown = {v.name: v.value for v in ElasticsearchSinkConfig.validate_props({**URL, "connection.password": "x"})}
    assert shown["connection.password"] == "[hidden]"
