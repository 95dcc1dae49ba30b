"""Messages for near-misses copied from Kafka Connect tutorials: the POST body sent to an endpoint
that takes the flat config map, a key in the wrong case, a Java connector Penstock does not have."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.api_helpers import FILE_SINK, assert_error, assert_untouched, names, path, sink_config, uid
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

VALIDATE = "/connector-plugins/FileStreamSinkConnector/config/validate"


def test_put_config_with_the_post_body_says_it_takes_the_flat_map(api: ServerProcess, tmp_path: Path) -> None:
    before = names(api)
    name = uid("wrapped")
    wrapped = {"name": name, "config": sink_config(tmp_path / "o.txt", uid("t"))}
    response = api.client.put(path(name) + "/config", json=wrapped)
    assert_error(
        response,
        400,
        "PUT /connectors/{name}/config takes the connector config itself, a flat JSON object of string keys "
        'to string values, not {"name": ..., "config": {...}} (that is the body of POST /connectors): send '
        'the object under "config" as the body',
    )
    assert_untouched(api, before, name)
    validate = api.client.put(VALIDATE, json=wrapped)
    assert_error(
        validate, 400, startswith="PUT /connector-plugins/{plugin}/config/validate takes the connector"
    )


def test_connector_class_in_the_wrong_case(api: ServerProcess, tmp_path: Path) -> None:
    before = names(api)
    name = uid("case")
    config = sink_config(tmp_path / "o.txt", uid("t"))
    config["Connector.class"] = config.pop("connector.class")
    response = api.client.post("/connectors", json={"name": name, "config": config})
    assert_error(
        response,
        400,
        contains=(
            "contains no connector type; did you mean 'connector.class' instead of 'Connector.class'? "
            "Configuration names are case-sensitive",
        ),
    )
    validate = api.client.put(VALIDATE, json=config)
    assert_error(validate, 400, contains=("did you mean 'connector.class' instead of 'Connector.class'?",))
    assert_untouched(api, before, name)


def test_a_known_key_in_the_wrong_case(api: ServerProcess, tmp_path: Path) -> None:
    before = names(api)
    name = uid("case")
    config = {**sink_config(tmp_path / "o.txt", uid("t")), "Tasks.max": "3"}
    del config["tasks.max"]
    expected = (
        "Unknown configuration 'Tasks.max'; did you mean 'tasks.max'? Configuration names are case-sensitive"
    )
    response = api.client.post("/connectors", json={"name": name, "config": config})
    assert_error(response, 400, contains=(expected,))
    assert_error(api.client.put(path(name) + "/config", json=config), 400, contains=(expected,))
    assert_untouched(api, before, name)

    validate = api.client.put(VALIDATE, json={**config, "name": name})
    assert validate.status_code == 200, validate.text
    body = validate.json()
    assert body["error_count"] == 1, body
    entries = [c["value"] for c in body["configs"] if c["value"]["name"] == "Tasks.max"]
    assert entries == [
        {"name": "Tasks.max", "value": "3", "recommended_values": [], "errors": [expected], "visible": True}
    ]


@pytest.mark.parametrize(
    ("connector_class", "what"),
    [
        ("io.confluent.connect.s3.S3SinkConnector", "Confluent Amazon S3 sink"),
        ("io.debezium.connector.mysql.MySqlConnector", "Debezium MySQL source"),
        ("io.debezium.connector.mongodb.MongoDbConnector", "Debezium MongoDB source"),
        ("Hdfs3SinkConnector", "Confluent HDFS 3 sink"),
        ("com.mongodb.kafka.connect.MongoSinkConnector", "MongoDB sink"),
        ("com.snowflake.kafka.connector.SnowflakeSinkConnector", "Snowflake sink"),
    ],
)
def test_a_kafka_connect_plugin_penstock_does_not_have_says_so(
    api: ServerProcess, tmp_path: Path, connector_class: str, what: str
) -> None:
    before = names(api)
    name = uid("java")
    config = {**sink_config(tmp_path / "o.txt", uid("t")), "connector.class": connector_class}
    response = api.client.post("/connectors", json={"name": name, "config": config})
    message = assert_error(
        response,
        400,
        contains=(
            f"is a Kafka Connect plugin ({what}) that Penstock does not provide yet",
            "the connectors installed here are: ",
            FILE_SINK,
            "org.apache.kafka.connect.file.FileStreamSourceConnector",
        ),
    )
    assert message.split(" ")[0].endswith(connector_class)
    assert_untouched(api, before, name)
    simple = connector_class.rsplit(".", 1)[-1]
    validate = api.client.put(f"/connector-plugins/{simple}/config/validate", json=config)
    assert_error(validate, 400, contains=("that Penstock does not provide yet",))


def test_an_unknown_class_keeps_kafkas_message(api: ServerProcess, tmp_path: Path) -> None:
    config = {**sink_config(tmp_path / "o.txt", uid("t")), "connector.class": "com.example.MySinkConnector"}
    response = api.client.post("/connectors", json={"name": uid("unknown"), "config": config})
    assert_error(
        response,
        400,
        startswith="Failed to find any class that implements Connector and which name matches com.example.MySinkConnector",
    )
